#pragma once

#include "api.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace evalkeep::standin {

/// A way for a request to go wrong, named as in the rules file ("429", "reset", "drip", ...).
enum class FaultKind {
  status_400,
  status_401,
  status_403,
  status_404,
  status_413,
  status_429,
  quota_429,
  status_500,
  status_502,
  status_503,
  status_504,
  status_529,
  reset,
  reset_mid_body,
  reset_after_headers,
  hang,
  truncated,
  invalid_json,
  html,
  error_200,
  empty_choices,
  drip,
  status_401_echo, // a 401 whose error message echoes the request, headers included
};

std::optional<FaultKind> parse_fault_kind(std::string_view name);
std::string_view to_string(FaultKind kind);

/// A fault with the parameters that shape it.
struct Fault {
  FaultKind kind = FaultKind::status_500;
  std::string retry_after;           // Retry-After value; "1" when neither is set
  std::optional<int> retry_after_ms; // retry-after-ms header
  int drip_ms = 1000;                // drip: milliseconds per byte
};

/// One entry of the rules file. The first rule whose `match` is a case-insensitive substring
/// of the request's key, and whose tool conditions hold, answers it.
struct Rule {
  std::string match;                 // lowercased
  std::optional<std::string> answer; // the default answer when absent (none with tool_calls)
  std::vector<ToolCall> tool_calls;  // the function calls the reply makes
  // true: only when the request hands back a tool result (ChatRequest::tool_result); false: only
  // when it does not.
  std::optional<bool> after_tool;
  std::optional<std::string> tool_result;  // lowercased: a substring the tool result must hold
  bool echo = false;                       // answer with the key itself
  std::optional<std::size_t> answer_bytes; // the answer repeated (and cut) to this many bytes
  std::optional<Fault> fault;
  std::int64_t times = 0; // only the first `times` matching requests get the fault; 0 = all
  // The n-th matching request gets sequence[n] (nullopt: answered); later ones are answered.
  std::vector<std::optional<Fault>> sequence;
  std::optional<int> latency_ms;
  // With `probability` P, each answer is `answer` with probability P and `wrong_answer`
  // otherwise: a case a model gets right some of the time. The draw depends only on the seed, the
  // rule and how many requests it matched before, so a run is repeatable.
  std::optional<double> probability;
  std::string wrong_answer;
  std::int64_t hits = 0; // matching requests so far
};

/// What the rules decided for one request.
struct Decision {
  std::string answer;
  std::vector<ToolCall> tool_calls;
  std::optional<Fault> fault;  // the rule's fault, when it still applies
  bool rule_has_fault = false; // the rule names a fault or a sequence, spent or not
  std::optional<int> latency_ms;
};

/// The AWS credentials a rules file gives the Converse route (its "aws" object).
struct AwsKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

class RuleSet {
public:
  /// The default answer for every request.
  RuleSet();

  /// Reads `{"default": {...}, "rules": [...]}`; the error names the offending rule.
  static std::expected<RuleSet, std::string> load(const std::string& path);
  static std::expected<RuleSet, std::string> from_json(const nlohmann::json& j);

  /// Finds the rule for `key` and the tool result the request hands back, if any, and counts the
  /// hit toward its `times`.
  Decision decide(std::string_view key,
                  const std::optional<std::string>& tool_result = std::nullopt);

  /// The seed of the rules' `probability` draws (default 1).
  void seed(std::uint64_t seed) { m_seed = seed; }

  /// Forgets how often each rule matched, so `times` counts from zero again.
  void reset_hits();

  /// The top-level "aws" object: {"access_key_id", "secret_access_key", "session_token"?}.
  const std::optional<AwsKeys>& aws() const { return m_aws; }

private:
  std::string m_default_answer;
  std::optional<int> m_default_latency_ms;
  std::vector<Rule> m_rules;
  std::uint64_t m_seed = 1;
  std::optional<AwsKeys> m_aws;
};

/// ASCII lowercase, for case-insensitive matching.
std::string to_lower(std::string_view s);

} // namespace evalkeep::standin
