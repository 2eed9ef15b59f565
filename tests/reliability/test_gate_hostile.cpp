// Item 14: the suite file a pull request brings is untrusted. Whatever it is -- not a suite, a
// newer schema, corrupt bytes, extra triggers or views, a committed -wal -- `evalkeep gate`
// fails with a clear message (and an ::error annotation under GitHub Actions), exit 1 or 2,
// never a signal.

#include "reliability/reliability.hpp"
#include "suite/suite.hpp"
#include "support/suite_fixture.hpp"

#include <chrono>
#include <functional>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

// Overwrites `n` bytes at `offset` of the file with `byte`.
void overwrite(const fs::path& file, std::size_t offset, std::size_t n, char byte) {
  std::string bytes = read_file(file);
  REQUIRE(offset + n <= bytes.size());
  for (std::size_t i = 0; i < n; ++i)
    bytes[offset + i] = byte;
  write_file(file, bytes);
}

struct HostileSuite {
  std::string what;
  std::function<void(const Repo&)> make; // turns the committed suite into the hostile one
  std::string mentions;                  // in stderr (exit 2) or in the report (exit 1)
};

std::vector<HostileSuite> hostile_suites() {
  return {
      {"a text file", [](const Repo& r) { write_file(r.suite(), "this is not a database\n"); },
       "not an SQLite database"},
      {"an empty file", [](const Repo& r) { write_file(r.suite(), ""); }, "empty file (0 bytes)"},
      {"another application's SQLite database",
       [](const Repo& r) {
         fs::remove(r.suite());
         auto made = r.run({"sqlite3", r.suite().string(),
                            "PRAGMA application_id = 42; CREATE TABLE notes (t TEXT)"});
         REQUIRE(made.exit_code == 0);
       },
       "not an evalkeep suite"},
      {"a newer schema (user_version bumped)",
       [](const Repo& r) { RawSqlite(r.suite()).exec("PRAGMA user_version = 99"); },
       "newer evalkeep"},
      {"the header overwritten", [](const Repo& r) { overwrite(r.suite(), 0, 100, '\xAB'); },
       "not an SQLite database"},
      {"the cases table's page overwritten",
       [](const Repo& r) {
         auto root = std::stoul(
             sql_text(r.suite(), "SELECT rootpage FROM sqlite_schema WHERE name = 'cases'"));
         overwrite(r.suite(), (root - 1) * 4096 + 8, 1000, '\x5A');
       },
       "corrupt"},
      {"the last pages overwritten",
       [](const Repo& r) {
         auto size = fs::file_size(r.suite());
         overwrite(r.suite(), size - 8192, 8192, '\xFF');
       },
       "corrupt"},
      {"the file truncated to half",
       [](const Repo& r) {
         auto bytes = read_file(r.suite());
         write_file(r.suite(), bytes.substr(0, bytes.size() / 2));
       },
       "corrupt"},
      {"an extra trigger",
       [](const Repo& r) {
         RawSqlite(r.suite()).exec("CREATE TRIGGER spy AFTER INSERT ON cases BEGIN "
                                   "SELECT 1; END");
       },
       "unexpected trigger spy"},
      {"an extra trigger that swallows deletes",
       [](const Repo& r) {
         RawSqlite(r.suite()).exec("CREATE TRIGGER quiet BEFORE DELETE ON cases BEGIN "
                                   "SELECT RAISE(IGNORE); END");
       },
       "unexpected trigger quiet"},
      {"an extra view",
       [](const Repo& r) { RawSqlite(r.suite()).exec("CREATE VIEW live AS SELECT * FROM cases"); },
       "unexpected view live"},
      {"a view calling a function with side effects",
       [](const Repo& r) {
         RawSqlite(r.suite()).exec(
             "CREATE VIEW boom AS SELECT load_extension('/nonexistent/evil') AS x");
       },
       "unexpected view boom"},
      {"a column renamed",
       [](const Repo& r) {
         RawSqlite(r.suite()).exec("ALTER TABLE cases RENAME COLUMN prompt TO question");
       },
       "column prompt is missing"},
      {"a column dropped",
       [](const Repo& r) { RawSqlite(r.suite()).exec("ALTER TABLE cases DROP COLUMN title"); },
       "column title is missing"},
      {"a column added",
       [](const Repo& r) { RawSqlite(r.suite()).exec("ALTER TABLE ledger ADD COLUMN x TEXT"); },
       "column x is unexpected"},
      {"a table swapped for a view",
       [](const Repo& r) {
         RawSqlite(r.suite()).exec("PRAGMA foreign_keys = OFF; ALTER TABLE cases RENAME TO kept; "
                                   "CREATE VIEW cases AS SELECT * FROM kept");
       },
       "table cases was replaced by a view"},
      {"a table hidden behind a LIKE wildcard",
       [](const Repo& r) { RawSqlite(r.suite()).exec("CREATE TABLE sqliteXbackdoor (x)"); },
       "unexpected table sqliteXbackdoor"},
      {"a committed -wal",
       [](const Repo& r) {
         // A real write-ahead log: copied while the writer still holds it, before the
         // checkpoint on close folds it back in.
         TempDir keep;
         {
           RawSqlite db(r.suite());
           db.exec("PRAGMA journal_mode = WAL");
           db.exec("UPDATE cases SET prompt = 'changed in the wal' WHERE id = 'tone-apology'");
           fs::copy_file(r.suite(), keep / "suite.db");
           fs::copy_file(r.suite().string() + "-wal", keep / "suite.db-wal");
         }
         fs::copy_file(keep / "suite.db", r.suite(), fs::copy_options::overwrite_existing);
         fs::copy_file(keep / "suite.db-wal", r.suite().string() + "-wal",
                       fs::copy_options::overwrite_existing);
       },
       "-wal"},
  };
}

} // namespace

TEST_CASE("a hostile suite file in a pull request fails the gate with a message, never a crash",
          "[reliability][gate]") {
  int caught = 0;
  const auto hostile = hostile_suites();
  for (const auto& h : hostile) {
    INFO(h.what);
    Repo repo;
    seed_suite(repo);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "pr"});
    h.make(repo);
    repo.git({"add", "-A", "-f"});
    repo.git({"commit", "-q", "-m", "hostile suite"});
    const std::vector<std::string> gha{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="};

    auto r = repo.evalkeep({"gate", "--base", "main"}, {}, gha);
    INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    CHECK_THAT(r.out + r.err, Catch::Contains(h.mentions));
    CHECK_THAT(r.err, Catch::Contains("::error"));
    if (r.exit_code == 2) {
      CHECK(r.out.empty());
      CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
    }
    // --json keeps stdout for the report, or empty when there is none; still no crash.
    auto j = repo.evalkeep(
        {"gate", "--base", "main", "--json", "--junit", "gate.xml", "--markdown", "gate.md"}, {},
        gha);
    CHECK((j.exit_code == 1 || j.exit_code == 2));
    CHECK(j.exit_code == r.exit_code);
    if (j.exit_code == 1)
      CHECK(parse_json(j.out)["passed"] == false);
    // verify and dump refuse it too, without crashing.
    auto v = repo.evalkeep({"verify"});
    CHECK((v.exit_code == 1 || v.exit_code == 2));
    auto d = repo.evalkeep({"dump", repo.suite().string()});
    CHECK(d.exit_code < 128);
    caught += (r.exit_code == 1 || r.exit_code == 2);
  }
  CHECK(caught == static_cast<int>(hostile.size()));
  FIGURE("hostile gate: " << caught << " of " << hostile.size()
                          << " hostile suite files failed the gate with exit 1 or 2");
}

TEST_CASE("a suite put back at an older schema than its base fails the gate, and an upgrade passes",
          "[reliability][gate]") {
  auto make_v1 = [](const Repo& r) { set_schema_version(r.suite(), 1); };
  const auto latest = std::to_string(evalkeep::suite::Suite::latest_schema_version());
  const std::vector<std::string> gha{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="};
  SECTION("an older copy over a newer one") {
    Repo repo;
    seed_suite(repo);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "pr"});
    make_v1(repo);
    repo.git({"commit", "-q", "-am", "older suite"});
    auto r = repo.evalkeep({"gate", "--base", "main"}, {}, gha);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("schema version 1, older than the base's " + latest));
    CHECK_THAT(r.err, Catch::Contains("::error"));
    // The file itself is a sound version-1 suite: verify and dump read it.
    CHECK(repo.evalkeep({"verify"}).exit_code == 0);
    CHECK(repo.evalkeep({"dump", repo.suite().string()}).exit_code == 0);
  }
  SECTION("a suite upgraded by this evalkeep, against a base at the older schema") {
    Repo repo;
    seed_suite(repo);
    make_v1(repo);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite at schema 1"});
    repo.git({"checkout", "-q", "-b", "pr"});
    // Any write migrates the file; reads leave it as it is.
    CHECK(repo.evalkeep({"list"}).exit_code == 0);
    CHECK(sql_text(repo.suite(), "PRAGMA user_version") == "1");
    REQUIRE(repo.evalkeep({"incident", "add", "INC-900", "--title", "Upgrade"}).exit_code == 0);
    CHECK(sql_text(repo.suite(), "PRAGMA user_version") == latest);
    repo.git({"commit", "-q", "-am", "upgrade"});
    auto r = repo.evalkeep({"gate", "--base", "main"}, {}, gha);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    // git diff of the history still reads the older file.
    auto diff = repo.git({"log", "-p", "--format=%s"});
    CHECK_THAT(diff, Catch::Contains("INC-900"));
    CHECK_THAT(diff, Catch::Contains("suite at schema 1"));
  }
}

namespace {

// An expression SQLite needs ~30 ms to evaluate for row x: a 6 MB string built and measured.
const std::string k_costly = "length(replace(hex(zeroblob(3000000 + x)), ''0'', ''ab''))";

// Adds a table of `rows` rows, then gives it (through writable_schema, so that making the file
// costs nothing) a definition SQLite evaluates for every row when it checks the file.
void costly_table(const fs::path& suite, const std::string& table, int rows,
                  const std::string& definition, const std::string& extra = {}) {
  RawSqlite db(suite);
  db.exec("CREATE TABLE " + table +
          " (x INTEGER); WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
          "SELECT i + 1 FROM r WHERE i < " +
          std::to_string(rows) + ") INSERT INTO " + table + " SELECT i FROM r;" + extra);
  db.exec("PRAGMA writable_schema = ON; " + definition + "; PRAGMA writable_schema = OFF");
}

struct CostlySuite {
  std::string what;
  std::function<void(const Repo&)> make;
  std::string verify_says;
};

std::vector<CostlySuite> costly_suites() {
  return {
      // A table named to slip past LIKE 'sqlite_%', whose NOT NULL generated column both
      // quick_check (the gate's open) and integrity_check (verify) compute for each of its rows.
      {"a hidden table with a costly generated column",
       [](const Repo& r) {
         costly_table(r.suite(), "sqliteXbackdoor", 1800,
                      "UPDATE sqlite_schema SET sql = 'CREATE TABLE sqliteXbackdoor (x INTEGER, "
                      "y INTEGER AS (" +
                          k_costly + ") NOT NULL)' WHERE name = 'sqliteXbackdoor'");
       },
       "unexpected table sqliteXbackdoor"},
      // A partial index whose condition integrity_check evaluates for every row of its table.
      {"a partial index with a costly condition",
       [](const Repo& r) {
         costly_table(r.suite(), "notes", 1200,
                      "UPDATE sqlite_schema SET sql = 'CREATE INDEX notes_costly ON notes (x) "
                      "WHERE " +
                          k_costly + " > 0' WHERE name = 'notes_costly'",
                      "CREATE INDEX notes_costly ON notes (x);");
       },
       "unexpected index notes_costly"},
      // An index on an expression integrity_check computes for every row of its table.
      {"an expression index with a costly expression",
       [](const Repo& r) {
         costly_table(r.suite(), "tally", 1200,
                      "UPDATE sqlite_schema SET sql = 'CREATE INDEX tally_costly ON tally ((" +
                          k_costly + "))' WHERE name = 'tally_costly'",
                      "CREATE INDEX tally_costly ON tally (x);");
       },
       "unexpected index tally_costly"},
  };
}

} // namespace

TEST_CASE("a small hostile suite cannot make verify or the gate work for minutes",
          "[reliability][gate]") {
  const std::vector<std::string> gha{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="};
  for (const auto& h : costly_suites()) {
    INFO(h.what);
    Repo repo;
    seed_suite(repo);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "pr"});
    h.make(repo);
    repo.git({"commit", "-q", "-am", "hostile suite"});
    auto size = fs::file_size(repo.suite());

    auto started = std::chrono::steady_clock::now();
    auto v = repo.evalkeep({"verify"});
    auto verify_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    INFO("verify exit " << v.exit_code << "\n" << v.err);
    CHECK(v.exit_code == 1);
    CHECK_THAT(v.err, Catch::Contains(h.verify_says));
    CHECK(verify_s.count() < 10);

    started = std::chrono::steady_clock::now();
    auto g = repo.evalkeep({"gate", "--base", "main"}, {}, gha);
    auto gate_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    INFO("gate exit " << g.exit_code << "\n" << g.out << g.err);
    CHECK((g.exit_code == 1 || g.exit_code == 2));
    CHECK_THAT(g.out + g.err, Catch::Contains(h.verify_says));
    CHECK_THAT(g.err, Catch::Contains("::error"));
    CHECK(gate_s.count() < 10);
    FIGURE("hostile suite, " << h.what << " (" << size / 1024 << " KiB): verify "
                             << verify_s.count() << " s, gate " << gate_s.count() << " s");
  }
}
