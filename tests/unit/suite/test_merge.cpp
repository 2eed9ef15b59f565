#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/merge.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"
#include "suite/weakening.hpp"
#include "support/suite_fixture.hpp"

#include <mutex>

#include <catch2/catch.hpp>
#include <sqlite3.h>

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
  changes.reason = "reworded"; // a changed input is a weakening: it needs a decision
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

// SQLite's error log for the life of the object. Misuse of its C API (a call on a closed or null
// connection) is never returned to anyone: SQLite logs it, and only there can a test see it.
class SqliteLog {
public:
  SqliteLog() { configure(&SqliteLog::record, this); }
  ~SqliteLog() { configure(nullptr, nullptr); }
  SqliteLog(const SqliteLog&) = delete;
  SqliteLog& operator=(const SqliteLog&) = delete;

  /// Every entry logged with a MISUSE code.
  std::vector<std::string> misuse() {
    std::lock_guard lock(m_mutex);
    return m_misuse;
  }

private:
  using Callback = void (*)(void*, int, const char*);
  // The log can be set only while SQLite is shut down; no connection is open here.
  static void configure(Callback callback, void* self) {
    sqlite3_shutdown();
    REQUIRE(sqlite3_config(SQLITE_CONFIG_LOG, callback, self) == SQLITE_OK);
    REQUIRE(sqlite3_initialize() == SQLITE_OK);
  }
  static void record(void* self, int code, const char* message) {
    auto* log = static_cast<SqliteLog*>(self);
    std::lock_guard lock(log->m_mutex);
    if ((code & 0xff) == SQLITE_MISUSE)
      log->m_misuse.emplace_back(message ? message : "");
  }
  std::mutex m_mutex;
  std::vector<std::string> m_misuse;
};

// Retires `id` on a side, as `retire` would.
void retire_on(Suite& s, const std::string& id, const std::string& rationale, const Origin& o) {
  RetireRequest req{id, "feature-removed", rationale, {}, "Lead <l@x>", {}, {}};
  REQUIRE(retire(s, req, Policy{}, o));
}

// Whoever settles a conflict: a third person, later than both sides.
Resolutions keeping(std::map<std::string, Keep> keep) {
  return {std::move(keep), at("15:00:00")};
}

} // namespace

TEST_CASE("a merge leaves no call on a connection it has moved away", "[merge]") {
  Branches b;
  {
    auto s = b.open(b.theirs);
    test::add_case(s, test::make_case("theirs-new", "", "Theirs?"));
  }
  SqliteLog log;
  auto outcome = merge_suites(b.base, b.ours, b.theirs);
  REQUIRE(outcome);
  CHECK(outcome->cases_taken == 1);
  CHECK(log.misuse().empty());
}

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

TEST_CASE("a conflict settled for ours or theirs merges everything else and verifies",
          "[merge][resolve]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Our words.", test::origin());
    test::add_case(s, test::make_case("ours-new", "", "Ours?"));
  }
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Their words.", at("11:00:00"));
    REQUIRE(add_case(s, test::make_case("theirs-new", "", "Theirs?"), Policy{}, at("11:00:01")));
  }
  auto ours_events = ledger_of(b.ours).size();
  auto keep = GENERATE(Keep::ours, Keep::theirs);
  INFO("keep " << to_string(keep));
  auto resolutions = keeping({{"tone-apology", keep}});

  auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
  REQUIRE(outcome);
  CHECK(outcome->conflicts.empty());
  CHECK(outcome->not_in_conflict.empty());
  REQUIRE(outcome->resolved.size() == 1);
  CHECK(outcome->resolved.front().id == "tone-apology");
  CHECK(outcome->resolved.front().kept == keep);
  CHECK(outcome->cases_taken == (keep == Keep::theirs ? 2 : 1));
  CHECK(outcome->events_carried == 2);
  require_verified(b.ours);

  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  CHECK(get_case(*merged, "tone-apology")->prompt ==
        (keep == Keep::ours ? "Our words." : "Their words."));
  CHECK(get_case(*merged, "ours-new"));
  CHECK(get_case(*merged, "theirs-new"));
  // Their events come last: keeping theirs needs no more; keeping ours is recorded, by whoever
  // settled it, as an edit from their version to ours.
  auto events = ledger_of(b.ours);
  CHECK(events.size() == ours_events + 2 + (keep == Keep::ours ? 1 : 0));
  CHECK(outcome->events_recorded == (keep == Keep::ours ? 1u : 0u));
  if (keep == Keep::ours) {
    const auto& e = events.back();
    CHECK(e.action == "edit");
    CHECK(e.subject == "tone-apology");
    CHECK(e.at == "2026-05-02T15:00:00Z");
    CHECK_THAT(e.rationale.value_or(""), Catch::Contains("kept our version"));
    auto recorded = recorded_edit(e);
    REQUIRE(recorded);
    REQUIRE(recorded->changes.size() == 1);
    CHECK(recorded->changes.front().before == "Their words.");
  }
}

TEST_CASE("a retirement against an edit settles either way with the decision in force",
          "[merge][resolve]") {
  Branches b;
  // Which side retires the case and which edits it, and which side is kept.
  auto retiring_side = GENERATE(Keep::ours, Keep::theirs);
  auto keep = GENERATE(Keep::ours, Keep::theirs);
  INFO("retired on " << to_string(retiring_side) << ", keep " << to_string(keep));
  {
    auto s = b.open(retiring_side == Keep::ours ? b.ours : b.theirs);
    retire_on(s, "tone-apology", "tone is the brand team's now", at("09:00:00"));
  }
  {
    auto s = b.open(retiring_side == Keep::ours ? b.theirs : b.ours);
    edit_prompt(s, "tone-apology", "Edited words.", at("10:00:00"));
  }
  auto resolutions = keeping({{"tone-apology", keep}});
  auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
  REQUIRE(outcome);
  REQUIRE(outcome->conflicts.empty());
  require_verified(b.ours);
  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  bool retired = keep == retiring_side;
  CHECK(get_case(*merged, "tone-apology")->status ==
        (retired ? CaseStatus::retired : CaseStatus::active));
  auto decision = find_decision(*merged, "tone-apology");
  REQUIRE(decision);
  CHECK(decision->has_value() == retired);
}

TEST_CASE("an incident conflict settles for either side", "[merge][resolve]") {
  Branches b;
  for (auto [path, title] : {std::pair{&b.ours, "Ours"}, std::pair{&b.theirs, "Theirs"}}) {
    auto s = b.open(*path);
    IncidentChanges changes;
    changes.title = title;
    REQUIRE(edit_incident(s, "INC-7", changes, test::origin()));
  }
  auto keep = GENERATE(Keep::ours, Keep::theirs);
  auto resolutions = keeping({{"INC-7", keep}});
  auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
  REQUIRE(outcome);
  REQUIRE(outcome->resolved.size() == 1);
  CHECK(outcome->resolved.front().kind == "incident");
  require_verified(b.ours);
  auto merged = Suite::open(b.ours, Suite::Access::read);
  REQUIRE(merged);
  CHECK(get_incident(*merged, "INC-7")->title == (keep == Keep::ours ? "Ours" : "Theirs"));
}

TEST_CASE("settling only some conflicts, or naming a record not in conflict, writes nothing",
          "[merge][resolve]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Our words.", test::origin());
    edit_prompt(s, "refund-window", "Our refund words.", test::origin());
  }
  {
    auto s = b.open(b.theirs);
    edit_prompt(s, "tone-apology", "Their words.", at("11:00:00"));
    edit_prompt(s, "refund-window", "Their refund words.", at("11:00:01"));
  }
  auto before = test::file_hash(b.ours);
  SECTION("one of two conflicts settled") {
    auto resolutions = keeping({{"tone-apology", Keep::theirs}});
    auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
    REQUIRE(outcome);
    REQUIRE(outcome->conflicts.size() == 1);
    CHECK(outcome->conflicts.front().id == "refund-window");
  }
  SECTION("a typo among the ids") {
    auto resolutions = keeping(
        {{"tone-apology", Keep::ours}, {"refund-window", Keep::ours}, {"tone-apolgy", Keep::ours}});
    auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
    REQUIRE(outcome);
    CHECK(outcome->conflicts.empty());
    CHECK(outcome->not_in_conflict == std::vector<std::string>{"tone-apolgy"});
  }
  CHECK(test::file_hash(b.ours) == before);
  CHECK(!fs::exists(b.dir / ".ours.db.merging"));
}

TEST_CASE("keeping the side that lost a case is refused: a merge never deletes one",
          "[merge][resolve]") {
  Branches b;
  {
    auto s = b.open(b.ours);
    edit_prompt(s, "tone-apology", "Our words.", test::origin());
  }
  test::tamper_without_trigger(b.theirs, "cases_delete_needs_decision",
                               "DELETE FROM cases WHERE id = 'tone-apology'");
  auto before = test::file_hash(b.ours);
  auto resolutions = keeping({{"tone-apology", Keep::theirs}});
  auto outcome = merge_suites(b.base, b.ours, b.theirs, &resolutions);
  REQUIRE(!outcome);
  CHECK(outcome.error().code == ExitCode::refused);
  CHECK_THAT(outcome.error().message, Catch::Contains("cannot keep their version of case "
                                                      "tone-apology"));
  CHECK(test::file_hash(b.ours) == before);
}
