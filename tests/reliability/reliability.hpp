#pragma once

// Helpers for the reliability tests: the short or long mode, evalkeep started in the background
// (to be killed with SIGKILL or raced against another), and plain SQL on the stores through the
// sqlite3 C API, as any other process holding the files would do it.

#include "support/e2e.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

extern char** environ;

namespace evalkeep::test {

/// Prints a measured figure to stderr ("reliability: ..."), for docs/RELIABILITY.md.
#define FIGURE(...)                                                                                \
  do {                                                                                             \
    std::ostringstream figure_text;                                                                \
    figure_text << __VA_ARGS__;                                                                    \
    std::fprintf(stderr, "reliability: %s\n", figure_text.str().c_str());                          \
  } while (0)

/// EVALKEEP_STRESS=1 (`make stress`) asks for the long mode.
inline bool stress_mode() {
  const char* v = std::getenv("EVALKEEP_STRESS");
  return v && *v && std::string(v) != "0";
}

/// False in the AddressSanitizer build (`make sanitize`): its quarantine keeps freed memory
/// resident and its shadow grows with every allocation, so peak-RSS bounds only hold without it.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool k_rss_bounds_hold = false;
#else
inline constexpr bool k_rss_bounds_hold = true;
#endif

/// `short_n` in `make test`, `long_n` in `make stress`.
inline int rounds(int short_n, int long_n) {
  return stress_mode() ? long_n : short_n;
}

/// evalkeep running in the background in `cwd`, stdout and stderr going to files there (stdin
/// from `stdin_file`). With `measure_rss` it runs under GNU time, which reports its peak RSS: the
/// getrusage of a child started here would also count this process's peak, since posix_spawn's
/// child shares this process's memory until it execs.
class Background {
public:
  Background(const std::filesystem::path& cwd, const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}, const std::string& name = "bg",
             const std::filesystem::path& stdin_file = "/dev/null", bool measure_rss = false)
      : m_out(cwd / (name + ".out")), m_err(cwd / (name + ".err")), m_rss(cwd / (name + ".rss")) {
    std::vector<std::string> argv_s{EVALKEEP_BIN};
    if (measure_rss)
      argv_s.insert(argv_s.begin(), {"/usr/bin/time", "-f", "%M", "-o", m_rss.string()});
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      std::string entry = *e;
      bool replaced = false;
      for (const auto& extra : env)
        replaced = replaced ||
                   entry.substr(0, entry.find('=') + 1) == extra.substr(0, extra.find('=') + 1);
      if (!replaced)
        env_s.push_back(entry);
    }
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    posix_spawn_file_actions_addopen(&actions, 0, stdin_file.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, m_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    int rc = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      throw std::runtime_error("cannot start evalkeep in the background");
  }
  ~Background() {
    if (m_pid > 0 && !m_reaped) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  /// True once the process has exited (reaping it).
  bool exited() {
    if (m_reaped)
      return true;
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_reaped = true;
      m_status = status;
    }
    return m_reaped;
  }
  /// SIGKILL, then reap. Returns false when it had already exited on its own.
  bool kill9() {
    if (exited())
      return false;
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_reaped = true;
    m_status = status;
    return !(WIFEXITED(status));
  }
  /// Waits for the exit; the exit code, or 128 + signal.
  int wait() {
    if (!m_reaped) {
      ::waitpid(m_pid, &m_status, 0);
      m_reaped = true;
    }
    return WIFEXITED(m_status) ? WEXITSTATUS(m_status) : 128 + WTERMSIG(m_status);
  }
  /// With `measure_rss`: evalkeep's peak resident set in MB, once it has exited (the last line
  /// GNU time wrote, after "Command exited with non-zero status N" when it did).
  double peak_rss_mb() const {
    std::string text = read_file(m_rss);
    auto last = text.find_last_not_of('\n');
    auto line = text.rfind('\n', last);
    return std::stod(text.substr(line == std::string::npos ? 0 : line + 1)) / 1024.0;
  }
  std::string out() const { return read_file(m_out); }
  std::string err() const { return read_file(m_err); }

private:
  std::filesystem::path m_out, m_err, m_rss;
  pid_t m_pid = -1;
  bool m_reaped = false;
  int m_status = 0;
};

/// The first column of each row of `sql` on the database file, as text ("" for NULL).
inline std::vector<std::string> sql_rows(const std::filesystem::path& file,
                                         const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + file.string());
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("cannot prepare " + sql + ": " + msg);
  }
  std::vector<std::string> rows;
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    rows.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  std::string msg = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE)
    throw std::runtime_error("sql failed: " + sql + ": " + msg);
  return rows;
}

/// The first column of the first row as text.
inline std::string sql_text(const std::filesystem::path& file, const std::string& sql) {
  auto rows = sql_rows(file, sql);
  return rows.empty() ? std::string() : rows.front();
}

/// `PRAGMA integrity_check`: "ok" for a healthy file.
inline std::string integrity(const std::filesystem::path& file) {
  auto rows = sql_rows(file, "PRAGMA integrity_check");
  std::string out;
  for (const auto& r : rows)
    out += (out.empty() ? "" : "; ") + r;
  return out;
}

/// JSONL for `n` cases "case-0000".. asking "question N" and expecting "help" (the stand-in's
/// default answer is "I can help with that."), each from a spec.
inline std::string cases_jsonl(int n, const std::string& prefix = "case-",
                               const std::string& question = "question ") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%04d", i);
    out += R"({"type":"case","id":")" + prefix + id + R"(","prompt":")" + question + id +
           R"(","expect":[{"type":"contains","value":"help"}],)" +
           R"("provenance":{"kind":"spec","note":"reliability"}})" + "\n";
  }
  return out;
}

/// `init`, then `n` cases of cases_jsonl imported.
inline void init_with_cases(const Repo& repo, int n, const std::string& prefix = "case-",
                            const std::string& question = "question ") {
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", cases_jsonl(n, prefix, question));
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
}

/// Stand-in rules answering "PREFIX FAULT" with that fault, for each fault (plus `extra` keys,
/// e.g. `"drip_ms": 1000`).
inline std::string fault_rules(const std::vector<std::string>& faults, const std::string& prefix,
                               const std::string& extra = {}) {
  std::string rules = R"({"rules": [)";
  for (std::size_t i = 0; i < faults.size(); ++i)
    rules += std::string(i ? "," : "") + R"({"match": ")" + prefix + " " + faults[i] +
             R"(", "fault": ")" + faults[i] + R"(")" + (extra.empty() ? "" : ", " + extra) + "}";
  return rules + "]}";
}

/// `init`, then a case per fault, with the fault as its id, asking "PREFIX FAULT" (answered with
/// the fault by fault_rules). Any text passes its assertion, so a body wrongly scored as an
/// answer would pass.
inline void init_with_fault_cases(const Repo& repo, const std::vector<std::string>& faults,
                                  const std::string& prefix) {
  std::string jsonl;
  for (const auto& f : faults)
    jsonl += R"({"type":"case","id":")" + f + R"(","prompt":")" + prefix + " " + f +
             R"(","expect":[{"type":"not-contains","value":"zzz"}],)" +
             R"("provenance":{"kind":"spec","note":"faults"}})" + "\n";
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "cases.jsonl", jsonl);
  must_succeed(repo, {"import", "-q", "cases.jsonl"});
}

/// The runs store a run in `repo` writes.
inline std::filesystem::path runs_db_of(const Repo& repo) {
  return repo.path() / ".evalkeep" / "runs.db";
}

/// The stand-in's request log (GET /__log) grouped by key (the last user message), in order.
inline std::map<std::string, std::vector<nlohmann::json>> log_by_key(const nlohmann::json& log) {
  std::map<std::string, std::vector<nlohmann::json>> out;
  for (const auto& entry : log)
    out[entry["key"].get<std::string>()].push_back(entry);
  return out;
}

} // namespace evalkeep::test
