// Item 1: a 2,000-case run killed with SIGKILL at a random moment, then `run --resume`, in a
// loop. Every case ends with exactly one result per trial, the resumed run asks the model only
// for trials without a stored result, and both stores pass `PRAGMA integrity_check`.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

constexpr int k_cases = 2000;
constexpr int k_trials = 2;

// "question 0042" -> "case-0042".
std::string case_of(const std::string& key) {
  return "case-" + key.substr(key.rfind(' ') + 1);
}

// Requests per case in the stand-in's log.
std::map<std::string, int> requests_by_case(const json& log) {
  std::map<std::string, int> out;
  for (const auto& e : log)
    ++out[case_of(e["key"].get<std::string>())];
  return out;
}

} // namespace

TEST_CASE("a 2,000-case run killed with SIGKILL at a random moment resumes to exactly one result "
          "per trial",
          "[reliability][kill]") {
  const int n_rounds = rounds(5, 30);
  StandIn server({}, 2);
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", cases_jsonl(k_cases));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  const auto runs_db = repo.path() / ".evalkeep" / "runs.db";
  const std::vector<std::string> run_args{
      "run", "--provider", "local",      "--trials", std::to_string(k_trials),
      "-j",  "16",         "--no-cache", "-q",       "--json"};

  // One uninterrupted run: it must complete, and it tells how long a run takes here.
  auto start = std::chrono::steady_clock::now();
  auto full = repo.evalkeep(run_args);
  auto full_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  INFO("stderr: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(parse_json(full.out)["passed"] == k_cases);

  std::random_device seed_source;
  const auto seed = seed_source();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<long> delay(0, std::max<long>(50, full_ms * 9 / 10));
  int killed_before_run = 0, resumed = 0, finished_before_kill = 0;
  std::vector<long> stored_at_kill;
  for (int round = 0; round < n_rounds; ++round) {
    INFO("round " << round << " of " << n_rounds << ", seed " << seed << ", a full run took "
                  << full_ms << " ms");
    server.reset();
    auto before = sql_text(runs_db, "SELECT coalesce(max(id), 0) FROM runs");
    auto wait_ms = delay(rng);
    {
      Background run(repo.path(), run_args, {}, "killed");
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      if (!run.kill9()) {
        ++finished_before_kill;
        CHECK(run.wait() == 0);
        continue;
      }
    }
    // Let the stand-in read whatever the dead process had already sent.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto killed_log = server.log();

    CHECK(integrity(runs_db) == "ok");
    CHECK(integrity(repo.suite()) == "ok");
    auto run_id = sql_text(runs_db, "SELECT coalesce(max(id), 0) FROM runs");
    if (run_id == before) {
      ++killed_before_run; // killed before the run was recorded: nothing to resume
      continue;
    }
    auto state = sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run_id);
    if (state == "finished") {
      // Killed while it exited, after its last result was stored: nothing lost, nothing to resume.
      ++finished_before_kill;
      CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run_id) ==
            std::to_string(k_cases * k_trials));
      continue;
    }
    CHECK(state == "running");
    std::map<std::string, int> stored;
    for (const auto& row : sql_rows(
             runs_db, "SELECT case_id || '|' || count(*) FROM results WHERE run_id = " + run_id +
                          " GROUP BY case_id")) {
      auto bar = row.find('|');
      stored[row.substr(0, bar)] = std::stoi(row.substr(bar + 1));
    }
    long stored_total = 0;
    for (const auto& [id, n] : stored)
      stored_total += n;
    stored_at_kill.push_back(stored_total);
    // A stored answer came from a request of the killed run (the cache is off).
    auto killed_requests = requests_by_case(killed_log);
    for (const auto& [id, n] : stored) {
      INFO("case " << id);
      CHECK(killed_requests[id] >= n);
    }

    server.reset();
    auto r = repo.evalkeep({"run", "--resume", "-q", "--json"});
    INFO("resume stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    ++resumed;
    auto summary = parse_json(r.out);
    CHECK(summary["run"].get<long>() == std::stol(run_id));
    CHECK(summary["passed"] == k_cases);

    // The resume asked only for the trials without a stored result: a case whose trials were
    // all stored got no request at all.
    auto resume_requests = requests_by_case(server.log());
    int wrong = 0;
    for (int i = 0; i < k_cases; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "case-%04d", i);
      int missing = k_trials - (stored.contains(id) ? stored[id] : 0);
      int asked = resume_requests.contains(id) ? resume_requests[id] : 0;
      if (asked != missing) {
        ++wrong;
        UNSCOPED_INFO(id << ": " << missing << " trials missing, " << asked << " requests");
      }
    }
    CHECK(wrong == 0);
    CHECK(server.requests() == k_cases * k_trials - stored_total);

    CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run_id) ==
          std::to_string(k_cases * k_trials));
    CHECK(sql_text(runs_db, "SELECT count(*) FROM run_cases WHERE run_id = " + run_id +
                                " AND (SELECT count(DISTINCT trial) FROM results r WHERE "
                                "r.run_id = run_cases.run_id AND r.case_id = run_cases.case_id "
                                "AND trial BETWEEN 0 AND " +
                                std::to_string(k_trials - 1) +
                                ") != " + std::to_string(k_trials)) == "0");
    CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run_id) == "finished");
    CHECK(integrity(runs_db) == "ok");
    CHECK(integrity(repo.suite()) == "ok");
  }
  std::string spread;
  for (long n : stored_at_kill)
    spread += std::to_string(n) + " ";
  FIGURE("kill/resume: " << n_rounds << " rounds (seed " << seed << ", full run " << full_ms
                         << " ms): " << resumed << " resumed, " << killed_before_run
                         << " killed before the run was recorded, " << finished_before_kill
                         << " finished before the kill; results stored at the kill: " << spread);
  CHECK(resumed + killed_before_run + finished_before_kill == n_rounds);
  CHECK(resumed >= n_rounds / 2);
}
