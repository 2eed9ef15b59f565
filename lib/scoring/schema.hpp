#pragma once

#include "core/error.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace evalkeep::scoring {

/// Checks that `schema` is a JSON Schema (draft 7, as promptfoo's is-json and contains-json read
/// it) that can be compiled: an object or a boolean, no reference to another document, at most
/// 64 levels deep. The error says what is wrong.
Status check_schema(const nlohmann::json& schema);

/// Whether a JSON value conforms to a schema, and why not.
struct SchemaVerdict {
  bool valid = false;
  std::string errors; // "/age: ...; /name: ..." when not valid
};

/// Validates `value` against `schema` (compiled once per process for each distinct schema).
Result<SchemaVerdict> validate_json(const nlohmann::json& schema, const nlohmann::json& value);

} // namespace evalkeep::scoring
