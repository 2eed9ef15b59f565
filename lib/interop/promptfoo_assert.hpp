#pragma once

#include "core/error.hpp"
#include "scoring/assertion.hpp"

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// The evalkeep assertions a promptfoo assertion (its value already rendered) stands for: one for
/// most types, one per value for contains-all, a regex for contains-any. An error says why there
/// is no exact counterpart (a type evalkeep lacks, a transform, a JSON schema, ...).
Result<std::vector<scoring::Assertion>> from_promptfoo(const nlohmann::json& assertion);

/// The promptfoo assertion for an evalkeep one, its text kept literal; nullopt when promptfoo has
/// no exact counterpart (json-path, min-length, max-length, number-close).
std::optional<nlohmann::ordered_json> to_promptfoo(const scoring::Assertion& a);

/// The assertion a promptfoo CSV `__expected` cell stands for, read as promptfoo reads it
/// ("contains: Paris", "llm-rubric: ...", "not-icontains: x", a plain value for equals).
nlohmann::json assertion_from_cell(std::string_view cell);

} // namespace evalkeep::interop
