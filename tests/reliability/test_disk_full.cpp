// Item 3: a full disk. A small tmpfs is mounted over the suite's folder (or the runs store's):
// an import into a nearly full filesystem, and a run whose runs store fills it. Each must stop
// with a clear error naming the file and the full disk (exit 3), leave no partial rows, and
// succeed once there is room again. Mounting needs root; without it the tests say so and skip.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

// A tmpfs of `bytes` mounted on `dir` for the lifetime of the object.
class Tmpfs {
public:
  Tmpfs(const fs::path& dir, std::size_t bytes) : m_dir(dir) {
    fs::create_directories(dir);
    m_mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options(bytes).c_str()) == 0;
    m_why = m_mounted ? "" : std::strerror(errno);
  }
  ~Tmpfs() {
    if (m_mounted)
      ::umount2(m_dir.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return m_mounted; }
  const std::string& why() const { return m_why; }
  /// Gives the filesystem a new size, keeping its files.
  void resize(std::size_t bytes) {
    REQUIRE(::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_REMOUNT, options(bytes).c_str()) == 0);
  }
  std::size_t free_bytes() const {
    struct statvfs st {};
    REQUIRE(::statvfs(m_dir.c_str(), &st) == 0);
    return static_cast<std::size_t>(st.f_bavail) * st.f_frsize;
  }

private:
  static std::string options(std::size_t bytes) { return "size=" + std::to_string(bytes); }
  fs::path m_dir;
  bool m_mounted = false;
  std::string m_why;
};

// True (after saying why) when the test cannot mount its filesystem.
bool skip_without_mount(const Tmpfs& t) {
  if (t.mounted())
    return false;
  WARN("skipped: cannot mount a tmpfs (" << t.why() << "); the disk-full tests need root");
  return true;
}

// Fills the filesystem of `dir` until only about `leave` bytes are free.
void fill(const Tmpfs& t, const fs::path& file, std::size_t leave) {
  std::size_t free = t.free_bytes();
  REQUIRE(free > leave);
  std::ofstream(file, std::ios::binary) << std::string(free - leave, 'x');
  REQUIRE(t.free_bytes() <= leave + 4096);
}

// The disk-full error: one "evalkeep: error:" naming the file and the full disk, exit 3, stdout
// left clean.
void check_disk_full_error(const evalkeep::core::ProcessResult& r, const std::string& file) {
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
  CHECK_THAT(r.err, Catch::Contains(file));
  CHECK_THAT(r.err, Catch::Contains("disk is full"));
}

} // namespace

TEST_CASE("an import into a nearly full filesystem fails whole, naming the suite, and succeeds "
          "once there is room",
          "[reliability][disk]") {
  Repo repo;
  Tmpfs disk(repo.path() / "evals", 1 << 20);
  if (skip_without_mount(disk))
    return;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "first.jsonl", cases_jsonl(20, "first-"));
  must_succeed(repo, {"import", "-q", "first.jsonl"});
  const int n = 2000;
  write_file(repo.path() / "cases.jsonl", cases_jsonl(n));
  fill(disk, repo.path() / "evals" / "filler", 64 * 1024);

  auto before = file_hash(repo.suite());
  auto r = repo.evalkeep({"import", "-q", "cases.jsonl"});
  check_disk_full_error(r, "suite.db");
  CHECK(r.out.empty());
  CHECK(file_hash(repo.suite()) == before);
  CHECK_FALSE(fs::exists(repo.suite().string() + "-journal"));
  CHECK(listed_cases(repo) == 20);
  must_succeed(repo, {"verify", "-q"});
  CHECK(integrity(repo.suite()) == "ok");
  FIGURE("import of " << n << " cases with 64 KiB free: exit " << r.exit_code << ", "
                      << r.err.substr(0, r.err.find('\n')));

  fs::remove(repo.path() / "evals" / "filler");
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  CHECK(listed_cases(repo) == 20 + n);
  must_succeed(repo, {"verify", "-q"});
}

TEST_CASE("a run whose runs store fills the disk stops with a clear error, keeps whole results "
          "and resumes once there is room",
          "[reliability][disk]") {
  Repo repo;
  Tmpfs disk(repo.path() / ".evalkeep", 1536 * 1024);
  if (skip_without_mount(disk))
    return;
  StandIn server;
  must_succeed(repo, {"init", "-q"});
  const int n = 3000;
  write_file(repo.path() / "cases.jsonl", cases_jsonl(n));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  const auto runs_db = repo.path() / ".evalkeep" / "runs.db";

  auto r = repo.evalkeep({"run", "--provider", "local", "--no-cache", "-j", "8", "-q", "--json"});
  check_disk_full_error(r, "runs.db");
  CHECK(r.out.empty());
  CHECK(integrity(runs_db) == "ok");
  auto run_id = sql_text(runs_db, "SELECT max(id) FROM runs");
  REQUIRE_FALSE(run_id.empty());
  auto stored = std::stol(sql_text(runs_db, "SELECT count(*) FROM results"));
  CHECK(stored > 0);
  CHECK(stored < n);
  // No partial rows: every stored result has its attempt, every attempt its result.
  CHECK(sql_text(runs_db, "SELECT count(*) FROM results r WHERE NOT EXISTS (SELECT 1 FROM "
                          "attempts a WHERE a.run_id = r.run_id AND a.case_id = r.case_id AND "
                          "a.trial = r.trial)") == "0");
  CHECK(sql_text(runs_db, "SELECT count(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM "
                          "results r WHERE a.run_id = r.run_id AND a.case_id = r.case_id AND "
                          "a.trial = r.trial)") == "0");
  CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run_id) != "finished");
  FIGURE("run of " << n << " cases on a 1.5 MiB runs-store filesystem: exit " << r.exit_code
                   << " after " << stored << " results, " << r.err.substr(0, r.err.find('\n')));

  disk.resize(64 << 20);
  server.reset();
  auto resumed = must_succeed(repo, {"run", "--resume", run_id, "-q", "--json"});
  CHECK(parse_json(resumed.out)["passed"] == n);
  CHECK(server.requests() == n - stored);
  CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run_id) ==
        std::to_string(n));
  CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run_id) == "finished");
  CHECK(integrity(runs_db) == "ok");
}
