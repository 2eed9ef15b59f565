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
  return {id, std::string(suite::to_string(status)), scoring::verdict_from(verdict).value(),
          suite::content_hash(*c), verdict == "pass" ? "" : "icontains:30 days: not found"};
}

// A run at temperature 0 with one trial per case, unless `deterministic` is false.
gate::RunResults run(std::int64_t id, std::vector<gate::RunCase> cases, bool deterministic = true) {
  gate::RunResults r{{id, "local", "gpt-test", scoring::RunState::finished, {}}, std::move(cases)};
  r.run.deterministic = deterministic;
  return r;
}

// A case of its own, live at HEAD, with `passes` of `trials` passed in a run.
gate::RunCase scored(suite::Suite& s, const std::string& id, int passes, int trials) {
  auto r = result(s, id, passes == trials ? "pass" : "fail");
  r.passes = passes;
  r.trials = trials;
  return r;
}

// A suite of `n` spec cases c0..c(n-1), each a guard of nothing.
suite::Suite many_suite(const test::TempDir& dir, int n) {
  auto s = test::empty_suite(dir);
  for (int i = 0; i < n; ++i)
    test::add_case(s, test::make_case(fmt::format("c{}", i), "", fmt::format("Question {}", i)));
  return s;
}

gate::GateReport check(suite::Suite& head, const gate::RunInput& in) {
  auto r = gate::compare(nullptr, &head, suite::Policy{}, &in);
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
  CHECK(gate::to_string(r.violations[0].rule) == "case-failed");
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
  CHECK(gate::to_string(r.violations[0].rule) == "regressed");
  CHECK(r.violations[0].message == "case refund-window (guarding INC-7) passed in run 8 and "
                                   "errored in run 9: icontains:30 days: not found");
  CHECK(gate::to_string(r.violations[1].rule) == "regressed");
  CHECK_THAT(r.violations[1].message,
             Catch::StartsWith("case tone-apology, xfail at HEAD, passed in run 8 and failed in "
                               "run 9"));
  CHECK(r.run->baseline->id == 8);
  CHECK(r.run->cases[0].baseline_verdict == scoring::Verdict::pass);
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
  CHECK(gate::to_string(r.violations[0].rule) == "case-not-run");
  CHECK(r.violations[0].message ==
        "case late-refund (guarding INC-7) is active at HEAD but run 4 did not run it");
  CHECK(gate::to_string(r.violations[1].rule) == "case-not-run");
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
  in.run.run.state = scoring::RunState::stopped;
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 1);
  CHECK(gate::to_string(r.violations[0].rule) == "run-incomplete");
  CHECK(r.violations[0].case_id.empty());
  CHECK(r.violations[0].message ==
        "run 5 (stopped) has no result for 1 active case: refund-window; finish it with "
        "'evalkeep run --resume 5'");
}

TEST_CASE("a merged run that lacks shards is not sent to --resume, which cannot finish it",
          "[gate]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  auto in = gate::RunInput{run(6, {result(s, "refund-window", "missing"),
                                   result(s, "tone-apology", "missing", suite::CaseStatus::xfail)}),
                           std::nullopt};
  in.run.run.state = scoring::RunState::stopped;
  in.run.run.missing_shards = {"2/3", "3/3"};
  auto r = check(s, in);
  REQUIRE(r.violations.size() == 1);
  CHECK(gate::to_string(r.violations[0].rule) == "run-incomplete");
  CHECK(r.violations[0].message ==
        "run 6 (stopped) is a merge that lacks shards 2/3, 3/3 and has no result for 1 active "
        "case: refund-window; run the missing shards (run --shard I/N) and merge every shard "
        "again");
}

TEST_CASE("on a noisy model a case that passed once and failed once is reported, not failed",
          "[gate][stats]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  gate::RunInput in{
      run(9, {result(s, "refund-window", "fail"), result(s, "tone-apology", "pass")}, false),
      run(8, {result(s, "refund-window", "pass"), result(s, "tone-apology", "pass")}, false)};
  auto r = check(s, in);
  CHECK(r.violations.empty());
  REQUIRE(r.run->cases[0].drop_p);
  CHECK(*r.run->cases[0].drop_p == Approx(0.5));
  CHECK_FALSE(r.run->cases[0].violation);
  CHECK_THAT(r.run->cases[0].problem,
             Catch::EndsWith("within noise (p = 0.50): the suite's paired test decides"));
  REQUIRE(r.run->drop);
  CHECK(r.run->drop->difference.pairs == 2);
  CHECK_FALSE(r.run->drop->failed());
  CHECK_FALSE(r.run->drop->strict);
  // The same flip at temperature 0 with one trial: strict, as without statistics.
  in.run.run.deterministic = in.baseline->run.deterministic = true;
  auto strict = check(s, in);
  REQUIRE(strict.violations.size() == 1);
  CHECK(gate::to_string(strict.violations[0].rule) == "regressed");
}

TEST_CASE("a case whose own drop over its trials is significant fails as regressed",
          "[gate][stats]") {
  test::TempDir dir;
  auto s = head_suite(dir);
  gate::RunInput in{run(9, {scored(s, "refund-window", 0, 5)}, false),
                    run(8, {scored(s, "refund-window", 5, 5)}, false)};
  auto r = check(s, in);
  REQUIRE_FALSE(r.violations.empty());
  CHECK(gate::to_string(r.violations[0].rule) == "regressed");
  CHECK_THAT(r.violations[0].message, Catch::EndsWith("(p = 0.00397 < 0.05)"));
  // 5 of 5, then 3 of 5: chance explains it (p = 0.22).
  gate::RunInput noise{run(9, {scored(s, "refund-window", 3, 5)}, false),
                       run(8, {scored(s, "refund-window", 5, 5)}, false)};
  auto n = check(s, noise);
  for (const auto& v : n.violations)
    CHECK(gate::to_string(v.rule) != "regressed");
  CHECK(*n.run->cases[0].drop_p == Approx(56.0 / 252));
}

TEST_CASE("the suite fails when its paired pass rate fell beyond chance and the drop allowed",
          "[gate][stats]") {
  test::TempDir dir;
  auto s = many_suite(dir, 20);
  std::vector<gate::RunCase> before, after;
  for (int i = 0; i < 20; ++i) {
    auto id = fmt::format("c{}", i);
    before.push_back(result(s, id, "pass"));
    after.push_back(result(s, id, i < 8 ? "fail" : "pass")); // 8 of 20 fell
  }
  gate::RunInput in{run(2, after, false), run(1, before, false)};
  auto r = check(s, in);
  std::vector<std::string> rules;
  for (const auto& v : r.violations)
    rules.push_back(std::string(gate::to_string(v.rule)));
  // Each case alone is within noise; an active case failing is still case-failed.
  CHECK(std::count(rules.begin(), rules.end(), "suite-regressed") == 1);
  CHECK(std::count(rules.begin(), rules.end(), "regressed") == 0);
  REQUIRE(r.run->drop);
  CHECK(r.run->drop->difference.test == "mcnemar-exact");
  CHECK(r.run->drop->p_value == Approx(1.0 / 256));
  CHECK(r.run->drop->difference.value == Approx(-0.4));
  auto it = std::find_if(r.violations.begin(), r.violations.end(),
                         [](const auto& v) { return v.rule == gate::Rule::suite_regressed; });
  CHECK_THAT(it->message, Catch::StartsWith("the pass rate fell 40.0 points from run 1 to run 2 "
                                            "over 20 paired cases"));

  // A policy that allows a 50-point drop: the paired z-test finds no drop beyond it.
  suite::Policy lenient;
  lenient.max_drop = 0.5;
  auto allowed = gate::compare(nullptr, &s, lenient, &in);
  REQUIRE(allowed);
  CHECK_FALSE(allowed->run->drop->failed());
  CHECK(allowed->run->drop->difference.test == "mcnemar-exact");
  CHECK(allowed->run->drop->p_value > 0.5);
  // --max-drop can only tighten it: 0.1 here.
  in.max_drop = 0.1;
  auto tighter = gate::compare(nullptr, &s, lenient, &in);
  REQUIRE(tighter);
  CHECK(tighter->run->drop->max_drop == Approx(0.1));
  CHECK(tighter->run->drop->failed());
  in.max_drop = 0.9;
  auto wider = gate::compare(nullptr, &s, lenient, &in);
  CHECK(wider->run->drop->max_drop == Approx(0.5));
}
