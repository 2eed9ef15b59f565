#pragma once

#include "core/error.hpp"
#include "scoring/assertion.hpp"

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// The evalkeep assertions a promptfoo assertion (its value already rendered) stands for: one for
/// most types, one per value for contains-all and not-contains-any. `vars` are the test's vars,
/// kept with a program (a javascript or python assertion, a transform) whose code reads
/// context.vars. `test_transform` is the test's options.transform (null: none), run before the
/// assertion's own transform. An error says why there is no exact counterpart (a type evalkeep
/// lacks, code that reads the prompt, a transform in front of an llm-rubric, ...).
Result<std::vector<scoring::Assertion>> from_promptfoo(const nlohmann::json& assertion,
                                                       const nlohmann::json& vars = {},
                                                       const nlohmann::json& test_transform = {});

/// Whether from_promptfoo maps assertions of this promptfoo type at all (some values of it may
/// still be refused).
bool has_counterpart(std::string_view promptfoo_type);

/// The promptfoo assertion for an evalkeep one, its text kept literal; nullopt when promptfoo has
/// no exact counterpart (json-path, min-length, max-length, number-close, transforms, a script
/// that reads its context or lives in a file).
std::optional<nlohmann::ordered_json> to_promptfoo(const scoring::Assertion& a);

/// The assertion a promptfoo CSV `__expected` cell stands for, read as promptfoo reads it
/// ("contains: Paris", "llm-rubric: ...", "not-icontains: x", a plain value for equals).
nlohmann::json assertion_from_cell(std::string_view cell);

} // namespace evalkeep::interop
