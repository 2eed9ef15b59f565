#include "core/error.hpp"

#include <memory>

#include <catch2/catch.hpp>

using namespace evalkeep;

namespace {

Result<std::unique_ptr<int>> make(bool ok) {
  if (!ok)
    return invalid("no value");
  return std::make_unique<int>(7);
}

Status check(bool ok) {
  if (!ok)
    return refuse("check failed");
  return {};
}

Result<int> twice(bool make_ok, bool check_ok) {
  auto p = TRY(make(make_ok)); // a move-only value comes out whole
  TRY(check(check_ok));
  return *p * 2;
}

// A TRY inside another's argument.
Result<int> nested(bool ok) {
  return TRY(twice(TRY(make(ok)) != nullptr, true));
}

} // namespace

TEST_CASE("TRY yields the value or returns the error with its exit code unchanged", "[core]") {
  auto ok = twice(true, true);
  REQUIRE(ok);
  CHECK(*ok == 14);

  auto bad_make = twice(false, true);
  REQUIRE_FALSE(bad_make);
  CHECK(bad_make.error().code == ExitCode::usage);
  CHECK(bad_make.error().message == "no value");

  auto bad_check = twice(true, false);
  REQUIRE_FALSE(bad_check);
  CHECK(bad_check.error().code == ExitCode::refused);
  CHECK(bad_check.error().message == "check failed");
}

TEST_CASE("TRY nests", "[core]") {
  REQUIRE(nested(true));
  CHECK(*nested(true) == 14);
  CHECK_FALSE(nested(false));
}

TEST_CASE("an error about a field names it in its message and for code, through any context",
          "[core]") {
  Status r = invalid_field("trials", "must be between 1 and 1000, got {}", 0);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK(r.error().field == "trials");
  CHECK(r.error().message == "field \"trials\": must be between 1 and 1000, got 0");
  Error e = with_context(r.error(), "case c1").error();
  CHECK(e.field == "trials");
  // A command line names it by its flag; the context stays.
  e.name_field("--trials");
  CHECK(e.message == "case c1: --trials: must be between 1 and 1000, got 0");
}

TEST_CASE("naming a field changes only the field the error is about", "[core]") {
  // The text of another field, quoted in the message, is left as it is.
  Error e = invalid_field("title", "'field \"id\": x' is not a title").error();
  e.name_field("--title");
  CHECK(e.message == "--title: 'field \"id\": x' is not a title");
  Error none = invalid("field \"trials\": written by hand").error();
  CHECK(none.field.empty());
  none.name_field("--trials");
  CHECK(none.message == "field \"trials\": written by hand");
}
