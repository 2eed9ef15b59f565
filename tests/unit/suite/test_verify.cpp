#include "store/migration.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"
#include "support/suite_fixture.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

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
