#pragma once

#include "core/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::scoring {

/// The assertion types a case may carry.
enum class AssertionType {
  equals,
  contains,
  icontains,
  not_contains,
  starts_with,
  regex,
  is_json,
  json_path,
  min_length,
  max_length,
  number_close,
  max_latency_ms,
  max_cost,
  judge,
};

/// One expectation on a model's answer. Which fields are used depends on the type.
struct Assertion {
  AssertionType type = AssertionType::contains;
  std::string text;       // equals, contains, icontains, not-contains, starts-with, regex
  std::string path;       // json-path: a JSON pointer
  nlohmann::json value;   // json-path: the expected value
  double number = 0;      // lengths, number-close, latency, cost
  double tolerance = 0;   // number-close
  std::string rubric;     // judge
  double threshold = 0.7; // judge, in [0, 1]

  bool operator==(const Assertion&) const = default;
};

std::string_view to_string(AssertionType t);
std::optional<AssertionType> parse_type(std::string_view name);
/// The names of every type, for help and error messages.
std::string type_names();

/// Parses the command-line form "TYPE:VALUE" (e.g. "icontains:30 days", "is-json",
/// "json-path:/order/status=\"shipped\"", "number-close:42.5,0.5", "judge@0.8:RUBRIC").
Result<Assertion> parse_assertion(std::string_view spec);

/// How much of an assertion to check when reading it.
enum class Check {
  full,      // everything, including compiling regexes: for input from people and files
  structure, // fields and types only: for assertions read back from a suite that checked them
};

/// Reads the JSON form ({"type":"icontains","value":"30 days"}); unknown fields are an error.
Result<Assertion> from_json(const nlohmann::json& j, Check check = Check::full);

/// The JSON form, fields in a stable order.
nlohmann::ordered_json to_json(const Assertion& a);

/// The command-line form, for display.
std::string to_spec(const Assertion& a);

} // namespace evalkeep::scoring
