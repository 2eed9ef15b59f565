#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/merge.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
namespace fs = std::filesystem;

namespace {

// A base suite (INC-7 guarded by refund-window, plus tone-apology) copied to ours and theirs,
// each of which the test then changes through the library, as two branches would.
struct Branches {
  test::TempDir dir;
  fs::path base = dir / "base.db", ours = dir / "ours.db", theirs = dir / "theirs.db";

  Branches() {
    {
      auto s = test::suite_with_case(dir, "refund-window", "INC-7");
      test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
    }
    fs::copy_file(test::suite_path(dir), base);
    fs::copy_file(base, ours);
    fs::copy_file(base, theirs);
  }

  Suite open(const fs::path& p) {
    auto s = Suite::open(p, Suite::Access::write);
    REQUIRE(s);
    return std::move(*s);
  }
};

// Theirs acts later in the day than ours, so carried events keep a visibly different time.
Origin at(const std::string& time) {
  auto o = test::origin();
  o.at = "2026-05-02T" + time + "Z";
  return o;
}

void edit_prompt(Suite& s, const std::string& id, const std::string& prompt, const Origin& origin) {
  CaseChanges changes;
  changes.prompt = prompt;
  changes.rationale = "reword";
  REQUIRE(edit_case(s, id, changes, Policy{}, origin));
}

std::vector<LedgerEvent> ledger_of(const fs::path& p) {
  auto s = Suite::open(p, Suite::Access::read);
  REQUIRE(s);
  auto events = read_ledger(s->db());
  REQUIRE(events);
  return *events;
}

void require_verified(const fs::path& p) {
  auto s = Suite::open(p, Suite::Access::read);
  REQUIRE(s);
  auto report = verify(*s);
  REQUIRE(report);
  INFO((report->ok() ? "" : report->problems.front().message));
  REQUIRE(report->ok());
}

// Changes the first letter of `id` inside `table`'s page only, out of key order: a scan of the
// table still lists the record, a lookup by id no longer finds it (as in a damaged file the
// fuzzer made). The table must fit in its root page.
void misplace_key(const fs::path& suite_file, const std::string& table, const std::string& id) {
  std::size_t page_size = 0, root = 0;
  {
    auto db = store::Database::open(suite_file, store::OpenMode::read_only);
    REQUIRE(db);
    page_size = static_cast<std::size_t>(test::count(*db, "PRAGMA page_size"));
    root = static_cast<std::size_t>(test::count(
        *db, fmt::format("SELECT rootpage FROM sqlite_schema WHERE name = '{}'", table)));
  }
  std::string bytes = test::read_file(suite_file);
  auto at = bytes.find(id, (root - 1) * page_size);
  REQUIRE(at < root * page_size);
  bytes[at] = 'A';
  test::write_file(suite_file, bytes);
}

} // namespace

TEST_CASE("merge brings in their new cases and incidents after ours", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    test::add_case(s, test::make_case("ours-new", "", "Ours?"));
  }
  {
    auto s = b.open(b.theirs);
    REQUIRE(add_incident(s, Incident{"INC-9", "Wrong currency", {}, {}, {}, {}}, at("12:00:00")));
    REQUIRE(add_case(s, test::make_case("theirs-new", "INC-9", "Price in euros?"), Policy{},
                     at("12:00:01")));
  }
  auto prefix = ledger_of(b.base).size();
  auto ours_before = ledger_of(b.ours);
  auto theirs_events = ledger_of(b.theirs);

  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->cases_taken == 1);
  CHECK(outcome->incidents_taken == 1);
  CHECK(outcome->events_carried == 2);
  require_verified(b.ours);

  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  for (const char* id : {"refund-window", "tone-apology", "ours-new", "theirs-new"})
    CHECK(get_case(*merged, id));
  CHECK(get_incident(*merged, "INC-9"));

  // The common prefix and our events stand as they were; theirs follow with their own times.
  auto events = ledger_of(b.ours);
  REQUIRE(events.size() == ours_before.size() + 2);
  for (std::size_t i = 0; i < ours_before.size(); ++i)
    CHECK(events[i].hash == ours_before[i].hash);
  CHECK(events[ours_before.size()].subject == "INC-9");
  CHECK(events[ours_before.size()].at == theirs_events[prefix].at);
  CHECK(events.back().subject == "theirs-new");
  CHECK(events.back().seq == static_cast<std::int64_t>(events.size()));
}

TEST_CASE("merge takes their retirement and keeps our edit of another case", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "My parcel is a week late.", test::origin());
  }
  {
    auto s = b.open(b.theirs);
    RetireRequest req{
        "refund-window", "feature-removed", "refunds are gone", {}, "Lead <l@x>", {}, {}};
    REQUIRE(retire(s, req, Policy{}, at("09:00:00")));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->cases_taken == 1);
  require_verified(b.ours);
  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  auto retired = get_case(*merged, "refund-window");
  REQUIRE(retired);
  CHECK(retired->status == CaseStatus::retired);
  auto decision = find_decision(*merged, "refund-window");
  REQUIRE(decision);
  REQUIRE(*decision);
  CHECK((*decision)->approved_by == "Lead <l@x>");
  auto edited = get_case(*merged, "tone-apology");
  REQUIRE(edited);
  CHECK(edited->prompt == "My parcel is a week late.");
}

TEST_CASE("merge takes their reinstatement of a case retired at the base", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.base);
    RetireRequest req{"refund-window", "duplicate", "same as tone", {}, {}, {}, {}};
    REQUIRE(retire(s, req, Policy{}, test::origin()));
  }
  fs::copy_file(b.base, b.ours, fs::copy_options::overwrite_existing);
  fs::copy_file(b.base, b.theirs, fs::copy_options::overwrite_existing);
  {
    auto s = b.open(b.theirs);
    REQUIRE(reinstate(s, "refund-window", "still needed", at("08:00:00")));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  require_verified(b.ours);
  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  CHECK(get_case(*merged, "refund-window")->status == CaseStatus::active);
  auto decision = find_decision(*merged, "refund-window");
  REQUIRE(decision);
  CHECK(!*decision);
}

TEST_CASE("the same change on both sides merges cleanly", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Same words.", test::origin());
  }
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Same words.", at("11:00:00"));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->cases_taken == 0);
  CHECK(outcome->events_carried == 1);
  require_verified(b.ours);
}

TEST_CASE("different changes to one case are a conflict that leaves ours untouched", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Our words.", test::origin());
    test::add_case(s, test::make_case("ours-new", "", "Ours?"));
  }
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Their words.", at("11:00:00"));
  }
  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  REQUIRE(outcome->conflicts.size() == 1);
  const auto& c = outcome->conflicts.front();
  CHECK(c.kind == "case");
  CHECK(c.id == "tone-apology");
  CHECK_THAT(c.ours, Catch::Contains("prompt: Our words."));
  CHECK_THAT(c.theirs, Catch::Contains("prompt: Their words."));
  CHECK(test::file_hash(b.ours) == before);
  CHECK(!fs::exists(b.dir / ".ours.db.merging"));
}

TEST_CASE("a case they edited and edited back still conflicts with our edit", "[merge]") {
  // Their content equals the base's, but their ledger's latest event for the case would
  // otherwise describe a version the merged suite does not hold.
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Our words.", test::origin());
  }
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Briefly different.", at("11:00:00"));
    edit_prompt(s, "tone-apology", "My order is late.", at("11:00:01"));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  REQUIRE(outcome->conflicts.size() == 1);
  CHECK(outcome->conflicts.front().id == "tone-apology");
}

TEST_CASE("an incident edited differently on both sides is a conflict", "[merge]") {
  Branches b;
  for (auto [path, title] : {std::pair{&b.ours, "Ours"}, std::pair{&b.theirs, "Theirs"}}) {
    auto s = b.open(*path);
    IncidentChanges changes;
    changes.title = title;
    REQUIRE(edit_incident(s, "INC-7", changes, test::origin()));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  REQUIRE(outcome->conflicts.size() == 1);
  CHECK(outcome->conflicts.front().kind == "incident");
  CHECK_THAT(outcome->conflicts.front().theirs, Catch::Contains("title: Theirs"));
}

TEST_CASE("their edited ledger is refused, not re-chained into ours", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.theirs);
    test::add_case(s, test::make_case("theirs-new", "", "Theirs?"));
  }
  test::tamper_without_trigger(b.theirs, "ledger_is_append_only_update",
                               "UPDATE ledger SET rationale = 'rewritten' WHERE seq = "
                               "(SELECT max(seq) FROM ledger)");
  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(!outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains("does not chain"));
  CHECK(test::file_hash(b.ours) == before);
}

TEST_CASE("a case hand-edited on their side fails the merged verify and leaves ours", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Their words.", at("11:00:00"));
  }
  test::tamper_without_trigger(b.theirs, "cases_no_replace",
                               "UPDATE cases SET title = 'sneaky' WHERE id = 'tone-apology'");
  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(!outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains("does not pass verify"));
  CHECK(test::file_hash(b.ours) == before);
  CHECK(!fs::exists(b.dir / ".ours.db.merging"));
}

TEST_CASE("suites without a common ancestor merge by id", "[merge]") {
  Branches b;
  test::write_file(b.base, ""); // git gives an empty file when there is no ancestor
  {
    auto s = b.open(b.theirs);
    test::add_case(s, test::make_case("theirs-new", "", "Theirs?"));
  }
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->cases_taken == 1);
  require_verified(b.ours);
}

TEST_CASE("merging with nothing new on their side leaves ours byte for byte", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    test::add_case(s, test::make_case("ours-new", "", "Ours?"));
  }
  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->events_carried == 0);
  CHECK(test::file_hash(b.ours) == before);
}

TEST_CASE("a file that is not a suite is a clear error", "[merge]") {
  Branches b;
  test::write_file(b.theirs, "not a database");
  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(!outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains("their suite"));
  CHECK(test::file_hash(b.ours) == before);
}

TEST_CASE("a record their damaged file lists but cannot read back is an error and no crash",
          "[merge]") {
  Branches b;
  std::string table, misplaced;
  {
    auto s = b.open(b.theirs);
    SECTION("a case") {
      test::add_case(s, test::make_case("theirs-a", "", "A?"));
      test::add_case(s, test::make_case("theirs-b", "", "B?"));
      table = "cases", misplaced = "theirs-b";
    }
    SECTION("an incident") {
      test::add_incident(s, "INC-8", "Eight");
      test::add_incident(s, "INC-9", "Nine");
      table = "incidents", misplaced = "INC-9";
    }
  }
  misplace_key(b.theirs, table, misplaced);

  auto before = test::file_hash(b.ours);
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(!outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains("'A" + misplaced.substr(1) + "'") &&
                                          Catch::Contains("cannot read it back"));
  CHECK(test::file_hash(b.ours) == before);
  CHECK(!fs::exists(b.dir / ".ours.db.merging"));
}
