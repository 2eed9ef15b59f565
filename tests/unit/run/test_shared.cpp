#include "run/shared.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using run::RunsStore;
using json = nlohmann::json;

namespace {

// A finished run of two cases at commit c0ffee: "a" passed 1 of 2 trials, "b" errored once.
std::int64_t a_finished_run(RunsStore& store, const std::string& model = "m") {
  run::RunRecord r;
  r.started_at = "2026-12-04T07:00:00Z";
  r.git_commit = std::string(40, 'c');
  r.git_dirty = false;
  r.suite_path = "evals/suite.db";
  r.suite_hash = "abc";
  r.provider = "local";
  r.provider_kind = "openai";
  r.model = model;
  r.params = {{"temperature", 0.7}};
  r.settings = {{"trials", 2}};
  r.evalkeep_version = "test";
  std::vector<run::PlannedCase> cases(2);
  for (int i = 0; i < 2; ++i) {
    cases[i].case_id = i ? "b" : "a";
    cases[i].case_hash.fill(static_cast<unsigned char>(i + 1));
    cases[i].case_json = R"({"id":"x","prompt":"secret prompt"})";
    cases[i].status = i ? "xfail" : "active";
    cases[i].incident = i ? std::nullopt : std::optional<std::string>("INC-7");
    cases[i].tags = {"billing"};
    cases[i].trials = 2;
    cases[i].min_pass_rate = 0.5;
  }
  REQUIRE(store.create_run(r, cases));
  auto trial = [](std::string id, int n, scoring::Verdict v) {
    run::TrialRecord t;
    t.result.case_id = std::move(id);
    t.result.trial = n;
    t.result.verdict = v;
    t.result.answer = "the answer";
    t.result.finished_at = "2026-12-04T07:00:01Z";
    return t;
  };
  std::vector<run::TrialRecord> trials{trial("a", 1, scoring::Verdict::pass),
                                       trial("a", 2, scoring::Verdict::fail),
                                       trial("b", 1, scoring::Verdict::error)};
  REQUIRE(store.record(r.id, trials));
  REQUIRE(
      store.finish_run(r.id, scoring::RunState::finished, std::nullopt, "2026-12-04T07:00:02Z"));
  return r.id;
}

} // namespace

TEST_CASE("a shared run reads back into another store as the same run, compact or full",
          "[run][share]") {
  test::TempDir dir;
  auto from = RunsStore::open(dir / "a.db", true);
  auto into = RunsStore::open(dir / "b.db", true);
  REQUIRE(from);
  REQUIRE(into);
  auto id = a_finished_run(*from);
  auto compact = run::shared_run(*from, id, false);
  REQUIRE(compact);
  CHECK(compact->dump().find("secret prompt") == std::string::npos);
  CHECK(compact->dump().find("the answer") == std::string::npos);
  auto full = run::shared_run(*from, id, true);
  REQUIRE(full);
  CHECK(full->dump().find("secret prompt") != std::string::npos);
  CHECK(full->dump().find("the answer") != std::string::npos);

  auto shared = run::read_shared_run(*compact);
  REQUIRE(shared);
  auto stored = run::store_shared_run(*into, std::move(*shared), "refs/x obj");
  REQUIRE(stored);
  CHECK(*run::fetched_before(*into, "refs/x obj") == true);
  CHECK(*run::fetched_before(*into, "refs/y obj") == false);
  // The same document again from the copy, but for where it came from.
  auto again = run::shared_run(*into, *stored, false);
  REQUIRE(again);
  auto expected = *compact;
  expected["run"]["settings"]["fetched_from"] = "refs/x obj";
  CHECK(*again == expected);
  CHECK(run::shared_run_ref(*from->get_run(id)) == run::shared_run_ref(*into->get_run(*stored)));
}

TEST_CASE("a document that is not a shared run is refused, naming the field", "[run][share]") {
  test::TempDir dir;
  auto store = RunsStore::open(dir / "a.db", true);
  REQUIRE(store);
  auto good = *run::shared_run(*store, a_finished_run(*store), false);
  auto refused = [](json doc) {
    auto r = run::read_shared_run(doc);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    return r.error().message;
  };
  CHECK_THAT(refused(json::array()), Catch::Contains("field 'format'"));
  auto doc = good;
  doc["run"]["state"] = "running";
  CHECK_THAT(refused(doc), Catch::Contains("run: field 'state'"));
  doc = good;
  doc["run"].erase("suite_hash");
  CHECK_THAT(refused(doc), Catch::Contains("field 'suite_hash'"));
  doc = good;
  doc["cases"][1]["hash"] = "not hex";
  CHECK_THAT(refused(doc), Catch::Contains("case b: field 'hash'"));
  doc = good;
  doc["cases"][0]["trials_run"].push_back(doc["cases"][0]["trials_run"][0]);
  CHECK_THAT(refused(doc), Catch::Contains("case a: field 'trials_run'"));
  doc = good;
  doc["cases"][0]["trials_run"][0]["verdict"] = "xpass";
  CHECK_THAT(refused(doc), Catch::Contains("case a, trials_run[0]: field 'verdict'"));
  doc = good;
  doc["cases"][1] = doc["cases"][0];
  CHECK_THAT(refused(doc), Catch::Contains("out of order or twice"));
  doc = good;
  doc["cases"][0]["min_pass_rate"] = 2;
  CHECK_THAT(refused(doc), Catch::Contains("field 'min_pass_rate'"));
}

TEST_CASE("the nearest ancestor's run with the same settings is the baseline", "[run][share]") {
  test::TempDir dir;
  auto store = RunsStore::open(dir / "a.db", true);
  REQUIRE(store);
  auto older = a_finished_run(*store);
  auto newer = a_finished_run(*store);
  auto other_model = a_finished_run(*store, "another");
  auto like = *store->get_run(newer);
  std::string c = std::string(40, 'c'), d = std::string(40, 'd');
  // The candidate is never its own baseline; the newest other run at the nearest commit is.
  CHECK(*run::nearest_run(*store, like, {d, c}) == std::optional<std::int64_t>(older));
  auto candidate = *store->get_run(other_model);
  CHECK(*run::nearest_run(*store, candidate, {c}) == std::nullopt);
  like.id = 0;
  CHECK(*run::nearest_run(*store, like, {c}) == std::optional<std::int64_t>(newer));
  CHECK(*run::nearest_run(*store, like, {d}) == std::nullopt);
}
