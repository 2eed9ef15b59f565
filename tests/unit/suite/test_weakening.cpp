#include "core/json_text.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/weakening.hpp"
#include "support/suite_fixture.hpp"

#include <algorithm>
#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

namespace {

Case refund(std::vector<std::string> expect = {"icontains:30 days"}) {
  auto c = test::make_case("refund-window", "INC-7", "Can I get a refund after 45 days?",
                           std::move(expect));
  c.content_hash = content_hash(c);
  return c;
}

// The changes between two assertion lists on the same case.
std::vector<CaseChange> assertion_diff(std::vector<std::string> before,
                                       std::vector<std::string> after) {
  return case_changes(refund(std::move(before)), refund(std::move(after)));
}

// The one change there must be, for a check on it.
CaseChange only(const std::vector<CaseChange>& changes) {
  INFO("changes: " << changes.size());
  REQUIRE(changes.size() == 1);
  return changes.front();
}

std::string repeated(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s;
  return out;
}

std::vector<std::string> described(const std::vector<CaseChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes)
    out.push_back(describe(c) + (c.weakens ? " [weakens]" : ""));
  return out;
}

} // namespace

TEST_CASE("a case going xfail is a weakening, coming back to active is not", "[suite][weakening]") {
  auto active = refund();
  auto xfail = active;
  xfail.status = CaseStatus::xfail;
  auto down = only(case_changes(active, xfail));
  CHECK(down.field == ChangeField::status);
  CHECK(describe(down) == "status: active -> xfail");
  CHECK(down.weakens);
  auto up = only(case_changes(xfail, active));
  CHECK(describe(up) == "status: xfail -> active");
  CHECK_FALSE(up.weakens);
  auto retired = active;
  retired.status = CaseStatus::retired;
  CHECK(only(case_changes(xfail, retired)).weakens);
  CHECK_FALSE(only(case_changes(retired, active)).weakens);
}

TEST_CASE("a lower pass rate, fewer required passes or more allowed failures weaken a case",
          "[suite][weakening]") {
  auto with = [](std::optional<double> rate, std::optional<int> trials) {
    auto c = refund();
    c.min_pass_rate = rate;
    c.trials = trials;
    return c;
  };
  // The rate lowered, even where the count of passes stays the same (1 of 1 either way).
  auto lowered = case_changes(with(std::nullopt, std::nullopt), with(0.9, std::nullopt));
  CHECK(described(lowered) == std::vector<std::string>{"min_pass_rate: 1 -> 0.9 [weakens]"});
  CHECK_FALSE(any_weakens(case_changes(with(0.8, 5), with(0.9, 5))));

  // Fewer trials at rate 1: fewer passes required.
  CHECK(described(case_changes(with(std::nullopt, 3), with(std::nullopt, 1))) ==
        std::vector<std::string>{"trials: 3 -> 1", "passes: 3 of 3 trials -> 1 of 1 trials "
                                                   "[weakens]"});
  // More trials at rate 1 only asks more.
  CHECK_FALSE(any_weakens(case_changes(with(std::nullopt, 1), with(std::nullopt, 3))));
  // More trials below rate 1 lets a flaky failure through: 0 allowed failures become 1.
  CHECK(described(case_changes(with(0.5, 1), with(0.5, 3))) ==
        std::vector<std::string>{"trials: 1 -> 3", "passes: 1 of 1 trials -> 2 of 3 trials "
                                                   "[weakens]"});
  CHECK(any_weakens(case_changes(with(0.8, 5), with(0.8, 10)))); // 4 of 5 -> 8 of 10
  // The count follows the runner: 0.7 of 10 needs 7 passes, not 8 from rounding error.
  auto seven = case_changes(with(0.7, 10), with(0.8, 10));
  CHECK(described(seven) == std::vector<std::string>{"min_pass_rate: 0.7 -> 0.8",
                                                     "passes: 7 of 10 trials -> 8 of 10 trials"});
  // The same rule written out where it was the default is no change a reviewer needs.
  CHECK_FALSE(any_weakens(case_changes(with(std::nullopt, std::nullopt), with(1.0, 1))));
}

TEST_CASE("an assertion removed weakens a case, one added does not", "[suite][weakening]") {
  CHECK(described(assertion_diff({"icontains:30 days", "max-length:600"}, {"icontains:30 days"})) ==
        std::vector<std::string>{"assertion removed: max-length:600 [weakens]"});
  CHECK(described(assertion_diff({"icontains:30 days"}, {"icontains:30 days", "max-length:600"})) ==
        std::vector<std::string>{"assertion added: max-length:600"});
  // Removing one of two equal assertions still removes one.
  CHECK(any_weakens(assertion_diff({"contains:a", "contains:a"}, {"contains:a"})));
}

TEST_CASE("a loosened assertion is a weakening shown old -> new", "[suite][weakening]") {
  struct Loosening {
    std::string before, after;
  };
  for (const auto& [before, after] : std::vector<Loosening>{
           {"contains:30 days", "contains:30"},
           {"icontains:30 days", "icontains:days"},
           {"contains:30 days", "icontains:30 days"},
           {"equals:30 days", "contains:30 days"},
           {"equals:30 days", "icontains:30 days"},
           {"judge@0.8:is polite", "judge@0.6:is polite"},
           {"max-length:600", "max-length:900"},
           {"max-latency-ms:2000", "max-latency-ms:5000"},
           {"max-cost:0.01", "max-cost:0.05"},
           {"number-close:42,0.5", "number-close:42,2"},
           {"min-length:200", "min-length:20"},
           {"starts-with:Dear customer", "starts-with:Dear"},
           {"not-contains:guarantee", "not-contains:guaranteed refund"},
       }) {
    INFO(before << " -> " << after);
    auto c = only(assertion_diff({before}, {after}));
    CHECK(c.field == ChangeField::assertion);
    CHECK(c.kind == ChangeKind::changed);
    CHECK(describe(c) == "assertion: " + before + " -> " + after);
    CHECK(c.weakens);
  }
}

TEST_CASE("a replacement whose strength cannot be compared is a weakening", "[suite][weakening]") {
  struct Replacement {
    std::string before, after;
  };
  for (const auto& [before, after] : std::vector<Replacement>{
           {"regex:^30 days", "regex:^30 (days|d)"},
           {"regex:^30 days", "regex:^30 days$"}, // stricter in fact, but not provably so
           {"judge@0.8:is polite", "judge@0.9:is polite and brief"},
           {"json-path:/status=\"shipped\"", "json-path:/status=\"sent\""},
           {"number-close:42,0.5", "number-close:43,0.5"},
           {"equals:30 days", "equals:thirty days"},
           {"contains:refund", "contains:window"},
       }) {
    INFO(before << " -> " << after);
    auto c = only(assertion_diff({before}, {after}));
    CHECK(describe(c) == "assertion: " + before + " -> " + after);
    CHECK(c.weakens);
  }
  // A different type altogether: the old one removed, the new one added.
  CHECK(described(assertion_diff({"contains:30 days"}, {"regex:30 days"})) ==
        std::vector<std::string>{"assertion removed: contains:30 days [weakens]",
                                 "assertion added: regex:30 days"});
}

TEST_CASE("a provably stricter replacement is listed without weakening the case",
          "[suite][weakening]") {
  struct Tightening {
    std::string before, after;
  };
  for (const auto& [before, after] : std::vector<Tightening>{
           {"contains:30", "contains:30 days"},
           {"icontains:30 days", "contains:30 days"},
           {"icontains:30 DAYS", "contains:within 30 days"},
           {"contains:30 days", "equals:within 30 days"},
           {"contains:30 days", "starts-with:30 days or less"},
           {"starts-with:Dear", "starts-with:Dear customer"},
           {"max-length:900", "max-length:600"},
           {"max-latency-ms:5000", "max-latency-ms:2000"},
           {"max-cost:0.05", "max-cost:0.01"},
           {"min-length:20", "min-length:200"},
           {"judge@0.6:is polite", "judge@0.8:is polite"},
           {"number-close:42,2", "number-close:42.5,0.5"},
           {"not-contains:guaranteed refund", "not-contains:guarantee"},
       }) {
    INFO(before << " -> " << after);
    auto c = only(assertion_diff({before}, {after}));
    CHECK(describe(c) == "assertion: " + before + " -> " + after);
    CHECK_FALSE(c.weakens);
  }
  // JSON validity is implied by a JSON path, which reads valid JSON only.
  CHECK_FALSE(any_weakens(assertion_diff({"is-json"}, {"json-path:/status=\"shipped\""})));
}

TEST_CASE("removed and added assertions of the same check are paired for the reviewer",
          "[suite][weakening]") {
  auto changes = assertion_diff(
      {"icontains:30 days", "max-length:600", "not-contains:sorry"},
      {"not-contains:sorry", "max-length:900", "contains:30 days", "judge:is polite"});
  CHECK(described(changes) ==
        std::vector<std::string>{"assertion: icontains:30 days -> contains:30 days",
                                 "assertion: max-length:600 -> max-length:900 [weakens]",
                                 "assertion added: judge@0.7:is polite"});
  // A stricter partner is preferred over a looser one of the same type.
  CHECK_FALSE(
      any_weakens(assertion_diff({"max-length:600"}, {"max-length:900", "max-length:500"})));
}

TEST_CASE("a changed input weakens a case and is shown as a short diff", "[suite][weakening]") {
  auto before = refund();
  auto after = before;
  after.prompt = "Can I get a refund after 60 days?";
  auto c = only(case_changes(before, after));
  CHECK(c.field == ChangeField::input);
  CHECK(c.weakens);
  CHECK(c.before == "… get a refund after 45 days?");
  CHECK(c.after == "… get a refund after 60 days?");

  // A long prompt changed in the middle: the common parts trimmed to a little context, the
  // change capped, nothing cut inside a character, one line.
  std::string head(500, 'a'), tail(500, 'z');
  before.prompt = head + "€ old words\nhere " + tail;
  after.prompt = head + "€ new words\nthere " + repeated("é", 300) + tail;
  c = only(case_changes(before, after));
  CHECK(c.weakens);
  CHECK(c.before.size() < 120);
  CHECK(c.after.size() < 120);
  CHECK(c.before.starts_with("…"));
  CHECK(c.after.starts_with("…"));
  CHECK(c.after.ends_with("…"));
  CHECK_THAT(c.before, Catch::Contains("€ old words↵here z"));
  CHECK_THAT(c.after, Catch::Contains("€ new words↵there é"));
  CHECK(c.before.find('\n') == std::string::npos);
  CHECK(core::is_utf8(c.before));
  CHECK(core::is_utf8(c.after));

  // A system prompt, and a conversation, are the input too.
  auto system = refund();
  system.system = "Be brief.";
  CHECK(only(case_changes(refund(), system)).weakens);
  auto convo = refund();
  convo.prompt.reset();
  convo.messages = {{"user", "Can I get a refund after 45 days?"}};
  auto convo2 = convo;
  convo2.messages = {{"system", "Be kind."}, {"user", "Can I get a refund after 45 days?"}};
  auto m = only(case_changes(convo, convo2));
  CHECK(m.weakens);
  CHECK_THAT(m.after, Catch::Contains("[system] Be kind.↵[user]"));
}

TEST_CASE("moving a case away from its incident weakens it, tags and title are only listed",
          "[suite][weakening]") {
  auto guarded = refund();
  auto spec = guarded;
  spec.provenance = {ProvenanceKind::spec, {}, "refund policy"};
  auto away = only(case_changes(guarded, spec));
  CHECK(describe(away) == "provenance: INC-7 -> spec: refund policy");
  CHECK(away.weakens);
  auto other = guarded;
  other.provenance.incident = "INC-9";
  CHECK(only(case_changes(guarded, other)).weakens);
  CHECK_FALSE(only(case_changes(spec, guarded)).weakens);

  auto tagged = guarded;
  tagged.tags = {"billing", "refunds"};
  tagged.title = "Refund window";
  CHECK(described(case_changes(guarded, tagged)) ==
        std::vector<std::string>{"tags added: billing, refunds", "title added: Refund window"});
}

TEST_CASE("a change's JSON names the field and kind, null on the side with no value",
          "[suite][weakening]") {
  auto removed = only(assertion_diff({"contains:a", "max-length:600"}, {"contains:a"}));
  CHECK(to_json(removed).dump() == R"({"field":"assertion","kind":"removed",)"
                                   R"("before":"max-length:600","after":null,"weakens":true})");
  CHECK(parse_change_field("passes") == ChangeField::passes);
  CHECK_FALSE(parse_change_field("nonsense"));
  CHECK(parse_change_kind("added") == ChangeKind::added);
}

TEST_CASE("the weakening reasons are the retirement vocabulary and reworded",
          "[suite][weakening]") {
  CHECK(is_weakening_reason("invalid-expectation"));
  CHECK(is_weakening_reason("reworded"));
  CHECK_FALSE(is_weakening_reason("because"));
  CHECK(weakening_reason_names() == reason_names() + ", reworded");
  // reworded is for edits only: a retirement refuses it.
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  RetireRequest r{"refund-window", "reworded", "x", {}, {}, {}, {}};
  auto refused = retire(s, r, Policy{}, origin());
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("unknown reason 'reworded'"));
}

TEST_CASE("the canonical record hashes to the content hash and its set rebuilds the next version",
          "[suite][weakening]") {
  auto before = refund({"icontains:30 days", "max-length:600"});
  before.title = "Refund window";
  before.tags = {"billing"};
  before.content_hash = content_hash(before);
  auto after = before;
  after.title.reset();
  after.prompt.reset();
  after.messages = {{"system", "Be brief."}, {"user", "Refund after 45 days?"}};
  after.tags = {"billing", "refunds"};
  after.min_pass_rate = 0.7;
  after.trials = 10;
  after.content_hash = content_hash(after);
  CHECK(core::sha256(canonical_record(before).dump()) == before.content_hash);

  auto set = record_set(before, after);
  CHECK(set["title"].is_null());
  CHECK(set["prompt"].is_null());
  CHECK(set["trials"] == 10);
  CHECK_FALSE(set.contains("expect")); // unchanged keys are left out
  CHECK_FALSE(set.contains("id"));
  auto rebuilt = canonical_record(before);
  for (const auto& [key, value] : set.items())
    if (value.is_null())
      rebuilt.erase(key);
    else
      rebuilt[key] = value;
  CHECK(core::sha256(rebuilt.dump()) == after.content_hash);
}

// ---- replay_case ----

namespace {

// A suite with refund-window (INC-7, max-length:600 and icontains:30 days) and the version every
// replay starts from.
struct History {
  test::TempDir dir;
  Suite s = test::suite_with_case(dir, "refund-window", "INC-7");
  Case base;
  std::int64_t base_seq = 0;

  History() {
    CaseChanges c;
    c.add_expect = {*scoring::parse_assertion("max-length:600")};
    c.rationale = "keep it short";
    REQUIRE(edit_case(s, "refund-window", c, Policy{}, origin()));
    base = *get_case(s, "refund-window");
    base_seq = read_ledger(s.db())->back().seq;
  }
  void edit(CaseChanges c) { REQUIRE(edit_case(s, "refund-window", c, Policy{}, origin())); }
  std::vector<LedgerEvent> events() {
    auto e = read_ledger(s.db(), std::string("refund-window"), base_seq);
    REQUIRE(e);
    return *e;
  }
  Case now() { return *get_case(s, "refund-window"); }
};

CaseChanges loosen_length(std::optional<std::string> reason = "invalid-expectation") {
  CaseChanges c;
  c.remove_expect = {*scoring::parse_assertion("max-length:600")};
  c.add_expect = {*scoring::parse_assertion("max-length:900")};
  c.rationale = "answers got longer";
  c.reason = std::move(reason);
  return c;
}

// An edit event from `before` to `after` as anyone holding the file could write it, with a
// matching `set` and hashes, and whatever decision it is given.
LedgerEvent forged_edit(std::int64_t seq, const Case& before, Case after,
                        std::optional<WeakeningDecision> decision = std::nullopt,
                        std::optional<std::vector<CaseChange>> claimed = std::nullopt) {
  after.content_hash = content_hash(after);
  auto e = make_event(origin(), "edit", before.id);
  e.seq = seq;
  e.rationale = "tidy up";
  e.before = content_hash(before);
  e.after = after.content_hash;
  e.detail = edit_detail(claimed.value_or(case_changes(before, after)), record_set(before, after),
                         decision);
  return e;
}

} // namespace

TEST_CASE("replay rebuilds a decided edit and the decision it carried", "[suite][weakening]") {
  History h;
  CaseChanges tag;
  tag.add_tags = {"refunds"};
  tag.rationale = "tag it";
  h.edit(tag);
  auto loosen = loosen_length();
  loosen.approved_by = "Lee <lee@example.com>";
  h.edit(loosen);

  auto r = replay_case(h.base, h.events());
  CHECK_FALSE(r.unverifiable);
  REQUIRE(r.steps.size() == 2);
  CHECK(r.steps[0].action == "edit");
  CHECK_FALSE(any_weakens(r.steps[0].changes));
  CHECK_FALSE(r.steps[0].decision);
  CHECK(described(r.steps[1].changes) ==
        std::vector<std::string>{"assertion: max-length:600 -> max-length:900 [weakens]"});
  REQUIRE(r.steps[1].decision);
  CHECK(*r.steps[1].decision == WeakeningDecision{"invalid-expectation", "answers got longer",
                                                  "Test <t@example.com>", "Lee <lee@example.com>"});
  CHECK(r.last.content_hash == h.now().content_hash);
  CHECK(r.last.expect == h.now().expect);
  CHECK(r.last.tags == std::vector<std::string>{"refunds"});
}

TEST_CASE("replay finds an undecided weakening among decided ones, whatever the event claims",
          "[suite][weakening]") {
  History h;
  h.edit(loosen_length());
  auto events = h.events();
  auto middle = replay_case(h.base, events).last;
  // Someone with the file appends an edit that drops the remaining assertion's strength, with no
  // decision, claiming it weakens nothing.
  auto looser = middle;
  looser.expect = {*scoring::parse_assertion("icontains:30")};
  events.push_back(
      forged_edit(events.back().seq + 1, middle, looser, std::nullopt, std::vector<CaseChange>{}));
  auto after_that = looser;
  after_that.tags = {"billing"};
  events.push_back(forged_edit(
      events.back().seq + 1, looser, after_that,
      WeakeningDecision{"duplicate", "tidy up", "Eve <eve@example.com>", std::nullopt}));

  auto r = replay_case(h.base, events);
  CHECK_FALSE(r.unverifiable);
  REQUIRE(r.steps.size() == 3);
  CHECK(r.steps[0].decision);
  CHECK(any_weakens(r.steps[1].changes));
  CHECK_FALSE(r.steps[1].decision);
  CHECK(described(r.steps[1].changes) ==
        std::vector<std::string>{"assertion: icontains:30 days -> icontains:30 [weakens]",
                                 "assertion removed: max-length:900 [weakens]"});
  CHECK_FALSE(any_weakens(r.steps[2].changes));
  CHECK(r.last.tags == std::vector<std::string>{"billing"});
}

TEST_CASE("replay cannot verify an event whose set does not rebuild its after hash",
          "[suite][weakening]") {
  History h;
  h.edit(loosen_length());
  auto events = h.events();
  auto claimed = replay_case(h.base, events).last;
  // The hash claims one version, the set rebuilds another.
  auto honest = claimed;
  honest.expect.clear();
  honest.expect = {*scoring::parse_assertion("icontains:30")};
  auto e = forged_edit(events.back().seq + 1, claimed, honest);
  auto shown = claimed;
  shown.tags = {"harmless"};
  e.after = content_hash(shown);
  events.push_back(e);

  auto r = replay_case(h.base, events);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::StartsWith(fmt::format("event {} (edit): ", e.seq)));
  CHECK_THAT(*r.unverifiable, Catch::Contains("after hash"));
  CHECK(r.steps.size() == 1); // the steps before it stand
  CHECK(r.last.content_hash == claimed.content_hash);
}

TEST_CASE("replay cannot verify an edit without set, or with a wrong before hash",
          "[suite][weakening]") {
  History h;
  h.edit(loosen_length());
  auto events = h.events();
  REQUIRE(events.size() == 1);

  auto no_set = events;
  no_set[0].detail = R"({"changed":["expect"]})"; // as edits were recorded before `set`
  auto r = replay_case(h.base, no_set);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::Contains("(edit): its detail has no \"set\""));
  CHECK(r.steps.empty());
  CHECK(r.last.content_hash == h.base.content_hash);

  auto no_detail = events;
  no_detail[0].detail.reset();
  CHECK(replay_case(h.base, no_detail).unverifiable);

  auto wrong_before = events;
  wrong_before[0].before = h.now().content_hash;
  r = replay_case(h.base, wrong_before);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::Contains("before hash"));

  // An event of another kind cannot rebuild a version of a case that exists.
  auto import = events;
  import[0].action = "import";
  r = replay_case(h.base, import);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::Contains("(import): "));

  // A decision with a reason outside the vocabulary is no decision.
  auto bad_reason = events;
  auto detail = nlohmann::json::parse(*bad_reason[0].detail);
  detail["decision"]["reason"] = "because";
  bad_reason[0].detail = detail.dump();
  r = replay_case(h.base, bad_reason);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::Contains("reason"));

  // An event about another case does not belong in this replay.
  auto other = events;
  other[0].subject = "tone-apology";
  CHECK(replay_case(h.base, other).unverifiable);
}

TEST_CASE("replay follows a retirement, a reinstatement and a purge", "[suite][weakening]") {
  History h;
  RetireRequest req{"refund-window", "out-of-scope", "refunds moved to a human", {}, {}, {}, {}};
  REQUIRE(retire(h.s, req, Policy{}, origin()));
  REQUIRE(reinstate(h.s, "refund-window", "the human team is gone", origin()));
  h.edit([] {
    CaseChanges x;
    x.status = CaseStatus::xfail;
    x.rationale = "known to fail until the fix";
    x.reason = "flaky-unfixable";
    return x;
  }());
  REQUIRE(retire(h.s, req, Policy{}, origin()));
  REQUIRE(remove_case(h.s, "refund-window", true, origin()));

  auto r = replay_case(h.base, h.events());
  CHECK_FALSE(r.unverifiable);
  REQUIRE(r.steps.size() == 5);
  std::vector<std::string> actions;
  for (const auto& st : r.steps)
    actions.push_back(st.action);
  CHECK(actions == std::vector<std::string>{"retire", "reinstate", "edit", "retire", "delete"});
  CHECK(described(r.steps[0].changes) ==
        std::vector<std::string>{"status: active -> retired [weakens]"});
  REQUIRE(r.steps[0].decision);
  CHECK(r.steps[0].decision->reason == "out-of-scope");
  CHECK(r.steps[0].decision->rationale == "refunds moved to a human");
  CHECK(described(r.steps[1].changes) == std::vector<std::string>{"status: retired -> active"});
  CHECK(r.steps[2].decision);
  CHECK(described(r.steps[3].changes) ==
        std::vector<std::string>{"status: xfail -> retired [weakens]"});
  CHECK(described(r.steps[4].changes) ==
        std::vector<std::string>{"status: retired -> removed",
                                 "purged: kept -> title, input and assertions dropped"});
  CHECK(r.last.purged);
  CHECK(r.last.status == CaseStatus::removed);
  CHECK(r.last.content_hash == h.now().content_hash);
}

TEST_CASE("replay of no events is the version it starts from", "[suite][weakening]") {
  History h;
  auto r = replay_case(h.base, {});
  CHECK(r.steps.empty());
  CHECK_FALSE(r.unverifiable);
  CHECK(r.last.content_hash == h.base.content_hash);
}

// ---- bounded work on files anyone can write ----

namespace {

// The bounds below tell linear work from quadratic work (minutes), with room for a loaded machine
// and the sanitizer build; the figures themselves are measured in bench/, not here.
constexpr double k_linear_s = 30;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

TEST_CASE("comparing crafted assertion texts takes time linear in their size",
          "[suite][weakening]") {
  // A naive substring search of this pair compares 10^11 bytes.
  auto before = refund();
  before.expect = {*scoring::parse_assertion("contains:" + std::string(100000, 'a') + "b")};
  auto after = refund();
  after.expect = {*scoring::parse_assertion("contains:" + std::string(1000000, 'a'))};
  auto start = std::chrono::steady_clock::now();
  auto changes = case_changes(before, after);
  CHECK(seconds_since(start) < k_linear_s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].weakens);
}

TEST_CASE("thousands of replaced assertions are compared within a budget, never less strictly",
          "[suite][weakening]") {
  auto before = refund(), after = refund();
  before.expect.clear();
  after.expect.clear();
  for (int i = 0; i < 20000; ++i) {
    before.expect.push_back(*scoring::parse_assertion(fmt::format("contains:answer {}", i)));
    after.expect.push_back(*scoring::parse_assertion(fmt::format("contains:answer {}x", i)));
  }
  auto start = std::chrono::steady_clock::now();
  auto changes = case_changes(before, after);
  CHECK(seconds_since(start) < k_linear_s);
  // Too many pairs to weigh: every old assertion is listed as removed, a weakening.
  CHECK(changes.size() == 40000);
  CHECK(std::count_if(changes.begin(), changes.end(), [](const CaseChange& c) {
          return c.kind == ChangeKind::removed && c.weakens;
        }) == 20000);
  // The same assertions in another order are no change at all.
  auto shuffled = before;
  std::reverse(shuffled.expect.begin(), shuffled.expect.end());
  CHECK(case_changes(before, shuffled).empty());
}

TEST_CASE("replay refuses a detail nested deeper than a case, without crashing",
          "[suite][weakening]") {
  History h;
  h.edit(loosen_length());
  auto events = h.events();
  std::string deep =
      R"({"set":{"title":)" + std::string(200000, '[') + std::string(200000, ']') + "}}";
  events[0].detail = deep;
  auto r = replay_case(h.base, events);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::Contains("nests deeper than 64 levels"));
  CHECK_FALSE(recorded_edit(events[0]));
}

TEST_CASE("replay of a long history of a large case stops at a bound of work",
          "[suite][weakening]") {
  auto big = refund();
  big.prompt = std::string(4 << 20, 'q');
  big.content_hash = content_hash(big);
  std::vector<LedgerEvent> events;
  auto version = big;
  for (int i = 0; i < 20; ++i) {
    auto next = version;
    next.tags = {fmt::format("t{}", i)};
    events.push_back(forged_edit(i + 10, version, next, std::nullopt, std::vector<CaseChange>{}));
    next.content_hash = content_hash(next);
    version = std::move(next);
  }
  auto start = std::chrono::steady_clock::now();
  auto r = replay_case(big, events);
  CHECK(seconds_since(start) < k_linear_s);
  REQUIRE(r.unverifiable);
  CHECK_THAT(*r.unverifiable, Catch::StartsWith("event 25 (edit): "));
  CHECK_THAT(*r.unverifiable, Catch::Contains("rebuilds more than 64 MB"));
  CHECK(r.steps.size() == 15); // the steps before the bound stand
  CHECK(r.last.tags == std::vector<std::string>{"t14"});
}

TEST_CASE("replay starts at the last event that starts from the known version, as after a merge",
          "[suite][weakening]") {
  // A branch's own edit of the case started from the version both sides shared; after merging a
  // base that changed the case too, the branch's new edit starts from the base's version.
  History h;
  h.edit(loosen_length());
  auto events = h.events();
  auto branch_version = replay_case(h.base, events).last;
  Case base_version = h.base;
  base_version.tags = {"from-main"};
  auto redone = base_version;
  redone.expect = branch_version.expect; // the loosened length again, on the base's version
  events.push_back(forged_edit(
      events.back().seq + 1, base_version, redone,
      WeakeningDecision{"invalid-expectation", "answers got longer", "Test <t@example.com>", {}}));

  auto r = replay_case(base_version, events);
  CHECK_FALSE(r.unverifiable);
  REQUIRE(r.steps.size() == 1);
  CHECK(r.steps.front().seq == events.back().seq);
  REQUIRE(r.steps.front().decision);
  CHECK(any_weakens(r.steps.front().changes));
  CHECK(r.last.content_hash == content_hash(redone));

  SECTION("its weakening without a decision is still found") {
    events.back() = forged_edit(events.back().seq, base_version, redone);
    auto undecided = replay_case(base_version, events);
    CHECK_FALSE(undecided.unverifiable);
    REQUIRE(undecided.steps.size() == 1);
    CHECK_FALSE(undecided.steps.front().decision);
    CHECK(any_weakens(undecided.steps.front().changes));
  }
}
