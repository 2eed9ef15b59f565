#include "store/migration.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"
#include "support/suite_fixture.hpp"

#include <algorithm>
#include <chrono>

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

namespace {

// refund-window (INC-7, retired, superseded by tone-apology), tone-apology (spec), and
// late-delivery (INC-7): six ledger events.
void populate(Suite& s) {
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  test::add_case(s, test::make_case("late-delivery", "INC-7", "Where is my order?"));
  RetireRequest req;
  req.case_id = "refund-window";
  req.reason = "superseded";
  req.rationale = "covered by the tone case";
  req.superseded_by = {"tone-apology"};
  REQUIRE(retire(s, req, Policy{}, origin()));
  CaseChanges changes;
  changes.title = "Late order apology";
  changes.rationale = "add a title";
  REQUIRE(edit_case(s, "tone-apology", changes, Policy{}, origin()));
}

VerifyReport verify_file(const std::filesystem::path& path) {
  auto s = Suite::open(path, Suite::Access::read);
  REQUIRE(s);
  auto report = verify(*s);
  REQUIRE(report);
  return *report;
}

std::string describe(const VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems)
    out += (p.seq ? "[" + std::to_string(*p.seq) + "] " : "[-] ") + p.message + "\n";
  return out;
}

bool mentions(const VerifyReport& r, const std::string& text) {
  return std::any_of(r.problems.begin(), r.problems.end(), [&](const VerifyProblem& p) {
    return p.message.find(text) != p.message.npos;
  });
}

} // namespace

TEST_CASE("verify finds a suite made by evalkeep intact and counts it", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  auto report = verify_file(path);
  INFO(describe(report));
  CHECK(report.ok());
  CHECK(report.events == 6);
  CHECK(report.cases == 3);
  CHECK(report.incidents == 1);
  CHECK(report.schema_version == store::suite_migrations().back().version);
}

TEST_CASE("verify finds an empty suite intact", "[suite]") {
  test::TempDir dir;
  { auto s = test::empty_suite(dir); }
  auto report = verify_file(test::suite_path(dir));
  INFO(describe(report));
  CHECK(report.ok());
  CHECK(report.events == 0);
  CHECK(report.cases == 0);
}

TEST_CASE("verify leaves the suite file's bytes unchanged", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  auto before = test::file_hash(path);
  verify_file(path);
  CHECK(test::file_hash(path) == before);
}

TEST_CASE("verify detects an edited ledger event and names its seq", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::tamper_without_trigger(path, "ledger_is_append_only_update",
                               "UPDATE ledger SET rationale = 'nobody decided this' WHERE seq = 5");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(report.problems.front().seq == 5);
  CHECK_THAT(report.problems.front().message, Catch::Contains("event 5"));
  CHECK_THAT(report.problems.front().message, Catch::Contains("edited"));
}

TEST_CASE("verify detects an edited ledger event even when its hash is recomputed alone",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  // Rewriting an event's hash breaks the link from the event after it.
  test::tamper_without_trigger(path, "ledger_is_append_only_update",
                               "UPDATE ledger SET hash = zeroblob(32) WHERE seq = 3");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(report.problems.front().seq == 3);
}

TEST_CASE("verify detects a deleted ledger event as out of sequence", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::tamper_without_trigger(path, "ledger_is_append_only_delete",
                               "DELETE FROM ledger WHERE seq = 3");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(report.problems.front().seq == 4);
  CHECK_THAT(report.problems.front().message, Catch::Contains("out of sequence"));
  CHECK(report.events == 5);
}

TEST_CASE("verify detects a case deleted outside evalkeep", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::tamper_without_trigger(path, "cases_delete_needs_decision",
                               "DELETE FROM cases WHERE id = 'late-delivery'");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case late-delivery is in the ledger but missing"));
  CHECK(report.cases == 2);
}

TEST_CASE("verify detects a prompt changed in place to other text or to bytes that are not UTF-8",
          "[suite]") {
  // The second is not valid UTF-8: verify must report it, not fail while hashing it.
  auto prompt =
      GENERATE(std::string("'Any refund, any time?'"), std::string("CAST(X'4e6fd3' AS TEXT)"));
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("UPDATE cases SET prompt = " + prompt + " WHERE id = 'late-delivery'"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case late-delivery was changed outside evalkeep"));
}

TEST_CASE("verify detects a case whose content and hash were both replaced", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  {
    // A careful forger recomputes the content hash; the ledger still remembers the old one.
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    auto c = get_case(*s, "late-delivery");
    REQUIRE(c);
    c->prompt = "Any refund, any time?";
    auto forged = content_hash(*c);
    auto update = s->db().prepare("UPDATE cases SET prompt = ?2, content_hash = ?3 WHERE id = ?1");
    REQUIRE(update);
    update->bind_all(c->id, *c->prompt, std::span<const std::uint8_t>(forged));
    REQUIRE(update->run());
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case late-delivery differs from what ledger event"));
}

TEST_CASE("verify detects a retirement decision changed in place", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("UPDATE retirements SET reason = 'duplicate' "
                      "WHERE case_id = 'refund-window'"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "retirement decision for refund-window is not the one"));
}

TEST_CASE("verify detects a retired case whose decision was deleted", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::tamper_without_trigger(path, "decisions_stay_while_retired",
                               "DELETE FROM retirements WHERE case_id = 'refund-window'");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case refund-window is retired without a retirement decision"));
}

TEST_CASE("verify detects an incident changed in place", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("UPDATE incidents SET severity = 'low' WHERE id = 'INC-7'"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "incident INC-7 differs"));
}

TEST_CASE("verify detects a case inserted outside evalkeep", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("INSERT INTO cases (id, prompt, expect, provenance_kind, provenance_note, "
                      "content_hash) VALUES ('smuggled', 'p', '[]', 'spec', 'x', zeroblob(32))"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case smuggled has no ledger event"));
}

TEST_CASE("verify detects a trigger or view added to the suite", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("CREATE VIEW live_cases AS SELECT id FROM cases WHERE status = 'active'"));
    REQUIRE(raw->exec("CREATE TRIGGER quietly_log AFTER INSERT ON cases BEGIN SELECT 1; END"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "unexpected view live_cases"));
  CHECK(mentions(report, "unexpected trigger quietly_log"));
}

TEST_CASE("verify detects a protecting trigger that was dropped", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("DROP TRIGGER cases_delete_needs_decision"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "trigger cases_delete_needs_decision is missing"));
  CHECK(report.problems.size() == 1);
}

TEST_CASE("verify detects a trigger replaced by a weaker one of the same name", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("DROP TRIGGER ledger_is_append_only_delete"));
    REQUIRE(raw->exec("CREATE TRIGGER ledger_is_append_only_delete BEFORE DELETE ON ledger "
                      "WHEN 0 BEGIN SELECT 1; END"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "trigger ledger_is_append_only_delete differs"));
}

TEST_CASE("verify stays clean through retire, reinstate, retire again, rm and purge", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
    REQUIRE(reinstate(s, "refund-window", "needed after all", origin()));
    RetireRequest again;
    again.case_id = "refund-window";
    again.reason = "out-of-scope";
    again.rationale = "refunds moved to a human";
    REQUIRE(retire(s, again, Policy{}, origin()));
    REQUIRE(remove_case(s, "refund-window", false, origin()));
    REQUIRE(remove_case(s, "refund-window", true, origin()));
    RetireRequest late;
    late.case_id = "late-delivery";
    late.reason = "duplicate";
    late.rationale = "same as tone-apology";
    REQUIRE(retire(s, late, Policy{}, origin()));
    REQUIRE(reinstate(s, "late-delivery", "not a duplicate", origin()));
    IncidentChanges inc;
    inc.severity = "critical";
    REQUIRE(edit_incident(s, "INC-7", inc, origin()));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  CHECK(report.ok());
  CHECK(report.events == 13);
  CHECK(report.cases == 3);
}

TEST_CASE("verify detects a retired case set back to active by raw SQL", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("UPDATE cases SET status = 'active' WHERE id = 'refund-window'"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case refund-window was changed outside evalkeep"));
}

TEST_CASE("verify detects a live case whose assertions were dropped by raw SQL", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto raw = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(raw);
    REQUIRE(raw->exec("UPDATE cases SET expect = NULL WHERE id = 'refund-window'"));
  }
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE_FALSE(report.ok());
  CHECK(mentions(report, "case refund-window lost its assertions outside evalkeep"));
}

namespace {

// Runs raw SQL on the suite file through a connection of its own, as the sqlite3 shell would (no
// defensive mode: writable_schema works).
void raw_sql(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  std::string err = msg ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(db);
  INFO(sql << ": " << err);
  REQUIRE(rc == SQLITE_OK);
}

std::size_t count_kind(const VerifyReport& r, VerifyProblem::Kind kind) {
  return static_cast<std::size_t>(std::count_if(r.problems.begin(), r.problems.end(),
                                                [&](const auto& p) { return p.kind == kind; }));
}

} // namespace

TEST_CASE("verify gives each problem a kind and the case or incident it is about", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::tamper_without_trigger(path, "cases_delete_needs_decision",
                               "DELETE FROM cases WHERE id = 'late-delivery'");
  raw_sql(path, "UPDATE incidents SET title = 'Something else' WHERE id = 'INC-7'");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE(report.problems.size() == 2);
  const auto& deleted = report.problems[0];
  CHECK(deleted.kind == VerifyProblem::Kind::case_missing);
  CHECK(to_string(deleted.kind) == "case-missing");
  CHECK(deleted.subject == "late-delivery");
  // lib/gate matches this prefix; it stays as it was.
  CHECK_THAT(deleted.message,
             Catch::StartsWith("case late-delivery is in the ledger but missing from the suite: "));
  CHECK(deleted.seq.has_value());
  const auto& changed = report.problems[1];
  CHECK(changed.kind == VerifyProblem::Kind::incident_changed);
  CHECK(changed.subject == "INC-7");
}

TEST_CASE("verify reports an object whose name only looks like SQLite's own", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  // LIKE 'sqlite_%' matched it: '_' stands for any character.
  raw_sql(path, "CREATE TABLE sqliteXbackdoor (x); CREATE TRIGGER sqlite1spy AFTER INSERT ON "
                "cases BEGIN INSERT INTO sqliteXbackdoor VALUES (NEW.id); END");
  auto report = verify_file(path);
  INFO(describe(report));
  CHECK(mentions(report, "unexpected table sqliteXbackdoor in the suite"));
  CHECK(mentions(report, "unexpected trigger sqlite1spy in the suite"));
  CHECK(count_kind(report, VerifyProblem::Kind::schema) == 2);
}

TEST_CASE("verify accepts SQLite's own statistics tables", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  raw_sql(path, "ANALYZE");
  auto report = verify_file(path);
  INFO(describe(report));
  CHECK(report.ok());
}

TEST_CASE("verify reports a changed table as tampering, never as an SQL error", "[suite]") {
  struct Change {
    std::string what, sql, says;
  };
  const std::vector<Change> changes{
      {"a column renamed", "ALTER TABLE cases RENAME COLUMN title TO headline",
       "table cases differs from evalkeep's definition: column title is missing, column headline "
       "is unexpected"},
      {"a column dropped", "ALTER TABLE incidents DROP COLUMN summary",
       "table incidents differs from evalkeep's definition: column summary is missing"},
      {"a column added", "ALTER TABLE retirements ADD COLUMN note TEXT",
       "table retirements differs from evalkeep's definition: column note is unexpected"},
      {"a table swapped for a view",
       "PRAGMA foreign_keys = OFF; ALTER TABLE cases RENAME TO old_cases; CREATE VIEW cases AS "
       "SELECT * FROM old_cases",
       "table cases was replaced by a view"},
      {"a table dropped", "DROP TABLE ledger", "table ledger is missing"},
      {"a constraint loosened",
       "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, 'CHECK "
       "(length(trim(rationale)) > 0)', '') WHERE name = 'retirements'",
       "table retirements differs from evalkeep's definition: its column types or constraints "
       "differ"},
  };
  for (const auto& c : changes) {
    INFO(c.what);
    test::TempDir dir;
    auto path = test::suite_path(dir);
    {
      auto s = test::suite_with_case(dir, "refund-window", "INC-7");
      populate(s);
    }
    raw_sql(path, c.sql);
    auto s = Suite::open(path, Suite::Access::read);
    REQUIRE(s);
    auto report = verify(*s);
    REQUIRE(report);
    INFO(describe(*report));
    CHECK(mentions(*report, c.says));
    // Judged on its schema alone: nothing else was read from it.
    CHECK(count_kind(*report, VerifyProblem::Kind::schema) == report->problems.size());
    CHECK(report->cases == 0);
  }
}

TEST_CASE("verify judges a file with a costly definition on its schema, without running it",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  // 2,000 rows whose generated column takes ~30 ms each to compute: a minute of integrity_check.
  raw_sql(path,
          "CREATE TABLE sqliteXcost (x INTEGER); WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
          "SELECT i + 1 FROM r WHERE i < 2000) INSERT INTO sqliteXcost SELECT i FROM r; "
          "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE sqliteXcost "
          "(x INTEGER, y INTEGER AS (length(replace(hex(zeroblob(3000000 + x)), ''0'', ''ab''))) "
          "NOT NULL)' WHERE name = 'sqliteXcost'");
  auto started = std::chrono::steady_clock::now();
  auto report = verify_file(path);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  INFO(describe(report));
  CHECK(mentions(report, "unexpected table sqliteXcost"));
  CHECK(count_kind(report, VerifyProblem::Kind::integrity) == 0);
}

TEST_CASE("verify stops at its work limit with a work-limit problem", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    for (int i = 0; i < 300; ++i)
      test::add_case(s, test::make_case("case-" + std::to_string(i), "INC-7"));
  }
  auto s = Suite::open(path, Suite::Access::read);
  REQUIRE(s);
  s->db().limit_work(std::chrono::milliseconds(1));
  auto report = verify(*s);
  REQUIRE(report);
  INFO(describe(*report));
  REQUIRE(count_kind(*report, VerifyProblem::Kind::work_limit) == 1);
  CHECK(mentions(*report, "verify stopped after 1 ms: the file makes SQLite work too long"));
}

TEST_CASE("verify detects an incident deleted or added outside evalkeep", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    test::add_incident(s, "INC-8", "Another one");
  }
  test::tamper_without_trigger(path, "incidents_never_deleted",
                               "DELETE FROM incidents WHERE id = 'INC-8'");
  raw_sql(path, "INSERT INTO incidents (id, title) VALUES ('INC-9', 'Smuggled')");
  auto report = verify_file(path);
  INFO(describe(report));
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].kind == VerifyProblem::Kind::incident_unrecorded);
  CHECK(report.problems[0].subject == "INC-9");
  CHECK(report.problems[1].kind == VerifyProblem::Kind::incident_missing);
  CHECK(report.problems[1].subject == "INC-8");
  CHECK(mentions(report, "incident INC-8 is in the ledger but missing from the suite"));
}

TEST_CASE("verify judges an older suite against the schema of its own version", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    populate(s);
  }
  test::set_schema_version(path, 2);
  auto report = verify_file(path);
  INFO(describe(report));
  CHECK(report.ok());
  CHECK(report.schema_version == 2);
  // A version-2 file carrying a later trigger is not what version 2 made.
  raw_sql(path, "CREATE TRIGGER incidents_id_is_stable BEFORE UPDATE OF id ON incidents BEGIN "
                "SELECT RAISE(ABORT, 'no'); END");
  CHECK(mentions(verify_file(path), "unexpected trigger incidents_id_is_stable"));
}
