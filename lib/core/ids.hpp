#pragma once

#include <string>
#include <string_view>

namespace evalkeep::core {

/// True for a readable id: starts with a letter or digit, then letters, digits, '.', '_', '-';
/// at most 128 characters. Case and incident ids follow this rule.
bool is_valid_id(std::string_view id);

/// A fresh sortable id: "c" + 10 base-32 characters of milliseconds since 1970 + 6 random ones.
std::string generate_case_id();

} // namespace evalkeep::core
