// Exec calls by the thousand: a run holds at most -j threads for its exec programs, joined as it
// goes, so it finishes however many calls it makes. A thread per call joined only at the end ran
// the process out of memory maps at about 32,700 calls (vm.max_map_count 65,530, two maps a
// thread), aborting it and leaving its run `running`; an address-space limit brings the same
// failure within a few hundred calls.

#include "reliability/reliability.hpp"

#include <chrono>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

// evalkeep started through `sh -c 'ulimit -v KB; exec evalkeep ARGS'` (the same process once
// the shell execs), stdout and stderr to files in `cwd`.
pid_t start_limited(const std::filesystem::path& cwd, long address_space_kb,
                    const std::vector<std::string>& args) {
  std::string script = address_space_kb > 0 ? "ulimit -v " + std::to_string(address_space_kb) +
                                                  " && exec \"$0\" \"$@\""
                                            : "exec \"$0\" \"$@\"";
  std::vector<std::string> argv_s{"/bin/sh", "-c", script, EVALKEEP_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto out = (cwd / "run.out").string(), err = (cwd / "run.err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

// The "Threads:" line of /proc/PID/status, or 0 once the process is gone.
int threads_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("Threads:"))
      return std::stoi(line.substr(8));
  return 0;
}

} // namespace

TEST_CASE("a run of 3,000 exec calls holds at most -j threads for them and finishes",
          "[reliability][exec][threads]") {
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", cases_jsonl(3));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.cheap]\ntype = \"exec\"\ncommand = [\"true\"]\n";
  // 2 GB of address space: the run's own needs are a fraction of it, but 8 MB of stack for each
  // of thousands of threads kept until the end is not. Not under AddressSanitizer, whose shadow
  // memory alone reserves terabytes.
  long limit_kb = k_rss_bounds_hold ? 2'000'000 : 0;
  auto started = std::chrono::steady_clock::now();
  pid_t pid =
      start_limited(repo.path(), limit_kb,
                    {"run", "--provider", "cheap", "--trials", "1000", "-j", "8", "--json"});
  int most = 0, status = 0;
  for (;;) {
    most = std::max(most, threads_of(pid));
    if (::waitpid(pid, &status, WNOHANG) == pid)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto err = read_file(repo.path() / "run.err");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1); // every answer is empty: each case fails its assertion
  auto s = json::parse(read_file(repo.path() / "run.out"));
  CHECK(s["state"] == "finished");
  CHECK(s["failed"] == 3);
  CHECK(s["requests"] == 3000);
  // The main thread and the 8 exec threads; git's questions at the start run on 4 more.
  CHECK(most <= 1 + 8 + 4);
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM results") == "3000");
  FIGURE("3,000 exec calls of `true` at -j 8: " << most << " threads at most, " << seconds << " s");
}
