#include "scoring/strictness.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace evalkeep::scoring {

namespace {

using T = AssertionType;

bool classic_type(T t) {
  switch (t) {
  case T::equals:
  case T::contains:
  case T::icontains:
  case T::not_contains:
  case T::starts_with:
  case T::regex:
  case T::is_json:
  case T::json_path:
  case T::min_length:
  case T::max_length:
  case T::number_close:
  case T::max_latency_ms:
  case T::max_cost:
  case T::judge:
    return true;
  default:
    return false;
  }
}

// Every value of `sub` is one of `of` (ignoring case when `fold`), in n log n.
bool subset(const std::vector<std::string>& sub, const std::vector<std::string>& of, bool fold) {
  std::set<std::string> known;
  for (const auto& w : of)
    known.insert(fold ? core::ascii_lower(w) : w);
  return std::all_of(sub.begin(), sub.end(), [&](const std::string& v) {
    return known.contains(fold ? core::ascii_lower(v) : v);
  });
}

// Nothing but the check itself differs from a plain assertion: no program and no vars.
bool plain(const Assertion& a) {
  return a.transforms.empty() && a.vars.is_null();
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Every factuality category that passes `n` passes `o` (a category passes on a score above 0).
bool fewer_pass(const Assertion& n, const Assertion& o) {
  for (int i = 0; i < 5; ++i) {
    auto at = static_cast<std::size_t>(i);
    double sn = n.categories.empty() ? k_factuality_scores[at] : n.categories[at];
    double so = o.categories.empty() ? k_factuality_scores[at] : o.categories[at];
    if (sn > 0 && !(so > 0))
      return false;
  }
  return true;
}

// `sub` appears in `of` in order, other names around and between its own.
bool subsequence(const std::vector<std::string>& sub, const std::vector<std::string>& of) {
  std::size_t next = 0;
  for (const auto& name : of)
    if (next < sub.size() && name == sub[next])
      ++next;
  return next == sub.size();
}

// Every answer that passes `n` makes no call to `name`, or none at all when `name` is empty.
bool forbids(const Assertion& n, const std::string& name) {
  if (n.type == T::max_tool_calls)
    return n.number == 0;
  if (n.type == T::no_tool_call)
    return n.text.empty() || n.text == name;
  if (name.empty())
    return false;
  if (n.type == T::tool_sequence && n.sequence == SequenceMode::exact)
    return !listed(n.values, name);
  // An F1 of 1 means the names called are exactly the expected set.
  return n.type == T::tool_call_f1 && n.threshold >= 1 && !listed(n.values, name);
}

// Every answer that passes `n` calls `name` at least `min` times.
bool requires_calls(const Assertion& n, const std::string& name, double min) {
  switch (n.type) {
  case T::tool_called:
    return n.text == name && n.number >= min;
  case T::tool_args:
  case T::tool_args_valid: // a named tool-args-valid needs a call to its tool
    return n.text == name && min <= 1;
  case T::tool_sequence:
    return static_cast<double>(std::count(n.values.begin(), n.values.end(), name)) >= min;
  case T::tool_call_f1:
    return n.threshold >= 1 && min <= 1 && listed(n.values, name);
  default:
    return false;
  }
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// `n` implies `o`, an assertion on tool calls: a guard of what a model may do with tools is
// loosened by fewer required calls, a smaller arguments object, a shorter or looser sequence, a
// lower F1 threshold or another expected set, or more calls allowed.
bool tool_implies(const Assertion& n, const Assertion& o) {
  switch (o.type) {
  case T::tool_called:
    return requires_calls(n, o.text, o.number);
  case T::no_tool_call:
    return forbids(n, o.text);
  case T::max_steps:
    return n.type == T::max_steps && n.number <= o.number;
  case T::max_tool_calls:
    return (n.type == T::max_tool_calls && n.number <= o.number) || forbids(n, "") ||
           (n.type == T::tool_sequence && n.sequence == SequenceMode::exact &&
            static_cast<double>(n.values.size()) <= o.number);
  case T::tool_args: // arguments holding the new object hold the old one
    return n.type == T::tool_args && n.text == o.text && json_subset(o.value, n.value);
  case T::tool_args_valid:
    return n.type == o.type && n.text == o.text;
  case T::tool_sequence:
    if (n.type != T::tool_sequence)
      return false;
    if (o.sequence == SequenceMode::exact)
      return n.sequence == SequenceMode::exact && n.values == o.values;
    return subsequence(o.values, n.values); // either mode: the old steps, in order
  case T::tool_call_f1:
    return n.type == o.type && sorted(n.values) == sorted(o.values) && n.threshold >= o.threshold;
  default:
    return false;
  }
}

// `n` implies `o` for the new types, both without programs in front of them.
bool implies(const Assertion& n, const Assertion& o) {
  switch (o.type) {
  case T::not_equals:
    return n.type == T::equals && n.text != o.text;
  case T::not_icontains:
    if (n.type == T::not_icontains) // lacking a part of the text, the answer lacks the whole
      return core::contains_linear(core::ascii_lower(o.text), core::ascii_lower(n.text));
    return n.type == T::equals &&
           !core::contains_linear(core::ascii_lower(n.text), core::ascii_lower(o.text));
  case T::not_starts_with:
    if (n.type == T::not_starts_with)
      return o.text.starts_with(n.text);
    return n.type == T::equals && !n.text.starts_with(o.text);
  case T::contains_any:
    return (n.type == T::contains_any && subset(n.values, o.values, false)) ||
           ((n.type == T::contains || n.type == T::equals || n.type == T::starts_with) &&
            std::any_of(o.values.begin(), o.values.end(),
                        [&](const std::string& v) { return core::contains_linear(n.text, v); }));
  case T::icontains_any:
    return (n.type == T::icontains_any || n.type == T::contains_any) &&
           subset(n.values, o.values, true);
  case T::not_contains_all:
    return (n.type == T::not_contains_all && subset(n.values, o.values, false)) ||
           (n.type == T::not_contains &&
            std::find(o.values.begin(), o.values.end(), n.text) != o.values.end());
  case T::not_icontains_all:
    return n.type == T::not_icontains_all && subset(n.values, o.values, true);
  case T::is_json: // valid JSON either way; a schema only adds to it, and so does strictness
    return n.type == o.type && (o.schema.is_null() || n.schema == o.schema) &&
           (n.strict || !o.strict);
  case T::not_is_json: // one that reads inside a fence too fails on more answers
    return n.type == o.type && (!n.strict || o.strict);
  case T::contains_json:
    return n.type == o.type && (o.schema.is_null() || n.schema == o.schema);
  case T::similar:
    return n.type == o.type && n.text == o.text && n.model == o.model && n.threshold >= o.threshold;
  case T::judge: // the same grader and rubric: a higher threshold, or fewer passing categories
    return n.type == o.type && n.grader == o.grader && n.rubric == o.rubric &&
           n.threshold >= o.threshold && fewer_pass(n, o);
  case T::tool_called:
  case T::no_tool_call:
  case T::tool_args:
  case T::tool_args_valid:
  case T::tool_sequence:
  case T::tool_call_f1:
  case T::max_tool_calls:
  case T::max_steps:
    return tool_implies(n, o);
  default: // a regex, a script, or a classic check replaced by a new one: not provable
    return false;
  }
}

} // namespace

bool is_classic(const Assertion& a) {
  return classic_type(a.type) && a.values.empty() && a.schema.is_null() && a.script == Script{} &&
         !a.pass_score && a.vars.is_null() && a.config.is_null() && a.model.empty() &&
         a.transforms.empty() && a.sequence == SequenceMode::in_order && !a.strict &&
         a.grader == Grader::rubric && a.categories.empty() && a.test.is_null();
}

std::optional<bool> stricter_or_equal(const Assertion& after, const Assertion& before) {
  if (is_classic(after) && is_classic(before))
    return std::nullopt;
  if (after == before)
    return true;
  if (!plain(after) || !plain(before))
    return false; // a program rewrites what the check reads: only the same one is as strict
  return implies(after, before);
}

} // namespace evalkeep::scoring
