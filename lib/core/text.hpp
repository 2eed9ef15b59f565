#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace evalkeep::core {

/// True when `s` is empty or white space only (a rationale of "  " says nothing).
bool blank(std::string_view s);

/// At most `max_bytes` of `s`, cut at a character boundary: a UTF-8 sequence is never split, so
/// the prefix may be shorter than `max_bytes`. Text that is not UTF-8 is cut as bytes.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

/// `s` with each invalid UTF-8 sequence replaced by U+FFFD, for bytes from outside (a program's
/// stderr) that JSON, XML or HTML will show.
std::string valid_utf8(std::string s);

/// The number of characters (not bytes) in UTF-8 text.
std::size_t utf8_length(std::string_view s);

/// `s` with ASCII letters lowercased, other bytes as they are.
std::string ascii_lower(std::string_view s);

/// True when `needle` occurs in `hay`, in time linear in both (Knuth-Morris-Pratt): for texts
/// from files anyone can write, where a naive search of a crafted pair takes their product.
bool contains_linear(std::string_view hay, std::string_view needle);

/// The finite number all of `s` writes ("0.75", "-2", "1e3"); nothing otherwise (no spaces).
std::optional<double> parse_number(std::string_view s);

/// Text made safe for HTML (and XML) element content and quoted attribute values: & < > " '
/// written as entities.
std::string html_escape(std::string_view text);

} // namespace evalkeep::core
