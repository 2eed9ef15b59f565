#include "interop/promptfoo_assert.hpp"

#include "interop/reading.hpp"
#include "interop/template.hpp"

#include <array>
#include <cmath>

namespace evalkeep::interop {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using scoring::Assertion;
using scoring::AssertionType;

namespace {

// promptfoo's own assertion types (0.123), which its CSV shorthand recognises.
constexpr std::array<std::string_view, 67> k_promptfoo_types{"agent-rubric",
                                                             "answer-relevance",
                                                             "bleu",
                                                             "classifier",
                                                             "contains",
                                                             "contains-all",
                                                             "contains-any",
                                                             "contains-html",
                                                             "contains-json",
                                                             "contains-sql",
                                                             "contains-xml",
                                                             "context-faithfulness",
                                                             "context-recall",
                                                             "context-relevance",
                                                             "conversation-relevance",
                                                             "cost",
                                                             "equals",
                                                             "factuality",
                                                             "finish-reason",
                                                             "g-eval",
                                                             "gleu",
                                                             "guardrails",
                                                             "icontains",
                                                             "icontains-all",
                                                             "icontains-any",
                                                             "is-html",
                                                             "is-json",
                                                             "is-refusal",
                                                             "is-sql",
                                                             "is-valid-function-call",
                                                             "is-valid-openai-function-call",
                                                             "is-valid-openai-tools-call",
                                                             "is-xml",
                                                             "javascript",
                                                             "latency",
                                                             "levenshtein",
                                                             "llm-rubric",
                                                             "pi",
                                                             "meteor",
                                                             "model-graded-closedqa",
                                                             "model-graded-factuality",
                                                             "moderation",
                                                             "perplexity",
                                                             "perplexity-score",
                                                             "python",
                                                             "regex",
                                                             "rouge-n",
                                                             "ruby",
                                                             "similar",
                                                             "similar:cosine",
                                                             "similar:dot",
                                                             "similar:euclidean",
                                                             "starts-with",
                                                             "tool-call-f1",
                                                             "skill-used",
                                                             "trajectory:goal-success",
                                                             "trajectory:tool-args-match",
                                                             "trajectory:step-count",
                                                             "trajectory:tool-sequence",
                                                             "trajectory:tool-used",
                                                             "trace-error-spans",
                                                             "trace-span-count",
                                                             "trace-span-duration",
                                                             "search-rubric",
                                                             "webhook",
                                                             "word-count",
                                                             "select-best"};

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The values of a list assertion: a list, or a comma-separated string as promptfoo's CSV
// shorthand gives.
Result<std::vector<std::string>> list_values(const json& v, std::string_view type) {
  std::vector<std::string> out;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
      if (i == s.size() || s[i] == ',') {
        out.emplace_back(trim(std::string_view(s).substr(start, i - start)));
        start = i + 1;
      }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string() && !e.is_number())
        return invalid("{} needs a list of text values", type);
      out.push_back(js_string(e));
    }
  } else {
    return invalid("{} needs a list of values", type);
  }
  if (out.empty())
    return invalid("{} needs at least one value", type);
  return out;
}

Result<std::string> text_value(const json& v, std::string_view type) {
  if (v.is_string() || v.is_number() || v.is_boolean())
    return js_string(v);
  if (v.is_null())
    return invalid("{} needs a value", type);
  return invalid("{} with a JSON value (compared as JSON) has no exact counterpart", type);
}

// The pattern of a case-insensitive regex as evalkeep's export writes it (JavaScript's RegExp
// has no inline (?i), so it becomes a flag of the constructor), or nothing for other code.
std::optional<std::string> icase_regex(const json& value) {
  constexpr std::string_view head = "new RegExp(", tail = ", 'i').test(output)";
  if (!value.is_string())
    return std::nullopt;
  std::string_view code = value.get_ref<const std::string&>();
  if (!code.starts_with(head) || !code.ends_with(tail))
    return std::nullopt;
  auto pattern = json::parse(code.substr(head.size(), code.size() - head.size() - tail.size()),
                             nullptr, false);
  if (!pattern.is_string())
    return std::nullopt;
  return pattern.get<std::string>();
}

} // namespace

Result<std::vector<Assertion>> from_promptfoo(const json& a) {
  if (!a.is_object() || !a.contains("type") || !a["type"].is_string())
    return invalid("an assertion must be a mapping with a \"type\"");
  const std::string type = a["type"].get<std::string>();
  for (const auto& [key, _] : a.items()) {
    if (key == "type" || key == "value" || key == "threshold" || key == "weight" ||
        key == "metric" || key == "provider")
      continue;
    return invalid("\"{}\" of an assertion changes what is checked; evalkeep checks the "
                   "answer as it is",
                   key);
  }
  const json value = a.value("value", json());
  if (value.is_string() && value.get<std::string>().starts_with("file://"))
    return invalid("a value read from a file ({}) is not imported", value.get<std::string>());
  std::optional<double> threshold;
  if (a.contains("threshold")) {
    if (!a["threshold"].is_number())
      return invalid("\"threshold\" must be a number");
    threshold = a["threshold"].get<double>();
  }

  std::vector<json> out;
  auto text_assertion = [&](std::string_view evalkeep_type) -> Status {
    auto t = text_value(value, type);
    if (!t)
      return std::unexpected(t.error());
    out.push_back({{"type", evalkeep_type}, {"value", *t}});
    return {};
  };
  Status s;
  if (type == "equals" || type == "contains" || type == "icontains" || type == "not-contains" ||
      type == "starts-with" || type == "regex") {
    s = text_assertion(type);
  } else if (type == "contains-all" || type == "icontains-all") {
    auto values = list_values(value, type);
    if (!values)
      return std::unexpected(values.error());
    for (const auto& v : *values)
      out.push_back({{"type", type == "contains-all" ? "contains" : "icontains"}, {"value", v}});
  } else if (type == "contains-any" || type == "icontains-any") {
    auto values = list_values(value, type);
    if (!values)
      return std::unexpected(values.error());
    std::string pattern = type == "icontains-any" ? "(?i)(?:" : "(?:";
    for (std::size_t i = 0; i < values->size(); ++i)
      pattern += (i ? "|" : "") + quote_regex((*values)[i]);
    out.push_back({{"type", "regex"}, {"value", pattern + ")"}});
  } else if (type == "is-json") {
    if (!value.is_null())
      return invalid("is-json with a JSON schema has no counterpart (evalkeep's is-json checks "
                     "only that the answer is JSON)");
    out.push_back({{"type", "is-json"}});
  } else if (type == "latency" || type == "cost") {
    if (!threshold)
      return invalid("{} needs a threshold", type);
    if (type == "latency" && *threshold != std::floor(*threshold))
      return invalid("latency needs a whole number of milliseconds, got {}", *threshold);
    out.push_back({{"type", type == "latency" ? "max-latency-ms" : "max-cost"},
                   {"value", type == "latency" ? json(static_cast<std::int64_t>(*threshold))
                                               : json(*threshold)}});
  } else if (type == "llm-rubric") {
    auto rubric = text_value(value, type);
    if (!rubric)
      return std::unexpected(rubric.error());
    json j{{"type", "judge"}, {"rubric", *rubric}};
    if (threshold)
      j["threshold"] = *threshold;
    out.push_back(std::move(j));
  } else if (auto pattern = type == "javascript" ? icase_regex(value) : std::nullopt) {
    out.push_back({{"type", "regex"}, {"value", "(?i)" + *pattern}});
  } else {
    return invalid("evalkeep has no assertion like promptfoo's \"{}\"", type);
  }
  if (!s)
    return std::unexpected(s.error());
  std::vector<Assertion> assertions;
  for (const auto& j : out) {
    auto parsed = scoring::from_json(j);
    if (!parsed)
      return std::unexpected(parsed.error());
    assertions.push_back(std::move(*parsed));
  }
  return assertions;
}

std::optional<ojson> to_promptfoo(const Assertion& a) {
  ojson j;
  auto literal = [](std::string_view text) -> std::optional<std::string> {
    auto t = literal_template(text);
    if (t.empty() && !text.empty())
      return std::nullopt;
    return t;
  };
  switch (a.type) {
  case AssertionType::equals:
  case AssertionType::contains:
  case AssertionType::icontains:
  case AssertionType::not_contains:
  case AssertionType::starts_with:
  case AssertionType::regex: {
    // JavaScript's RegExp has no inline (?i): a flag of the constructor instead.
    if (a.type == AssertionType::regex && a.text.starts_with("(?i)")) {
      auto v =
          literal(fmt::format("new RegExp({}, 'i').test(output)", json(a.text.substr(4)).dump()));
      if (!v)
        return std::nullopt;
      j["type"] = "javascript";
      j["value"] = *v;
      return j;
    }
    auto v = literal(a.text);
    if (!v)
      return std::nullopt;
    j["type"] = scoring::to_string(a.type);
    j["value"] = *v;
    return j;
  }
  case AssertionType::is_json:
    j["type"] = "is-json";
    return j;
  case AssertionType::max_latency_ms:
    j["type"] = "latency";
    j["threshold"] = static_cast<std::int64_t>(a.number);
    return j;
  case AssertionType::max_cost:
    j["type"] = "cost";
    j["threshold"] = a.number;
    return j;
  case AssertionType::judge: {
    auto v = literal(a.rubric);
    if (!v)
      return std::nullopt;
    j["type"] = "llm-rubric";
    j["value"] = *v;
    j["threshold"] = a.threshold;
    return j;
  }
  default:
    return std::nullopt;
  }
}

json assertion_from_cell(std::string_view cell) {
  cell = trim(cell);
  auto rest_after = [&](std::string_view prefix) {
    return std::string(cell.substr(prefix.size()));
  };
  for (std::string_view p : {"javascript:", "fn:", "eval:"})
    if (cell.starts_with(p))
      return {{"type", "javascript"}, {"value", std::string(trim(rest_after(p)))}};
  for (std::string_view p : {"grade:", "llm-rubric:"})
    if (cell.starts_with(p))
      return {{"type", "llm-rubric"}, {"value", std::string(trim(rest_after(p)))}};
  if (cell.starts_with("python:") ||
      (cell.starts_with("file://") && (cell.ends_with(".py") || cell.find(".py:") != cell.npos)))
    return {{"type", "python"}, {"value", std::string(trim(rest_after("python:")))}};
  if (cell.starts_with("file://") &&
      (cell.ends_with(".js") || cell.ends_with(".ts") || cell.find(".js:") != cell.npos))
    return {{"type", "javascript"}, {"value", std::string(cell.substr(7))}};

  // [not-]TYPE[(THRESHOLD)][:VALUE], with the longest type that fits.
  std::string_view body = cell;
  bool negated = body.starts_with("not-");
  if (negated)
    body.remove_prefix(4);
  std::string_view type;
  std::string_view rest;
  for (auto t : k_promptfoo_types) {
    if (!body.starts_with(t) || t.size() <= type.size())
      continue;
    std::string_view r = body.substr(t.size());
    if (r.empty() || r.front() == ':' || r.front() == '(') {
      type = t;
      rest = r;
    }
  }
  if (type.empty())
    return {{"type", "equals"}, {"value", std::string(cell)}};
  json out{{"type", (negated ? "not-" : "") + std::string(type)}};
  std::optional<double> threshold;
  if (rest.starts_with("(")) {
    auto close = rest.find(')');
    if (close == std::string_view::npos)
      return {{"type", "equals"}, {"value", std::string(cell)}};
    std::string number(rest.substr(1, close - 1));
    char* end = nullptr;
    double d = std::strtod(number.c_str(), &end);
    if (end && *end == '\0' && !number.empty())
      threshold = d;
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return {{"type", "equals"}, {"value", std::string(cell)}};
  }
  std::optional<std::string> value;
  if (rest.starts_with(":"))
    value = std::string(rest.substr(1));
  bool list = type == "contains-all" || type == "contains-any" || type == "icontains-all" ||
              type == "icontains-any";
  bool raw = type == "contains-json" || type == "is-json";
  if (value && list) {
    // Comma-separated; a value in double quotes may hold commas ("" or \" for a quote).
    json items = json::array();
    std::string item;
    bool quoted = false, was_quoted = false;
    for (std::size_t i = 0; i <= value->size(); ++i) {
      char c = i < value->size() ? (*value)[i] : ',';
      if (quoted && (c == '\\' || c == '"') && i + 1 < value->size() && (*value)[i + 1] == '"') {
        item += '"';
        ++i;
      } else if (c == '"' && (quoted || trim(item).empty())) {
        quoted = !quoted;
        was_quoted = true;
        if (quoted)
          item.clear();
      } else if (c == ',' && !quoted) {
        std::string v = was_quoted ? item : std::string(trim(item));
        if (!v.empty() || was_quoted)
          items.push_back(v);
        item.clear();
        was_quoted = false;
      } else if (!(was_quoted && !quoted)) {
        item += c;
      }
    }
    out["value"] = std::move(items);
  } else if (value) {
    out["value"] = raw ? *value : std::string(trim(*value));
  }
  bool thresholded = type == "answer-relevance" || type == "classifier" ||
                     type == "context-faithfulness" || type == "context-recall" ||
                     type == "context-relevance" || type == "cost" || type == "latency" ||
                     type == "levenshtein" || type == "perplexity-score" || type == "perplexity" ||
                     type == "rouge-n" || type == "similar" || type == "starts-with";
  if (thresholded)
    out["threshold"] = threshold.value_or(type == "similar" ? 0.8 : 0.75);
  return out;
}

} // namespace evalkeep::interop
