// Rule 1: the base's ledger events must all be at HEAD, in order, with the same content.

#include "gate/gate.hpp"
#include "scoring/assertion.hpp"
#include "suite/cases.hpp"
#include "suite/ledger.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;

namespace {

// Both sides share events 1-2: incident INC-7 and case refund-window guarding it.
suite::Suite shared_history(const test::TempDir& dir) {
  return test::suite_with_case(dir, "refund-window", "INC-7");
}

void add(suite::Suite& s, const std::string& id) {
  test::add_case(s, test::make_case(id, "INC-7", "Question for " + id));
}

void tighten(suite::Suite& s, const std::string& id, const std::string& rationale) {
  suite::CaseChanges changes;
  changes.add_expect.push_back(*scoring::parse_assertion("max-length:600"));
  changes.rationale = rationale;
  auto r = suite::edit_case(s, id, changes, suite::Policy{}, test::origin());
  REQUIRE(r);
}

gate::GateReport compare(suite::Suite& base, suite::Suite& head) {
  auto r = gate::compare(&base, &head, suite::Policy{});
  REQUIRE(r);
  return *r;
}

std::vector<std::string> rewritten(const gate::GateReport& r) {
  std::vector<std::string> out;
  for (const auto& v : r.violations)
    if (v.rule == gate::Rule::history_rewritten)
      out.push_back(v.message);
  return out;
}

} // namespace

TEST_CASE("gate passes a head whose ledger extends the base's", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = shared_history(base_dir);
  add(base, "late-refund");
  auto head = shared_history(head_dir);
  add(head, "late-refund");
  add(head, "partial-refund");
  auto r = compare(base, head);
  CHECK(rewritten(r).empty());
  CHECK(r.passed());
  REQUIRE(r.added.size() == 1);
  CHECK(r.added[0].case_id == "partial-refund");
}

TEST_CASE("gate passes a merge of the base: its new events re-chained after the branch's",
          "[gate]") {
  // main added late-refund and tightened refund-window; the branch added partial-refund, then
  // merged main, whose two events the merge driver appended with new seq and hash.
  test::TempDir base_dir, head_dir;
  auto base = shared_history(base_dir);
  add(base, "late-refund");
  tighten(base, "refund-window", "INC-7 answers ran long");
  auto head = shared_history(head_dir);
  add(head, "partial-refund");
  add(head, "late-refund");
  tighten(head, "refund-window", "INC-7 answers ran long");

  auto base_ledger = suite::read_ledger(base.db());
  auto head_ledger = suite::read_ledger(head.db());
  REQUIRE(base_ledger->size() == 4);
  REQUIRE(head_ledger->size() == 5);
  CHECK(head_ledger->at(3).hash != base_ledger->at(3).hash); // not a prefix by hash

  auto r = compare(base, head);
  CHECK(rewritten(r).empty());
  CHECK(r.passed());
  REQUIRE(r.added.size() == 1);
  CHECK(r.added[0].case_id == "partial-refund");
  CHECK(r.edited.empty()); // refund-window's edit is main's, not the branch's
}

TEST_CASE("gate fails a head that dropped a base event, naming it", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = shared_history(base_dir);
  add(base, "late-refund");
  tighten(base, "refund-window", "INC-7 answers ran long");
  auto head = shared_history(head_dir);
  tighten(head, "refund-window", "INC-7 answers ran long");
  add(head, "partial-refund");

  auto r = compare(base, head);
  auto messages = rewritten(r);
  REQUIRE(messages.size() == 1);
  CHECK_THAT(messages[0], Catch::StartsWith("base ledger event 3 (add late-refund) is missing at "
                                            "HEAD"));
  CHECK_FALSE(r.passed());
}

TEST_CASE("gate fails a head that altered a base event's rationale, naming it", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = shared_history(base_dir);
  tighten(base, "refund-window", "INC-7 answers ran long");
  auto head = shared_history(head_dir);
  tighten(head, "refund-window", "tidying up");

  auto messages = rewritten(compare(base, head));
  REQUIRE(messages.size() == 1);
  CHECK_THAT(messages[0], Catch::StartsWith("base ledger event 3 (edit refund-window) was changed "
                                            "at HEAD, where event 3 differs in its rationale"));
}
