#include "scoring/assertion.hpp"

#include "core/json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include <re2/re2.h>

namespace evalkeep::scoring {

namespace {

struct TypeName {
  AssertionType type;
  std::string_view name;
};

constexpr std::array<TypeName, 14> k_types{{
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
}};

bool takes_text(AssertionType t) {
  switch (t) {
  case AssertionType::equals:
  case AssertionType::contains:
  case AssertionType::icontains:
  case AssertionType::not_contains:
  case AssertionType::starts_with:
  case AssertionType::regex:
    return true;
  default:
    return false;
  }
}

bool takes_count(AssertionType t) {
  return t == AssertionType::min_length || t == AssertionType::max_length ||
         t == AssertionType::max_latency_ms;
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

// The rules every assertion obeys, whichever form it was written in.
Result<Assertion> validate(Assertion a, Check check = Check::full) {
  auto name = to_string(a.type);
  if (takes_text(a.type) && a.text.empty())
    return invalid("{} needs a non-empty value", name);
  if (a.type == AssertionType::regex && check == Check::full) {
    // Suites repeat patterns across many cases: compile each distinct one once per process.
    static std::unordered_set<std::string> valid;
    if (!valid.contains(a.text)) {
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(a.text, options);
      if (!re.ok())
        return invalid("invalid regex '{}': {}", a.text, re.error());
      valid.insert(a.text);
    }
  }
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
      (void)nlohmann::json::json_pointer(a.path);
    } catch (const nlohmann::json::exception& e) {
      return invalid("json-path has an invalid JSON pointer '{}'", a.path);
    }
  }
  if (a.type == AssertionType::judge) {
    if (a.rubric.empty())
      return invalid("judge needs a rubric");
    if (!(a.threshold >= 0 && a.threshold <= 1))
      return invalid("judge threshold must be between 0 and 1, got {}", a.threshold);
  }
  return a;
}

} // namespace

std::string_view to_string(AssertionType t) {
  for (const auto& tn : k_types)
    if (tn.type == t)
      return tn.name;
  return "?";
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

Result<Assertion> parse_assertion(std::string_view spec) {
  if (!core::is_utf8(spec))
    return invalid("assertion is not valid UTF-8 text");
  auto colon = spec.find(':');
  std::string_view head = spec.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  std::optional<double> threshold;
  if (auto at = head.find('@'); at != std::string_view::npos && head.substr(0, at) == "judge") {
    threshold = parse_number(head.substr(at + 1));
    if (!threshold)
      return invalid("invalid judge threshold in '{}'", spec);
    head = head.substr(0, at);
  }
  auto type = parse_type(head);
  if (!type)
    return with_hint(invalid("unknown assertion type '{}'", head), "known types: " + type_names());
  Assertion a;
  a.type = *type;
  bool needs_value = *type != AssertionType::is_json;
  if (needs_value && colon == std::string_view::npos)
    return invalid("assertion '{}' needs a value: {}:VALUE", spec, head);
  if (!needs_value && !value.empty())
    return invalid("is-json takes no value, got '{}'", spec);

  if (takes_text(*type)) {
    a.text = value;
  } else if (*type == AssertionType::json_path) {
    auto eq = value.find('=');
    if (eq == std::string_view::npos)
      return invalid("json-path needs POINTER=VALUE, e.g. json-path:/status=\"shipped\"");
    a.path = value.substr(0, eq);
    auto expected = value.substr(eq + 1);
    // The value is JSON when it parses as JSON, and a plain string otherwise.
    a.value = nlohmann::json::parse(expected, nullptr, false);
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
    if (threshold)
      a.threshold = *threshold;
  } else if (*type != AssertionType::is_json) {
    auto v = parse_number(value);
    if (!v)
      return invalid("{} needs a number, got '{}'", head, value);
    a.number = *v;
  }
  return validate(std::move(a));
}

Result<Assertion> from_json(const nlohmann::json& j, Check check) {
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
  auto allowed = [&]() -> std::vector<std::string_view> {
    switch (*type) {
    case AssertionType::is_json:
      return {"type"};
    case AssertionType::json_path:
      return {"type", "path", "value"};
    case AssertionType::number_close:
      return {"type", "value", "tolerance"};
    case AssertionType::judge:
      return {"type", "rubric", "threshold"};
    default:
      return {"type", "value"};
    }
  }();
  for (const auto& [key, _] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return invalid("unknown field '{}' in a {} assertion", key, to_string(*type));
  auto need = [&](const char* key) -> Result<const nlohmann::json*> {
    auto it = j.find(key);
    if (it == j.end())
      return invalid("a {} assertion needs \"{}\"", to_string(*type), key);
    return &*it;
  };
  auto need_number = [&](const char* key) -> Result<double> {
    auto v = need(key);
    if (!v)
      return std::unexpected(v.error());
    if (!(*v)->is_number())
      return invalid("\"{}\" of a {} assertion must be a number", key, to_string(*type));
    return (*v)->get<double>();
  };

  if (takes_text(*type)) {
    auto v = need("value");
    if (!v)
      return std::unexpected(v.error());
    if (!(*v)->is_string())
      return invalid("\"value\" of a {} assertion must be a string", to_string(*type));
    a.text = (*v)->get<std::string>();
  } else if (*type == AssertionType::json_path) {
    auto p = need("path");
    if (!p)
      return std::unexpected(p.error());
    if (!(*p)->is_string())
      return invalid("\"path\" of a json-path assertion must be a string");
    a.path = (*p)->get<std::string>();
    auto v = need("value");
    if (!v)
      return std::unexpected(v.error());
    a.value = **v;
  } else if (*type == AssertionType::judge) {
    auto r = need("rubric");
    if (!r)
      return std::unexpected(r.error());
    if (!(*r)->is_string())
      return invalid("\"rubric\" of a judge assertion must be a string");
    a.rubric = (*r)->get<std::string>();
    if (j.contains("threshold")) {
      auto th = need_number("threshold");
      if (!th)
        return std::unexpected(th.error());
      a.threshold = *th;
    }
  } else if (*type != AssertionType::is_json) {
    auto v = need_number("value");
    if (!v)
      return std::unexpected(v.error());
    a.number = *v;
    if (*type == AssertionType::number_close && j.contains("tolerance")) {
      auto tol = need_number("tolerance");
      if (!tol)
        return std::unexpected(tol.error());
      a.tolerance = *tol;
    }
  }
  return validate(std::move(a), check);
}

nlohmann::ordered_json to_json(const Assertion& a) {
  nlohmann::ordered_json j;
  j["type"] = to_string(a.type);
  if (takes_text(a.type)) {
    j["value"] = a.text;
  } else if (a.type == AssertionType::json_path) {
    j["path"] = a.path;
    j["value"] = a.value;
  } else if (a.type == AssertionType::judge) {
    j["rubric"] = a.rubric;
    j["threshold"] = a.threshold;
  } else if (takes_count(a.type)) {
    j["value"] = static_cast<std::int64_t>(a.number);
  } else if (a.type != AssertionType::is_json) {
    j["value"] = a.number;
    if (a.type == AssertionType::number_close)
      j["tolerance"] = a.tolerance;
  }
  return j;
}

std::string to_spec(const Assertion& a) {
  auto name = to_string(a.type);
  if (takes_text(a.type))
    return fmt::format("{}:{}", name, a.text);
  switch (a.type) {
  case AssertionType::is_json:
    return std::string(name);
  case AssertionType::json_path:
    return fmt::format("json-path:{}={}", a.path, a.value.dump());
  case AssertionType::number_close:
    return fmt::format("number-close:{},{}", a.number, a.tolerance);
  case AssertionType::judge:
    return fmt::format("judge@{}:{}", a.threshold, a.rubric);
  default:
    return fmt::format("{}:{}", name, a.number);
  }
}

} // namespace evalkeep::scoring
