// The assertions on what a model did with tools: they read the answer's tool calls (names, and
// arguments as the JSON text the model wrote), never its text.

#include "scoring/checks.hpp"
#include "scoring/schema.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace evalkeep::scoring {

namespace {

using json = nlohmann::json;
using T = AssertionType;
using core::ToolCall;

Outcome pass(std::string reason) {
  return {true, std::move(reason), std::nullopt};
}
Outcome fail(std::string reason) {
  return {false, std::move(reason), std::nullopt};
}

std::string clip(std::string s, std::size_t max = 200) {
  if (s.size() > max) {
    s.resize(max);
    s += "…";
  }
  return s;
}

// The names of the calls in order, for a reason: "calls: a, b" or "no tool calls".
std::string calls_text(const std::vector<ToolCall>& calls) {
  if (calls.empty())
    return "no tool calls";
  constexpr std::size_t k_shown = 20;
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < calls.size() && i < k_shown; ++i)
    names.push_back(calls[i].name);
  return fmt::format("calls: {}{}", fmt::join(names, ", "),
                     calls.size() > k_shown ? fmt::format(", … ({} in all)", calls.size()) : "");
}

std::size_t count_calls(const std::vector<ToolCall>& calls, const std::string& name) {
  return static_cast<std::size_t>(
      std::count_if(calls.begin(), calls.end(), [&](const ToolCall& c) { return c.name == name; }));
}

std::string times(std::size_t n) {
  return fmt::format("{} time{}", n, n == 1 ? "" : "s");
}

Outcome called_check(const Assertion& a, const std::vector<ToolCall>& calls) {
  auto n = count_calls(calls, a.text);
  auto need = static_cast<std::size_t>(a.number);
  if (n == 0)
    return fail(fmt::format("did not call {} ({})", a.text, calls_text(calls)));
  auto how = fmt::format("called {} {}", a.text, times(n));
  if (need > 1)
    how += fmt::format(" (needs at least {})", need);
  return n >= need ? pass(how) : fail(how + " (" + calls_text(calls) + ")");
}

Outcome no_call_check(const Assertion& a, const std::vector<ToolCall>& calls) {
  if (a.text.empty())
    return calls.empty() ? pass("made no tool call")
                         : fail(fmt::format("made {} tool call{} ({})", calls.size(),
                                            calls.size() == 1 ? "" : "s", calls_text(calls)));
  auto n = count_calls(calls, a.text);
  return n == 0 ? pass(fmt::format("did not call {} ({})", a.text, calls_text(calls)))
                : fail(fmt::format("called {} {} ({})", a.text, times(n), calls_text(calls)));
}

Outcome args_check(const Assertion& a, const std::vector<ToolCall>& calls) {
  std::vector<std::string> seen;
  for (const auto& c : calls) {
    if (c.name != a.text)
      continue;
    auto args = json::parse(c.arguments, nullptr, false);
    if (!args.is_discarded() && json_subset(a.value, args))
      return pass(fmt::format("a call to {} has arguments holding {}", a.text,
                              clip(a.value.dump(-1, ' ', false, json::error_handler_t::replace))));
    seen.push_back(args.is_discarded()
                       ? "(not JSON) " + clip(c.arguments)
                       : clip(args.dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  auto wanted = clip(a.value.dump(-1, ' ', false, json::error_handler_t::replace));
  if (seen.empty())
    return fail(fmt::format("did not call {}, so no arguments hold {} ({})", a.text, wanted,
                            calls_text(calls)));
  constexpr std::size_t k_shown = 5;
  if (seen.size() > k_shown)
    seen.resize(k_shown);
  return fail(fmt::format("no call to {} has arguments holding {}; its calls had {}", a.text,
                          wanted, fmt::join(seen, "; ")));
}

// One call's arguments against its tool's schema: nothing when they are valid, else why not.
std::optional<std::string> invalid_call(const ToolCall& c, std::size_t index, const json& tools) {
  auto where = fmt::format("call {} ({})", index + 1, c.name);
  json schema = core::tool_parameters(tools, c.name);
  if (schema.is_null())
    return fmt::format("{}: no tool named {} is defined (tools: {})", where, c.name,
                       fmt::join(core::tool_names(tools), ", "));
  auto args = json::parse(c.arguments, nullptr, false);
  if (args.is_discarded())
    return fmt::format("{}: its arguments are not valid JSON: {}", where, clip(c.arguments));
  auto v = validate_json(schema, args);
  if (!v)
    return fmt::format("{}: {}", where, v.error().message);
  if (!v->valid)
    return fmt::format("{}: its arguments do not conform to the tool's schema: {}", where,
                       clip(v->errors, 400));
  return std::nullopt;
}

Outcome args_valid_check(const Assertion& a, const std::vector<ToolCall>& calls,
                         const json& tools) {
  if (!tools.is_array() || tools.empty())
    return fail("the case defines no tools to check the calls' arguments against");
  std::size_t checked = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (!a.text.empty() && calls[i].name != a.text)
      continue;
    ++checked;
    if (auto why = invalid_call(calls[i], i, tools))
      return fail(*why);
  }
  if (checked == 0)
    return fail(a.text.empty() ? std::string("made no tool call to validate")
                               : fmt::format("did not call {}, so no arguments were validated ({})",
                                             a.text, calls_text(calls)));
  if (a.text.empty())
    return pass(fmt::format("the arguments of all {} tool call{} conform to their tools' schemas",
                            checked, checked == 1 ? "" : "s"));
  return pass(fmt::format("the arguments of {} call{} to {} conform to its schema", checked,
                          checked == 1 ? "" : "s", a.text));
}

Outcome sequence_check(const Assertion& a, const std::vector<ToolCall>& calls) {
  auto steps = fmt::format("{}", fmt::join(a.values, ", "));
  if (a.sequence == SequenceMode::exact) {
    bool same = calls.size() == a.values.size() &&
                std::equal(calls.begin(), calls.end(), a.values.begin(),
                           [](const ToolCall& c, const std::string& s) { return c.name == s; });
    return same ? pass("called exactly " + steps)
                : fail(fmt::format("expected exactly {} ({})", steps, calls_text(calls)));
  }
  std::size_t next = 0;
  for (const auto& c : calls)
    if (next < a.values.size() && c.name == a.values[next])
      ++next;
  if (next == a.values.size())
    return pass(fmt::format("called {} in order ({})", steps, calls_text(calls)));
  if (next == 0)
    return fail(fmt::format("did not call {}, the first of {} ({})", a.values[0], steps,
                            calls_text(calls)));
  return fail(fmt::format("did not call {} after {}, in the order {} ({})", a.values[next],
                          a.values[next - 1], steps, calls_text(calls)));
}

// promptfoo's tool-call-f1: sets of names, order and repeats ignored; precision over the names
// called, recall over the names expected; passes when F1 >= threshold.
Outcome f1_check(const Assertion& a, const std::vector<ToolCall>& calls) {
  std::set<std::string> expected(a.values.begin(), a.values.end()), actual;
  for (const auto& c : calls)
    actual.insert(c.name);
  auto both = static_cast<double>(std::count_if(
      expected.begin(), expected.end(), [&](const std::string& n) { return actual.contains(n); }));
  double precision = actual.empty() ? 0 : both / static_cast<double>(actual.size());
  double recall = expected.empty() ? 0 : both / static_cast<double>(expected.size());
  double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
  bool ok = f1 >= a.threshold;
  auto reason = fmt::format("tool call F1 {:.3f} (needs {}; precision {:.3f}, recall {:.3f}): "
                            "expected [{}], called [{}]",
                            f1, a.threshold, precision, recall, fmt::join(expected, ", "),
                            actual.empty() ? "(none)" : fmt::format("{}", fmt::join(actual, ", ")));
  return {ok, std::move(reason), f1};
}

} // namespace

Outcome tool_check(const Assertion& a, const Answer& answer, const EvaluationContext& ctx) {
  const auto& calls = answer.tool_calls;
  switch (a.type) {
  case T::tool_called:
    return called_check(a, calls);
  case T::no_tool_call:
    return no_call_check(a, calls);
  case T::tool_args:
    return args_check(a, calls);
  case T::tool_args_valid:
    return args_valid_check(a, calls, ctx.tools);
  case T::tool_sequence:
    return sequence_check(a, calls);
  case T::tool_call_f1:
    return f1_check(a, calls);
  case T::max_steps: {
    // An agent's reported steps; a model's answer, or an agent that reports none, is one.
    std::size_t steps = std::max<std::size_t>(answer.steps, 1);
    return {static_cast<double>(steps) <= a.number,
            fmt::format("took {} step{} (at most {})", steps, steps == 1 ? "" : "s", a.number),
            std::nullopt};
  }
  case T::max_tool_calls: {
    bool ok = static_cast<double>(calls.size()) <= a.number;
    return {ok,
            fmt::format("made {} tool call{} (at most {})", calls.size(),
                        calls.size() == 1 ? "" : "s", a.number),
            std::nullopt};
  }
  default:
    return fail("not an assertion on tool calls");
  }
}

} // namespace evalkeep::scoring
