#pragma once

// Script assertions and transforms: a program in JavaScript (node) or Python (python3) gets the
// answer and its context on stdin and returns a value, read with promptfoo's rules.

#include "core/error.hpp"
#include "scoring/assertion.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::scoring {

/// How a program runs: which inherited variables it never gets, and its limits.
struct ScriptLimits {
  /// Names of inherited variables the program does not get (the keys exec programs are denied:
  /// providers::withheld_from_exec). Unset (nullopt): it gets only a minimal environment (PATH,
  /// HOME, locale and the interpreters' own variables), which withholds every key.
  std::optional<std::vector<std::string>> withheld;
  int timeout_ms = 10'000;
  std::size_t max_output = std::size_t{1} << 20;
};

/// What a program is told besides the answer: promptfoo's `context`.
struct ScriptContext {
  std::string prompt;    // the case's input as text
  nlohmann::json vars;   // the test's vars, or null
  nlohmann::json config; // the assertion's config, or null
  nlohmann::json test;   // the test's description and metadata (Assertion::test), or null
};

/// Why a program gave no value: its interpreter is missing, it failed, it ran too long.
enum class ScriptFailure { no_interpreter, failed, timed_out, bad_result };

struct ScriptError {
  ScriptFailure kind = ScriptFailure::failed;
  std::string message;
};

/// Runs `s` on `output` (the answer, or what a transform made of it) and returns the value its
/// expression or function returned. `transform` selects a transform's defaults (a Python file's
/// function is get_transform instead of get_assert).
std::expected<nlohmann::json, ScriptError> run_script(const Script& s, const nlohmann::json& output,
                                                      const ScriptContext& context,
                                                      const ScriptLimits& limits,
                                                      bool transform = false);

/// A script's verdict from the value it returned, by promptfoo's rules: a boolean passes when
/// true; a number is a score that passes above 0, or at `threshold` when there is one; an object
/// {pass, score, reason} speaks for itself (for Python, a score under `threshold` fails it; Python
/// may also return "true", "false", a number or such an object as text).
struct ScriptVerdict {
  bool passed = false;
  std::optional<double> score;
  std::string reason;
};
Result<ScriptVerdict> read_script_result(Language language, const nlohmann::json& result,
                                         std::optional<double> threshold);

/// The interpreter a language runs on ("node", "python3").
std::string_view interpreter(Language language);

} // namespace evalkeep::scoring
