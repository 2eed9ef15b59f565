// The gate's weakening rule: a change that makes a live case easier to pass needs a decision
// recorded in the ledger, and the gate replays the case's events from the base's version rather
// than believing what an event says. The forged events here chain correctly and pass verify.

#include "gate/gate.hpp"
#include "scoring/assertion.hpp"
#include "suite/cases.hpp"
#include "suite/ledger.hpp"
#include "suite/records.hpp"
#include "suite/verify.hpp"
#include "suite/weakening.hpp"
#include "support/suite_fixture.hpp"

#include <filesystem>

#include <catch2/catch.hpp>

using namespace evalkeep;

namespace {

// The base: incident INC-7 and case refund-window guarding it with two assertions.
suite::Suite base_suite(const test::TempDir& dir) {
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-7", "Refund promised outside policy");
  test::add_case(s, test::make_case("refund-window", "INC-7", "Can I get a refund after 45 days?",
                                    {"icontains:30 days", "max-length:600"}));
  return s;
}

// HEAD starts as a byte copy of the base.
suite::Suite copy_of(const suite::Suite& base, const test::TempDir& dir) {
  auto path = test::suite_path(dir);
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::copy_file(base.path(), path);
  auto s = suite::Suite::open(path, suite::Suite::Access::write);
  REQUIRE(s);
  return std::move(*s);
}

// Writes `after` over the case's row and appends an edit event as a hand-made tool would: the
// chain and hashes right, the detail as given.
void forge_edit(suite::Suite& s, const suite::Case& before, suite::Case after,
                const std::string& detail) {
  after.content_hash = suite::content_hash(after);
  auto tx = store::Transaction::begin(s.db());
  REQUIRE(tx);
  auto update = s.db().prepare("UPDATE cases SET expect = ?2, status = ?3, content_hash = ?4 "
                               "WHERE id = ?1");
  REQUIRE(update);
  nlohmann::json expect = nlohmann::json::array();
  for (const auto& a : after.expect)
    expect.push_back(nlohmann::json(scoring::to_json(a)));
  update->bind_all(after.id, expect.dump(), std::string(suite::to_string(after.status)),
                   std::span<const std::uint8_t>(after.content_hash));
  REQUIRE(update->run());
  auto ledger = suite::LedgerWriter::open(s.db());
  REQUIRE(ledger);
  auto e = suite::make_event(test::origin(), "edit", after.id);
  e.rationale = "tidying up";
  e.before = before.content_hash;
  e.after = after.content_hash;
  e.detail = detail;
  REQUIRE(ledger->append(e));
  REQUIRE(tx->commit());
}

suite::Case current(suite::Suite& s) {
  auto c = suite::get_case(s, "refund-window");
  REQUIRE(c);
  return *c;
}

// The case with its max-length assertion removed.
suite::Case without_max_length(suite::Case c) {
  std::erase_if(c.expect,
                [](const auto& a) { return a.type == scoring::AssertionType::max_length; });
  return c;
}

gate::GateReport compare(suite::Suite& base, suite::Suite& head) {
  auto r = gate::compare(&base, &head, suite::Policy{});
  REQUIRE(r);
  return *r;
}

std::vector<std::string> weakened(const gate::GateReport& r) {
  std::vector<std::string> out;
  for (const auto& v : r.violations)
    if (v.rule == gate::Rule::case_weakened)
      out.push_back(v.message);
  return out;
}

void verifies(suite::Suite& s) {
  auto v = suite::verify(s);
  REQUIRE(v);
  INFO((v->problems.empty() ? "" : v->problems.front().message));
  CHECK(v->ok());
}

} // namespace

TEST_CASE("a weakening recorded without a decision fails the gate even when its event is "
          "consistent",
          "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = base_suite(base_dir);
  auto head = copy_of(base, head_dir);
  auto before = current(head);
  auto after = without_max_length(before);
  auto changes = suite::case_changes(before, after);
  forge_edit(head, before, after,
             suite::edit_detail(changes, suite::record_set(before, after), std::nullopt));
  verifies(head);
  auto r = compare(base, head);
  REQUIRE(weakened(r).size() == 1);
  CHECK_THAT(weakened(r)[0], Catch::StartsWith("case refund-window (guarding INC-7) was weakened "
                                               "without a recorded decision: assertion removed: "
                                               "max-length:600"));
  REQUIRE(r.edited.size() == 1);
  CHECK(r.edited[0].weakened());
}

TEST_CASE("an event that claims a decision but does not rebuild the version it records counts "
          "for nothing",
          "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = base_suite(base_dir);
  auto head = copy_of(base, head_dir);
  auto before = current(head);
  auto after = without_max_length(before);
  suite::WeakeningDecision decision{"invalid-expectation", "", "Test <t@example.com>", {}};
  // Its `set` says only the title changed, while the row lost an assertion.
  nlohmann::json lying_set = {{"title", "renamed"}};
  forge_edit(head, before, after,
             suite::edit_detail(suite::case_changes(before, after), lying_set, decision));
  verifies(head);
  auto r = compare(base, head);
  REQUIRE(weakened(r).size() == 1);
  CHECK_THAT(weakened(r)[0], Catch::Contains("event 3 (edit)"));
}

TEST_CASE("an event without the version it makes cannot vouch for a weakening", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = base_suite(base_dir);
  auto head = copy_of(base, head_dir);
  auto before = current(head);
  auto after = before;
  after.status = suite::CaseStatus::xfail;
  forge_edit(head, before, after, R"({"changed":["status"]})");
  verifies(head);
  auto r = compare(base, head);
  REQUIRE(weakened(r).size() == 1);
  CHECK_THAT(weakened(r)[0], Catch::Contains("status: active -> xfail"));
}

TEST_CASE("a decided weakening passes, and an undecided one after it still fails", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = base_suite(base_dir);
  auto head = copy_of(base, head_dir);
  suite::CaseChanges loosen;
  loosen.remove_expect.push_back(*scoring::parse_assertion("max-length:600"));
  loosen.rationale = "answers got longer";
  loosen.reason = "invalid-expectation";
  REQUIRE(suite::edit_case(head, "refund-window", loosen, suite::Policy{}, test::origin()));
  auto decided = compare(base, head);
  CHECK(decided.passed());
  REQUIRE(decided.edited.size() == 1);
  REQUIRE(decided.edited[0].decisions.size() == 1);
  CHECK(decided.edited[0].decisions[0].reason == "invalid-expectation");

  // Then a hand-made xfail on top, consistent but undecided.
  auto before = current(head);
  auto after = before;
  after.status = suite::CaseStatus::xfail;
  forge_edit(head, before, after,
             suite::edit_detail(suite::case_changes(before, after),
                                suite::record_set(before, after), std::nullopt));
  verifies(head);
  CHECK(weakened(compare(base, head)).size() == 1);
}

TEST_CASE("a weakening decision needs the approver the base's policy asks for", "[gate]") {
  test::TempDir base_dir, head_dir;
  auto base = base_suite(base_dir);
  auto head = copy_of(base, head_dir);
  suite::CaseChanges loosen;
  loosen.remove_expect.push_back(*scoring::parse_assertion("max-length:600"));
  loosen.rationale = "answers got longer";
  loosen.reason = "invalid-expectation";
  REQUIRE(suite::edit_case(head, "refund-window", loosen, suite::Policy{}, test::origin()));
  suite::Policy policy;
  policy.require_approver = true;
  auto r = gate::compare(&base, &head, policy);
  REQUIRE(r);
  REQUIRE(r->violations.size() == 1);
  CHECK(r->violations[0].rule == gate::Rule::decision_needs_approver);
  CHECK_THAT(r->violations[0].message, Catch::StartsWith("the weakening of refund-window"));
}

// ---- the assertions on tool calls ----

namespace {

suite::Case with_expect(const std::vector<std::string>& specs) {
  auto c = test::make_case("refund-window", "INC-7", "Can I get a refund after 45 days?",
                           {"icontains:30 days"});
  c.expect.clear();
  for (const auto& spec : specs) {
    auto a = scoring::parse_assertion(spec);
    INFO(spec);
    REQUIRE(a);
    c.expect.push_back(*a);
  }
  c.content_hash = suite::content_hash(c);
  return c;
}

std::vector<suite::CaseChange> tool_changes(const std::vector<std::string>& before,
                                            const std::vector<std::string>& after) {
  return suite::case_changes(with_expect(before), with_expect(after));
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_CASE("removing an assertion on tool calls weakens the case", "[gate][weakening]") {
  for (const char* spec :
       {"tool-called:lookup_order", "no-tool-call", "no-tool-call:refund",
        R"(tool-args:lookup_order={"order_id":"A1"})", "tool-args-valid", "tool-args-valid:refund",
        "tool-sequence:lookup_order,refund", "tool-call-f1@1:a,b", "max-tool-calls:3"}) {
    INFO(spec);
    auto changes = tool_changes({spec, "max-length:600"}, {"max-length:600"});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == suite::ChangeKind::removed);
    CHECK(changes[0].before == spec);
    CHECK(changes[0].weakens);
  }
  // Adding one never weakens.
  CHECK_FALSE(suite::any_weakens(
      tool_changes({"max-length:600"}, {"max-length:600", "no-tool-call:refund"})));
}

TEST_CASE("loosening an assertion on tool calls weakens the case", "[gate][weakening]") {
  for (const auto& [before, after] : Pairs{
           {"max-tool-calls:2", "max-tool-calls:3"},
           {"tool-called:refund>=2", "tool-called:refund"},
           {"tool-called:refund", "tool-called:escalate"},
           {"no-tool-call", "no-tool-call:refund"},
           {"no-tool-call:refund", "no-tool-call:escalate"},
           {R"(tool-args:lookup_order={"order_id":"A1","full":true})",
            R"(tool-args:lookup_order={"order_id":"A1"})"},
           {R"(tool-args:lookup_order={"order_id":"A1"})", R"(tool-args:lookup_order={})"},
           {R"(tool-args:lookup_order={"order_id":"A1"})",
            R"(tool-args:lookup_order={"order_id":"B2"})"},
           {R"(tool-args:lookup_order={"order_id":"A1"})",
            R"(tool-args:find_order={"order_id":"A1"})"},
           {"tool-args-valid", "tool-args-valid:refund"},
           {"tool-args-valid:refund", "tool-args-valid"},
           {"tool-sequence:a,b,c", "tool-sequence:a,c"},
           {"tool-sequence:a,b", "tool-sequence:b,a"},
           {"tool-sequence:exact:a,b", "tool-sequence:a,b"},
           {"tool-sequence:exact:a,b", "tool-sequence:exact:a,b,c"},
           {"tool-call-f1@0.9:a,b", "tool-call-f1@0.8:a,b"},
           {"tool-call-f1:a,b", "tool-call-f1:a,b,c"},
           {"tool-call-f1:a,b", "tool-call-f1:a"},
           // Another type that does not say as much.
           {"no-tool-call", "max-tool-calls:1"},
           {"tool-called:refund", "tool-args-valid"},
           {"tool-sequence:a,b", "tool-called:a"},
           {"max-tool-calls:1", "tool-sequence:exact:a,b"},
           {"tool-called:a", "contains:a"},
       }) {
    INFO(before << " -> " << after);
    auto changes = tool_changes({before}, {after});
    CHECK(suite::any_weakens(changes));
  }
  // The reviewer sees old -> new.
  auto changes = tool_changes({"max-tool-calls:2"}, {"max-tool-calls:3"});
  REQUIRE(changes.size() == 1);
  CHECK(suite::describe(changes[0]) == "assertion: max-tool-calls:2 -> max-tool-calls:3");
}

TEST_CASE("a stricter assertion on tool calls does not weaken the case", "[gate][weakening]") {
  for (const auto& [before, after] : Pairs{
           {"max-tool-calls:3", "max-tool-calls:2"},
           {"max-tool-calls:3", "no-tool-call"},
           {"max-tool-calls:2", "tool-sequence:exact:a,b"},
           {"tool-called:refund", "tool-called:refund>=2"},
           {"tool-called:refund", R"(tool-args:refund={"amount":5})"},
           {"tool-called:refund", "tool-args-valid:refund"},
           {"tool-called:refund>=2", "tool-sequence:refund,lookup_order,refund"},
           {"tool-called:refund", "tool-call-f1:refund,lookup_order"},
           {"no-tool-call:refund", "no-tool-call"},
           {"no-tool-call:refund", "max-tool-calls:0"},
           {"no-tool-call:refund", "tool-sequence:exact:lookup_order"},
           {"no-tool-call:refund", "tool-call-f1:lookup_order"},
           {"no-tool-call", "max-tool-calls:0"},
           {R"(tool-args:lookup_order={"order_id":"A1"})",
            R"(tool-args:lookup_order={"order_id":"A1","full":true})"},
           {R"(tool-args:lookup_order={"o":{"id":"A1"}})",
            R"(tool-args:lookup_order={"o":{"id":"A1","v":2}})"},
           {"tool-sequence:a,c", "tool-sequence:a,b,c"},
           {"tool-sequence:a,b", "tool-sequence:exact:x,a,b"},
           {"tool-call-f1@0.8:a,b", "tool-call-f1@0.9:b,a"},
       }) {
    INFO(before << " -> " << after);
    auto changes = tool_changes({before}, {after});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == suite::ChangeKind::changed);
    CHECK_FALSE(changes[0].weakens);
  }
}

TEST_CASE("a tool guard cannot be loosened under cover of an unrelated stricter change",
          "[gate][weakening]") {
  // The stricter max-length pairs with its own old value; the tool guard is still gone.
  CHECK(suite::any_weakens(tool_changes({"no-tool-call:refund", "max-length:600"},
                                        {"max-length:500", "no-tool-call:escalate"})));
  // Two tool guards swapped for one that implies only one of them.
  CHECK(suite::any_weakens(
      tool_changes({"no-tool-call:refund", "tool-called:lookup_order"}, {"no-tool-call"})));
  CHECK_FALSE(suite::any_weakens(tool_changes({"no-tool-call:refund", "no-tool-call:escalate"},
                                              {"no-tool-call", "max-tool-calls:0"})));
}
