#include "suite/cases.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

namespace {

RetireRequest request(std::string id, std::string reason = "out-of-scope",
                      std::string rationale = "refunds are handled by a human now") {
  RetireRequest r;
  r.case_id = std::move(id);
  r.reason = std::move(reason);
  r.rationale = std::move(rationale);
  return r;
}

// refund-window (INC-7) plus an active spec case tone-apology to supersede it with.
Suite two_cases(const test::TempDir& dir) {
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  return s;
}

} // namespace

TEST_CASE("retire records the decision and keeps the case as retired", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto req = request("refund-window", "superseded", "covered by the tone case");
  req.superseded_by = {"tone-apology"};
  req.revisit = "2026-12-01";
  auto d = retire(s, req, Policy{}, origin());
  REQUIRE(d);
  CHECK(d->reason == RetirementReason::superseded);
  CHECK(d->decided_by == "Test <t@example.com>");
  CHECK(d->decided_at == "2026-05-01T10:00:00Z");
  CHECK(d->superseded_by == std::vector<std::string>{"tone-apology"});
  CHECK(d->revisit == "2026-12-01");

  auto c = get_case(s, "refund-window");
  REQUIRE(c);
  CHECK(c->status == CaseStatus::retired);
  CHECK(c->prompt == "Can I get a refund after 45 days?");
  CHECK(c->content_hash == content_hash(*c));

  auto stored = find_decision(s, "refund-window");
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK(retirement_record(**stored).dump() == retirement_record(*d).dump());

  auto events = read_ledger(s.db(), std::string("refund-window"));
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(events->back().action == "retire");
  CHECK(events->back().rationale == "covered by the tone case");
  CHECK(*events->back().after == c->content_hash);
}

TEST_CASE("retire records the incidents whose guarantee it retires", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto d = retire(s, request("refund-window"), Policy{}, origin());
  REQUIRE(d);
  CHECK(d->incidents == std::vector<std::string>{"INC-7"});
  auto stored = find_decision(s, "refund-window");
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK((*stored)->incidents == std::vector<std::string>{"INC-7"});

  auto spec = retire(s, request("tone-apology"), Policy{}, origin());
  REQUIRE(spec);
  CHECK(spec->incidents.empty());
}

TEST_CASE("retire refuses an unknown reason and lists the known ones", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto before = test::file_hash(s.path());
  auto r = retire(s, request("refund-window", "obsolete"), Policy{}, origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("obsolete"));
  CHECK_THAT(r.error().hint, Catch::Contains("feature-removed"));
  CHECK_THAT(r.error().hint, Catch::Contains("flaky-unfixable"));
  CHECK(test::file_hash(s.path()) == before);
}

TEST_CASE("retire needs a rationale that is not blank", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  for (const char* blank : {"", "  ", "\n\t"}) {
    auto r = retire(s, request("refund-window", "duplicate", blank), Policy{}, origin());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("rationale"));
  }
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);
  CHECK_FALSE(find_decision(s, "refund-window")->has_value());
}

TEST_CASE("retire as superseded needs active cases other than itself to take over", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  test::add_case(s, test::make_case("flaky-case", "", "Flaky prompt"));
  REQUIRE(retire(s, request("flaky-case", "flaky-unfixable"), Policy{}, origin()));
  auto xfail = test::make_case("xfail-case", "", "Known failure");
  xfail.status = CaseStatus::xfail;
  test::add_case(s, xfail);
  auto before = test::file_hash(s.path());

  auto none = request("refund-window", "superseded");
  auto r0 = retire(s, none, Policy{}, origin());
  REQUIRE_FALSE(r0);
  CHECK_THAT(r0.error().hint, Catch::Contains("--superseded-by"));

  auto missing = request("refund-window", "superseded");
  missing.superseded_by = {"no-such-case"};
  auto r1 = retire(s, missing, Policy{}, origin());
  REQUIRE_FALSE(r1);
  CHECK_THAT(r1.error().message, Catch::Contains("no-such-case"));
  CHECK_THAT(r1.error().message, Catch::Contains("no such case"));

  auto itself = request("refund-window", "superseded");
  itself.superseded_by = {"refund-window"};
  auto r2 = retire(s, itself, Policy{}, origin());
  REQUIRE_FALSE(r2);
  CHECK_THAT(r2.error().message, Catch::Contains("cannot supersede itself"));

  auto retired_target = request("refund-window", "superseded");
  retired_target.superseded_by = {"tone-apology", "flaky-case"};
  auto r3 = retire(s, retired_target, Policy{}, origin());
  REQUIRE_FALSE(r3);
  CHECK(r3.error().code == ExitCode::refused);
  CHECK_THAT(r3.error().message, Catch::Contains("flaky-case"));
  CHECK_THAT(r3.error().message, Catch::Contains("retired"));

  auto xfail_target = request("refund-window", "superseded");
  xfail_target.superseded_by = {"xfail-case"};
  auto r4 = retire(s, xfail_target, Policy{}, origin());
  REQUIRE_FALSE(r4);
  CHECK_THAT(r4.error().message, Catch::Contains("xfail"));

  CHECK(test::file_hash(s.path()) == before);
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);
}

TEST_CASE("retire refuses a revisit date that is not a date", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto req = request("refund-window");
  req.revisit = "2026-02-30";
  auto r = retire(s, req, Policy{}, origin());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("--revisit '2026-02-30'"));
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);
}

TEST_CASE("retire refuses a case that is already retired", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  auto again = retire(s, request("refund-window", "duplicate"), Policy{}, origin());
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ExitCode::refused);
  CHECK_THAT(again.error().message, Catch::Contains("already retired"));
  CHECK((*find_decision(s, "refund-window"))->reason == RetirementReason::out_of_scope);

  auto unknown = retire(s, request("no-such-case"), Policy{}, origin());
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("no-such-case"));
}

TEST_CASE("a policy requiring an approver wants one who is not the decider", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  Policy policy;
  policy.require_approver = true;

  auto no_approver = retire(s, request("refund-window"), policy, origin());
  REQUIRE_FALSE(no_approver);
  CHECK(no_approver.error().code == ExitCode::refused);
  CHECK_THAT(no_approver.error().message, Catch::Contains("approver"));

  auto blank = request("refund-window");
  blank.approved_by = "  ";
  CHECK_FALSE(retire(s, blank, policy, origin()));

  auto self = request("refund-window");
  self.approved_by = "Test <t@example.com>";
  auto r = retire(s, self, policy, origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("differ"));

  auto other_decider = request("refund-window");
  other_decider.decided_by = "Lead <lead@example.com>";
  other_decider.approved_by = "Lead <lead@example.com>";
  CHECK_FALSE(retire(s, other_decider, policy, origin()));
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);

  auto approved = request("refund-window");
  approved.approved_by = "Reviewer <r@example.com>";
  auto d = retire(s, approved, policy, origin());
  REQUIRE(d);
  CHECK(d->approved_by == "Reviewer <r@example.com>");
}

TEST_CASE("rm refuses a live case, naming its incident and the retire command", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto before = test::file_hash(s.path());
  auto r = remove_case(s, "refund-window", false, origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("refund-window"));
  CHECK_THAT(r.error().message, Catch::Contains("INC-7"));
  CHECK_THAT(r.error().message, Catch::Contains("Refund promised outside policy"));
  CHECK_THAT(r.error().hint, Catch::Contains("evalkeep retire refund-window"));
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);
  CHECK(test::file_hash(s.path()) == before);

  auto purge = remove_case(s, "refund-window", true, origin());
  REQUIRE_FALSE(purge);
  CHECK(get_case(s, "refund-window")->prompt.has_value());
}

TEST_CASE("rm refuses a live spec case, naming its provenance", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  auto r = remove_case(s, "tone-apology", false, origin());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("style guide 2.1"));
  CHECK_THAT(r.error().hint, Catch::Contains("evalkeep retire tone-apology"));
}

TEST_CASE("rm of a retired case leaves a tombstone with its decision and history", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  REQUIRE(remove_case(s, "refund-window", false, origin()));

  auto c = get_case(s, "refund-window");
  REQUIRE(c);
  CHECK(c->status == CaseStatus::removed);
  CHECK_FALSE(c->purged);
  CHECK(c->prompt == "Can I get a refund after 45 days?");
  CHECK(c->content_hash == content_hash(*c));
  CHECK(find_decision(s, "refund-window")->has_value());

  auto events = read_ledger(s.db(), std::string("refund-window"));
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  CHECK(events->at(2).action == "delete");
  CHECK(nlohmann::json::parse(*events->at(2).detail)["purged"] == false);

  auto again = remove_case(s, "refund-window", false, origin());
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Contains("already removed"));
}

TEST_CASE("rm --purge drops the input and assertions but keeps the content hash", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  auto retired = get_case(s, "refund-window");
  REQUIRE(retired);
  Case removed = *retired;
  removed.status = CaseStatus::removed;
  const auto expected_hash = content_hash(removed);

  REQUIRE(remove_case(s, "refund-window", true, origin()));
  auto c = get_case(s, "refund-window");
  REQUIRE(c);
  CHECK(c->status == CaseStatus::removed);
  CHECK(c->purged);
  CHECK_FALSE(c->prompt);
  CHECK_FALSE(c->title);
  CHECK(c->messages.empty());
  CHECK(c->expect.empty());
  CHECK(c->provenance.incident == "INC-7");
  CHECK(c->content_hash == expected_hash);
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases WHERE id = 'refund-window' AND "
                            "prompt IS NULL AND expect IS NULL") == 1);
  CHECK(find_decision(s, "refund-window")->has_value());

  auto events = read_ledger(s.db(), std::string("refund-window"));
  REQUIRE(events);
  CHECK(events->back().action == "delete");
  CHECK(*events->back().after == expected_hash);
  CHECK(nlohmann::json::parse(*events->back().detail)["purged"] == true);

  CHECK_FALSE(remove_case(s, "refund-window", true, origin()));
}

TEST_CASE("rm --purge of an already removed case drops its payload", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  REQUIRE(remove_case(s, "refund-window", false, origin()));
  auto tomb = get_case(s, "refund-window");
  REQUIRE(tomb);
  REQUIRE(remove_case(s, "refund-window", true, origin()));
  auto purged = get_case(s, "refund-window");
  REQUIRE(purged);
  CHECK(purged->purged);
  CHECK(purged->content_hash == tomb->content_hash);
}

TEST_CASE("reinstate brings a retired case back and lifts its decision", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto original = get_case(s, "refund-window");
  REQUIRE(original);
  auto d = retire(s, request("refund-window"), Policy{}, origin());
  REQUIRE(d);

  auto blank = reinstate(s, "refund-window", " ", origin());
  REQUIRE_FALSE(blank);
  CHECK_THAT(blank.error().message, Catch::Contains("rationale"));

  REQUIRE(reinstate(s, "refund-window", "refunds are back in scope", origin()));
  auto c = get_case(s, "refund-window");
  REQUIRE(c);
  CHECK(c->status == CaseStatus::active);
  CHECK(c->content_hash == original->content_hash);
  auto decision = find_decision(s, "refund-window");
  REQUIRE(decision);
  CHECK_FALSE(decision->has_value());
  CHECK(test::count(s.db(), "SELECT count(*) FROM retirements") == 0);

  auto events = read_ledger(s.db(), std::string("refund-window"));
  REQUIRE(events);
  const auto& e = events->back();
  CHECK(e.action == "reinstate");
  CHECK(e.rationale == "refunds are back in scope");
  REQUIRE(e.detail);
  CHECK(nlohmann::json::parse(*e.detail) == nlohmann::json(retirement_record(*d)));
}

TEST_CASE("reinstate brings back a removed case that was not purged", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  REQUIRE(remove_case(s, "refund-window", false, origin()));
  REQUIRE(reinstate(s, "refund-window", "needed again", origin()));
  CHECK(get_case(s, "refund-window")->status == CaseStatus::active);
  CHECK_FALSE(find_decision(s, "refund-window")->has_value());
}

TEST_CASE("reinstate refuses a purged case and a case that is not retired", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto live = reinstate(s, "tone-apology", "why not", origin());
  REQUIRE_FALSE(live);
  CHECK(live.error().code == ExitCode::refused);
  CHECK_THAT(live.error().message, Catch::Contains("not retired"));

  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  REQUIRE(remove_case(s, "refund-window", true, origin()));
  auto before = test::file_hash(s.path());
  auto r = reinstate(s, "refund-window", "we want it back", origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("purged"));
  CHECK(get_case(s, "refund-window")->status == CaseStatus::removed);
  CHECK(find_decision(s, "refund-window")->has_value());
  CHECK(test::file_hash(s.path()) == before);
}

TEST_CASE("list_decisions returns every current decision by case id", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  REQUIRE(retire(s, request("tone-apology", "duplicate"), Policy{}, origin()));
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  auto all = list_decisions(s);
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK(all->at(0).case_id == "refund-window");
  CHECK(all->at(1).case_id == "tone-apology");
  CHECK(all->at(1).reason == RetirementReason::duplicate);
}

// The triggers inside the suite file, met through a raw connection as a sqlite3 session would.

TEST_CASE("raw DELETE FROM cases is refused while a case has no decision", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto raw = store::Database::open(s.path(), store::OpenMode::read_write);
  REQUIRE(raw);
  auto r = raw->exec("DELETE FROM cases");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("retirement decision"));
  CHECK_THAT(r.error().message, !Catch::StartsWith("evalkeep:"));
  CHECK(test::count(*raw, "SELECT count(*) FROM cases") == 2);

  // With a decision for one case, only the other still blocks a blanket delete.
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  CHECK_FALSE(raw->exec("DELETE FROM cases"));
  CHECK(test::count(*raw, "SELECT count(*) FROM cases") == 2);
}

TEST_CASE("raw UPDATE that retires a case without a decision is refused", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto raw = store::Database::open(s.path(), store::OpenMode::read_write);
  REQUIRE(raw);
  for (const char* sql : {"UPDATE cases SET status = 'retired'",
                          "UPDATE cases SET status = 'removed' WHERE id = 'refund-window'"}) {
    auto r = raw->exec(sql);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::refused);
    CHECK_THAT(r.error().message, Catch::Contains("retirement decision"));
  }
  CHECK(test::count(*raw, "SELECT count(*) FROM cases WHERE status = 'active'") == 2);

  auto rename = raw->exec("UPDATE cases SET id = 'renamed' WHERE id = 'refund-window'");
  REQUIRE_FALSE(rename);
  CHECK_THAT(rename.error().message, Catch::Contains("case ids never change"));
}

TEST_CASE("raw INSERT OR REPLACE cannot overwrite a case", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto raw = store::Database::open(s.path(), store::OpenMode::read_write);
  REQUIRE(raw);
  auto r = raw->exec("INSERT OR REPLACE INTO cases (id, prompt, expect, provenance_kind, "
                     "provenance_note, content_hash) VALUES ('refund-window', 'hijacked', '[]', "
                     "'spec', 'x', x'00')");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("never replaced"));
  CHECK(get_case(s, "refund-window")->prompt == "Can I get a refund after 45 days?");

  auto retired = raw->exec("INSERT INTO cases (id, prompt, expect, provenance_kind, "
                           "provenance_note, status, content_hash) VALUES ('sneaky', 'p', '[]', "
                           "'spec', 'x', 'retired', x'00')");
  REQUIRE_FALSE(retired);
  CHECK_THAT(retired.error().message, Catch::Contains("retirement decision"));
}

TEST_CASE("raw changes to the ledger are refused", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto raw = store::Database::open(s.path(), store::OpenMode::read_write);
  REQUIRE(raw);
  const auto events = test::count(*raw, "SELECT count(*) FROM ledger");
  auto update = raw->exec("UPDATE ledger SET actor = 'someone else'");
  REQUIRE_FALSE(update);
  CHECK(update.error().code == ExitCode::refused);
  CHECK_THAT(update.error().message, Catch::Contains("append-only"));
  auto del = raw->exec("DELETE FROM ledger WHERE seq = 1");
  REQUIRE_FALSE(del);
  CHECK(del.error().code == ExitCode::refused);
  CHECK_THAT(del.error().message, Catch::Contains("append-only"));
  CHECK(test::count(*raw, "SELECT count(*) FROM ledger") == events);
  CHECK(test::count(*raw, "SELECT count(*) FROM ledger WHERE actor = 'someone else'") == 0);
}

TEST_CASE("raw DELETE of a retired case's decision is refused", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  REQUIRE(retire(s, request("refund-window"), Policy{}, origin()));
  auto raw = store::Database::open(s.path(), store::OpenMode::read_write);
  REQUIRE(raw);
  auto r = raw->exec("DELETE FROM retirements");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::refused);
  CHECK_THAT(r.error().message, Catch::Contains("evalkeep reinstate"));
  CHECK(test::count(*raw, "SELECT count(*) FROM retirements") == 1);
}

// ---- retiring many cases ----

namespace {

// INC-7 guarded by refund-window and refund-late (tag billing), INC-9 by promo-code (tags billing
// and promo) and the xfail promo-expired, and tone-apology from a spec.
Suite many_cases(const test::TempDir& dir) {
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  test::add_incident(s, "INC-9", "Promo code accepted twice");
  auto late = test::make_case("refund-late", "INC-7", "Refund after 90 days?");
  late.tags = {"billing"};
  test::add_case(s, late);
  auto promo = test::make_case("promo-code", "INC-9", "Can I use SAVE10 twice?");
  promo.tags = {"billing", "promo"};
  test::add_case(s, promo);
  auto expired = test::make_case("promo-expired", "INC-9", "Is SAVE10 still valid?");
  expired.status = CaseStatus::xfail;
  test::add_case(s, expired);
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  return s;
}

std::vector<std::string> retired_ids(const Result<RetirementBatch>& batch) {
  REQUIRE(batch);
  std::vector<std::string> out;
  for (const auto& d : batch->decisions)
    out.push_back(d.case_id);
  return out;
}

} // namespace

TEST_CASE("retire_cases retires several cases with one decision in one transaction", "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  auto before = test::count(s.db(), "SELECT count(*) FROM ledger");
  CaseSelection select{{"tone-apology", "refund-late", "tone-apology"}, {}, {}};
  auto batch = retire_cases(s, select, request(""), Policy{}, origin());
  CHECK(retired_ids(batch) == std::vector<std::string>{"refund-late", "tone-apology"});
  CHECK(batch->unguarded.empty()); // refund-window still guards INC-7
  CHECK(batch->decisions[0].incidents == std::vector<std::string>{"INC-7"});
  for (const auto& id : {"refund-late", "tone-apology"}) {
    INFO(id);
    CHECK(get_case(s, id)->status == CaseStatus::retired);
    auto d = find_decision(s, id);
    REQUIRE(d->has_value());
    CHECK((*d)->rationale == "refunds are handled by a human now");
  }
  auto events = read_ledger(s.db(), std::nullopt, before);
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(events->at(0).action == "retire");
  CHECK(events->at(0).subject == "refund-late");
  CHECK(events->at(1).subject == "tone-apology");
}

TEST_CASE("a bad id anywhere in the batch refuses every case, naming it", "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  REQUIRE(retire(s, request("tone-apology"), Policy{}, origin()));
  auto file = test::file_hash(s.path());

  auto unknown = retire_cases(s, {{"refund-late", "no-such-case", "promo-code"}, {}, {}},
                              request(""), Policy{}, origin());
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ExitCode::usage);
  CHECK_THAT(unknown.error().message, Catch::Contains("no case no-such-case"));
  CHECK_THAT(unknown.error().hint, Catch::Contains("nothing was retired"));

  auto retired =
      retire_cases(s, {{"refund-late", "tone-apology"}, {}, {}}, request(""), Policy{}, origin());
  REQUIRE_FALSE(retired);
  CHECK(retired.error().code == ExitCode::refused);
  CHECK_THAT(retired.error().message, Catch::Contains("case tone-apology is already retired"));

  CHECK(test::file_hash(s.path()) == file);
  CHECK(get_case(s, "refund-late")->status == CaseStatus::active);
}

TEST_CASE("retire_cases selects the live cases with a tag, guarding an incident, or both",
          "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  auto dry = [&](CaseSelection select) {
    return retire_cases(s, select, request(""), Policy{}, origin(), true);
  };
  CHECK(retired_ids(dry({{}, "billing", {}})) ==
        std::vector<std::string>{"promo-code", "refund-late"});
  CHECK(retired_ids(dry({{}, {}, "INC-9"})) ==
        std::vector<std::string>{"promo-code", "promo-expired"});
  CHECK(retired_ids(dry({{}, "billing", "INC-9"})) == std::vector<std::string>{"promo-code"});
  CHECK(retired_ids(dry({{"tone-apology"}, "promo", {}})) ==
        std::vector<std::string>{"promo-code", "tone-apology"});

  auto nothing = dry({{}, "no-such-tag", {}});
  REQUIRE_FALSE(nothing);
  CHECK(nothing.error().code == ExitCode::usage);
  CHECK_THAT(nothing.error().message, Catch::Contains("no live case has tag no-such-tag"));
  auto unnamed = dry({});
  REQUIRE_FALSE(unnamed);
  CHECK_THAT(unnamed.error().hint, Catch::Contains("--tag"));

  // A retired case with the tag is not selected again.
  REQUIRE(retire(s, request("refund-late"), Policy{}, origin()));
  CHECK(retired_ids(dry({{}, "billing", {}})) == std::vector<std::string>{"promo-code"});
}

TEST_CASE("a dry run names the cases and the incidents left unguarded, changing nothing",
          "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  auto file = test::file_hash(s.path());
  auto batch = retire_cases(s, {{}, "billing", {}}, request(""), Policy{}, origin(), true);
  CHECK(retired_ids(batch) == std::vector<std::string>{"promo-code", "refund-late"});
  CHECK(batch->dry_run);
  // INC-9 keeps only the xfail promo-expired: no active guard. INC-7 keeps refund-window.
  CHECK(batch->unguarded == std::vector<std::string>{"INC-9"});
  CHECK(test::file_hash(s.path()) == file);
  CHECK(get_case(s, "promo-code")->status == CaseStatus::active);

  // A dry run refuses what the real one would.
  auto past = request("");
  past.revisit = "2020-01-01";
  CHECK_FALSE(retire_cases(s, {{}, "billing", {}}, past, Policy{}, origin(), true));
}

TEST_CASE("retiring the last active guard of an incident needs an approver when the policy says",
          "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  Policy policy;
  policy.require_approver_for_last_guard = true;

  // INC-7 keeps refund-window: no approver needed.
  auto guarded = retire_cases(s, {{"refund-late"}, {}, {}}, request(""), policy, origin());
  CHECK(retired_ids(guarded) == std::vector<std::string>{"refund-late"});
  CHECK(guarded->unguarded.empty());

  auto file = test::file_hash(s.path());
  auto last =
      retire_cases(s, {{"refund-window", "promo-code"}, {}, {}}, request(""), policy, origin());
  REQUIRE_FALSE(last);
  CHECK(last.error().code == ExitCode::refused);
  CHECK_THAT(last.error().message, Catch::Contains("last live case guarding an incident"));
  CHECK_THAT(last.error().message,
             Catch::Contains("INC-7, INC-9 left with no active guarding case"));
  CHECK_THAT(last.error().hint, Catch::Contains("--approved-by"));
  CHECK(test::file_hash(s.path()) == file);

  auto approved = request("");
  approved.approved_by = "Lee <lee@example.com>";
  auto done =
      retire_cases(s, {{"refund-window", "promo-code"}, {}, {}}, approved, policy, origin());
  CHECK(retired_ids(done) == std::vector<std::string>{"promo-code", "refund-window"});
  CHECK(done->unguarded == std::vector<std::string>{"INC-7", "INC-9"});

  // Without the rule the incidents are still named.
  test::TempDir dir2;
  auto s2 = many_cases(dir2);
  auto named = retire_cases(s2, {{}, {}, "INC-7"}, request(""), Policy{}, origin());
  CHECK(named->unguarded == std::vector<std::string>{"INC-7"});
}

TEST_CASE("retire refuses a revisit date in the past and takes today", "[suite]") {
  test::TempDir dir;
  auto s = two_cases(dir);
  auto past = request("refund-window");
  past.revisit = "2026-04-30"; // the day before the origin's
  auto r = retire(s, past, Policy{}, origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("--revisit 2026-04-30 is in the past"));
  CHECK_THAT(r.error().message, Catch::Contains("today is 2026-05-01"));
  auto today = request("refund-window");
  today.revisit = "2026-05-01";
  REQUIRE(retire(s, today, Policy{}, origin()));
}

TEST_CASE("a batch cannot be superseded by a case it retires", "[suite]") {
  test::TempDir dir;
  auto s = many_cases(dir);
  auto req = request("", "superseded", "merged into one case");
  req.superseded_by = {"refund-late"};
  auto r = retire_cases(s, {{"refund-window", "refund-late"}, {}, {}}, req, Policy{}, origin());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message,
             Catch::Contains("--superseded-by refund-late: the case is retired by this same "
                             "decision"));
  req.superseded_by = {"tone-apology"};
  auto ok = retire_cases(s, {{"refund-window", "refund-late"}, {}, {}}, req, Policy{}, origin());
  REQUIRE(ok);
  CHECK(ok->decisions[1].superseded_by == std::vector<std::string>{"tone-apology"});
}

TEST_CASE("a list of case ids skips blank lines and comments and names a bad line", "[suite]") {
  auto ids = parse_case_ids("# stale cases\nrefund-late   # moved\n\n  promo-code\r\n", "ids.txt");
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{"refund-late", "promo-code"});
  auto bad = parse_case_ids("refund-late\nnot an id\n", "ids.txt");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ExitCode::usage);
  CHECK_THAT(bad.error().message, Catch::Contains("ids.txt:2: 'not an id' is not a case id"));
  CHECK(parse_case_ids("", "stdin")->empty());
}
