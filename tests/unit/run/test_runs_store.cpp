#include "run/runs_store.hpp"
#include "store/migration.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace evalkeep;
using run::RunsStore;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string journal_mode(const fs::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return mode;
}

run::RunRecord a_run() {
  run::RunRecord r;
  r.started_at = "2026-12-04T07:00:00Z";
  r.suite_path = "evals/suite.db";
  r.suite_hash = "abc";
  r.provider = "local";
  r.provider_kind = "openai";
  r.model = "m";
  r.params = nlohmann::json::object();
  r.settings = nlohmann::json::object();
  r.evalkeep_version = "test";
  return r;
}

run::PlannedCase a_case(std::string id) {
  run::PlannedCase p;
  p.case_id = std::move(id);
  p.case_json = "{}";
  p.status = "active";
  return p;
}

} // namespace

TEST_CASE("a new runs store is made in a private file and moved into place whole, in WAL mode",
          "[run][store]") {
  test::TempDir dir;
  const auto path = dir / ".evalkeep" / "runs.db";
  {
    auto store = RunsStore::open(path, true);
    REQUIRE(store);
    auto r = a_run();
    REQUIRE(store->create_run(r, {a_case("a")}));
    CHECK(r.id == 1);
  }
  // Nothing left beside it: no private file, no journal; the WAL is gone with the connection.
  CHECK(files_in(path.parent_path()) == std::vector<std::string>{"runs.db"});
  CHECK(journal_mode(path) == "wal");
  auto again = RunsStore::open(path, false);
  REQUIRE(again);
  auto listed = again->list_runs();
  REQUIRE(listed);
  CHECK(listed->size() == 1);
}

TEST_CASE("runs stores created by many connections at once are one store", "[run][store]") {
  test::TempDir dir;
  const auto path = dir / "runs.db";
  constexpr int k_threads = 8;
  std::atomic<int> opened = 0, recorded = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < k_threads; ++i)
    threads.emplace_back([&] {
      auto store = RunsStore::open(path, true);
      if (!store)
        return;
      ++opened;
      auto r = a_run();
      if (store->create_run(r, {a_case("a")}))
        ++recorded;
    });
  for (auto& t : threads)
    t.join();
  CHECK(opened == k_threads);
  CHECK(recorded == k_threads);
  // No private file is left. Connections closing at the same moment can each see another still
  // open, so the WAL may outlive them; the next connection to close alone takes it away.
  for (const auto& name : files_in(dir.path()))
    CHECK((name == "runs.db" || name == "runs.db-wal" || name == "runs.db-shm"));
  {
    auto store = RunsStore::open(path, false);
    REQUIRE(store);
    auto listed = store->list_runs();
    REQUIRE(listed);
    CHECK(listed->size() == k_threads); // no store replaced another's runs
  }
  CHECK(files_in(dir.path()) == std::vector<std::string>{"runs.db"});
}

TEST_CASE("a run begun and dropped before its plan leaves no trace, planned, it has its git facts",
          "[run][store]") {
  test::TempDir dir;
  auto store = RunsStore::open(dir / "runs.db", true);
  REQUIRE(store);
  {
    auto dropped = a_run();
    auto tx = store->begin_run(dropped);
    REQUIRE(tx);
    CHECK(dropped.id == 1);
  }
  auto listed = store->list_runs();
  REQUIRE(listed);
  CHECK(listed->empty());

  auto r = a_run();
  auto tx = store->begin_run(r);
  REQUIRE(tx);
  r.git_commit = "0123abcd";
  r.git_branch = "main";
  r.git_dirty = true;
  REQUIRE(store->plan_run(r, {a_case("a"), a_case("b")}));
  REQUIRE(tx->commit());
  auto stored = store->get_run(r.id);
  REQUIRE(stored);
  CHECK(stored->git_commit == "0123abcd");
  CHECK(stored->git_branch == "main");
  CHECK(stored->git_dirty == true);
  auto planned = store->planned(r.id);
  REQUIRE(planned);
  REQUIRE(planned->size() == 2);
  CHECK((*planned)[1].case_id == "b");
}

namespace {

run::TrialRecord a_trial(std::string id, std::uint8_t key, bool cached = false) {
  run::TrialRecord t;
  t.result.case_id = std::move(id);
  t.result.verdict = scoring::Verdict::pass;
  t.result.answer = "yes";
  t.result.cached = cached;
  t.result.finished_at = "2026-12-04T07:00:01Z";
  if (!cached) {
    core::Digest k{};
    k[0] = key;
    t.cache_puts.push_back({k, run::CachedAnswer{"yes", {}, {}, {}, {}, 12, {}}});
  }
  return t;
}

core::Digest key_of(std::uint8_t b) {
  core::Digest k{};
  k[0] = b;
  return k;
}

// A runs store as the first schema left it, with one run that made one answer and replayed one.
void write_old_store(const fs::path& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = store::runs_migrations()[0].sql;
  sql += fmt::format(
      "; PRAGMA application_id = {}; PRAGMA user_version = 1;"
      "INSERT INTO runs (id, started_at, state, suite_path, suite_hash, provider, provider_kind, "
      "model, params, settings, evalkeep_version) VALUES (1, 't', 'finished', 's', 'h', 'p', "
      "'openai', 'm', '{{}}', '{{}}', 'old');"
      "INSERT INTO run_cases VALUES (1, 'a', x'00', '{{}}', 'active', NULL, '[]', 1, 1.0);"
      "INSERT INTO run_cases VALUES (1, 'b', x'00', '{{}}', 'active', NULL, '[]', 1, 1.0);"
      "INSERT INTO results (run_id, case_id, trial, verdict, cached, assertions, finished_at) "
      "VALUES (1, 'a', 0, 'pass', 0, '[]', 't'), (1, 'b', 0, 'pass', 1, '[]', 't');"
      "INSERT INTO attempts VALUES (1, 'a', 0, 1, 'answer', 't', 429, 'rate-limited', 1, 'k', "
      "'retry'), (1, 'a', 0, 2, 'answer', 't', 200, NULL, 1, 'k', 'answer');"
      "INSERT INTO cache (key, answer, created_at) VALUES (x'{}', 'old answer', 't');",
      static_cast<std::int32_t>(run::k_runs_application_id), core::to_hex(key_of(7)));
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

} // namespace

TEST_CASE("an older runs store migrates: its answers were made here, its runs' counts are "
          "estimated from what they stored",
          "[run][store]") {
  test::TempDir dir;
  write_old_store(dir / "runs.db");
  auto store = RunsStore::open(dir / "runs.db", false);
  REQUIRE(store);
  auto hit = store->cache_get(key_of(7));
  REQUIRE(hit);
  REQUIRE(*hit);
  CHECK((*hit)->answer == "old answer");
  CHECK((*hit)->provenance == run::Provenance{run::Origin::here, 0, ""});

  auto r = store->get_run(1);
  REQUIRE(r);
  CHECK(r->counts_estimated);
  CHECK(r->answer_requests == 2); // the 429 and its retry
  CHECK(r->judge_requests == 0);
  CHECK(r->replayed == 1);
  auto replays = store->replays(1);
  REQUIRE(replays);
  REQUIRE(replays->size() == 1);
  CHECK((*replays)[0].from == run::Provenance{run::Origin::here, 0, ""});
  CHECK((*replays)[0].answers == 1);

  // Resumed, it counts on from those estimates.
  REQUIRE(store->db().exec("UPDATE runs SET state = 'stopped' WHERE id = 1"));
  REQUIRE(store->claim(1));
  run::CallCounts more;
  more.answer_requests = 3;
  REQUIRE(store->record(1, {}, more));
  r = store->get_run(1);
  REQUIRE(r);
  CHECK_FALSE(r->counts_estimated);
  CHECK(r->answer_requests == 5);
  CHECK(r->replayed == 1);
}

TEST_CASE("a plain lookup replays answers made here or trusted, --offline's replays any",
          "[run][store]") {
  test::TempDir dir;
  auto store = RunsStore::open(dir / "runs.db", true);
  REQUIRE(store);
  auto r = a_run();
  REQUIRE(store->create_run(r, {a_case("a")}));
  std::vector<run::TrialRecord> trials{a_trial("a", 1)};
  REQUIRE(store->record(r.id, trials));
  REQUIRE(store->db().exec(
      "INSERT INTO cache (key, answer, created_at, origin, origin_source, trusted) VALUES "
      "(x'0200000000000000000000000000000000000000000000000000000000000000', 'untrusted', 't', "
      "'imported', 'in.jsonl', 0), "
      "(x'0300000000000000000000000000000000000000000000000000000000000000', 'trusted', 't', "
      "'merged', 's1.db', 1)"));

  auto here = store->cache_get(key_of(1));
  REQUIRE(here);
  REQUIRE(*here);
  CHECK((*here)->provenance == run::Provenance{run::Origin::here, r.id, ""});
  auto untrusted = store->cache_get(key_of(2));
  REQUIRE(untrusted);
  CHECK_FALSE(*untrusted);
  auto offline = store->cache_get(key_of(2), run::CacheRead::any);
  REQUIRE(offline);
  REQUIRE(*offline);
  CHECK((*offline)->provenance == run::Provenance{run::Origin::imported, 0, "in.jsonl"});
  auto trusted = store->cache_get(key_of(3));
  REQUIRE(trusted);
  REQUIRE(*trusted);
  CHECK((*trusted)->provenance == run::Provenance{run::Origin::merged, 0, "s1.db"});
}

TEST_CASE("each stored round adds its requests and replays to the run's totals", "[run][store]") {
  test::TempDir dir;
  auto store = RunsStore::open(dir / "runs.db", true);
  REQUIRE(store);
  auto r = a_run();
  REQUIRE(store->create_run(r, {a_case("a"), a_case("b")}));
  run::Provenance imported{run::Origin::imported, 0, "ci.jsonl"};
  run::CallCounts first;
  first.answer_requests = 2;
  first.judge_requests = 1;
  first.replays[imported] = {imported, 1, 0};
  std::vector<run::TrialRecord> one{a_trial("a", 1)};
  REQUIRE(store->record(r.id, one, first));
  run::CallCounts second;
  second.judge_requests = 1;
  second.replays[imported] = {imported, 0, 1};
  std::vector<run::TrialRecord> two{a_trial("b", 0, true)};
  REQUIRE(store->record(r.id, two, second));

  auto rec = store->get_run(r.id);
  REQUIRE(rec);
  CHECK_FALSE(rec->counts_estimated);
  CHECK(rec->answer_requests == 2);
  CHECK(rec->judge_requests == 2);
  CHECK(rec->replayed == 2);
  auto replays = store->replays(r.id);
  REQUIRE(replays);
  REQUIRE(replays->size() == 1);
  CHECK((*replays)[0].from == imported);
  CHECK((*replays)[0].answers == 1);
  CHECK((*replays)[0].judge_verdicts == 1);
}
