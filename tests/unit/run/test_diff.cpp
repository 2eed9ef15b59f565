#include "run/diff.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;

namespace {

run::CaseOutcome outcome(std::string id, std::string verdict, int passes, int trials) {
  run::CaseOutcome o;
  o.case_id = std::move(id);
  o.status = "active";
  o.verdict = scoring::verdict_from(verdict).value();
  o.passes = passes;
  o.trials = trials;
  o.fails = trials - passes;
  o.flaky = passes > 0 && passes < trials;
  return o;
}

run::RunSummary summary(std::int64_t id, std::vector<run::CaseOutcome> cases) {
  run::RunSummary s;
  s.run.id = id;
  s.run.params = nlohmann::json::object();
  s.run.settings = nlohmann::json::object();
  s.cases = std::move(cases);
  return s;
}

} // namespace

TEST_CASE("runs diff shows a case that passed and is now flaky as flaky, not as a regression",
          "[run][diff]") {
  auto a = summary(1, {outcome("flips", "pass", 1, 1), outcome("breaks", "pass", 1, 1)});
  auto b = summary(2, {outcome("flips", "fail", 2, 3), outcome("breaks", "fail", 0, 3)});
  auto d = run::diff_runs(a, b);
  REQUIRE(d.flaky.size() == 1);
  CHECK(d.flaky[0].case_id == "flips");
  CHECK(run::to_text(d.flaky[0].was_in) == "pass");
  CHECK(run::to_text(d.flaky[0].now_in) == "flaky (2 of 3 passed)");
  REQUIRE(d.regressions.size() == 1);
  CHECK(d.regressions[0].case_id == "breaks");
  CHECK(run::to_text(d.regressions[0].now_in) == "fail (0 of 3 passed)");
}

TEST_CASE("runs diff names a change of trials among the settings that differ", "[run][diff]") {
  auto a = summary(1, {outcome("x", "pass", 1, 1), outcome("y", "pass", 1, 1)});
  auto b = summary(2, {outcome("x", "pass", 3, 3), outcome("y", "pass", 3, 3)});
  auto d = run::diff_runs(a, b);
  REQUIRE(d.settings.contains("trials"));
  CHECK(d.settings["trials"] == std::pair<std::string, std::string>{"1", "3"});
  auto mixed = summary(3, {outcome("x", "pass", 1, 1), outcome("y", "pass", 5, 5)});
  CHECK(run::diff_runs(b, mixed).settings["trials"].second == "1-5");
  CHECK_FALSE(run::diff_runs(b, b).settings.contains("trials"));
}
