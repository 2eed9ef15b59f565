#include "scoring/verdict.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::scoring;

TEST_CASE("every verdict and run state reads back from the name it is stored and printed as",
          "[scoring]") {
  for (auto v : {Verdict::pass, Verdict::fail, Verdict::error, Verdict::xfail, Verdict::xpass,
                 Verdict::missing, Verdict::not_run})
    CHECK(verdict_from(to_string(v)) == v);
  for (auto s : {RunState::running, RunState::finished, RunState::stopped})
    CHECK(run_state_from(to_string(s)) == s);
  CHECK(to_string(Verdict::not_run) == "not-run");
  CHECK(fmt::format("{:<6}|{}", Verdict::xpass, RunState::stopped) == "xpass |stopped");
  CHECK_FALSE(verdict_from("PASS"));
  CHECK_FALSE(verdict_from(""));
  CHECK_FALSE(run_state_from("done"));
}

TEST_CASE("a case holds on pass and xpass and breaks on fail, error and xfail", "[scoring]") {
  CHECK(held(Verdict::pass));
  CHECK(held(Verdict::xpass));
  CHECK(broke(Verdict::fail));
  CHECK(broke(Verdict::error));
  CHECK(broke(Verdict::xfail));
  for (auto v : {Verdict::missing, Verdict::not_run}) {
    CHECK_FALSE(held(v));
    CHECK_FALSE(broke(v));
  }
  CHECK(as_expected(Verdict::xfail));
  CHECK_FALSE(as_expected(Verdict::xpass));
}
