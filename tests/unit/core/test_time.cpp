#include "core/time.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

using namespace evalkeep::core;

TEST_CASE("is_date accepts only real calendar dates written YYYY-MM-DD", "[core]") {
  CHECK(is_date("2026-03-02"));
  CHECK(is_date("2028-02-29"));
  CHECK(is_date("2000-02-29"));
  CHECK(is_date("2026-12-31"));
  CHECK_FALSE(is_date("2026-02-29"));
  CHECK_FALSE(is_date("1900-02-29"));
  CHECK_FALSE(is_date("2026-04-31"));
  CHECK_FALSE(is_date("2026-13-01"));
  CHECK_FALSE(is_date("2026-00-10"));
  CHECK_FALSE(is_date("2026-01-00"));
  CHECK_FALSE(is_date("2026-1-01"));
  CHECK_FALSE(is_date("2026/01/01"));
  CHECK_FALSE(is_date("26-01-01"));
  CHECK_FALSE(is_date("2026-01-01T00:00:00Z"));
  CHECK_FALSE(is_date(""));
  CHECK_FALSE(is_date("abcd-ef-gh"));
}

TEST_CASE("is_timestamp accepts only UTC times written YYYY-MM-DDTHH:MM:SSZ", "[core]") {
  CHECK(is_timestamp("2026-05-01T10:00:00Z"));
  CHECK(is_timestamp("2028-02-29T23:59:59Z"));
  CHECK(is_timestamp("2026-05-01T00:00:00Z"));
  CHECK_FALSE(is_timestamp("2026-02-29T10:00:00Z"));
  CHECK_FALSE(is_timestamp("2026-05-01T24:00:00Z"));
  CHECK_FALSE(is_timestamp("2026-05-01T10:60:00Z"));
  CHECK_FALSE(is_timestamp("2026-05-01T10:00:00"));
  CHECK_FALSE(is_timestamp("2026-05-01 10:00:00Z"));
  CHECK_FALSE(is_timestamp("2026-05-01T10:00:00+00:00"));
  CHECK_FALSE(is_timestamp("2026-05-01T1:00:00Z"));
  CHECK_FALSE(is_timestamp("2026-05-01"));
  CHECK_FALSE(is_timestamp(""));
}

TEST_CASE("now_utc is a valid timestamp and honours a valid EVALKEEP_NOW", "[core]") {
  const char* saved = std::getenv("EVALKEEP_NOW");
  std::string previous = saved ? saved : "";

  ::unsetenv("EVALKEEP_NOW");
  CHECK(is_timestamp(now_utc()));

  ::setenv("EVALKEEP_NOW", "2026-05-01T10:00:00Z", 1);
  CHECK(now_utc() == "2026-05-01T10:00:00Z");

  ::setenv("EVALKEEP_NOW", "yesterday", 1);
  auto real = now_utc();
  CHECK(real != "yesterday");
  CHECK(is_timestamp(real));

  if (saved)
    ::setenv("EVALKEEP_NOW", previous.c_str(), 1);
  else
    ::unsetenv("EVALKEEP_NOW");
}
