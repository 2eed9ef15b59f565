// Item 14: the suite file a pull request brings is untrusted. Whatever it is -- not a suite, a
// newer schema, corrupt bytes, extra triggers or views, a committed -wal -- `evalkeep gate`
// fails with a clear message (and an ::error annotation under GitHub Actions), exit 1 or 2,
// never a signal.

#include "reliability/reliability.hpp"

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
      {"an empty file", [](const Repo& r) { write_file(r.suite(), ""); }, "schema version 0"},
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
  // Schema version 1 is version 2 without the ledger's replace trigger.
  auto make_v1 = [](const Repo& r) {
    RawSqlite(r.suite()).exec("DROP TRIGGER ledger_no_replace; PRAGMA user_version = 1");
  };
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
    CHECK_THAT(r.out, Catch::Contains("schema version 1, older than the base's 2"));
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
    CHECK(sql_text(repo.suite(), "PRAGMA user_version") == "2");
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
