#include "suite/incidents.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

TEST_CASE("an incident is stored with its fields and an incident-add event", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  Incident i{"INC-7", "Refund promised outside policy", "2026-03-02",
             "high",  "https://tracker.example/INC-7",  "Promised a refund after 45 days"};
  REQUIRE(add_incident(s, i, origin()));
  auto stored = get_incident(s, "INC-7");
  REQUIRE(stored);
  CHECK(stored->title == i.title);
  CHECK(stored->date == i.date);
  CHECK(stored->severity == i.severity);
  CHECK(stored->url == i.url);
  CHECK(stored->summary == i.summary);
  auto events = read_ledger(s.db(), std::string("INC-7"));
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  CHECK(events->at(0).action == "incident-add");
  CHECK(events->at(0).after == incident_hash(i));
}

TEST_CASE("an incident id can be recorded only once", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-7", "Refund promised outside policy");
  auto again = add_incident(s, {"INC-7", "Something else", {}, {}, {}, {}}, origin());
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Contains("INC-7 already exists"));
  CHECK_THAT(again.error().hint, Catch::Contains("evalkeep incident edit INC-7"));
  CHECK(get_incident(s, "INC-7")->title == "Refund promised outside policy");
}

TEST_CASE("an incident with a bad id, date or severity is refused", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto error_for = [&](Incident i) {
    auto r = add_incident(s, i, origin());
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK_THAT(error_for({"INC 7", "t", {}, {}, {}, {}}), Catch::Contains("field \"id\""));
  CHECK_THAT(error_for({"INC-7", "", {}, {}, {}, {}}), Catch::Contains("field \"title\""));
  CHECK_THAT(error_for({"INC-7", "t", "2026-02-29", {}, {}, {}}),
             Catch::Contains("field \"date\""));
  CHECK_THAT(error_for({"INC-7", "t", {}, "urgent", {}, {}}),
             Catch::Contains("field \"severity\""));
  CHECK(test::count(s.db(), "SELECT count(*) FROM incidents") == 0);
}

TEST_CASE("editing an incident changes only the given fields and records both hashes", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-7", "Refund promised outside policy");
  auto before = get_incident(s, "INC-7");
  REQUIRE(before);

  IncidentChanges changes;
  changes.severity = "critical";
  changes.url = ""; // clears
  changes.rationale = "customer impact was larger";
  REQUIRE(edit_incident(s, "INC-7", changes, origin()));
  auto after = get_incident(s, "INC-7");
  REQUIRE(after);
  CHECK(after->severity == "critical");
  CHECK(after->title == before->title);
  CHECK(after->date == before->date);
  CHECK_FALSE(after->url);

  auto events = read_ledger(s.db(), std::string("INC-7"));
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(events->at(1).action == "incident-edit");
  CHECK(events->at(1).before == incident_hash(*before));
  CHECK(events->at(1).after == incident_hash(*after));
  CHECK(events->at(1).rationale == "customer impact was larger");

  auto noop = edit_incident(s, "INC-7", changes, origin());
  REQUIRE_FALSE(noop);
  CHECK_THAT(noop.error().message, Catch::Contains("nothing to change"));

  IncidentChanges bad;
  bad.date = "someday";
  CHECK_FALSE(edit_incident(s, "INC-7", bad, origin()));
  CHECK(get_incident(s, "INC-7")->date == "2026-03-02");

  auto missing = edit_incident(s, "INC-404", changes, origin());
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("INC-404"));
}

TEST_CASE("incidents are listed by id", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-9", "Nine");
  test::add_incident(s, "INC-10", "Ten");
  test::add_incident(s, "INC-1", "One");
  auto all = list_incidents(s);
  REQUIRE(all);
  std::vector<std::string> ids;
  for (const auto& i : *all)
    ids.push_back(i.id);
  CHECK(ids == std::vector<std::string>{"INC-1", "INC-10", "INC-9"});
  auto missing = get_incident(s, "INC-404");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().hint, Catch::Contains("evalkeep incident add INC-404"));
}

TEST_CASE("raw SQL cannot delete, replace or rename an incident", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  auto before = test::file_hash(path);
  auto db = store::Database::open(path, store::OpenMode::read_write);
  REQUIRE(db);
  REQUIRE(db->exec("PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = OFF"));
  struct Attempt {
    std::string sql, says;
  };
  for (const auto& a : std::vector<Attempt>{
           {"DELETE FROM incidents", "incidents are never deleted"},
           {"INSERT OR REPLACE INTO incidents (id, title) VALUES ('INC-7', 'other')",
            "incidents are never replaced"},
           {"REPLACE INTO incidents (id, title) VALUES ('INC-7', 'other')",
            "incidents are never replaced"},
           {"INSERT INTO incidents (id, title) VALUES ('INC-7', 'other') ON CONFLICT (id) DO "
            "UPDATE SET title = 'other'",
            "incidents are never replaced"},
           {"UPDATE incidents SET id = 'INC-8'", "incident ids never change"},
       }) {
    INFO(a.sql);
    auto r = db->exec(a.sql);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::refused);
    CHECK_THAT(r.error().message, Catch::Contains(a.says));
  }
  CHECK(test::file_hash(path) == before);
}
