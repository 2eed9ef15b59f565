#include "core/hash.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::core;

TEST_CASE("sha256 matches the published test vectors", "[core]") {
  CHECK(to_hex(sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256 covers every byte, including embedded NULs", "[core]") {
  using namespace std::string_view_literals;
  CHECK(sha256("a\0b"sv) != sha256("a"sv));
  CHECK(sha256("a\0b"sv) != sha256("a\0c"sv));
}

TEST_CASE("a digest survives to_hex and from_hex unchanged", "[core]") {
  Digest d = sha256("refund-window");
  std::string hex = to_hex(d);
  CHECK(hex.size() == 64);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  Digest back{};
  REQUIRE(from_hex(hex, back));
  CHECK(back == d);
}

TEST_CASE("from_hex refuses text that is not a lowercase 64-digit digest", "[core]") {
  const std::string good = to_hex(sha256("abc"));
  Digest out{};
  CHECK_FALSE(from_hex("", out));
  CHECK_FALSE(from_hex(good.substr(0, 63), out));
  CHECK_FALSE(from_hex(good + "0", out));
  std::string with_g = good;
  with_g[10] = 'g';
  CHECK_FALSE(from_hex(with_g, out));
  std::string with_space = good;
  with_space[0] = ' ';
  CHECK_FALSE(from_hex(with_space, out));
  std::string upper = good;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK_FALSE(from_hex(upper, out));
}
