#pragma once

// Nunjucks' built-in filters and tests that are pure functions, and promptfoo's `load`, with the
// semantics of nunjucks 3.2's filters.js and tests.js, objects' keys in JavaScript's order. A
// filter evalkeep does not have (a custom one from nunjucksFilters, `random`, ...) is an error
// naming it.

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// Keyword arguments, in the order written.
using KeywordArgs = std::vector<std::pair<std::string, nlohmann::ordered_json>>;

/// `input | name(args...)`.
Result<nlohmann::ordered_json> apply_filter(std::string_view name,
                                            const nlohmann::ordered_json& input,
                                            const std::vector<nlohmann::ordered_json>& args,
                                            const KeywordArgs& kwargs);

/// `input is name(args...)`.
Result<bool> apply_test(std::string_view name, const nlohmann::ordered_json& input,
                        const std::vector<nlohmann::ordered_json>& args);

/// The largest text a filter or a template may make, in bytes: past it rendering fails rather
/// than filling memory.
inline constexpr std::size_t k_max_text = std::size_t{4} << 20;

} // namespace evalkeep::interop
