#pragma once

// JavaScript's semantics for the values a Nunjucks template works on (JSON values, with
// "discarded" standing for undefined): what the renderer and its filters share. Objects keep
// their keys in the order JavaScript gives an object's own properties.

#include "core/error.hpp"

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace evalkeep::interop::js {

using json = nlohmann::ordered_json;

/// JavaScript's undefined.
inline json undefined() {
  return json(json::value_t::discarded);
}
inline bool is_undefined(const json& v) {
  return v.is_discarded();
}
inline bool is_nullish(const json& v) {
  return v.is_null() || v.is_discarded();
}

/// Whether JavaScript takes `key` as an array index: "0" to "4294967294", written canonically
/// (no sign, no leading zero).
bool is_array_index(std::string_view key);
/// Whether some object in `v` has its keys out of JavaScript's order (see own_order).
bool needs_own_order(const json& v);
/// Puts the keys of every object in `v` in the order JavaScript gives an object's own
/// properties: array indices first, ascending, then the other keys in the order they were first
/// set. Objects nested more than 256 levels deep are left as they are.
void own_order(json& v);

/// How deeply JSON text may nest (core::json_depth) to be read here. Text nested deeper than a
/// configuration ever is is refused before it is parsed: an object's keys keep their order in a
/// vector of pairs whose growing copies what is below them, as deep as it goes.
inline constexpr std::size_t k_max_json_depth = 200;

/// A number as a JSON value: an integer when it is one (so JSON.stringify prints "3", not "3.0").
json number(double d);
double to_number(const json& v);
bool truthy(const json& v);
/// String(v): "undefined" and "null" for those (as `+` and `~` concatenate them).
std::string to_string(const json& v);
/// Number.prototype.toString.
std::string number_text(double d);
/// JSON.stringify(v, null, indent); undefined for undefined.
std::string stringify(const json& v, const std::string& indent);

/// ==, ===, <, and `+`; errors where JavaScript would compare objects by identity.
Result<bool> loose_equal(const json& a, const json& b);
Result<bool> strict_equal(const json& a, const json& b);
/// a < b (op "<"), and the others as JavaScript's relational operators give them.
bool relational(const json& a, const json& b, std::string_view op);
json add(const json& a, const json& b);

/// The UTF-16 length and units of a UTF-8 string, as JavaScript sees it; errors on bytes that are
/// not UTF-8.
Result<std::u16string> utf16(std::string_view s);
std::string utf8(std::u16string_view s);

/// JavaScript's \s, at the start or the end of a UTF-8 string.
std::string_view trim_start(std::string_view s);
std::string_view trim_end(std::string_view s);

} // namespace evalkeep::interop::js
