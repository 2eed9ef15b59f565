#pragma once

// Header-only helpers for the end-to-end tests: running commands that must succeed or must be
// refused, a suite with a few cases in it, and a raw SQLite connection to tamper with a suite.

#include "core/process.hpp"
#include "support/cli_runner.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace evalkeep::test {

/// "evalkeep ARG ARG ..." for failure messages.
inline std::string command_line(const std::vector<std::string>& args) {
  std::string s = "evalkeep";
  for (const auto& a : args)
    s += " " + a;
  return s;
}

/// The file's hash, or "<missing>" when there is no file, to compare before and after.
inline std::string hash_or_missing(const std::filesystem::path& p) {
  return std::filesystem::exists(p) ? file_hash(p) : std::string("<missing>");
}

/// Runs evalkeep in the repository and requires exit 0 with nothing on stderr.
inline core::ProcessResult must_succeed(const Repo& repo, const std::vector<std::string>& args,
                                        const std::string& stdin_data = {},
                                        const std::vector<std::string>& env = {}) {
  auto r = repo.evalkeep(args, stdin_data, env);
  INFO(command_line(args) << "\nexit: " << r.exit_code << "\nstdout: " << r.out
                          << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  return r;
}

/// Runs evalkeep, which must fail with `exit_code`: nothing on stdout, an "evalkeep: error:" on
/// stderr, and the suite file byte-for-byte as it was. Returns the result for more checks.
inline core::ProcessResult must_fail(const Repo& repo, int exit_code,
                                     const std::vector<std::string>& args,
                                     const std::string& stdin_data = {},
                                     const std::vector<std::string>& env = {}) {
  auto before = hash_or_missing(repo.suite());
  auto r = repo.evalkeep(args, stdin_data, env);
  INFO(command_line(args) << "\nexit: " << r.exit_code << "\nstdout: " << r.out
                          << "\nstderr: " << r.err);
  CHECK(r.exit_code == exit_code);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
  CHECK(hash_or_missing(repo.suite()) == before);
  return r;
}

/// The results in the repository's runs.db, by case id: each row's case_id, verdict and
/// assertions (their JSON as text), read with the sqlite3 shell.
inline nlohmann::json run_results(const Repo& repo) {
  auto rows = repo.run({"sqlite3", "-json", ".evalkeep/runs.db",
                        "SELECT case_id, verdict, assertions FROM results ORDER BY case_id"});
  return nlohmann::json::parse(rows.out.empty() ? "[]" : rows.out);
}

/// The assertions (JSON text) of the first result of case `id` among `rows` (run_results), or
/// empty when it has none.
inline std::string assertions_of(const nlohmann::json& rows, const std::string& id) {
  for (const auto& r : rows)
    if (r["case_id"] == id)
      return r["assertions"].get<std::string>();
  return {};
}

/// The ids of the cases that failed in the summary of `evalkeep run --json`.
inline std::set<std::string> failed_cases(const nlohmann::json& summary) {
  std::set<std::string> out;
  for (const auto& f : summary["failures"])
    out.insert(f["case"].get<std::string>());
  return out;
}

/// Runs evalkeep in `cwd` (e.g. a subdirectory of a repository).
inline core::ProcessResult evalkeep_in(const std::filesystem::path& cwd,
                                       const std::vector<std::string>& args,
                                       const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{EVALKEEP_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = core::run_process(argv, {.cwd = cwd, .stdin_data = {}, .env = env, .timeout_ms = 0});
  if (!r)
    throw std::runtime_error("cannot run evalkeep: " + r.error().message);
  return *r;
}

/// `evalkeep init`, incident INC-7, case refund-window guarding it (event 2) and case
/// tone-apology from a spec (event 3): the suite of the README.
inline void seed_suite(const Repo& repo) {
  must_succeed(repo, {"init"});
  must_succeed(repo, {"incident", "add", "INC-7", "--title", "Refund promised outside policy",
                      "--date", "2026-03-02", "--severity", "high"});
  must_succeed(repo,
               {"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
                "--expect", "icontains:30 days", "--incident", "INC-7", "--tag", "billing"});
  must_succeed(repo, {"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
                      "not-contains:unfortunately", "--provenance", "spec:style guide 2.1"});
}

/// A raw connection to a suite file through the sqlite3 C API, as anyone with the file has.
class RawSqlite {
public:
  explicit RawSqlite(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close(m_db);
      throw std::runtime_error("cannot open " + file.string() + ": " + msg);
    }
  }
  ~RawSqlite() { sqlite3_close(m_db); }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  /// Runs SQL; returns SQLite's error message, empty on success.
  std::string try_exec(const std::string& sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &msg);
    std::string out = rc == SQLITE_OK ? "" : (msg ? msg : "error");
    sqlite3_free(msg);
    return out;
  }
  /// Runs SQL that must succeed.
  void exec(const std::string& sql) {
    auto err = try_exec(sql);
    if (!err.empty())
      throw std::runtime_error("sql failed: " + sql + ": " + err);
  }
  /// The first column of the first row as an integer.
  long long integer(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot prepare: " + sql + ": " + sqlite3_errmsg(m_db));
    long long v = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    return v;
  }

private:
  sqlite3* m_db = nullptr;
};

/// Parses a command's stdout as JSON, failing the test with the text when it is not.
inline nlohmann::json parse_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  INFO("not JSON: " << text);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

/// The number of cases `list --json` shows (removed ones excluded).
inline std::size_t listed_cases(const Repo& repo) {
  return parse_json(must_succeed(repo, {"list", "--json"}).out).size();
}

/// A command as reached from `evalkeep --help`, with its own help text.
struct Help {
  std::vector<std::string> path; // {"runs", "list"}; {} for evalkeep itself
  std::string text;
};

// The names in a help's "Subcommands:" list.
inline std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  bool listing = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "Subcommands:")
      listing = true;
    else if (line.empty())
      listing = false;
    else if (listing && line.starts_with("  ") && line[2] != ' ')
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

/// Every command, found the way a user finds them: reading --help, then each listed
/// subcommand's --help, down to the leaves.
inline std::vector<Help> walk_help(const Repo& repo) {
  std::vector<Help> out;
  std::vector<std::vector<std::string>> todo{{}};
  while (!todo.empty()) {
    auto path = todo.front();
    todo.erase(todo.begin());
    auto args = path;
    args.push_back("--help");
    auto help = must_succeed(repo, args).out;
    for (const auto& name : subcommands_in(help)) {
      auto sub = path;
      sub.push_back(name);
      todo.push_back(sub);
    }
    out.push_back({path, help});
  }
  return out;
}

/// "runs list" for {"runs", "list"}.
inline std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

} // namespace evalkeep::test
