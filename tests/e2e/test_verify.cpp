// Verify: whatever a raw SQLite connection does to a suite behind evalkeep's back -- with or
// without dropping the protecting triggers first -- `evalkeep verify` notices and exits 1.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

// Runs `evalkeep verify`, which must fail: exit 1, nothing on stdout, the problems on stderr.
std::string failed_verify(const Repo& repo) {
  auto before = file_hash(repo.suite());
  auto r = repo.evalkeep({"verify"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("evalkeep: error: the suite failed verification"));
  CHECK(file_hash(repo.suite()) == before); // verify only reads
  return r.err;
}

} // namespace

TEST_CASE("verify passes on a suite only evalkeep has touched", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  auto before = file_hash(repo.suite());
  auto text = must_succeed(repo, {"verify"});
  CHECK_THAT(text.out, Catch::Contains("ok: schema 4, 3 ledger events chained, 2 cases and 1 "
                                       "incident match the ledger"));
  auto json = parse_json(must_succeed(repo, {"verify", "--json"}).out);
  CHECK(json["ok"] == true);
  CHECK(json["problems"] == nlohmann::json::array());
  CHECK(json["events"] == 3);
  CHECK(json["cases"] == 2);
  CHECK(json["incidents"] == 1);
  CHECK(file_hash(repo.suite()) == before);
  CHECK(must_succeed(repo, {"-q", "verify"}).out.empty());
}

TEST_CASE("verify names the ledger event that was rewritten after dropping its trigger",
          "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER ledger_is_append_only_update");
    db.exec("UPDATE ledger SET rationale = 'x' WHERE seq = 2");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("event 2 (add refund-window) does not match its hash"));
  CHECK_THAT(err, Catch::Contains("ledger_is_append_only_update is missing"));
}

TEST_CASE("verify notices a ledger event deleted after dropping its trigger", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER ledger_is_append_only_delete");
    db.exec("DELETE FROM ledger WHERE seq = 2");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("event 3 is out of sequence"));
}

TEST_CASE("verify names a case deleted after dropping the delete trigger", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER cases_delete_needs_decision");
    db.exec("DELETE FROM cases WHERE id = 'refund-window'");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err,
             Catch::Contains("case refund-window is in the ledger but missing from the suite"));
  CHECK_THAT(err, Catch::Contains("cases_delete_needs_decision is missing"));
  // The rest of evalkeep no longer sees the case either: verify is what catches it.
  CHECK(listed_cases(repo) == 1);
}

TEST_CASE("verify names a case whose prompt was changed with raw SQL", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("UPDATE cases SET prompt = 'Can I get a refund after 5 days?' "
            "WHERE id = 'refund-window'");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("case refund-window was changed outside evalkeep"));
  CHECK_THAT(err, !Catch::Contains("tone-apology"));
}

TEST_CASE("verify notices a retirement undone with raw SQL", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"});
  {
    // The triggers guard status changes towards retired and decisions of retired cases; in this
    // order, both statements get through.
    RawSqlite db(repo.suite());
    db.exec("UPDATE cases SET status = 'active' WHERE id = 'tone-apology'");
    db.exec("DELETE FROM retirements WHERE case_id = 'tone-apology'");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("case tone-apology was changed outside evalkeep"));
  CHECK_THAT(err, Catch::Contains("the retirement decision for tone-apology was deleted"));
}

TEST_CASE("verify notices a case inserted with raw SQL", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("INSERT INTO cases (id, prompt, expect, provenance_kind, provenance_note, "
            "content_hash) SELECT 'smuggled', prompt, expect, provenance_kind, provenance_note, "
            "content_hash FROM cases WHERE id = 'tone-apology'");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("smuggled"));
}

TEST_CASE("verify notices an incident edited with raw SQL", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("UPDATE incidents SET severity = 'low' WHERE id = 'INC-7'");
  }
  CHECK_THAT(failed_verify(repo), Catch::Contains("incident INC-7 differs"));
}

TEST_CASE("verify reports a dropped trigger even when nothing else changed", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER cases_no_replace");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("trigger cases_no_replace is missing"));
  CHECK_THAT(err, Catch::Contains("(1 problem)"));
}

TEST_CASE("verify reports a trigger that was weakened or an object that was added",
          "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER ledger_is_append_only_delete");
    db.exec("CREATE TRIGGER ledger_is_append_only_delete BEFORE DELETE ON ledger "
            "WHEN 0 BEGIN SELECT RAISE(ABORT, 'no'); END");
    db.exec("CREATE TABLE notes (t TEXT)");
  }
  auto err = failed_verify(repo);
  CHECK_THAT(err, Catch::Contains("trigger ledger_is_append_only_delete differs"));
  CHECK_THAT(err, Catch::Contains("unexpected table notes"));
}

TEST_CASE("verify --json reports the problems as data", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER ledger_is_append_only_update");
    db.exec("UPDATE ledger SET actor = 'Mallory <m@example.com>' WHERE seq = 3");
  }
  auto r = repo.evalkeep({"verify", "--json"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  auto json = parse_json(r.out);
  CHECK(json["ok"] == false);
  REQUIRE(json["problems"].is_array());
  REQUIRE(json["problems"].size() == 2);
  bool named_event = false;
  for (const auto& p : json["problems"]) {
    CHECK(p["message"].is_string());
    if (p["seq"] == 3) {
      named_event = true;
      CHECK_THAT(p["message"].get<std::string>(), Catch::Contains("event 3"));
    }
  }
  CHECK(named_event);
}

TEST_CASE("verify --json gives each problem its kind and subject", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id = "
            "'refund-window'");
  }
  auto r = repo.evalkeep({"verify", "--json"});
  CHECK(r.exit_code == 1);
  auto json = parse_json(r.out);
  REQUIRE(json["problems"].size() == 2);
  CHECK(json["problems"][0]["kind"] == "schema");
  CHECK(json["problems"][0]["subject"].is_null());
  CHECK(json["problems"][1]["kind"] == "case-missing");
  CHECK(json["problems"][1]["subject"] == "refund-window");
}

TEST_CASE("verify reports a suite whose schema was changed as tampering, exit 1, never 3",
          "[e2e][verify]") {
  struct Change {
    std::string what, sql, says;
  };
  const std::vector<Change> changes{
      {"a column renamed", "ALTER TABLE cases RENAME COLUMN prompt TO question",
       "table cases differs from evalkeep's definition: column prompt is missing, column "
       "question is unexpected"},
      {"a column dropped", "ALTER TABLE cases DROP COLUMN title",
       "table cases differs from evalkeep's definition: column title is missing"},
      {"a column added", "ALTER TABLE ledger ADD COLUMN extra TEXT",
       "table ledger differs from evalkeep's definition: column extra is unexpected"},
      {"a table swapped for a view",
       "PRAGMA foreign_keys = OFF; CREATE TABLE kept AS SELECT * FROM incidents; DROP TABLE "
       "incidents; CREATE VIEW incidents AS SELECT * FROM kept",
       "table incidents was replaced by a view"},
      {"a table dropped", "PRAGMA foreign_keys = OFF; DROP TABLE retirements",
       "table retirements is missing"},
      {"an object hidden behind a LIKE wildcard", "CREATE TABLE sqlite1hidden (x)",
       "unexpected table sqlite1hidden in the suite"},
  };
  for (const auto& c : changes) {
    INFO(c.what);
    Repo repo;
    seed_suite(repo);
    RawSqlite(repo.suite()).exec(c.sql);
    auto err = failed_verify(repo);
    CHECK_THAT(err, Catch::Contains(c.says));
    CHECK_THAT(err, !Catch::Contains("no such"));
    auto j = repo.evalkeep({"verify", "--json"});
    CHECK(j.exit_code == 1);
    CHECK(parse_json(j.out)["problems"][0]["kind"] == "schema");
  }
}

TEST_CASE("verify stops at the work limit with a clear problem", "[e2e][verify]") {
  Repo repo;
  seed_suite(repo);
  std::string jsonl;
  for (int i = 0; i < 2000; ++i)
    jsonl += "{\"type\":\"case\",\"id\":\"c" + std::to_string(i) +
             "\",\"prompt\":\"p\",\"expect\":[{\"type\":\"contains\",\"value\":\"x\"}],"
             "\"provenance\":{\"kind\":\"spec\",\"note\":\"n\"}}\n";
  must_succeed(repo, {"-q", "import", "-"}, jsonl);
  auto r = repo.evalkeep({"verify", "--json"}, {}, {"EVALKEEP_WORK_LIMIT=0.001"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  auto json = parse_json(r.out);
  auto last = json["problems"].back();
  CHECK(last["kind"] == "work-limit");
  CHECK(last["message"] == "verify stopped after 1 ms: the file makes SQLite work too long");
  must_succeed(repo, {"verify"});
}
