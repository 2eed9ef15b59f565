#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::core {

/// Appends `s` as a JSON string, the bytes nlohmann::json dumps (UTF-8 kept, invalid sequences
/// replaced): for JSON written directly, without building a json object first (request bodies,
/// the ledger's canonical events, stored outcomes).
void append_json_string(std::string& out, std::string_view s);

/// The strings of a JSON array of strings (anything else in it is skipped), as the stores keep
/// tags: read directly when they are plain ASCII, through nlohmann::json otherwise. Not an
/// array, or not UTF-8: empty.
std::vector<std::string> string_array(std::string_view json);

/// True when `s` is valid UTF-8, as text a JSON document can carry must be.
bool is_utf8(std::string_view s);

/// How deeply the lists and objects of JSON text nest, read without parsing it: text nested
/// deeper than its reader allows is refused before a parser recurses into it.
std::size_t json_depth(std::string_view text);

} // namespace evalkeep::core
