// Concurrency: evalkeep processes writing to the same suite at the same time wait their turn;
// nothing is lost and the ledger stays one unbroken chain.

#include "support/e2e.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

TEST_CASE("two processes adding 25 cases each at the same time lose nothing",
          "[e2e][concurrency]") {
  Repo repo;
  must_succeed(repo, {"init"});
  constexpr int k_per_writer = 25;

  // Catch2's assertions are not thread-safe: the writers only record results.
  std::vector<std::vector<evalkeep::core::ProcessResult>> results(2);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&repo, &results, w] {
      for (int i = 0; i < k_per_writer; ++i) {
        auto id = "writer" + std::to_string(w) + "-case" + std::to_string(i);
        results[static_cast<std::size_t>(w)].push_back(
            repo.evalkeep({"add", "--id", id, "--prompt", "Prompt " + id, "--expect",
                           "contains:" + id, "--provenance", "exploratory:concurrency test"},
                          {}, {"EVALKEEP_ACTOR=Writer " + std::to_string(w) + " <w@example.com>"}));
      }
    });
  }
  for (auto& t : writers)
    t.join();

  for (const auto& writer : results) {
    REQUIRE(writer.size() == k_per_writer);
    for (const auto& r : writer) {
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.empty());
    }
  }

  auto cases = parse_json(must_succeed(repo, {"list", "--json"}).out);
  CHECK(cases.size() == 2 * k_per_writer);
  std::set<std::string> ids;
  for (const auto& c : cases)
    ids.insert(c["id"].get<std::string>());
  for (int w = 0; w < 2; ++w)
    for (int i = 0; i < k_per_writer; ++i)
      CHECK(ids.contains("writer" + std::to_string(w) + "-case" + std::to_string(i)));

  auto log = parse_json(must_succeed(repo, {"log", "--json"}).out);
  REQUIRE(log.size() == 2 * k_per_writer);
  std::set<long long> seqs;
  for (const auto& e : log) {
    CHECK(e["action"] == "add");
    seqs.insert(e["seq"].get<long long>());
  }
  CHECK(seqs.size() == 2 * k_per_writer);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == 2 * k_per_writer);

  auto verified = parse_json(must_succeed(repo, {"verify", "--json"}).out);
  CHECK(verified["ok"] == true);
  CHECK(verified["events"] == 2 * k_per_writer);
  CHECK(verified["cases"] == 2 * k_per_writer);
  // The committed file never grows companions.
  CHECK_FALSE(std::filesystem::exists(repo.path() / "evals" / "suite.db-wal"));
  CHECK_FALSE(std::filesystem::exists(repo.path() / "evals" / "suite.db-journal"));
}

TEST_CASE("a write that overlaps another writer's still leaves a suite that verifies",
          "[e2e][concurrency]") {
  using namespace std::chrono;
  Repo repo;
  must_succeed(repo, {"init"});

  // Writer A runs with a git that takes 2 s to answer (a big repository, a cold disk), so its
  // work spans a second boundary while writer B adds a case from start to finish.
  TempDir bin;
  auto real_git = repo.run({"sh", "-c", "command -v git"}).out;
  real_git = real_git.substr(0, real_git.find('\n'));
  REQUIRE_FALSE(real_git.empty());
  write_file(bin / "git", "#!/bin/sh\nsleep 2\nexec " + real_git + " \"$@\"\n");
  std::filesystem::permissions(bin / "git", std::filesystem::perms::owner_all);
  const char* path = std::getenv("PATH");
  std::vector<std::string> slow_git{"PATH=" + bin.path().string() + ":" + (path ? path : ""),
                                    "EVALKEEP_ACTOR=Writer A <a@example.com>"};

  evalkeep::core::ProcessResult a;
  std::thread writer_a([&] {
    a = repo.evalkeep({"add", "--id", "slow-writer", "--prompt", "A", "--expect", "contains:A",
                       "--provenance", "exploratory:overlap"},
                      {}, slow_git);
  });
  // Let A start, then wait for the next second before B writes.
  std::this_thread::sleep_for(milliseconds(300));
  auto next_second = ceil<seconds>(system_clock::now()) + milliseconds(20);
  std::this_thread::sleep_until(next_second);
  auto b = repo.evalkeep({"add", "--id", "fast-writer", "--prompt", "B", "--expect", "contains:B",
                          "--provenance", "exploratory:overlap"},
                         {}, {"EVALKEEP_ACTOR=Writer B <b@example.com>"});
  writer_a.join();
  INFO("A stderr: " << a.err << "\nB stderr: " << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);

  // B took its clock after A but committed first.
  auto log = parse_json(must_succeed(repo, {"log", "--json"}).out);
  REQUIRE(log.size() == 2);
  if (log[1]["subject"] != "fast-writer")
    WARN("the writers did not overlap on this machine; the verify check proves little");
  auto r = repo.evalkeep({"verify"});
  INFO("verify stdout: " << r.out << "\nverify stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}
