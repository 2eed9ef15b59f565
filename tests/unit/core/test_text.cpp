#include "core/text.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::core;

TEST_CASE("a rationale of white space only is blank", "[core]") {
  CHECK(blank(""));
  CHECK(blank(" \t\r\n\v\f"));
  CHECK_FALSE(blank("x"));
  CHECK_FALSE(blank("  because  "));
  CHECK_FALSE(blank("\xC2\xA0é")); // non-ASCII is text, not space
}

TEST_CASE("a cut text never ends inside a character", "[core]") {
  CHECK(utf8_prefix("short", 10) == "short");
  CHECK(utf8_prefix("exact", 5) == "exact");
  CHECK(utf8_prefix("abcdef", 3) == "abc");
  CHECK(utf8_prefix("abc", 0).empty());
  // "é" is two bytes, "☃" three, "😀" four: a cut inside one keeps the text before it.
  CHECK(utf8_prefix("aé", 2) == "a");
  CHECK(utf8_prefix("aé", 3) == "aé");
  CHECK(utf8_prefix("a☃b", 2) == "a");
  CHECK(utf8_prefix("a☃b", 3) == "a");
  CHECK(utf8_prefix("a☃b", 4) == "a☃");
  CHECK(utf8_prefix("😀😀", 7) == "😀");
  CHECK(utf8_prefix("😀", 3).empty());
  // Bytes that are not UTF-8 are cut as bytes.
  CHECK(utf8_prefix("\xFF\xFE\xFD", 2) == "\xFF\xFE");
  for (std::size_t n = 0; n <= 12; ++n) {
    std::string_view cut = utf8_prefix("é☃😀x", n);
    CHECK(cut.size() <= n);
    CHECK(valid_utf8(std::string(cut)) == cut);
  }
}

TEST_CASE("bytes that are not UTF-8 are replaced, valid text is kept", "[core]") {
  CHECK(valid_utf8("plain é ☃") == "plain é ☃");
  CHECK(valid_utf8("a\xFF"
                   "b") == "a\xEF\xBF\xBD"
                           "b");
  CHECK(valid_utf8("cut \xE2\x98") == "cut \xEF\xBF\xBD");
}

TEST_CASE("the length of text counts characters, not bytes", "[core]") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("é☃😀") == 3);
}

TEST_CASE("a substring search that stays linear on crafted texts, and an ASCII lowercase",
          "[core]") {
  CHECK(contains_linear("refunds within 30 days", "30 days"));
  CHECK(contains_linear("anything", ""));
  CHECK_FALSE(contains_linear("30 day", "30 days"));
  CHECK_FALSE(contains_linear("aaaaaaaaab", "aaab" + std::string(1, 'a')));
  // The pair that makes a naive search take |hay| * |needle| steps.
  std::string hay(200'000, 'a'), needle = std::string(100'000, 'a') + "b";
  CHECK_FALSE(contains_linear(hay, needle));
  CHECK(contains_linear(hay + "b", needle));
  CHECK(ascii_lower("Thirty DAYS, Ünïcode") == "thirty days, Ünïcode");
}
