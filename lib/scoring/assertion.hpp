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
  // The negated and list forms of the string checks.
  not_equals,
  not_icontains,
  not_starts_with,
  not_regex,
  contains_any,      // at least one of `values`
  icontains_any,     // at least one of `values`, ignoring case
  not_contains_all,  // not every one of `values` (at least one is missing)
  not_icontains_all, // not every one of `values`, ignoring case
  contains_json,     // the answer holds a JSON object (matching `schema`, when there is one)
  javascript,        // a program decides (scoring/script.hpp)
  python,            // a program decides (scoring/script.hpp)
  similar,           // cosine similarity of embeddings against `threshold`
  // What the model did with tools (scoring/tool_checks.cpp): they read the answer's tool calls.
  tool_called,     // some call to `text`, at least `number` times
  no_tool_call,    // no call at all, or (with `text`) no call to `text`
  tool_args,       // a call to `text` whose arguments hold the object `value` (a recursive subset)
  tool_args_valid, // every call (to `text`, when named) parses and meets its tool's JSON Schema
  tool_sequence,   // the calls' names hold `values` in order (or are exactly them)
  tool_call_f1,    // F1 of the called names against the set `values` reaches `threshold`
  max_tool_calls,  // at most `number` calls
  max_steps,       // at most `number` steps of an agent's trajectory (a model's answer is one)
  not_contains_json, // no JSON object in the answer (matching `schema`, when there is one)
  not_is_json,       // the answer is not valid JSON (is-json's negation)
};

/// How tool-sequence compares the names of the calls with its steps.
enum class SequenceMode {
  in_order, // the steps appear in order, other calls before, between or after them
  exact,    // the calls are the steps, no more and no fewer
};

/// How a judge grades: the instructions it is given, the reply it must make and how the verdict
/// follows from it (scoring/evaluate.hpp).
enum class Grader {
  rubric,     // a score from 0 to 1 against the rubric, passing at `threshold`
  factuality, // the answer against a reference (`rubric`): category A to E, D fails
  closedqa,   // whether the answer meets the criterion (`rubric`): Y passes, N fails
  geval,      // G-Eval on the criteria (`rubric`): the judge writes evaluation steps, then scores
              // the answer 0 to 10 by them; passing at `threshold` of the score over 10
  relevance,  // answer relevance: the judge writes the question the answer answers, and its
              // embedding's cosine similarity to the case's input (or `rubric`, when given)
              // passes at `threshold`
};

/// The language of a script assertion or a transform.
enum class Language { javascript, python };

/// A program an assertion runs: an expression or a function body written inline, or the whole
/// text of a file with the function it exports.
struct Script {
  Language language = Language::javascript;
  std::string code;     // the inline expression or body, or the file's whole text
  std::string file;     // the file it was read from (as the configuration named it), or empty
  std::string function; // the file's function to call; empty: its default

  bool operator==(const Script&) const = default;
};

/// One expectation on a model's answer. Which fields are used depends on the type.
struct Assertion {
  AssertionType type = AssertionType::contains;
  std::string text;               // equals, contains, icontains, not-contains, starts-with, regex
  std::string path;               // json-path: a JSON pointer
  nlohmann::json value;           // json-path: the expected value
  double number = 0;              // lengths, number-close, latency, cost
  double tolerance = 0;           // number-close
  std::string rubric;             // judge: the rubric, reference or criterion of its grader
  Grader grader = Grader::rubric; // judge
  std::vector<double> categories; // judge (factuality): the scores of categories A to E, or
                                  // empty for k_factuality_scores
  double threshold = 0.7; // judge (rubric, g-eval, relevance), in [0, 1]; similar, in [-1, 1]
  std::vector<std::string> values;  // contains-any and the other list forms
  nlohmann::json schema;            // is-json, contains-json: a JSON Schema, or null for none
  Script script;                    // javascript, python
  std::optional<double> pass_score; // javascript, python: the score a number must reach
  nlohmann::json vars;              // javascript, python: the test's vars (context.vars), or null
  nlohmann::json config;            // javascript, python: context.config, or null
  std::string model;                // similar: the embedding model; empty: the default
  std::vector<Script> transforms;   // programs the answer goes through first, in order
  SequenceMode sequence = SequenceMode::in_order; // tool-sequence
  bool strict = false; // is-json, not-is-json: the whole answer as it is, no Markdown fence read
  // javascript, python: what the program reads of its test besides vars (context.test), an object
  // with "description" (text, or null for none) and "metadata" (an object), each only when read;
  // or null
  nlohmann::json test;

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

/// The types that read the answer's tool calls rather than its text.
bool is_tool_assertion(AssertionType t);

/// A tool's name as tool definitions allow it: ^[a-zA-Z0-9_-]{1,64}$.
bool is_tool_name(std::string_view name);

/// Whether `subset` is held in `value`: every key of an object, recursively, with a value held in
/// the other's; arrays and scalars equal (1 and 1.0 are equal). tool-args reads arguments so.
bool json_subset(const nlohmann::json& subset, const nlohmann::json& value);

/// The threshold tool-call-f1 uses when none is given (promptfoo's default: the sets are equal).
inline constexpr double k_default_tool_f1 = 1.0;

/// The types that run a program or need more than the answer's text (scripts, transforms,
/// similar): scoring/checks.cpp evaluates them.
bool runs_program(const Assertion& a);

std::string_view to_string(Language l);

std::string_view to_string(Grader g);
std::optional<Grader> parse_grader(std::string_view name);
/// Whether a judge with the grader passes at a threshold (rubric, g-eval, relevance) rather
/// than on the grader's own answer (factuality, closedqa).
bool takes_threshold(Grader g);
/// The threshold of a judge with the grader when none is given.
double default_threshold(Grader g);

/// The scores of the factuality categories A to E when a judge names none (promptfoo's): every
/// category passes but D, the answer and the reference disagree. A category passes on a score
/// above 0.
inline constexpr double k_factuality_scores[] = {1, 1, 1, 0, 1};

/// The threshold of a judge with the rubric or g-eval grader when none is given (promptfoo's
/// llm-rubric passes at 0.7 when its grader gives no verdict of its own, and g-eval at 0.7); the
/// graders without a threshold keep it unused.
inline constexpr double k_default_judge_threshold = 0.7;
/// The threshold of answer relevance when none is given (promptfoo's).
inline constexpr double k_default_relevance_threshold = 0.5;

/// The embedding model `similar` uses when none is named (promptfoo's default).
inline constexpr std::string_view k_default_embedding_model = "text-embedding-3-large";
/// The threshold `similar` uses when none is given (promptfoo's default).
inline constexpr double k_default_similarity = 0.75;

} // namespace evalkeep::scoring
