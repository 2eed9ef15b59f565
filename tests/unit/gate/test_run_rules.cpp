// Rule 4: the gate fails on an active case that failed in the run it is given, and on a case that
// passed in the baseline run and fails now.

#include "gate/gate.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;

namespace {

// refund-window (INC-7, active) and tone-apology (spec, xfail).
suite::Suite head_suite(const test::TempDir& dir) {
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto tone = test::make_case("tone-apology", "", "My order is late.");
  tone.status = suite::CaseStatus::xfail;
  test::add_case(s, tone);
  return s;
}

// The case's result in a run that started when the case had status `status`.
gate::RunCase result(suite::Suite& s, const std::string& id, const std::string& verdict,
                     suite::CaseStatus status = suite::CaseStatus::active) {
  auto c = suite::get_case(s, id);
  REQUIRE(c);
  c->status = status;
  return {id, std::string(suite::to_string(status)), verdict, suite::content_hash(*c),
          verdict == "pass" ? "" : "icontains:30 days: not found"};
}

gate::RunResults run(std::int64_t id, std::vector<gate::RunCase> cases) {
  return {{id, "local", "gpt-test", "finished"}, std::move(cases)};
}

gate::GateReport check(suite::Suite& head, const gate::RunInput& in) {
  auto r = gate::compare(nullptr, head, suite::Policy{}, &in);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("gate fails on an active case that failed in the run, not on an xfail one", "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  // tone-apology was still active when the run failed it; it is xfail at HEAD.
  gate::RunInput in{run(7, {result(s, "refund-window", "fail"),
                            result(s, "tone-apology", "fail", suite::CaseStatus::active)}),
                    std::nullopt};
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].rule == "case-failed");
  CHECK(r.violations[0].case_id == "refund-window");
  CHECK(r.violations[0].incident == "INC-7");
  CHECK(r.violations[0].message ==
        "case refund-window (guarding INC-7) failed in run 7: icontains:30 days: not found");
  REQUIRE(r.run);
  CHECK(r.run->failed == 2);
  CHECK(r.run->passed == 0);
  REQUIRE(r.run->cases.size() == 2);
  CHECK(r.run->cases[1].problem.empty()); // tone-apology
}

TEST_CASE("gate passes a run in which every active case passed", "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  gate::RunInput in{run(3, {result(s, "refund-window", "pass"),
                            result(s, "tone-apology", "xfail", suite::CaseStatus::xfail)}),
                    std::nullopt};
  auto r = check(s, in);
  CHECK(r.passed());
  CHECK(r.run->passed == 1);
  CHECK(r.run->failed == 1);
}

TEST_CASE("gate reports a case that passed in the baseline run and fails now once, as "
          "regressed, xfail or not",
          "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  gate::RunInput in{run(9, {result(s, "refund-window", "error"),
                            result(s, "tone-apology", "xfail", suite::CaseStatus::xfail)}),
                    run(8, {result(s, "refund-window", "pass"),
                            result(s, "tone-apology", "pass", suite::CaseStatus::active)})};
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 2);
  CHECK(r.violations[0].rule == "regressed");
  CHECK(r.violations[0].message == "case refund-window (guarding INC-7) passed in run 8 and "
                                   "errored in run 9: icontains:30 days: not found");
  CHECK(r.violations[1].rule == "regressed");
  CHECK_THAT(r.violations[1].message,
             Catch::StartsWith("case tone-apology, xfail at HEAD, passed in run 8 and failed in "
                               "run 9"));
  CHECK(r.run->baseline->id == 8);
  CHECK(r.run->cases[0].baseline_verdict == "pass");
}

TEST_CASE("gate counts an active case run in an older version, or not run, as not run", "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  test::add_case(s, test::make_case("late-refund", "INC-7", "Refund after 60 days?"));
  auto stale = result(s, "refund-window", "pass");
  stale.case_hash[0] ^= 1;
  gate::RunInput in{run(4, {stale}), std::nullopt};
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 2); // tone-apology is xfail: not gating
  CHECK(r.violations[0].rule == "case-not-run");
  CHECK(r.violations[0].message ==
        "case late-refund (guarding INC-7) is active at HEAD but run 4 did not run it");
  CHECK(r.violations[1].rule == "case-not-run");
  CHECK(r.violations[1].message ==
        "run 4 ran an older version of case refund-window (guarding INC-7): it changed since");
  CHECK(r.run->not_run == 3);
}

TEST_CASE("gate fails on a run without results for active cases, once for the run", "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  auto in = gate::RunInput{run(5, {result(s, "refund-window", "missing"),
                                   result(s, "tone-apology", "missing", suite::CaseStatus::xfail)}),
                           std::nullopt};
  in.run.run.state = "stopped";
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].rule == "run-incomplete");
  CHECK(r.violations[0].case_id.empty());
  CHECK(r.violations[0].message ==
        "run 5 (stopped) has no result for 1 active case: refund-window; finish it with "
        "'evalkeep run --resume 5'");
}
