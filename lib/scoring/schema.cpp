#include "scoring/schema.hpp"

// valijson reports a schema it cannot read by throwing, not by aborting the process.
#define VALIJSON_USE_EXCEPTIONS 1
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace evalkeep::scoring {

namespace {

using json = nlohmann::json;

constexpr int k_max_depth = 64;
constexpr int k_max_value_depth = 256;
// valijson matches `pattern`, `patternProperties` and `format` with std::regex, which recurses per
// character: the texts it may match and the patterns it compiles are kept short.
constexpr std::size_t k_max_pattern = 512;
constexpr std::size_t k_max_matched = 4096;

int depth_of(const json& j, int limit) {
  if (!j.is_structured() || limit <= 0)
    return 0;
  int deepest = 0;
  for (const auto& e : j)
    deepest = std::max(deepest, depth_of(e, limit - 1));
  return deepest + 1;
}

// A "$ref" that leaves the schema (to another file or a URL) would need a fetch: none is made.
bool has_remote_ref(const json& j) {
  if (j.is_object()) {
    if (auto it = j.find("$ref");
        it != j.end() && it->is_string() && !it->get_ref<const std::string&>().starts_with("#"))
      return true;
  }
  if (j.is_structured())
    for (const auto& e : j)
      if (has_remote_ref(e))
        return true;
  return false;
}

// True when the schema asks valijson to match a regular expression somewhere; a pattern too long
// to compile safely is an error.
Result<bool> uses_patterns(const json& j) {
  bool uses = false;
  if (j.is_object()) {
    if (auto it = j.find("pattern"); it != j.end() && it->is_string()) {
      if (it->get_ref<const std::string&>().size() > k_max_pattern)
        return invalid("a JSON Schema pattern longer than {} characters is not supported",
                       k_max_pattern);
      uses = true;
    }
    if (j.contains("patternProperties") || j.contains("format"))
      uses = true;
  }
  if (j.is_structured())
    for (const auto& e : j)
      uses = TRY(uses_patterns(e)) || uses;
  return uses;
}

// The longest string (or object key) in a value.
std::size_t longest_text(const json& j) {
  std::size_t longest = j.is_string() ? j.get_ref<const std::string&>().size() : 0;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      longest = std::max({longest, k.size(), longest_text(v)});
  else if (j.is_array())
    for (const auto& e : j)
      longest = std::max(longest, longest_text(e));
  return longest;
}

Result<std::shared_ptr<const valijson::Schema>> compile(const json& schema) {
  if (!schema.is_object() && !schema.is_boolean())
    return invalid("a JSON Schema is an object or a boolean, got {}", schema.type_name());
  if (depth_of(schema, k_max_depth + 1) > k_max_depth)
    return invalid("the JSON Schema is nested more than {} levels deep", k_max_depth);
  TRY(uses_patterns(schema));
  if (has_remote_ref(schema))
    return invalid("the JSON Schema refers to another document ($ref outside '#'): evalkeep "
                   "fetches nothing");
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const valijson::Schema>> cache;
  std::string key = schema.dump();
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end())
    return it->second;
  auto compiled = std::make_shared<valijson::Schema>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, *compiled);
  } catch (const std::exception& e) {
    return invalid("invalid JSON Schema: {}", e.what());
  }
  cache.emplace(std::move(key), compiled);
  return compiled;
}

std::string describe(valijson::ValidationResults& results) {
  std::string out;
  valijson::ValidationResults::Error error;
  int shown = 0;
  while (results.popError(error) && shown < 5) {
    std::string where;
    for (const auto& part : error.context)
      if (part != "<root>")
        where += part;
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", where.empty() ? "/" : where,
                       error.description);
    ++shown;
  }
  return out;
}

} // namespace

Status check_schema(const json& schema) {
  TRY(compile(schema));
  return {};
}

Result<SchemaVerdict> validate_json(const json& schema, const json& value) {
  auto compiled = TRY(compile(schema));
  // valijson recurses into the value as deep as the schema reaches, and a recursive schema ($ref
  // to "#") reaches any depth: an answer nested deeper than this is not validated.
  if (depth_of(value, k_max_value_depth + 1) > k_max_value_depth)
    return SchemaVerdict{false, fmt::format("the JSON is nested more than {} levels deep, which "
                                            "is not validated against a schema",
                                            k_max_value_depth)};
  if (TRY(uses_patterns(schema)) && longest_text(value) > k_max_matched)
    return SchemaVerdict{false, fmt::format("a text longer than {} characters is not matched "
                                            "against the schema's patterns",
                                            k_max_matched)};
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  try {
    if (validator.validate(*compiled, target, &results))
      return SchemaVerdict{true, {}};
  } catch (const std::exception& e) {
    return invalid("validating against the JSON Schema failed: {}", e.what());
  }
  return SchemaVerdict{false, describe(results)};
}

} // namespace evalkeep::scoring
