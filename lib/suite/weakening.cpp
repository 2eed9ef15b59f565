#include "suite/weakening.hpp"

#include "core/hash.hpp"
#include "core/json_text.hpp"
#include "core/text.hpp"
#include "scoring/strictness.hpp"
#include "suite/records.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace evalkeep::suite {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

constexpr std::array<std::pair<ChangeField, std::string_view>, 10> k_fields{{
    {ChangeField::status, "status"},
    {ChangeField::min_pass_rate, "min_pass_rate"},
    {ChangeField::trials, "trials"},
    {ChangeField::passes, "passes"},
    {ChangeField::assertion, "assertion"},
    {ChangeField::input, "input"},
    {ChangeField::provenance, "provenance"},
    {ChangeField::tags, "tags"},
    {ChangeField::title, "title"},
    {ChangeField::purged, "purged"},
}};

constexpr std::array<std::pair<ChangeKind, std::string_view>, 3> k_kinds{{
    {ChangeKind::changed, "changed"},
    {ChangeKind::added, "added"},
    {ChangeKind::removed, "removed"},
}};

template <typename E, std::size_t N>
std::string_view name_in(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value)
      return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_in(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name)
      return v;
  return std::nullopt;
}

// ---- status, pass rate, trials ----

// How much of its guarantee a case of this status keeps: a fall is a weakening.
int strength(CaseStatus s) {
  switch (s) {
  case CaseStatus::active:
    return 2;
  case CaseStatus::xfail:
    return 1;
  default:
    return 0;
  }
}

// The passing trials a case needs, as the runner judges it: passes >= rate * trials (less 1e-9).
int required_passes(double rate, int trials) {
  double need = rate * trials - 1e-9;
  int required = need <= 0 ? 0 : static_cast<int>(std::ceil(need));
  return std::clamp(required, 0, std::max(trials, 0));
}

std::string number_text(double v) {
  return fmt::format("{}", v);
}

// ---- assertions ----

using scoring::Assertion;
using T = scoring::AssertionType;

// Assertions on the answer's text that a reviewer reads as one family: one may replace another.
bool text_family(T t) {
  return t == T::equals || t == T::contains || t == T::icontains || t == T::starts_with;
}

// True when every answer that passes `n` also passes `o`: replacing `o` with `n` keeps the case
// at least as strict. Only what can be proved from the assertions' meaning (scoring/evaluate.cpp)
// is true; anything else is false, and the replacement counts as a weakening.
bool implies(const Assertion& n, const Assertion& o) {
  if (auto s = scoring::stricter_or_equal(n, o)) // the types and fields added for other tools
    return *s;
  if (n == o)
    return true;
  switch (o.type) {
  case T::contains:
    return (n.type == T::contains || n.type == T::equals || n.type == T::starts_with) &&
           core::contains_linear(n.text, o.text);
  case T::icontains:
    return text_family(n.type) &&
           core::contains_linear(core::ascii_lower(n.text), core::ascii_lower(o.text));
  case T::starts_with:
    return (n.type == T::starts_with || n.type == T::equals) && n.text.starts_with(o.text);
  case T::not_contains:
    if (n.type == T::not_contains)
      return core::contains_linear(
          o.text, n.text); // lacking a part of the text, the answer lacks the whole
    return n.type == T::equals && !core::contains_linear(n.text, o.text);
  case T::max_length:
  case T::max_latency_ms:
  case T::max_cost:
    return n.type == o.type && n.number <= o.number;
  case T::min_length:
    return n.type == o.type && n.number >= o.number;
  case T::number_close:
    return n.type == o.type && n.number - n.tolerance >= o.number - o.tolerance &&
           n.number + n.tolerance <= o.number + o.tolerance;
  case T::judge:
    return n.type == o.type && n.grader == o.grader && n.rubric == o.rubric &&
           n.threshold >= o.threshold;
  case T::is_json:
    return n.type == T::json_path; // a JSON path is read from valid JSON only
  default:                         // equals, regex, json-path: only the same assertion
    return false;
  }
}

// How plainly an added assertion reads as the replacement of a removed one: 0 not at all, 3 the
// same check with another value.
int affinity(const Assertion& r, const Assertion& a) {
  auto related = [](std::string_view x, std::string_view y) {
    auto lx = core::ascii_lower(x), ly = core::ascii_lower(y);
    return core::contains_linear(lx, ly) || core::contains_linear(ly, lx);
  };
  if (a.type == r.type) {
    switch (r.type) {
    case T::judge:
      return a.rubric == r.rubric ? 3 : 2;
    case T::json_path:
      return a.path == r.path ? 3 : 2;
    case T::number_close:
      return a.number == r.number ? 3 : 2;
    case T::equals:
    case T::contains:
    case T::icontains:
    case T::not_contains:
    case T::starts_with:
    case T::regex:
      return related(a.text, r.text) ? 3 : 2;
    default:
      return 3;
    }
  }
  if (text_family(r.type) && text_family(a.type) && related(a.text, r.text))
    return 1;
  if (r.type == T::is_json && a.type == T::json_path)
    return 1;
  // An assertion on tool calls may replace another of another type (no-tool-call:NAME by
  // max-tool-calls:0, tool-called by tool-args): paired, the change is judged old -> new.
  if (scoring::is_tool_assertion(r.type) && scoring::is_tool_assertion(a.type))
    return 1;
  return 0;
}

constexpr std::size_t k_max_pairs = std::size_t{1} << 16;
constexpr std::size_t k_max_paired_bytes = std::size_t{64} << 20;

// The assertions of each side the other lacks, by index: those on both sides, one for one, are
// unchanged; the rest were removed or added.
struct Unmatched {
  std::vector<std::size_t> removed, added;
};

Unmatched unmatched(const std::vector<Assertion>& before, const std::vector<Assertion>& after) {
  // Matched by their JSON form, in n log n: a case may carry thousands.
  std::map<std::string, std::vector<std::size_t>> unmatched_after;
  for (std::size_t j = after.size(); j-- > 0;)
    unmatched_after[scoring::to_json(after[j]).dump()].push_back(j);
  std::vector<bool> kept_after(after.size(), false);
  Unmatched out;
  for (std::size_t i = 0; i < before.size(); ++i) {
    auto it = unmatched_after.find(scoring::to_json(before[i]).dump());
    if (it == unmatched_after.end() || it->second.empty()) {
      out.removed.push_back(i);
      continue;
    }
    kept_after[it->second.back()] = true;
    it->second.pop_back();
  }
  for (std::size_t j = 0; j < after.size(); ++j)
    if (!kept_after[j])
      out.added.push_back(j);
  return out;
}

// Each (removed, added) pair judged once, at r * added + a: how well it reads as a replacement,
// and whether the new assertion is provably at least as strict. Empty when comparing every
// removed assertion with every added one would pass a budget of text compared.
struct PairJudgements {
  std::vector<int> kin;
  std::vector<bool> stricter;
};

PairJudgements judge_pairs(const std::vector<Assertion>& before,
                           const std::vector<Assertion>& after, const Unmatched& u) {
  auto text_size = [](const Assertion& x) { return x.text.size() + x.rubric.size() + 16; };
  std::size_t removed_text = 0, added_text = 0;
  for (auto i : u.removed)
    removed_text += text_size(before[i]);
  for (auto j : u.added)
    added_text += text_size(after[j]);
  PairJudgements out;
  if (u.removed.size() * u.added.size() > k_max_pairs ||
      removed_text * u.added.size() + added_text * u.removed.size() > k_max_paired_bytes)
    return out;
  out.kin.resize(u.removed.size() * u.added.size());
  out.stricter.resize(out.kin.size());
  for (std::size_t r = 0; r < u.removed.size(); ++r)
    for (std::size_t a = 0; a < u.added.size(); ++a) {
      const auto& old_a = before[u.removed[r]];
      const auto& new_a = after[u.added[a]];
      auto at = r * u.added.size() + a;
      out.kin[at] = affinity(old_a, new_a);
      out.stricter[at] = out.kin[at] > 0 && implies(new_a, old_a);
    }
  return out;
}

// Which added assertion replaces each removed one, and whether that weakens it.
struct Pairing {
  static constexpr std::size_t k_none = SIZE_MAX;
  std::vector<std::size_t> partner; // per removed: an index into added, or k_none
  std::vector<bool> taken;          // per added
  std::vector<bool> weaker;         // per removed
};

// Pairs each removed assertion with the added one that reads as its replacement: first those
// that are provably at least as strict, then any other of the same check (a weakening), the
// closest kin first. Past the budget of judge_pairs they stay unpaired, every removal a
// weakening, which is never less strict.
Pairing pair_up(const Unmatched& u, const PairJudgements& j) {
  Pairing p{std::vector<std::size_t>(u.removed.size(), Pairing::k_none),
            std::vector<bool>(u.added.size(), false), std::vector<bool>(u.removed.size(), true)};
  bool affordable = !j.kin.empty();
  for (bool stricter_only : {true, false})
    for (int level = 3; level >= 1; --level)
      for (std::size_t r = 0; r < u.removed.size() && affordable; ++r) {
        for (std::size_t a = 0; a < u.added.size() && p.partner[r] == Pairing::k_none; ++a) {
          auto at = r * u.added.size() + a;
          if (p.taken[a] || j.kin[at] != level || (stricter_only && !j.stricter[at]))
            continue;
          p.partner[r] = a;
          p.taken[a] = true;
          p.weaker[r] = !j.stricter[at];
        }
      }
  return p;
}

void assertion_changes(const std::vector<Assertion>& before, const std::vector<Assertion>& after,
                       std::vector<CaseChange>& out) {
  auto u = unmatched(before, after);
  auto p = pair_up(u, judge_pairs(before, after, u));
  for (std::size_t r = 0; r < u.removed.size(); ++r) {
    const auto& old_a = before[u.removed[r]];
    if (p.partner[r] == Pairing::k_none) {
      out.push_back(
          {ChangeField::assertion, ChangeKind::removed, scoring::to_spec(old_a), {}, true});
      continue;
    }
    out.push_back({ChangeField::assertion, ChangeKind::changed, scoring::to_spec(old_a),
                   scoring::to_spec(after[u.added[p.partner[r]]]), p.weaker[r]});
  }
  for (std::size_t a = 0; a < u.added.size(); ++a)
    if (!p.taken[a])
      out.push_back({ChangeField::assertion,
                     ChangeKind::added,
                     {},
                     scoring::to_spec(after[u.added[a]]),
                     false});
}

// ---- input ----

// The case's input as one text: the prompt alone, or "[role] content" lines.
std::string input_text(const Case& c) {
  std::string out;
  if (c.prompt) {
    if (c.system)
      out = "[system] " + *c.system + "\n[user] ";
    out += *c.prompt;
  }
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    const auto& m = c.messages[i];
    out += fmt::format("{}[{}{}{}] {}", i ? "\n" : "", m.role, m.tool_call_id.empty() ? "" : " ",
                       m.tool_call_id, m.content);
    for (const auto& call : m.tool_calls)
      out += fmt::format("\n[call {}] {} {}", call.id, call.name, call.arguments);
  }
  // The tools a model may call are part of what it is asked: taking one away is a change.
  if (!c.tools.is_null())
    out += "\n[tools] " + c.tools.dump();
  if (!c.tool_choice.is_null())
    out += "\n[tool_choice] " + c.tool_choice.dump();
  return out;
}

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The start of the UTF-8 character at byte i (i itself at the end of the text).
std::size_t char_start(std::string_view s, std::size_t i) {
  return i < s.size() ? core::utf8_prefix(s, i).size() : i;
}

constexpr std::size_t k_context = 20; // bytes of unchanged text kept on each side of a change
constexpr std::size_t k_span = 80;    // bytes of changed text shown at most

// s[from, to) is what changed: shown with a little context, elided with "…", on one line.
std::string excerpt(std::string_view s, std::size_t from, std::size_t to) {
  std::size_t start = from > k_context ? char_start(s, from - k_context) : 0;
  std::string out = start > 0 ? "…" : "";
  out += s.substr(start, from - start);
  if (to - from > k_span) {
    std::size_t cut = char_start(s, from + k_span);
    out += s.substr(from, cut - from);
    out += "…";
  } else {
    out += s.substr(from, to - from);
    std::size_t end = char_start(s, std::min(s.size(), to + k_context));
    out += s.substr(to, end - to);
    if (end < s.size())
      out += "…";
  }
  std::string shown;
  for (char c : out) {
    if (c == '\n')
      shown += "↵";
    else
      shown += c;
  }
  return shown;
}

// The two texts with their common beginning and end trimmed to a little context.
std::pair<std::string, std::string> short_diff(std::string_view a, std::string_view b) {
  std::size_t p = 0;
  while (p < a.size() && p < b.size() && a[p] == b[p])
    ++p;
  while (p > 0 && ((p < a.size() && continuation(a[p])) || (p < b.size() && continuation(b[p]))))
    --p;
  std::size_t s = 0;
  while (s < a.size() - p && s < b.size() - p && a[a.size() - 1 - s] == b[b.size() - 1 - s])
    ++s;
  while (s > 0 && continuation(a[a.size() - s]))
    --s;
  return {excerpt(a, p, a.size() - s), excerpt(b, p, b.size() - s)};
}

// ---- provenance, tags ----

std::string provenance_text(const Provenance& p) {
  if (p.kind == ProvenanceKind::incident)
    return p.incident;
  return fmt::format("{}: {}", to_string(p.kind), p.note);
}

void push_optional(std::vector<CaseChange>& out, ChangeField field, const std::string& before,
                   const std::string& after) {
  if (before == after)
    return;
  auto kind = before.empty()  ? ChangeKind::added
              : after.empty() ? ChangeKind::removed
                              : ChangeKind::changed;
  out.push_back({field, kind, before, after, false});
}

// How deeply an edit's detail may nest (core::json_depth). A detail nested deeper than a case
// record ever is cannot be a real edit's, and a recursive dump of it could overflow the stack.
constexpr std::size_t k_max_detail_depth = 64;

} // namespace

std::string_view to_string(ChangeField f) {
  return name_in(k_fields, f);
}
std::optional<ChangeField> parse_change_field(std::string_view s) {
  return value_in(k_fields, s);
}
std::string_view to_string(ChangeKind k) {
  return name_in(k_kinds, k);
}
std::optional<ChangeKind> parse_change_kind(std::string_view s) {
  return value_in(k_kinds, s);
}

std::string describe(const CaseChange& c) {
  switch (c.kind) {
  case ChangeKind::added:
    return fmt::format("{} added: {}", to_string(c.field), c.after);
  case ChangeKind::removed:
    return fmt::format("{} removed: {}", to_string(c.field), c.before);
  case ChangeKind::changed:
    break;
  }
  return fmt::format("{}: {} -> {}", to_string(c.field), c.before, c.after);
}

ojson to_json(const CaseChange& c) {
  ojson j;
  j["field"] = to_string(c.field);
  j["kind"] = to_string(c.kind);
  j["before"] = c.kind == ChangeKind::added ? ojson() : ojson(c.before);
  j["after"] = c.kind == ChangeKind::removed ? ojson() : ojson(c.after);
  j["weakens"] = c.weakens;
  return j;
}

std::vector<CaseChange> case_changes(const Case& before, const Case& after) {
  std::vector<CaseChange> out;
  if (before.status != after.status)
    out.push_back({ChangeField::status, ChangeKind::changed, std::string(to_string(before.status)),
                   std::string(to_string(after.status)),
                   strength(after.status) < strength(before.status)});

  double rate_b = before.min_pass_rate.value_or(1.0), rate_a = after.min_pass_rate.value_or(1.0);
  int trials_b = before.trials.value_or(1), trials_a = after.trials.value_or(1);
  if (rate_b != rate_a)
    out.push_back({ChangeField::min_pass_rate, ChangeKind::changed, number_text(rate_b),
                   number_text(rate_a), rate_a < rate_b});
  if (trials_b != trials_a)
    out.push_back({ChangeField::trials, ChangeKind::changed, std::to_string(trials_b),
                   std::to_string(trials_a), false});
  int need_b = required_passes(rate_b, trials_b), need_a = required_passes(rate_a, trials_a);
  if (need_b != need_a || trials_b != trials_a)
    out.push_back({ChangeField::passes, ChangeKind::changed,
                   fmt::format("{} of {} trials", need_b, trials_b),
                   fmt::format("{} of {} trials", need_a, trials_a),
                   need_a < need_b || trials_a - need_a > trials_b - need_b});

  bool purging = after.purged && !before.purged;
  if (!purging) {
    assertion_changes(before.expect, after.expect, out);
    auto in_b = input_text(before), in_a = input_text(after);
    if (in_b != in_a) {
      auto [b, a] = short_diff(in_b, in_a);
      out.push_back({ChangeField::input, ChangeKind::changed, std::move(b), std::move(a), true});
    }
  }
  auto prov_b = provenance_text(before.provenance), prov_a = provenance_text(after.provenance);
  if (prov_b != prov_a) {
    bool moved_away = before.provenance.kind == ProvenanceKind::incident &&
                      (after.provenance.kind != ProvenanceKind::incident ||
                       after.provenance.incident != before.provenance.incident);
    out.push_back({ChangeField::provenance, ChangeKind::changed, prov_b, prov_a, moved_away});
  }
  push_optional(out, ChangeField::tags, fmt::format("{}", fmt::join(before.tags, ", ")),
                fmt::format("{}", fmt::join(after.tags, ", ")));
  if (!purging)
    push_optional(out, ChangeField::title, before.title.value_or(""), after.title.value_or(""));
  if (purging)
    out.push_back({ChangeField::purged, ChangeKind::changed, "kept",
                   "title, input and assertions dropped", false});
  return out;
}

bool any_weakens(std::span<const CaseChange> changes) {
  return std::any_of(changes.begin(), changes.end(), [](const auto& c) { return c.weakens; });
}

bool is_weakening_reason(std::string_view reason) {
  return reason == k_reworded || parse_reason(reason).has_value();
}

std::string weakening_reason_names() {
  return reason_names() + ", " + std::string(k_reworded);
}

json canonical_record(const Case& c) {
  json j = case_record(c);
  j.erase("type");
  return j;
}

json record_set(const Case& before, const Case& after) {
  json b = canonical_record(before), a = canonical_record(after);
  json set = json::object();
  // Compared as text: a value that is equal but written differently would not rebuild the hash.
  for (const auto& [key, value] : a.items())
    if (auto it = b.find(key); it == b.end() || it->dump() != value.dump())
      set[key] = value;
  for (const auto& [key, _] : b.items())
    if (!a.contains(key))
      set[key] = nullptr;
  return set;
}

std::string edit_detail(std::span<const CaseChange> changes, const json& set,
                        const std::optional<WeakeningDecision>& decision) {
  json detail;
  json list = json::array();
  for (const auto& c : changes)
    list.push_back(json(to_json(c)));
  detail["changes"] = std::move(list);
  detail["set"] = set;
  if (decision) {
    json d;
    d["reason"] = decision->reason;
    d["decided_by"] = decision->decided_by;
    if (decision->approved_by)
      d["approved_by"] = *decision->approved_by;
    detail["decision"] = std::move(d);
  }
  return detail.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::optional<std::string> string_at(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return std::nullopt;
  return it->get<std::string>();
}

// The decision an edit's detail records, checked: an unknown reason or a missing decider is not
// a decision. Nothing when there is none; an error when there is a malformed one.
Result<std::optional<WeakeningDecision>> edit_decision(const json& detail, const LedgerEvent& e) {
  auto it = detail.find("decision");
  if (it == detail.end() || it->is_null())
    return std::nullopt;
  if (!it->is_object())
    return invalid("its decision is not an object");
  auto reason = string_at(*it, "reason");
  auto decided_by = string_at(*it, "decided_by");
  if (!reason || !is_weakening_reason(*reason))
    return invalid("its decision's reason is not one of {}", weakening_reason_names());
  if (!decided_by || decided_by->empty())
    return invalid("its decision names no decider");
  if (it->contains("approved_by") && !(*it)["approved_by"].is_string())
    return invalid("its decision's approver is not a name");
  if (!e.rationale || e.rationale->empty())
    return invalid("its decision has no rationale");
  return WeakeningDecision{*reason, *e.rationale, *decided_by, string_at(*it, "approved_by")};
}

} // namespace

std::optional<RecordedEdit> recorded_edit(const LedgerEvent& e) {
  if (e.action != "edit" || !e.detail || core::json_depth(*e.detail) > k_max_detail_depth)
    return std::nullopt;
  auto detail = json::parse(*e.detail, nullptr, false);
  if (!detail.is_object() || !detail.contains("changes") || !detail["changes"].is_array())
    return std::nullopt;
  RecordedEdit out;
  for (const auto& c : detail["changes"]) {
    if (!c.is_object())
      continue;
    auto field = parse_change_field(string_at(c, "field").value_or(""));
    auto kind = parse_change_kind(string_at(c, "kind").value_or(""));
    if (!field || !kind)
      continue;
    auto weakens = c.find("weakens");
    out.changes.push_back({*field, *kind, string_at(c, "before").value_or(""),
                           string_at(c, "after").value_or(""),
                           weakens != c.end() && weakens->is_boolean() && weakens->get<bool>()});
  }
  if (auto d = edit_decision(detail, e); d)
    out.decision = *d;
  return out;
}

namespace {

// The work of rebuilding a version of the case: its input and assertions, as bytes.
std::size_t weight(const Case& c) {
  std::size_t n = input_bytes(c);
  for (const auto& a : c.expect)
    n += a.text.size() + a.rubric.size() + a.path.size() + 64;
  return n;
}

// The most a replay rebuilds, in bytes (a version's input and assertions, and a kilobyte for each
// event), before it stops as unverifiable: eight edits of a case of the largest input, or tens of
// thousands of edits of a small one, about a second and a half here; a bound on what a crafted
// history can cost the gate.
constexpr std::size_t k_max_replay_bytes = std::size_t{64} << 20;
constexpr std::size_t k_event_weight = 1024;

struct Rebuilt {
  Case version;
  std::optional<WeakeningDecision> decision;
};

Result<Rebuilt> rebuild_edit(const Case& prev, const LedgerEvent& e) {
  if (!e.detail)
    return invalid("it has no detail to rebuild the case from");
  if (core::json_depth(*e.detail) > k_max_detail_depth)
    return invalid("its detail nests deeper than {} levels, deeper than a case",
                   k_max_detail_depth);
  auto detail = json::parse(*e.detail, nullptr, false);
  if (!detail.is_object() || !detail.contains("set") || !detail["set"].is_object())
    return invalid("its detail has no \"set\" to rebuild the case from");
  json record = canonical_record(prev);
  for (const auto& [key, value] : detail["set"].items()) {
    if (value.is_null())
      record.erase(key);
    else
      record[key] = value;
  }
  if (!e.after ||
      core::sha256(record.dump(-1, ' ', false, json::error_handler_t::replace)) != *e.after)
    return invalid("the version its \"set\" rebuilds does not have the event's after hash");
  auto next = parse_case(record);
  if (!next)
    return invalid("the version its \"set\" rebuilds is not a valid case: {}",
                   next.error().message);
  if (next->id != prev.id)
    return invalid("its \"set\" changes the case's id to {}", next->id);
  if (next->content_hash != *e.after)
    return invalid("the version its \"set\" rebuilds does not have the event's after hash");
  auto decision = TRY(edit_decision(detail, e));
  return Rebuilt{std::move(*next), std::move(decision)};
}

std::optional<WeakeningDecision> retirement_decision(const LedgerEvent& e) {
  if (!e.detail)
    return std::nullopt;
  auto detail = json::parse(*e.detail, nullptr, false);
  if (!detail.is_object())
    return std::nullopt;
  auto d = parse_retirement(detail);
  if (!d || d->case_id != e.subject)
    return std::nullopt;
  return WeakeningDecision{std::string(to_string(d->reason)), d->rationale, d->decided_by,
                           d->approved_by};
}

Result<Rebuilt> rebuild(const Case& prev, const LedgerEvent& e) {
  if (e.action == "edit")
    return rebuild_edit(prev, e);
  Case next = prev;
  std::optional<WeakeningDecision> decision;
  if (e.action == "retire") {
    if (!is_live(prev.status))
      return invalid("it retires a case that is already {}", to_string(prev.status));
    next.status = CaseStatus::retired;
    decision = retirement_decision(e);
  } else if (e.action == "reinstate") {
    if (is_live(prev.status) || prev.purged)
      return invalid("it reinstates a case that is {}{}", to_string(prev.status),
                     prev.purged ? " and purged" : "");
    next.status = CaseStatus::active;
  } else if (e.action == "delete") {
    bool purge = false;
    if (e.detail) {
      auto detail = json::parse(*e.detail, nullptr, false);
      purge = detail.is_object() && detail.value("purged", false) == true;
    }
    if (is_live(prev.status))
      return invalid("it removes a case that is {}", to_string(prev.status));
    if (prev.status == CaseStatus::removed && (prev.purged || !purge))
      return invalid("it removes a case that is removed already");
    next.status = CaseStatus::removed;
    next.content_hash = content_hash(next);
    if (purge) // the tombstone keeps the hash of the case it was
      drop_content(next);
    return Rebuilt{std::move(next), std::nullopt};
  } else {
    return invalid("a version of a case that exists cannot be rebuilt from its {} event", e.action);
  }
  next.content_hash = content_hash(next);
  return Rebuilt{std::move(next), std::move(decision)};
}

} // namespace

namespace {

Replay replay_from(const Case& from, std::span<const LedgerEvent> events) {
  Replay out;
  out.last = from;
  out.last.content_hash = content_hash(from);
  std::size_t work = 0;
  for (const auto& e : events) {
    auto stop = [&](std::string_view why) {
      out.unverifiable = fmt::format("event {} ({}): {}", e.seq, e.action, why);
    };
    work += weight(out.last) + k_event_weight + (e.detail ? e.detail->size() : 0);
    if (work > k_max_replay_bytes) {
      stop(fmt::format("replaying the case's history this far rebuilds more than {}",
                       megabytes(k_max_replay_bytes)));
      break;
    }
    if (e.subject != from.id) {
      stop(fmt::format("it is about {}, not {}", e.subject, from.id));
      break;
    }
    if (!e.before || *e.before != out.last.content_hash) {
      stop("its before hash is not the hash of the version before it");
      break;
    }
    if (!e.after) {
      stop("it records no after hash");
      break;
    }
    auto next = rebuild(out.last, e);
    if (!next) {
      stop(next.error().message);
      break;
    }
    if (next->version.content_hash != *e.after) {
      stop("the version it makes does not have the event's after hash");
      break;
    }
    out.steps.push_back(
        {e.seq, e.action, case_changes(out.last, next->version), std::move(next->decision)});
    out.last = std::move(next->version);
  }
  return out;
}

} // namespace

Replay replay_case(const Case& from, std::span<const LedgerEvent> events) {
  auto out = replay_from(from, events);
  if (!out.unverifiable)
    return out;
  // A branch that merged a base which changed the case too holds its own earlier events about it,
  // which start from a version the base never had; what it did after the merge starts from the
  // base's version. Every step from there is checked against its hashes, so starting there
  // cannot let a weakening through: it shows in the steps that lead to the last version.
  auto start = content_hash(from);
  for (std::size_t i = events.size(); i-- > 1;)
    if (events[i].before == start) {
      auto later = replay_from(from, events.subspan(i));
      return later.unverifiable ? out : later;
    }
  return out;
}

} // namespace evalkeep::suite
