#include "rules.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::standin {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<FaultKind, std::string_view>, 23> k_fault_names{{
    {FaultKind::status_400, "400"},
    {FaultKind::status_401, "401"},
    {FaultKind::status_403, "403"},
    {FaultKind::status_404, "404"},
    {FaultKind::status_413, "413"},
    {FaultKind::status_429, "429"},
    {FaultKind::quota_429, "429-quota"},
    {FaultKind::status_500, "500"},
    {FaultKind::status_502, "502"},
    {FaultKind::status_503, "503"},
    {FaultKind::status_504, "504"},
    {FaultKind::status_529, "529"},
    {FaultKind::reset, "reset"},
    {FaultKind::reset_mid_body, "reset-mid-body"},
    {FaultKind::reset_after_headers, "reset-after-headers"},
    {FaultKind::hang, "hang"},
    {FaultKind::truncated, "truncated"},
    {FaultKind::invalid_json, "invalid-json"},
    {FaultKind::html, "html"},
    {FaultKind::error_200, "error-200"},
    {FaultKind::empty_choices, "empty-choices"},
    {FaultKind::drip, "drip"},
    {FaultKind::status_401_echo, "401-echo"},
}};

std::expected<std::optional<int>, std::string> optional_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end())
    return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
    return std::unexpected(fmt::format("'{}' must be a non-negative integer", key));
  return it->get<int>();
}

std::expected<std::string, std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end())
    return std::string();
  if (!it->is_string())
    return std::unexpected(fmt::format("'{}' must be a string", key));
  return it->get<std::string>();
}

// A fault named by `name` (500 or "500"), shaped by the rule's other keys in `j`.
std::expected<Fault, std::string> parse_fault(const json& name, const json& j) {
  std::string text = name.is_number_integer() ? std::to_string(name.get<int>())
                     : name.is_string()       ? name.get<std::string>()
                                              : std::string();
  auto kind = parse_fault_kind(text);
  if (!kind)
    return std::unexpected(fmt::format("unknown fault '{}'", name.dump()));
  Fault f;
  f.kind = *kind;
  if (auto it = j.find("retry_after"); it != j.end()) {
    if (it->is_number_integer())
      f.retry_after = std::to_string(it->get<std::int64_t>());
    else if (it->is_string())
      f.retry_after = it->get<std::string>();
    else
      return std::unexpected("'retry_after' must be seconds or an HTTP date");
  }
  auto ms = optional_int(j, "retry_after_ms");
  if (!ms)
    return std::unexpected(ms.error());
  f.retry_after_ms = *ms;
  if (f.retry_after.empty() && !f.retry_after_ms)
    f.retry_after = "1";
  auto drip = optional_int(j, "drip_ms");
  if (!drip)
    return std::unexpected(drip.error());
  f.drip_ms = drip->value_or(1000);
  return f;
}

constexpr std::array<std::string_view, 17> k_rule_keys{
    "match",       "answer",       "echo",       "fault",      "times",        "sequence",
    "latency_ms",  "retry_after",  "drip_ms",    "note",       "answer_bytes", "retry_after_ms",
    "probability", "wrong_answer", "tool_calls", "after_tool", "tool_result"};

// One of `tool_calls`: {"name": "f", "arguments": {...} or "<JSON text>"}.
std::expected<ToolCall, std::string> parse_tool_call(const json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() ||
      j["name"].get<std::string>().empty())
    return std::unexpected("each of 'tool_calls' needs a 'name'");
  for (const auto& [key, value] : j.items())
    if (key != "name" && key != "arguments")
      return std::unexpected(fmt::format("unknown key '{}' in 'tool_calls'", key));
  ToolCall call{j["name"].get<std::string>(), "{}"};
  if (auto args = j.find("arguments"); args != j.end()) {
    if (args->is_object())
      call.arguments = args->dump();
    else if (args->is_string()) // as a model could write it, invalid JSON included
      call.arguments = args->get<std::string>();
    else
      return std::unexpected("'arguments' must be an object or its JSON text");
  }
  return call;
}

// The keys that make a rule answer with function calls or wait for a tool result.
std::expected<void, std::string> parse_tool_keys(const json& j, Rule& r) {
  if (auto it = j.find("tool_calls"); it != j.end()) {
    if (!it->is_array() || it->empty())
      return std::unexpected("'tool_calls' must be a non-empty array");
    for (const json& c : *it) {
      auto call = parse_tool_call(c);
      if (!call)
        return std::unexpected(call.error());
      r.tool_calls.push_back(std::move(*call));
    }
  }
  if (auto it = j.find("after_tool"); it != j.end()) {
    if (!it->is_boolean())
      return std::unexpected("'after_tool' must be true or false");
    r.after_tool = it->get<bool>();
  }
  if (auto it = j.find("tool_result"); it != j.end()) {
    if (!it->is_string() || r.after_tool == false)
      return std::unexpected("'tool_result' must be a string, and cannot go with "
                             "'after_tool': false");
    r.tool_result = to_lower(it->get<std::string>());
  }
  return {};
}

std::expected<Rule, std::string> parse_rule(const json& j) {
  if (!j.is_object())
    return std::unexpected("a rule must be an object");
  // A misspelt key would silently change nothing; refuse it instead.
  for (const auto& [key, value] : j.items())
    if (std::ranges::find(k_rule_keys, key) == k_rule_keys.end())
      return std::unexpected(fmt::format("unknown key '{}'", key));
  Rule r;
  auto match = optional_string(j, "match");
  auto answer = optional_string(j, "answer");
  auto latency = optional_int(j, "latency_ms");
  if (!match)
    return std::unexpected(match.error());
  if (!answer)
    return std::unexpected(answer.error());
  if (!latency)
    return std::unexpected(latency.error());
  r.match = to_lower(*match);
  if (j.contains("answer"))
    r.answer = *answer;
  r.latency_ms = *latency;
  if (auto it = j.find("echo"); it != j.end()) {
    if (!it->is_boolean())
      return std::unexpected("'echo' must be true or false");
    r.echo = it->get<bool>();
  }
  if (j.contains("fault")) {
    auto fault = parse_fault(j["fault"], j);
    if (!fault)
      return std::unexpected(fault.error());
    r.fault = *fault;
  }
  if (auto it = j.find("sequence"); it != j.end()) {
    if (!it->is_array() || r.fault)
      return std::unexpected("'sequence' must be an array of faults or \"ok\", without 'fault'");
    for (const json& step : *it) {
      if (step == "ok") {
        r.sequence.emplace_back();
        continue;
      }
      auto fault = parse_fault(step, j);
      if (!fault)
        return std::unexpected(fault.error());
      r.sequence.emplace_back(*fault);
    }
  }
  auto times = optional_int(j, "times");
  if (!times)
    return std::unexpected(times.error());
  r.times = times->value_or(0);
  if (auto it = j.find("answer_bytes"); it != j.end()) {
    if (!it->is_number_unsigned())
      return std::unexpected("'answer_bytes' must be a non-negative integer");
    r.answer_bytes = it->get<std::size_t>();
  }
  if (auto it = j.find("probability"); it != j.end()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1 ||
        !j.contains("answer") || !j.contains("wrong_answer"))
      return std::unexpected("'probability' must be a number from 0 to 1, with 'answer' and "
                             "'wrong_answer'");
    r.probability = it->get<double>();
  }
  if (auto it = j.find("wrong_answer"); it != j.end()) {
    if (!it->is_string() || !r.probability)
      return std::unexpected("'wrong_answer' must be a string, with 'probability'");
    r.wrong_answer = it->get<std::string>();
  }
  if (auto tools = parse_tool_keys(j, r); !tools)
    return std::unexpected(tools.error());
  if (!r.fault && !j.contains("sequence") && !r.echo && !j.contains("answer") &&
      r.tool_calls.empty())
    return std::unexpected("a rule needs 'answer', 'echo', 'fault', 'sequence' or 'tool_calls'");
  return r;
}

} // namespace

std::optional<FaultKind> parse_fault_kind(std::string_view name) {
  for (auto [kind, text] : k_fault_names)
    if (text == name)
      return kind;
  return std::nullopt;
}

std::string_view to_string(FaultKind kind) {
  for (auto [k, text] : k_fault_names)
    if (k == kind)
      return text;
  return "?";
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

RuleSet::RuleSet() : m_default_answer("I can help with that.") {}

std::expected<RuleSet, std::string> RuleSet::load(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return std::unexpected(fmt::format("cannot read rules file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded())
    return std::unexpected(fmt::format("rules file '{}' is not valid JSON", path));
  auto rules = from_json(j);
  if (!rules)
    return std::unexpected(fmt::format("rules file '{}': {}", path, rules.error()));
  return rules;
}

std::expected<RuleSet, std::string> RuleSet::from_json(const json& j) {
  if (!j.is_object())
    return std::unexpected("the top level must be an object");
  RuleSet set;
  if (auto it = j.find("default"); it != j.end()) {
    if (!it->is_object())
      return std::unexpected("'default' must be an object");
    auto answer = optional_string(*it, "answer");
    auto latency = optional_int(*it, "latency_ms");
    if (!answer)
      return std::unexpected("default: " + answer.error());
    if (!latency)
      return std::unexpected("default: " + latency.error());
    if (it->contains("answer"))
      set.m_default_answer = *answer;
    set.m_default_latency_ms = *latency;
  }
  if (auto it = j.find("aws"); it != j.end()) {
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto v = it->find(key);
      return v != it->end() && v->is_string() ? std::optional(v->get<std::string>()) : std::nullopt;
    };
    auto id = it->is_object() ? text("access_key_id") : std::nullopt;
    auto secret = it->is_object() ? text("secret_access_key") : std::nullopt;
    if (!id || !secret)
      return std::unexpected("'aws' must be an object with access_key_id and secret_access_key "
                             "strings (and session_token)");
    set.m_aws = AwsKeys{*id, *secret, text("session_token").value_or("")};
  }
  if (auto it = j.find("rules"); it != j.end()) {
    if (!it->is_array())
      return std::unexpected("'rules' must be an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      auto rule = parse_rule((*it)[i]);
      if (!rule)
        return std::unexpected(fmt::format("rule {}: {}", i, rule.error()));
      set.m_rules.push_back(std::move(*rule));
    }
  }
  return set;
}

namespace {

// SplitMix64's finalizer: a well-mixed 64-bit value from any input.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform draw in [0, 1) for the `hit`-th request a rule matched.
double draw(std::uint64_t seed, std::size_t rule, std::int64_t hit) {
  std::uint64_t x = mix(mix(seed) ^ mix(rule) ^ static_cast<std::uint64_t>(hit));
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

} // namespace

namespace {

// Whether a rule's tool conditions hold for a request handing back `tool_result` (or nothing).
bool tool_conditions_hold(const Rule& r, const std::optional<std::string>& tool_result) {
  if (r.after_tool && *r.after_tool != tool_result.has_value())
    return false;
  if (r.tool_result &&
      (!tool_result || to_lower(*tool_result).find(*r.tool_result) == std::string::npos))
    return false;
  return true;
}

} // namespace

Decision RuleSet::decide(std::string_view key, const std::optional<std::string>& tool_result) {
  std::string lowered = to_lower(key);
  for (std::size_t i = 0; i < m_rules.size(); ++i) {
    Rule& r = m_rules[i];
    if (lowered.find(r.match) == std::string::npos || !tool_conditions_hold(r, tool_result))
      continue;
    ++r.hits;
    Decision d;
    // A rule that calls functions says nothing else unless it has an answer.
    d.answer =
        r.echo ? std::string(key) : r.answer.value_or(r.tool_calls.empty() ? m_default_answer : "");
    d.tool_calls = r.tool_calls;
    if (r.probability && draw(m_seed, i, r.hits) >= *r.probability)
      d.answer = r.wrong_answer;
    if (r.answer_bytes && !d.answer.empty()) {
      std::string unit = std::move(d.answer);
      d.answer.reserve(*r.answer_bytes);
      while (d.answer.size() < *r.answer_bytes)
        d.answer.append(unit, 0, std::min(unit.size(), *r.answer_bytes - d.answer.size()));
    }
    d.rule_has_fault = r.fault.has_value() || !r.sequence.empty();
    if (r.fault && (r.times == 0 || r.hits <= r.times))
      d.fault = r.fault;
    if (static_cast<std::size_t>(r.hits) <= r.sequence.size())
      d.fault = r.sequence[static_cast<std::size_t>(r.hits) - 1];
    d.latency_ms = r.latency_ms;
    return d;
  }
  Decision d;
  d.answer = m_default_answer;
  d.latency_ms = m_default_latency_ms;
  return d;
}

void RuleSet::reset_hits() {
  for (Rule& r : m_rules)
    r.hits = 0;
}

} // namespace evalkeep::standin
