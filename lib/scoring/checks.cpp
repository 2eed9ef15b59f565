// The assertion types added to run other tools' suites as they ran there: the negated and list
// string checks, JSON against a schema, scripts, transforms and similar (promptfoo's semantics).

#include "scoring/checks.hpp"

#include "core/text.hpp"
#include "scoring/evaluate.hpp"
#include "scoring/schema.hpp"

#include <algorithm>
#include <cmath>

#include <re2/re2.h>

namespace evalkeep::scoring {

namespace {

using json = nlohmann::json;
using T = AssertionType;

std::string quote(std::string_view s, std::size_t max = 60) {
  std::string out(s.substr(0, max));
  if (s.size() > max)
    out += "…";
  return "'" + out + "'";
}

Outcome pass(std::string reason) {
  return {true, std::move(reason), std::nullopt};
}
Outcome fail(std::string reason) {
  return {false, std::move(reason), std::nullopt};
}

// The same check without its programs, evaluated by evaluate.cpp.
Outcome base_check(const Assertion& a, const Answer& answer, T type) {
  Assertion plain = a;
  plain.type = type;
  plain.transforms.clear();
  plain.vars = json();
  return evaluate(plain, answer);
}

// The base check's reason describes the answer either way ("contains 'x'", "does not contain
// 'x'"): only the verdict flips.
Outcome negated(Outcome o) {
  o.passed = !o.passed;
  return o;
}

// contains-any, icontains-any, not-contains-all, not-icontains-all.
Outcome list_check(const Assertion& a, const std::string& text) {
  bool fold = a.type == T::icontains_any || a.type == T::not_icontains_all;
  std::string hay = fold ? core::ascii_lower(text) : text;
  std::vector<std::string> found, missing;
  for (const auto& v : a.values)
    (hay.find(fold ? core::ascii_lower(v) : v) != std::string::npos ? found : missing).push_back(v);
  std::string how = fold ? " (ignoring case)" : "";
  if (a.type == T::contains_any || a.type == T::icontains_any)
    return found.empty() ? fail("contains none of " + json(a.values).dump() + how)
                         : pass("contains " + quote(found.front()) + how);
  return missing.empty() ? fail("contains every one of " + json(a.values).dump() + how)
                         : pass("does not contain " + quote(missing.front()) + how);
}

// The end of the balanced {...} that starts at `from`, strings and escapes respected; npos when
// it does not close, or when `budget` (characters left to scan) runs out first.
std::size_t object_end(std::string_view s, std::size_t from, std::size_t& budget) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (budget == 0)
      return std::string_view::npos;
    --budget;
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The JSON objects found in a text, as promptfoo's contains-json finds them: from each '{', the
// balanced object that starts there, when it parses. Nested braces that never parse would make
// that quadratic: the search scans at most 16 times the text (and 1 MiB), then stops.
struct FoundObjects {
  std::vector<json> objects;
  bool stopped = false; // the scan budget ran out
};

FoundObjects json_objects(std::string_view s) {
  FoundObjects out;
  std::size_t budget = 16 * s.size() + (std::size_t{1} << 20);
  for (std::size_t i = s.find('{'); i != std::string_view::npos; i = s.find('{', i + 1)) {
    auto end = object_end(s, i, budget);
    if (end == std::string_view::npos) {
      out.stopped = budget == 0;
      break;
    }
    budget -= std::min(budget, end - i); // parsing it reads it once more
    auto j = json::parse(s.substr(i, end - i), nullptr, false);
    if (j.is_object()) {
      out.objects.push_back(std::move(j));
      i = end - 1;
    }
  }
  return out;
}

Outcome schema_check(const Assertion& a, const std::vector<json>& candidates,
                     std::string_view none) {
  if (candidates.empty())
    return fail(std::string(none));
  if (a.schema.is_null())
    return pass(a.type == T::is_json ? "is valid JSON" : "contains JSON");
  std::string errors;
  for (const auto& c : candidates) {
    auto v = validate_json(a.schema, c);
    if (!v)
      return fail(v.error().message);
    if (v->valid)
      return pass("is JSON that conforms to the schema");
    errors = v->errors;
  }
  return fail("JSON does not conform to the schema: " + errors);
}

Outcome json_check(const Assertion& a, const std::string& text) {
  if (a.type == T::contains_json) {
    auto found = json_objects(text);
    return schema_check(a, found.objects,
                        found.stopped ? "contains no JSON object (the search stopped at its limit "
                                        "of work)"
                                      : "contains no JSON object");
  }
  auto j = json::parse(a.strict ? std::string_view(text) : strip_fence(text), nullptr, false);
  std::vector<json> whole;
  if (!j.is_discarded())
    whole.push_back(std::move(j));
  return schema_check(a, whole, "is not valid JSON");
}

// promptfoo's not-contains-json: contains-json's verdict turned over, where contains-json gave
// one. A schema that does not compile and a search stopped at its limit fail either way.
Outcome no_json_check(const Assertion& a, const std::string& text) {
  if (!a.schema.is_null())
    if (auto v = validate_json(a.schema, json()); !v)
      return fail(v.error().message);
  auto found = json_objects(text);
  if (found.stopped)
    return fail("the search for JSON objects stopped at its limit of work");
  if (found.objects.empty())
    return pass("contains no JSON object");
  if (a.schema.is_null())
    return fail("contains JSON");
  for (const auto& o : found.objects)
    if (auto v = validate_json(a.schema, o); v && v->valid)
      return fail("contains JSON that conforms to the schema");
  return pass("contains no JSON that conforms to the schema");
}

Outcome script_check(const Assertion& a, const json& output, const EvaluationContext& ctx) {
  auto r = run_script(a.script, output, {ctx.question, a.vars, a.config, a.test}, ctx.limits);
  if (!r)
    return fail(r.error().message);
  auto v = read_script_result(a.script.language, *r, a.pass_score);
  if (!v)
    return fail(v.error().message);
  return {v->passed, v->reason, v->score};
}

Outcome similar_check(const Assertion& a, const std::string& text, const EvaluationContext& ctx) {
  if (!ctx.embed)
    return fail("similar needs embeddings: no embeddings provider was given to this run");
  std::string model = a.model.empty() ? std::string(k_default_embedding_model) : a.model;
  auto expected = ctx.embed(a.text, model);
  if (!expected)
    return fail("embedding the expected text failed: " + expected.error().message);
  auto got = ctx.embed(text, model);
  if (!got)
    return fail("embedding the answer failed: " + got.error().message);
  auto sim = cosine_similarity(*expected, *got);
  if (!sim)
    return fail("the embeddings cannot be compared (different lengths, or a zero vector)");
  return similar_outcome(a, *sim);
}

} // namespace

bool evaluated_in_checks(const Assertion& a) {
  if (is_tool_assertion(a.type))
    return true;
  switch (a.type) {
  case T::not_equals:
  case T::not_icontains:
  case T::not_starts_with:
  case T::not_regex:
  case T::contains_any:
  case T::icontains_any:
  case T::not_contains_all:
  case T::not_icontains_all:
  case T::contains_json:
  case T::not_contains_json:
  case T::not_is_json:
  case T::javascript:
  case T::python:
  case T::similar:
    return true;
  default:
    return !a.transforms.empty() || (a.type == T::is_json && !a.schema.is_null());
  }
}

std::optional<double> cosine_similarity(const std::vector<double>& a,
                                        const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty())
    return std::nullopt;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na == 0 || nb == 0)
    return std::nullopt;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

Outcome similar_outcome(const Assertion& a, double similarity) {
  bool ok = similarity >= a.threshold;
  return {ok,
          fmt::format("similarity {:.3f} to {} (needs {})", similarity, quote(a.text), a.threshold),
          similarity};
}

Outcome evaluate(const Assertion& a, const Answer& answer, const EvaluationContext& ctx) {
  if (is_tool_assertion(a.type)) // they read the calls, never a transformed text
    return tool_check(a, answer, ctx);
  // promptfoo's transforms: each gets what the one before made (the answer first); text checks
  // then read a string as it is and anything else as JSON.
  json output = answer.text;
  for (const auto& t : a.transforms) {
    auto r = run_script(t, output, {ctx.question, a.vars, json(), json()}, ctx.limits, true);
    if (!r)
      return fail("the transform failed: " + r.error().message);
    output = std::move(*r);
  }
  Answer seen = answer;
  if (!a.transforms.empty())
    seen.text = output.is_string() ? output.get<std::string>()
                                   : output.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string& t = seen.text;
  switch (a.type) {
  case T::not_equals:
    return negated(base_check(a, seen, T::equals));
  case T::not_icontains:
    return negated(base_check(a, seen, T::icontains));
  case T::not_starts_with:
    return negated(base_check(a, seen, T::starts_with));
  case T::not_regex: {
    RE2::Options options; // a pattern that does not compile must not pass for "not matching"
    options.set_log_errors(false);
    if (!RE2(a.text, options).ok())
      return fail("invalid regex " + quote(a.text));
    return negated(base_check(a, seen, T::regex));
  }
  case T::contains_any:
  case T::icontains_any:
  case T::not_contains_all:
  case T::not_icontains_all:
    return list_check(a, t);
  case T::is_json:
  case T::contains_json:
    if (a.schema.is_null() && a.type == T::is_json)
      return base_check(a, seen, a.type);
    return json_check(a, t);
  case T::not_contains_json:
    return no_json_check(a, t);
  case T::not_is_json:
    return negated(base_check(a, seen, T::is_json));
  case T::javascript:
  case T::python:
    return script_check(a, output, ctx);
  case T::similar:
    return similar_check(a, t, ctx);
  default:
    return base_check(a, seen, a.type);
  }
}

} // namespace evalkeep::scoring
