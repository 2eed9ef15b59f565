#include "scoring/assertion.hpp"

#include "core/json_text.hpp"
#include "core/text.hpp"
#include "scoring/schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>
#include <unordered_set>

#include <fmt/ranges.h>
#include <re2/re2.h>

namespace evalkeep::scoring {

namespace {

using json = nlohmann::json;

struct TypeName {
  AssertionType type;
  std::string_view name;
};

constexpr std::array<TypeName, 36> k_types{{
    {AssertionType::equals, "equals"},
    {AssertionType::contains, "contains"},
    {AssertionType::icontains, "icontains"},
    {AssertionType::not_contains, "not-contains"},
    {AssertionType::starts_with, "starts-with"},
    {AssertionType::regex, "regex"},
    {AssertionType::is_json, "is-json"},
    {AssertionType::json_path, "json-path"},
    {AssertionType::min_length, "min-length"},
    {AssertionType::max_length, "max-length"},
    {AssertionType::number_close, "number-close"},
    {AssertionType::max_latency_ms, "max-latency-ms"},
    {AssertionType::max_cost, "max-cost"},
    {AssertionType::judge, "judge"},
    {AssertionType::not_equals, "not-equals"},
    {AssertionType::not_icontains, "not-icontains"},
    {AssertionType::not_starts_with, "not-starts-with"},
    {AssertionType::not_regex, "not-regex"},
    {AssertionType::contains_any, "contains-any"},
    {AssertionType::icontains_any, "icontains-any"},
    {AssertionType::not_contains_all, "not-contains-all"},
    {AssertionType::not_icontains_all, "not-icontains-all"},
    {AssertionType::contains_json, "contains-json"},
    {AssertionType::javascript, "javascript"},
    {AssertionType::python, "python"},
    {AssertionType::similar, "similar"},
    {AssertionType::tool_called, "tool-called"},
    {AssertionType::no_tool_call, "no-tool-call"},
    {AssertionType::tool_args, "tool-args"},
    {AssertionType::tool_args_valid, "tool-args-valid"},
    {AssertionType::tool_sequence, "tool-sequence"},
    {AssertionType::tool_call_f1, "tool-call-f1"},
    {AssertionType::max_tool_calls, "max-tool-calls"},
    {AssertionType::max_steps, "max-steps"},
    {AssertionType::not_contains_json, "not-contains-json"},
    {AssertionType::not_is_json, "not-is-json"},
}};

// is-json and not-is-json: whether the answer is read as it is, or from inside a Markdown fence.
bool reads_json_whole(AssertionType t) {
  return t == AssertionType::is_json || t == AssertionType::not_is_json;
}

constexpr std::string_view k_strict_suffix = "-strict";

bool takes_text(AssertionType t) {
  switch (t) {
  case AssertionType::equals:
  case AssertionType::contains:
  case AssertionType::icontains:
  case AssertionType::not_contains:
  case AssertionType::starts_with:
  case AssertionType::regex:
  case AssertionType::not_equals:
  case AssertionType::not_icontains:
  case AssertionType::not_starts_with:
  case AssertionType::not_regex:
  case AssertionType::similar:
    return true;
  default:
    return false;
  }
}

bool takes_values(AssertionType t) {
  return t == AssertionType::contains_any || t == AssertionType::icontains_any ||
         t == AssertionType::not_contains_all || t == AssertionType::not_icontains_all;
}

bool takes_schema(AssertionType t) {
  return t == AssertionType::is_json || t == AssertionType::contains_json ||
         t == AssertionType::not_contains_json;
}

bool is_script(AssertionType t) {
  return t == AssertionType::javascript || t == AssertionType::python;
}

bool takes_count(AssertionType t) {
  return t == AssertionType::min_length || t == AssertionType::max_length ||
         t == AssertionType::max_latency_ms || t == AssertionType::max_tool_calls ||
         t == AssertionType::max_steps;
}

// The tool assertions written without a value: no-tool-call and tool-args-valid name a tool or not.
bool optional_tool_name(AssertionType t) {
  return t == AssertionType::no_tool_call || t == AssertionType::tool_args_valid;
}

using core::parse_number;

Status check_regex(const std::string& pattern) {
  // Suites repeat patterns across many cases: compile each distinct one once per process.
  static std::mutex mutex;
  static std::unordered_set<std::string> valid;
  std::lock_guard lock(mutex);
  if (valid.contains(pattern))
    return {};
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok())
    return invalid("invalid regex '{}': {}", pattern, re.error());
  valid.insert(pattern);
  return {};
}

Status check_script(const Script& s, std::string_view what) {
  if (s.code.find_first_not_of(" \t\r\n") == std::string::npos)
    return invalid("{} needs code", what);
  if (!s.function.empty() && s.file.empty())
    return invalid("{}: a function name goes with a file", what);
  return {};
}

// A program's test context: null, or an object with a text (or null) "description" and an object
// "metadata", each optional.
Status check_test_context(const json& test, std::string_view what) {
  if (test.is_null())
    return {};
  if (!test.is_object())
    return invalid("the test of a {} assertion must be an object", what);
  for (const auto& [key, value] : test.items()) {
    if (key == "description" && (value.is_string() || value.is_null()))
      continue;
    if (key == "metadata" && value.is_object())
      continue;
    if (key == "description" || key == "metadata")
      return invalid("the test {} of a {} assertion must be {}", key, what,
                     key == "description" ? "text or null" : "an object");
    return invalid("unknown field '{}' in the test of a {} assertion (it holds description and "
                   "metadata)",
                   key, what);
  }
  return {};
}

// The rules of the assertions on tool calls.
Status validate_tools(const Assertion& a) {
  using T = AssertionType;
  auto name = to_string(a.type);
  if (!a.transforms.empty() || !a.vars.is_null())
    return invalid("{} reads the tool calls, not the answer's text: it takes no transform or vars",
                   name);
  if ((a.type == T::tool_called || a.type == T::tool_args) && a.text.empty())
    return invalid("{} needs a tool name", name);
  if (!a.text.empty() && !is_tool_name(a.text))
    return invalid("{} needs a tool name of letters, digits, '_' and '-' (at most 64), got '{}'",
                   name, a.text);
  if (a.type == T::tool_called &&
      (a.number < 1 || a.number != std::floor(a.number) || a.number > 1e12))
    return invalid("tool-called needs a whole number of calls of at least 1, got {}", a.number);
  if (a.type == T::tool_args && !a.value.is_object())
    return invalid("tool-args needs the arguments as a JSON object, got {}", a.value.dump());
  if (a.type != T::tool_sequence && a.type != T::tool_call_f1)
    return {};
  if (a.values.empty())
    return invalid("{} needs at least one tool name", name);
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (!is_tool_name(a.values[i]))
      return invalid("{} needs tool names of letters, digits, '_' and '-' (at most 64), got '{}'",
                     name, a.values[i]);
    if (a.type == T::tool_call_f1 &&
        std::find(a.values.begin(), a.values.begin() + static_cast<std::ptrdiff_t>(i),
                  a.values[i]) != a.values.begin() + static_cast<std::ptrdiff_t>(i))
      return invalid("tool-call-f1 compares sets of names: '{}' is listed twice", a.values[i]);
  }
  if (a.type == T::tool_call_f1 && !(a.threshold >= 0 && a.threshold <= 1))
    return invalid("tool-call-f1 threshold must be between 0 and 1, got {}", a.threshold);
  return {};
}

// The rules of the types added for other tools' suites: lists, schemas, scripts, similar.
Status validate_more(const Assertion& a, Check check) {
  auto name = to_string(a.type);
  if (takes_values(a.type)) {
    if (a.values.empty())
      return invalid("{} needs at least one value", name);
    for (const auto& v : a.values)
      if (v.empty())
        return invalid("{} needs non-empty values", name);
  }
  if (a.strict && !reads_json_whole(a.type))
    return invalid("{} has no strict form", name);
  if (!a.schema.is_null()) {
    if (!takes_schema(a.type))
      return invalid("{} takes no schema", name);
    if (check == Check::full)
      TRY(check_schema(a.schema));
  }
  if (is_script(a.type)) {
    Language want = a.type == AssertionType::python ? Language::python : Language::javascript;
    if (a.script.language != want)
      return invalid("a {} assertion runs {} code", name, to_string(want));
    TRY(check_script(a.script, name));
    TRY(check_test_context(a.test, name));
  } else if (!a.script.code.empty() || a.pass_score || !a.config.is_null() || !a.test.is_null()) {
    return invalid("{} takes no code", name);
  }
  if (!a.vars.is_null() && !a.vars.is_object())
    return invalid("the vars of a {} assertion must be an object", name);
  if (!a.vars.is_null() && !is_script(a.type) && a.transforms.empty())
    return invalid("only programs read vars: a {} assertion without a transform takes none", name);
  if (a.type == AssertionType::similar && !(a.threshold >= -1 && a.threshold <= 1))
    return invalid("similar threshold must be between -1 and 1, got {}", a.threshold);
  if (!a.model.empty() && a.type != AssertionType::similar)
    return invalid("{} takes no embedding model", name);
  if (!a.transforms.empty() && a.type == AssertionType::judge)
    return invalid("a judge reads the answer as it is: it takes no transform");
  for (const auto& t : a.transforms)
    TRY(check_script(t, "a transform"));
  return {};
}

// The rules every assertion obeys, whichever form it was written in.
Result<Assertion> validate(Assertion a, Check check = Check::full) {
  auto name = to_string(a.type);
  if (takes_text(a.type) && a.text.empty())
    return invalid("{} needs a non-empty value", name);
  if ((a.type == AssertionType::regex || a.type == AssertionType::not_regex) &&
      check == Check::full)
    TRY(check_regex(a.text));
  if (takes_count(a.type) && (a.number < 0 || a.number != std::floor(a.number) || a.number > 1e12))
    return invalid("{} needs a whole number of at least 0, got {}", name, a.number);
  if (a.type == AssertionType::number_close && a.tolerance < 0)
    return invalid("number-close needs a tolerance of at least 0, got {}", a.tolerance);
  if (a.type == AssertionType::max_cost && a.number < 0)
    return invalid("max-cost needs a cost of at least 0, got {}", a.number);
  if (a.type == AssertionType::json_path && !a.path.empty() && a.path.front() != '/')
    return invalid("json-path needs a JSON pointer starting with '/', got '{}'", a.path);
  if (a.type == AssertionType::json_path) {
    try {
      (void)json::json_pointer(a.path);
    } catch (const json::exception& e) {
      return invalid("json-path has an invalid JSON pointer '{}'", a.path);
    }
  }
  if (a.type == AssertionType::judge) {
    if (a.rubric.empty() && a.grader != Grader::relevance)
      return invalid("judge needs a rubric");
    if (!(a.threshold >= 0 && a.threshold <= 1))
      return invalid("judge threshold must be between 0 and 1, got {}", a.threshold);
    if (!takes_threshold(a.grader) && a.threshold != k_default_judge_threshold)
      return invalid("a judge with the {} grader takes no threshold: its verdict is the "
                     "grader's answer",
                     to_string(a.grader));
    if (!a.categories.empty() && a.grader != Grader::factuality)
      return invalid("a judge with the {} grader takes no category scores: only factuality does",
                     to_string(a.grader));
    if (!a.categories.empty() && a.categories.size() != std::size(k_factuality_scores))
      return invalid("factuality needs the scores of its 5 categories A to E, got {}",
                     a.categories.size());
    for (double v : a.categories)
      if (!std::isfinite(v))
        return invalid("a factuality category score must be a finite number");
  }
  if (a.grader != Grader::rubric && a.type != AssertionType::judge)
    return invalid("{} takes no grader", name);
  if (is_tool_assertion(a.type))
    TRY(validate_tools(a));
  if (a.sequence != SequenceMode::in_order && a.type != AssertionType::tool_sequence)
    return invalid("{} takes no sequence mode", name);
  TRY(validate_more(a, check));
  return a;
}

// A list in the command-line form: a JSON array of strings, or values separated by commas.
std::vector<std::string> parse_values(std::string_view value) {
  auto j = json::parse(value, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_string(); }))
    return j.get<std::vector<std::string>>();
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i)
    if (i == value.size() || value[i] == ',') {
      out.emplace_back(value.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// The value of the command-line form for the types added for other tools' suites.
Status parse_more_value(Assertion& a, std::string_view value) {
  if (takes_values(a.type)) {
    a.values = parse_values(value);
  } else if (takes_schema(a.type)) {
    if (!value.empty()) {
      a.schema = json::parse(value, nullptr, false);
      if (a.schema.is_discarded())
        return invalid("{} takes a JSON Schema written as JSON, got '{}'", to_string(a.type),
                       value);
    }
  } else if (is_script(a.type)) {
    if (value.starts_with("file://"))
      return with_hint(invalid("{} takes its code inline, got '{}'", to_string(a.type), value),
                       "a case keeps the code itself: give the expression or the function body");
    a.script.language = a.type == AssertionType::python ? Language::python : Language::javascript;
    a.script.code = value;
  }
  return {};
}

std::string_view trim_spaces(std::string_view s) {
  auto first = s.find_first_not_of(' ');
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// The value of the command-line form of the assertions on tool calls: "NAME", "NAME>=N",
// "NAME={...}", "a,b,c" (or a JSON list), "exact:a,b,c".
Status parse_tool_value(Assertion& a, std::string_view value) {
  using T = AssertionType;
  auto names = [&](std::string_view list) {
    a.values = parse_values(list);
    for (auto& v : a.values)
      v = std::string(trim_spaces(v));
  };
  switch (a.type) {
  case T::tool_called: {
    auto at = value.find(">=");
    a.text = value.substr(0, at);
    a.number = 1;
    if (at != std::string_view::npos) {
      auto n = parse_number(value.substr(at + 2));
      if (!n)
        return invalid("tool-called needs NAME or NAME>=COUNT, got '{}'", value);
      a.number = *n;
    }
    return {};
  }
  case T::tool_args: {
    auto eq = value.find('=');
    if (eq == std::string_view::npos)
      return invalid("tool-args needs NAME={{JSON object}}, e.g. "
                     "tool-args:lookup_order={{\"order_id\":\"A1\"}}, got '{}'",
                     value);
    a.text = value.substr(0, eq);
    a.value = json::parse(value.substr(eq + 1), nullptr, false);
    if (!a.value.is_object())
      return invalid("tool-args needs the arguments as a JSON object after '=', got '{}'",
                     value.substr(eq + 1));
    return {};
  }
  case T::tool_sequence:
    if (value.starts_with("exact:")) {
      a.sequence = SequenceMode::exact;
      value.remove_prefix(6);
    }
    names(value);
    return {};
  case T::tool_call_f1:
    names(value);
    return {};
  default: // no-tool-call, tool-args-valid
    if (value.empty())
      return invalid("{} takes a tool name after ':', or nothing: '{}' or '{}:NAME'",
                     to_string(a.type), to_string(a.type), to_string(a.type));
    a.text = value;
    return {};
  }
}

} // namespace

std::string_view to_string(AssertionType t) {
  for (const auto& tn : k_types)
    if (tn.type == t)
      return tn.name;
  return "?";
}

std::string_view to_string(Language l) {
  return l == Language::python ? "python" : "javascript";
}

std::string_view to_string(Grader g) {
  switch (g) {
  case Grader::factuality:
    return "factuality";
  case Grader::closedqa:
    return "closedqa";
  case Grader::geval:
    return "g-eval";
  case Grader::relevance:
    return "answer-relevance";
  case Grader::rubric:
    break;
  }
  return "rubric";
}

std::optional<Grader> parse_grader(std::string_view name) {
  for (Grader g :
       {Grader::rubric, Grader::factuality, Grader::closedqa, Grader::geval, Grader::relevance})
    if (to_string(g) == name)
      return g;
  return std::nullopt;
}

bool takes_threshold(Grader g) {
  return g == Grader::rubric || g == Grader::geval || g == Grader::relevance;
}

double default_threshold(Grader g) {
  return g == Grader::relevance ? k_default_relevance_threshold : k_default_judge_threshold;
}

std::optional<AssertionType> parse_type(std::string_view name) {
  for (const auto& tn : k_types)
    if (tn.name == name)
      return tn.type;
  return std::nullopt;
}

std::string type_names() {
  std::string out;
  for (const auto& tn : k_types) {
    if (!out.empty())
      out += ", ";
    out += tn.name;
  }
  return out;
}

bool is_tool_assertion(AssertionType t) {
  switch (t) {
  case AssertionType::tool_called:
  case AssertionType::no_tool_call:
  case AssertionType::tool_args:
  case AssertionType::tool_args_valid:
  case AssertionType::tool_sequence:
  case AssertionType::tool_call_f1:
  case AssertionType::max_tool_calls:
  case AssertionType::max_steps:
    return true;
  default:
    return false;
  }
}

bool is_tool_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool json_subset(const json& subset, const json& value) {
  if (!subset.is_object())
    return subset == value;
  if (!value.is_object())
    return false;
  for (const auto& [key, wanted] : subset.items()) {
    auto it = value.find(key);
    if (it == value.end() || !json_subset(wanted, *it))
      return false;
  }
  return true;
}

bool runs_program(const Assertion& a) {
  return is_script(a.type) || a.type == AssertionType::similar || !a.transforms.empty();
}

namespace {

constexpr std::string_view k_grader_names = "rubric, factuality, closedqa, g-eval or "
                                            "answer-relevance";

// The factuality category scores of a spec, "A=1,B=0.5,C=1,D=0,E=1": all five, in order.
Result<std::vector<double>> parse_categories(std::string_view text, std::string_view spec) {
  std::vector<double> scores;
  for (char letter = 'A'; letter <= 'E'; ++letter) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    std::optional<double> v;
    if (item.size() > 2 && item[0] == letter && item[1] == '=')
      v = parse_number(item.substr(2));
    if (!v)
      return invalid("judge/factuality{{...}} needs the scores of categories A to E in order, "
                     "A=N,B=N,C=N,D=N,E=N: '{}'",
                     spec);
    scores.push_back(*v);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (letter < 'E' && comma == std::string_view::npos)
      return invalid("judge/factuality{{...}} needs the scores of all 5 categories A to E: '{}'",
                     spec);
  }
  if (!text.empty())
    return invalid("judge/factuality{{...}} has more than the 5 categories A to E: '{}'", spec);
  return scores;
}

} // namespace

Result<Assertion> parse_assertion(std::string_view spec) {
  if (!core::is_utf8(spec))
    return invalid("assertion is not valid UTF-8 text");
  auto colon = spec.find(':');
  std::string_view head = spec.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  std::optional<double> threshold;
  Grader grader = Grader::rubric;
  std::vector<double> categories;
  if (head.starts_with("judge/factuality{")) { // judge/factuality{A=1,B=0.5,C=1,D=0,E=1}:REF
    auto open = head.find('{');
    if (head.back() != '}')
      return invalid("judge/factuality{{...}} needs its category scores closed by '}}' before "
                     "the ':' of '{}'",
                     spec);
    categories = TRY(parse_categories(head.substr(open + 1, head.size() - open - 2), spec));
    head = head.substr(0, open);
  }
  if (head.starts_with("judge/")) { // judge/factuality:REFERENCE, judge/g-eval@0.8:CRITERIA
    auto rest = head.substr(6);
    auto at = rest.find('@');
    auto name = rest.substr(0, at);
    auto g = parse_grader(name);
    if (!g)
      return invalid("unknown judge grader in '{}': {}", spec, k_grader_names);
    if (at != std::string_view::npos) {
      if (!takes_threshold(*g))
        return invalid("a judge with the {} grader takes no threshold: '{}'", name, spec);
      threshold = parse_number(rest.substr(at + 1));
      if (!threshold)
        return invalid("invalid judge threshold in '{}'", spec);
    }
    grader = *g;
    head = "judge";
  }
  if (auto at = head.find('@'); at != std::string_view::npos) {
    threshold = parse_number(head.substr(at + 1));
    if (!threshold)
      return invalid("invalid {} threshold in '{}'", head.substr(0, at), spec);
    head = head.substr(0, at);
  }
  bool strict = false;
  if (head == "is-json-strict" || head == "not-is-json-strict") {
    strict = true;
    head.remove_suffix(k_strict_suffix.size());
  }
  auto type = parse_type(head);
  if (!type)
    return with_hint(invalid("unknown assertion type '{}'", head), "known types: " + type_names());
  if (threshold && *type != AssertionType::judge && *type != AssertionType::similar &&
      *type != AssertionType::tool_call_f1 && !is_script(*type))
    return invalid("{} takes no threshold: '{}'", head, spec);
  Assertion a;
  a.type = *type;
  a.strict = strict;
  bool optional_value = takes_schema(*type) || optional_tool_name(*type) ||
                        *type == AssertionType::not_is_json || grader == Grader::relevance;
  if (!optional_value && colon == std::string_view::npos)
    return invalid("assertion '{}' needs a value: {}:VALUE", spec, head);

  if (is_tool_assertion(*type) && *type != AssertionType::max_tool_calls &&
      *type != AssertionType::max_steps) {
    if (colon != std::string_view::npos)
      TRY(parse_tool_value(a, value));
    if (*type == AssertionType::tool_call_f1)
      a.threshold = threshold.value_or(k_default_tool_f1);
  } else if (takes_text(*type)) {
    a.text = value;
    if (*type == AssertionType::similar)
      a.threshold = threshold.value_or(k_default_similarity);
  } else if (*type == AssertionType::json_path) {
    auto eq = value.find('=');
    if (eq == std::string_view::npos)
      return invalid("json-path needs POINTER=VALUE, e.g. json-path:/status=\"shipped\"");
    a.path = value.substr(0, eq);
    auto expected = value.substr(eq + 1);
    // The value is JSON when it parses as JSON, and a plain string otherwise.
    a.value = json::parse(expected, nullptr, false);
    if (a.value.is_discarded())
      a.value = std::string(expected);
  } else if (*type == AssertionType::number_close) {
    auto comma = value.find(',');
    auto v = parse_number(value.substr(0, comma));
    auto tol = comma == std::string_view::npos ? std::optional<double>(0)
                                               : parse_number(value.substr(comma + 1));
    if (!v || !tol)
      return invalid("number-close needs VALUE[,TOLERANCE], got '{}'", value);
    a.number = *v;
    a.tolerance = *tol;
  } else if (*type == AssertionType::judge) {
    a.rubric = value;
    a.grader = grader;
    a.categories = std::move(categories);
    a.threshold = threshold.value_or(default_threshold(grader));
  } else if (*type == AssertionType::not_is_json) {
    if (colon != std::string_view::npos)
      return invalid("not-is-json takes no value: '{}'", spec);
  } else if (takes_values(*type) || takes_schema(*type) || is_script(*type)) {
    TRY(parse_more_value(a, value));
    if (is_script(*type))
      a.pass_score = threshold;
  } else {
    auto v = parse_number(value);
    if (!v)
      return invalid("{} needs a number, got '{}'", head, value);
    a.number = *v;
  }
  return validate(std::move(a));
}

namespace {

// The fields each type's JSON form may hold; every type but judge also takes "transform" and the
// "vars" its programs read.
std::vector<std::string_view> allowed_fields(AssertionType type) {
  std::vector<std::string_view> fields = [&]() -> std::vector<std::string_view> {
    switch (type) {
    case AssertionType::is_json:
      return {"type", "schema", "strict"};
    case AssertionType::not_is_json:
      return {"type", "strict"};
    case AssertionType::contains_json:
    case AssertionType::not_contains_json:
      return {"type", "schema"};
    case AssertionType::json_path:
      return {"type", "path", "value"};
    case AssertionType::number_close:
      return {"type", "value", "tolerance"};
    case AssertionType::judge:
      return {"type", "grader", "rubric", "threshold", "categories"};
    case AssertionType::contains_any:
    case AssertionType::icontains_any:
    case AssertionType::not_contains_all:
    case AssertionType::not_icontains_all:
      return {"type", "values"};
    case AssertionType::javascript:
    case AssertionType::python:
      return {"type", "value", "file", "function", "threshold", "config", "test"};
    case AssertionType::similar:
      return {"type", "value", "threshold", "model"};
    case AssertionType::tool_called:
      return {"type", "name", "min"};
    case AssertionType::no_tool_call:
    case AssertionType::tool_args_valid:
      return {"type", "name"};
    case AssertionType::tool_args:
      return {"type", "name", "args"};
    case AssertionType::tool_sequence:
      return {"type", "steps", "mode"};
    case AssertionType::tool_call_f1:
      return {"type", "values", "threshold"};
    default:
      return {"type", "value"};
    }
  }();
  if (type != AssertionType::judge && !is_tool_assertion(type)) {
    fields.push_back("transform");
    fields.push_back("vars");
  }
  return fields;
}

// Reads the fields of one assertion's JSON form.
class FieldReader {
public:
  FieldReader(const json& j, AssertionType type) : m_j(j), m_name(to_string(type)) {}

  Result<const json*> need(const char* key) const {
    auto it = m_j.find(key);
    if (it == m_j.end())
      return invalid("a {} assertion needs \"{}\"", m_name, key);
    return &*it;
  }
  Result<double> number(const char* key) const {
    const json* v = TRY(need(key));
    if (!v->is_number())
      return invalid("\"{}\" of a {} assertion must be a number", key, m_name);
    return v->get<double>();
  }
  Result<std::string> text(const char* key) const {
    const json* v = TRY(need(key));
    if (!v->is_string())
      return invalid("\"{}\" of a {} assertion must be a string", key, m_name);
    return v->get<std::string>();
  }
  Result<std::string> optional_text(const char* key) const {
    return m_j.contains(key) ? text(key) : std::string();
  }
  bool has(const char* key) const { return m_j.contains(key); }
  const json& at(const char* key) const { return m_j.at(key); }

private:
  const json& m_j;
  std::string_view m_name;
};

Result<Script> script_from_json(const json& j, Language language, std::string_view what) {
  if (!j.is_object())
    return invalid("{} must be an object", what);
  for (const auto& [key, _] : j.items())
    if (key != "language" && key != "value" && key != "file" && key != "function")
      return invalid("unknown field '{}' in {}", key, what);
  Script s;
  s.language = language;
  if (j.contains("language")) {
    if (j["language"] == "python")
      s.language = Language::python;
    else if (j["language"] != "javascript")
      return invalid("the language of {} is javascript or python", what);
  }
  for (auto [key, field] : {std::pair{"value", &s.code}, std::pair{"file", &s.file},
                            std::pair{"function", &s.function}}) {
    if (!j.contains(key))
      continue;
    if (!j[key].is_string())
      return invalid("\"{}\" of {} must be a string", key, what);
    *field = j[key].get<std::string>();
  }
  return s;
}

Status more_from_json(Assertion& a, const FieldReader& f) {
  if (reads_json_whole(a.type) && f.has("strict")) {
    if (!f.at("strict").is_boolean())
      return invalid("\"strict\" of a {} assertion must be true or false", to_string(a.type));
    a.strict = f.at("strict").get<bool>();
  }
  if (takes_values(a.type)) {
    const json* v = TRY(f.need("values"));
    if (!v->is_array() ||
        !std::all_of(v->begin(), v->end(), [](const json& e) { return e.is_string(); }))
      return invalid("\"values\" of a {} assertion must be a list of strings", to_string(a.type));
    a.values = v->get<std::vector<std::string>>();
  } else if (takes_schema(a.type)) {
    if (f.has("schema"))
      a.schema = f.at("schema");
  } else if (is_script(a.type)) {
    a.script.language = a.type == AssertionType::python ? Language::python : Language::javascript;
    a.script.code = TRY(f.text("value"));
    a.script.file = TRY(f.optional_text("file"));
    a.script.function = TRY(f.optional_text("function"));
    if (f.has("threshold"))
      a.pass_score = TRY(f.number("threshold"));
    if (f.has("config"))
      a.config = f.at("config");
    if (f.has("test"))
      a.test = f.at("test");
  }
  if (a.type == AssertionType::similar) {
    a.threshold = f.has("threshold") ? TRY(f.number("threshold")) : k_default_similarity;
    a.model = TRY(f.optional_text("model"));
  }
  if (f.has("vars"))
    a.vars = f.at("vars");
  if (f.has("transform")) {
    const json& list = f.at("transform");
    if (!list.is_array())
      return invalid("\"transform\" must be a list of programs");
    for (const auto& t : list)
      a.transforms.push_back(TRY(script_from_json(t, Language::javascript, "a transform")));
  }
  return {};
}

Result<std::vector<std::string>> names_from_json(const FieldReader& f, const char* key,
                                                 AssertionType type) {
  const json* v = TRY(f.need(key));
  if (!v->is_array() ||
      !std::all_of(v->begin(), v->end(), [](const json& e) { return e.is_string(); }))
    return invalid("\"{}\" of a {} assertion must be a list of tool names", key, to_string(type));
  return v->get<std::vector<std::string>>();
}

// The JSON form of the assertions on tool calls: {"name"}, {"name","min"}, {"name","args"},
// {"steps","mode"}, {"values","threshold"}, {"value"}.
Status tool_from_json(Assertion& a, const FieldReader& f) {
  using T = AssertionType;
  if (a.type == T::max_tool_calls || a.type == T::max_steps) {
    a.number = TRY(f.number("value"));
    return {};
  }
  if (a.type == T::tool_called || a.type == T::tool_args)
    a.text = TRY(f.text("name"));
  else
    a.text = TRY(f.optional_text("name"));
  if (a.type == T::tool_called)
    a.number = f.has("min") ? TRY(f.number("min")) : 1;
  if (a.type == T::tool_args)
    a.value = *TRY(f.need("args"));
  if (a.type == T::tool_sequence) {
    a.values = TRY(names_from_json(f, "steps", a.type));
    auto mode = TRY(f.optional_text("mode"));
    if (mode == "exact")
      a.sequence = SequenceMode::exact;
    else if (!mode.empty() && mode != "in_order")
      return invalid("\"mode\" of a tool-sequence assertion is \"in_order\" or \"exact\", got "
                     "'{}'",
                     mode);
  }
  if (a.type == T::tool_call_f1) {
    a.values = TRY(names_from_json(f, "values", a.type));
    a.threshold = f.has("threshold") ? TRY(f.number("threshold")) : k_default_tool_f1;
  }
  return {};
}

Status basic_from_json(Assertion& a, const FieldReader& f) {
  if (is_tool_assertion(a.type)) {
    TRY(tool_from_json(a, f));
  } else if (takes_text(a.type)) {
    a.text = TRY(f.text("value"));
  } else if (a.type == AssertionType::json_path) {
    a.path = TRY(f.text("path"));
    a.value = *TRY(f.need("value"));
  } else if (a.type == AssertionType::judge) {
    if (f.has("grader")) {
      auto name = TRY(f.text("grader"));
      auto g = parse_grader(name);
      if (!g)
        return invalid("unknown grader '{}' of a judge assertion: {}", name, k_grader_names);
      a.grader = *g;
    }
    a.rubric =
        a.grader == Grader::relevance ? TRY(f.optional_text("rubric")) : TRY(f.text("rubric"));
    if (f.has("threshold") && !takes_threshold(a.grader))
      return invalid("a judge with the {} grader takes no threshold: its verdict is the "
                     "grader's answer",
                     to_string(a.grader));
    a.threshold = f.has("threshold") ? TRY(f.number("threshold")) : default_threshold(a.grader);
    if (f.has("categories")) {
      const auto& c = f.at("categories");
      if (!c.is_array() || !std::ranges::all_of(c, [](const json& v) { return v.is_number(); }))
        return invalid("\"categories\" of a judge assertion must be a list of 5 numbers, the "
                       "scores of the factuality categories A to E");
      for (const auto& v : c)
        a.categories.push_back(v.get<double>());
    }
  } else if (!takes_schema(a.type) && !takes_values(a.type) && !is_script(a.type) &&
             a.type != AssertionType::not_is_json) {
    a.number = TRY(f.number("value"));
    if (a.type == AssertionType::number_close && f.has("tolerance"))
      a.tolerance = TRY(f.number("tolerance"));
  }
  return {};
}

json script_json(const Script& s, bool with_language) {
  json j = json::object();
  if (with_language)
    j["language"] = to_string(s.language);
  j["value"] = s.code;
  if (!s.file.empty())
    j["file"] = s.file;
  if (!s.function.empty())
    j["function"] = s.function;
  return j;
}

void more_to_json(const Assertion& a, nlohmann::ordered_json& j) {
  if (takes_values(a.type))
    j["values"] = a.values;
  if (takes_schema(a.type) && !a.schema.is_null())
    j["schema"] = a.schema;
  if (a.strict)
    j["strict"] = true;
  if (is_script(a.type)) {
    j["value"] = a.script.code;
    if (!a.script.file.empty())
      j["file"] = a.script.file;
    if (!a.script.function.empty())
      j["function"] = a.script.function;
    if (a.pass_score)
      j["threshold"] = *a.pass_score;
    if (!a.config.is_null())
      j["config"] = a.config;
    if (!a.test.is_null())
      j["test"] = a.test;
  }
  if (a.type == AssertionType::similar) {
    j["threshold"] = a.threshold;
    if (!a.model.empty())
      j["model"] = a.model;
  }
  if (!a.vars.is_null())
    j["vars"] = a.vars;
  if (!a.transforms.empty()) {
    json list = json::array();
    for (const auto& t : a.transforms)
      list.push_back(script_json(t, true));
    j["transform"] = std::move(list);
  }
}

} // namespace

Result<Assertion> from_json(const json& j, Check check) {
  if (!j.is_object())
    return invalid(
        "an assertion must be an object like {{\"type\":\"contains\",\"value\":\"...\"}}");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string())
    return invalid("an assertion needs a \"type\" string");
  auto type = parse_type(t->get_ref<const std::string&>());
  if (!type)
    return with_hint(invalid("unknown assertion type '{}'", t->get<std::string>()),
                     "known types: " + type_names());
  Assertion a;
  a.type = *type;
  auto allowed = allowed_fields(*type);
  for (const auto& [key, _] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return invalid("unknown field '{}' in a {} assertion", key, to_string(*type));
  FieldReader f(j, *type);
  TRY(basic_from_json(a, f));
  TRY(more_from_json(a, f));
  return validate(std::move(a), check);
}

namespace {

// The JSON form of an assertion on tool calls, after its "type".
void tool_to_json(const Assertion& a, nlohmann::ordered_json& j) {
  using T = AssertionType;
  if (a.type == T::max_tool_calls || a.type == T::max_steps) {
    j["value"] = static_cast<std::int64_t>(a.number);
    return;
  }
  if (!a.text.empty())
    j["name"] = a.text;
  if (a.type == T::tool_called)
    j["min"] = static_cast<std::int64_t>(a.number);
  if (a.type == T::tool_args)
    j["args"] = a.value;
  if (a.type == T::tool_sequence) {
    j["steps"] = a.values;
    j["mode"] = a.sequence == SequenceMode::exact ? "exact" : "in_order";
  }
  if (a.type == T::tool_call_f1) {
    j["values"] = a.values;
    j["threshold"] = a.threshold;
  }
}

std::string tool_spec(const Assertion& a) {
  using T = AssertionType;
  auto name = to_string(a.type);
  auto list = [](const std::vector<std::string>& v) {
    return fmt::format("{}", fmt::join(v, ","));
  };
  switch (a.type) {
  case T::tool_called:
    return a.number == 1 ? fmt::format("tool-called:{}", a.text)
                         : fmt::format("tool-called:{}>={}", a.text, a.number);
  case T::tool_args:
    return fmt::format("tool-args:{}={}", a.text, a.value.dump());
  case T::tool_sequence:
    return fmt::format("tool-sequence:{}{}", a.sequence == SequenceMode::exact ? "exact:" : "",
                       list(a.values));
  case T::tool_call_f1:
    return fmt::format("tool-call-f1@{}:{}", a.threshold, list(a.values));
  case T::max_tool_calls:
    return fmt::format("max-tool-calls:{}", a.number);
  case T::max_steps:
    return fmt::format("max-steps:{}", a.number);
  default: // no-tool-call, tool-args-valid
    return a.text.empty() ? std::string(name) : fmt::format("{}:{}", name, a.text);
  }
}

} // namespace

nlohmann::ordered_json to_json(const Assertion& a) {
  nlohmann::ordered_json j;
  j["type"] = to_string(a.type);
  if (is_tool_assertion(a.type)) {
    tool_to_json(a, j);
    return j;
  }
  if (takes_text(a.type)) {
    j["value"] = a.text;
  } else if (a.type == AssertionType::json_path) {
    j["path"] = a.path;
    j["value"] = a.value;
  } else if (a.type == AssertionType::judge) {
    if (a.grader != Grader::rubric)
      j["grader"] = to_string(a.grader);
    j["rubric"] = a.rubric;
    if (takes_threshold(a.grader))
      j["threshold"] = a.threshold;
    if (!a.categories.empty())
      j["categories"] = a.categories;
  } else if (takes_count(a.type)) {
    j["value"] = static_cast<std::int64_t>(a.number);
  } else if (!takes_schema(a.type) && !takes_values(a.type) && !is_script(a.type) &&
             a.type != AssertionType::not_is_json) {
    j["value"] = a.number;
    if (a.type == AssertionType::number_close)
      j["tolerance"] = a.tolerance;
  }
  more_to_json(a, j);
  return j;
}

std::string to_spec(const Assertion& a) {
  auto name = to_string(a.type);
  std::string spec;
  if (is_tool_assertion(a.type))
    return tool_spec(a);
  if (a.type == AssertionType::similar)
    spec = fmt::format("similar@{}:{}", a.threshold, a.text);
  else if (takes_text(a.type))
    spec = fmt::format("{}:{}", name, a.text);
  else if (takes_values(a.type))
    spec = fmt::format("{}:{}", name, json(a.values).dump());
  else if (reads_json_whole(a.type) && a.strict)
    spec = fmt::format("{}{}{}", name, k_strict_suffix,
                       a.schema.is_null() ? std::string() : ":" + a.schema.dump());
  else if (takes_schema(a.type) || a.type == AssertionType::not_is_json)
    spec = a.schema.is_null() ? std::string(name) : fmt::format("{}:{}", name, a.schema.dump());
  else if (is_script(a.type))
    spec = fmt::format(
        "{}{}:{}", name, a.pass_score ? fmt::format("@{}", *a.pass_score) : "",
        a.script.file.empty()
            ? a.script.code
            : "file://" + a.script.file +
                  (a.script.function.empty() ? std::string() : ":" + a.script.function));
  else if (a.type == AssertionType::json_path)
    spec = fmt::format("json-path:{}={}", a.path, a.value.dump());
  else if (a.type == AssertionType::number_close)
    spec = fmt::format("number-close:{},{}", a.number, a.tolerance);
  else if (a.type == AssertionType::judge)
    spec = a.grader == Grader::rubric ? fmt::format("judge@{}:{}", a.threshold, a.rubric)
           : a.rubric.empty() // answer-relevance with the case's input
               ? fmt::format("judge/{}@{}", to_string(a.grader), a.threshold)
               : takes_threshold(a.grader)
                     ? fmt::format("judge/{}@{}:{}", to_string(a.grader), a.threshold, a.rubric)
                 : a.categories.empty()
                     ? fmt::format("judge/{}:{}", to_string(a.grader), a.rubric)
                     : fmt::format("judge/{}{{A={},B={},C={},D={},E={}}}:{}", to_string(a.grader),
                                   a.categories[0], a.categories[1], a.categories[2],
                                   a.categories[3], a.categories[4], a.rubric);
  else
    spec = fmt::format("{}:{}", name, a.number);
  // The code of each transform is shown: a reviewer must see it change.
  for (const auto& t : a.transforms)
    spec += fmt::format(" (after the {} transform {})", to_string(t.language),
                        t.file.empty() ? t.code : "file://" + t.file);
  return spec;
}

} // namespace evalkeep::scoring
