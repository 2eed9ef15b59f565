#include "core/ids.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

using namespace evalkeep::core;

TEST_CASE("readable ids are letters, digits, dots, underscores and dashes", "[core]") {
  CHECK(is_valid_id("refund-window"));
  CHECK(is_valid_id("INC-142"));
  CHECK(is_valid_id("a"));
  CHECK(is_valid_id("7"));
  CHECK(is_valid_id("v1.2_final-B"));
  CHECK(is_valid_id(std::string(128, 'x')));

  CHECK_FALSE(is_valid_id(""));
  CHECK_FALSE(is_valid_id(std::string(129, 'x')));
  CHECK_FALSE(is_valid_id("-leading-dash"));
  CHECK_FALSE(is_valid_id(".hidden"));
  CHECK_FALSE(is_valid_id("_under"));
  CHECK_FALSE(is_valid_id("has space"));
  CHECK_FALSE(is_valid_id("a/b"));
  CHECK_FALSE(is_valid_id("quote'd"));
  CHECK_FALSE(is_valid_id("caf\xC3\xA9"));
}

TEST_CASE("generated case ids are valid, unique and sort by creation time", "[core]") {
  std::string first = generate_case_id();
  CHECK(first.size() == 17);
  CHECK(first.front() == 'c');
  CHECK(is_valid_id(first));
  CHECK(first.find_first_not_of("0123456789abcdefghjkmnpqrstvwxyz") == std::string::npos);

  std::string same_ms = generate_case_id();
  CHECK(same_ms != first);

  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string later = generate_case_id();
  CHECK(later.size() == 17);
  CHECK(is_valid_id(later));
  CHECK(later != first);
  CHECK(first < later);
  CHECK(first.substr(0, 11) < later.substr(0, 11)); // the time part alone orders them
}
