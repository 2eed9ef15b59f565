#include "run/runs_store.hpp"
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
  CHECK(files_in(dir.path()) == std::vector<std::string>{"runs.db"});
  auto store = RunsStore::open(path, false);
  REQUIRE(store);
  auto listed = store->list_runs();
  REQUIRE(listed);
  CHECK(listed->size() == k_threads); // no store replaced another's runs
}

TEST_CASE("a run begun and dropped before its plan leaves no trace; planned, it has its git facts",
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
