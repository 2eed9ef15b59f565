// Items 9 and 10: evalkeep processes sharing the suite and the runs store at once. Two runs, an
// import and a list never show the user "database is locked" and their counts add up; the same
// run resumed twice at once proceeds once, and the other says why.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using evalkeep::core::ProcessResult;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// sql_text, or "" while the store is still being created by the process under test.
std::string sql_text_or_empty(const fs::path& file, const std::string& sql) {
  try {
    return sql_text(file, sql);
  } catch (const std::runtime_error&) {
    return {};
  }
}

bool mentions_lock(const std::string& text) {
  return text.find("locked") != std::string::npos || text.find("busy") != std::string::npos ||
         text.find("SQLITE_BUSY") != std::string::npos;
}

} // namespace

TEST_CASE("two runs, an import and a list at once: no lock error reaches the user and the counts "
          "add up",
          "[reliability][contention]") {
  constexpr int k_initial = 150;
  constexpr int k_per_import = 5;
  const auto duration = std::chrono::seconds(stress_mode() ? 60 : 10);
  StandIn server({}, 10);
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", cases_jsonl(k_initial));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  const auto runs_db = repo.path() / ".evalkeep" / "runs.db";
  // The runs store exists before the race starts: until the first run creates it, `runs list`
  // says there is no runs store (exit 2), which is right but not what this test is about.
  must_succeed(repo, {"run", "--provider", "local", "-q", "--case", "case-0000"});

  // Catch2's assertions are not thread-safe: the workers only record what they saw.
  const auto deadline = Clock::now() + duration;
  std::vector<ProcessResult> runs[2], imports, lists, runs_lists;
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w)
    workers.emplace_back([&, w] {
      while (Clock::now() < deadline)
        runs[w].push_back(
            repo.evalkeep({"run", "--provider", "local", "--no-cache", "-j", "4", "-q", "--json"}));
    });
  workers.emplace_back([&] {
    for (int k = 0; Clock::now() < deadline; ++k) {
      auto file = "import-" + std::to_string(k) + ".jsonl";
      write_file(repo.path() / file,
                 cases_jsonl(k_per_import, "imp" + std::to_string(k) + "-", "imported "));
      imports.push_back(repo.evalkeep({"import", "-q", file}));
    }
  });
  workers.emplace_back([&] {
    while (Clock::now() < deadline) {
      lists.push_back(repo.evalkeep({"list", "--json"}));
      runs_lists.push_back(repo.evalkeep({"runs", "list", "--json"}));
    }
  });
  for (auto& t : workers)
    t.join();

  int lock_errors = 0;
  auto check_clean = [&](const ProcessResult& r, int expected_exit) {
    INFO("exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == expected_exit);
    CHECK_FALSE(mentions_lock(r.err));
    lock_errors += mentions_lock(r.err) || mentions_lock(r.out);
  };

  // Every run completed and recorded exactly the cases it planned.
  std::size_t run_count = 1; // the run that created the store
  for (const auto& side : runs) {
    CHECK(side.size() >= 1);
    for (const auto& r : side) {
      check_clean(r, 0);
      auto s = parse_json(r.out);
      auto id = std::to_string(s["run"].get<long>());
      CHECK(s["passed"] == s["total"]);
      CHECK(s["total"].get<long>() >= k_initial);
      CHECK(sql_text(runs_db, "SELECT count(*) FROM run_cases WHERE run_id = " + id) ==
            std::to_string(s["total"].get<long>()));
      CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + id) ==
            std::to_string(s["total"].get<long>()));
      CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + id) == "finished");
      ++run_count;
    }
  }
  CHECK(sql_text(runs_db, "SELECT count(*) FROM runs") == std::to_string(run_count));

  // Imports are all or nothing: every list shows the initial cases plus whole imports, never
  // fewer than the list before.
  int imported = 0;
  for (const auto& r : imports) {
    check_clean(r, 0);
    imported += r.exit_code == 0;
  }
  long last = 0;
  for (const auto& r : lists) {
    check_clean(r, 0);
    if (r.exit_code != 0)
      continue;
    long n = static_cast<long>(parse_json(r.out).size());
    CHECK((n - k_initial) % k_per_import == 0);
    CHECK(n >= last);
    last = n;
  }
  for (const auto& r : runs_lists)
    check_clean(r, 0);
  CHECK(listed_cases(repo) == static_cast<std::size_t>(k_initial + imported * k_per_import));
  CHECK(imported == static_cast<int>(imports.size()));
  must_succeed(repo, {"verify"});
  CHECK(integrity(runs_db) == "ok");
  CHECK(integrity(repo.suite()) == "ok");
  CHECK(lock_errors == 0);
  FIGURE("contention (" << duration.count() << " s): " << runs[0].size() << " + " << runs[1].size()
                        << " runs, " << imports.size() << " imports (" << imported * k_per_import
                        << " cases), " << lists.size() << " lists and " << runs_lists.size()
                        << " runs lists; lock errors seen by the user: " << lock_errors);
}

TEST_CASE("the same run resumed twice at once proceeds once, and the other says why",
          "[reliability][contention]") {
  constexpr int k_cases = 40;
  const int n_rounds = rounds(3, 20);
  StandIn server({}, 60);
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", cases_jsonl(k_cases));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  const auto runs_db = repo.path() / ".evalkeep" / "runs.db";

  std::map<std::string, int> refusals;
  for (int round = 0; round < n_rounds; ++round) {
    INFO("round " << round);
    // A run that dies after a few results.
    const auto previous = sql_text_or_empty(runs_db, "SELECT coalesce(max(id), 0) FROM runs");
    std::string run_id;
    {
      Background run(repo.path(), {"run", "--provider", "local", "--no-cache", "-j", "2", "-q"}, {},
                     "first");
      for (int i = 0; i < 500; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        run_id = sql_text_or_empty(runs_db, "SELECT coalesce(max(id), 0) FROM runs");
        if (!run_id.empty() && run_id != "0" && run_id != previous &&
            sql_text_or_empty(runs_db,
                              "SELECT count(*) >= 4 FROM results WHERE run_id = " + run_id) == "1")
          break;
      }
      REQUIRE(run_id != previous);
      REQUIRE(run.kill9());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto stored =
        std::stoi(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run_id));
    REQUIRE(stored < k_cases);
    server.reset();

    ProcessResult a, b;
    std::thread ta([&] { a = repo.evalkeep({"run", "--resume", run_id, "--json"}); });
    std::thread tb([&] { b = repo.evalkeep({"run", "--resume", run_id, "--json"}); });
    ta.join();
    tb.join();
    INFO("A: exit " << a.exit_code << "\n"
                    << a.err << "\nB: exit " << b.exit_code << "\n"
                    << b.err);
    CHECK(((a.exit_code == 0) ^ (b.exit_code == 0)));
    const ProcessResult& loser = a.exit_code == 0 ? b : a;
    CHECK(loser.exit_code == 1);
    CHECK(loser.out.empty());
    CHECK_THAT(loser.err, Catch::StartsWith("evalkeep: error: run " + run_id));
    bool says_why = loser.err.find("is being run by process") != std::string::npos ||
                    loser.err.find("already finished") != std::string::npos;
    CHECK(says_why);
    CHECK_FALSE(mentions_lock(loser.err));
    ++refusals[loser.err.find("is being run by process") != std::string::npos
                   ? "is being run by process PID"
                   : "other"];
    // Only one of them asked the model: once per missing result.
    CHECK(server.requests() == k_cases - stored);
    CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run_id) ==
          std::to_string(k_cases));
    CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run_id) == "finished");
  }
  CHECK(integrity(runs_db) == "ok");

  // A resume while the original run is still going is refused as well.
  {
    Background run(repo.path(), {"run", "--provider", "local", "--no-cache", "-j", "1", "-q"}, {},
                   "alive");
    std::string id;
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      id = sql_text(runs_db, "SELECT coalesce(max(id), 0) FROM runs WHERE state = 'running'");
      if (id != "0")
        break;
    }
    REQUIRE(id != "0");
    auto r = must_fail(repo, 1, {"run", "--resume", id});
    CHECK_THAT(r.err, Catch::Contains("is being run by process"));
    CHECK(run.wait() == 0);
  }
  std::string seen;
  for (const auto& [message, n] : refusals)
    seen += std::to_string(n) + "x '" + message + "' ";
  FIGURE("double resume: " << n_rounds << " rounds, one proceeded each time; refusals: " << seen);
}
