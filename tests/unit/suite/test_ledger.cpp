#include "suite/cases.hpp"
#include "suite/ledger.hpp"
#include "suite/retirement.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

TEST_CASE("every ledger event chains to the hash of the one before it", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  RetireRequest req;
  req.case_id = "refund-window";
  req.reason = "superseded";
  req.rationale = "covered by the tone case";
  req.superseded_by = {"tone-apology"};
  REQUIRE(retire(s, req, Policy{}, origin()));
  REQUIRE(remove_case(s, "refund-window", false, origin()));

  auto events = read_ledger(s.db());
  REQUIRE(events);
  REQUIRE(events->size() == 5);
  std::vector<std::string> actions;
  core::Digest prev{};
  for (std::size_t i = 0; i < events->size(); ++i) {
    const auto& e = (*events)[i];
    INFO("event " << e.seq << " " << e.action);
    CHECK(e.seq == static_cast<std::int64_t>(i) + 1);
    CHECK(e.hash == chain_hash(prev, e));
    CHECK(e.hash != core::Digest{});
    prev = e.hash;
    actions.push_back(e.action);
  }
  CHECK(actions == std::vector<std::string>{"incident-add", "add", "add", "retire", "delete"});
}

TEST_CASE("chain_hash covers the previous hash and every field of the event", "[suite]") {
  LedgerEvent e = make_event(origin(), "add", "refund-window");
  e.seq = 1;
  core::Digest zero{};
  const auto h = chain_hash(zero, e);
  CHECK(h == core::sha256(core::to_hex(zero) + "\n" + canonical_event(e)));

  auto other_prev = core::sha256("x");
  CHECK(chain_hash(other_prev, e) != h);

  auto changed = [&](auto mutate) {
    LedgerEvent copy = e;
    mutate(copy);
    return chain_hash(zero, copy) != h;
  };
  CHECK(changed([](LedgerEvent& x) { x.seq = 2; }));
  CHECK(changed([](LedgerEvent& x) { x.at = "2026-05-01T10:00:01Z"; }));
  CHECK(changed([](LedgerEvent& x) { x.actor = "Mallory <m@example.com>"; }));
  CHECK(changed([](LedgerEvent& x) { x.action = "edit"; }));
  CHECK(changed([](LedgerEvent& x) { x.subject = "other"; }));
  CHECK(changed([](LedgerEvent& x) { x.rationale = "why"; }));
  CHECK(changed([](LedgerEvent& x) { x.before = core::sha256("b"); }));
  CHECK(changed([](LedgerEvent& x) { x.after = core::sha256("a"); }));
  CHECK(changed([](LedgerEvent& x) { x.git_head = "abc123"; }));
  CHECK(changed([](LedgerEvent& x) { x.detail = "{}"; }));
  CHECK_FALSE(changed([](LedgerEvent& x) { x.hash = core::sha256("ignored"); }));

  auto canonical = nlohmann::json::parse(canonical_event(e));
  CHECK(canonical["subject"] == "refund-window");
  CHECK(canonical["rationale"].is_null());
  CHECK_FALSE(canonical.contains("hash"));
}

TEST_CASE("make_event carries the origin's actor, time and commit", "[suite]") {
  Origin o{"Dev <dev@example.com>", "2026-06-01T08:30:00Z", std::string("0123abcd")};
  auto e = make_event(o, "retire", "refund-window");
  CHECK(e.actor == "Dev <dev@example.com>");
  CHECK(e.at == "2026-06-01T08:30:00Z");
  CHECK(e.git_head == "0123abcd");
  CHECK(e.action == "retire");
  CHECK(e.subject == "refund-window");
}

TEST_CASE("the ledger writer continues the chain from the last stored event", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto before = read_ledger(s.db());
  REQUIRE(before);
  REQUIRE(before->size() == 2);

  auto tx = store::Transaction::begin(s.db());
  REQUIRE(tx);
  auto writer = LedgerWriter::open(s.db());
  REQUIRE(writer);
  auto e1 = make_event(origin(), "note", "refund-window");
  auto e2 = make_event(origin(), "note", "refund-window");
  e2.rationale = "second";
  REQUIRE(writer->append(e1));
  REQUIRE(writer->append(e2));
  REQUIRE(tx->commit());
  CHECK(e1.seq == 3);
  CHECK(e2.seq == 4);
  CHECK(e1.hash == chain_hash(before->back().hash, e1));
  CHECK(e2.hash == chain_hash(e1.hash, e2));

  auto after = read_ledger(s.db());
  REQUIRE(after);
  REQUIRE(after->size() == 4);
  CHECK(after->at(3).hash == e2.hash);
  CHECK(after->at(3).rationale == "second");
}

TEST_CASE("read_ledger returns only the events about the subject asked for", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  CaseChanges changes;
  changes.title = "Refund after 45 days";
  changes.rationale = "add a title";
  REQUIRE(edit_case(s, "refund-window", changes, Policy{}, origin()));

  auto refund = read_ledger(s.db(), std::string("refund-window"));
  REQUIRE(refund);
  REQUIRE(refund->size() == 2);
  CHECK(refund->at(0).action == "add");
  CHECK(refund->at(1).action == "edit");
  CHECK(refund->at(0).seq < refund->at(1).seq);
  for (const auto& e : *refund)
    CHECK(e.subject == "refund-window");

  auto incident = read_ledger(s.db(), std::string("INC-7"));
  REQUIRE(incident);
  REQUIRE(incident->size() == 1);
  CHECK(incident->at(0).action == "incident-add");

  auto none = read_ledger(s.db(), std::string("no-such-case"));
  REQUIRE(none);
  CHECK(none->empty());

  auto all = read_ledger(s.db());
  REQUIRE(all);
  CHECK(all->size() == 4);
}

TEST_CASE("an event's canonical form is the sorted, compact JSON of its fields", "[suite]") {
  evalkeep::suite::LedgerEvent e;
  e.seq = 12;
  e.at = "2026-05-01T10:00:00Z";
  e.actor = "Dana \"DK\" Kim <dana@example.com>";
  e.action = "retire";
  e.subject = "refund-window";
  e.rationale = "covered by\nthe tone case";
  e.after = evalkeep::core::sha256("x");
  e.detail = R"({"reason":"superseded"})";
  nlohmann::json j;
  j["seq"] = e.seq;
  j["at"] = e.at;
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["subject"] = e.subject;
  j["rationale"] = *e.rationale;
  j["before"] = nullptr;
  j["after"] = evalkeep::core::to_hex(*e.after);
  j["git_head"] = nullptr;
  j["detail"] = *e.detail;
  CHECK(evalkeep::suite::canonical_event(e) == j.dump());
}

TEST_CASE("an event's canonical form quotes every byte as nlohmann's dump does", "[suite]") {
  // Control characters, quotes, backslashes, DEL and UTF-8 (which takes nlohmann's own path).
  for (std::string text :
       {std::string("tab\there \"q\" back\\slash"), std::string("\b\f\r\x01\x1f\x7f"),
        std::string("caf\xc3\xa9 \xe2\x9c\x93"), std::string(), std::string("\0x", 2)}) {
    LedgerEvent e;
    e.seq = 3;
    e.at = "2026-05-01T10:00:00Z";
    e.actor = text;
    e.action = "edit";
    e.subject = "case-1";
    e.rationale = text;
    e.git_head = text;
    nlohmann::json j;
    j["seq"] = e.seq;
    j["at"] = e.at;
    j["actor"] = text;
    j["action"] = e.action;
    j["subject"] = e.subject;
    j["rationale"] = text;
    j["before"] = nullptr;
    j["after"] = nullptr;
    j["git_head"] = text;
    j["detail"] = nullptr;
    INFO(j.dump());
    CHECK(canonical_event(e) == j.dump());
  }
}
