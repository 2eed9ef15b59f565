#include "core/json_text.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::core {

void append_json_string(std::string& out, std::string_view s) {
  if (std::any_of(s.begin(), s.end(), [](char ch) { return (ch & 0x80) != 0; })) {
    // Non-ASCII: nlohmann's serializer validates and repairs the UTF-8.
    out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  std::size_t plain = 0; // the start of the characters not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    out.append(s, plain, i - plain);
    plain = i + 1;
    switch (ch) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(ch));
    }
  }
  out.append(s, plain);
  out += '"';
}

bool is_utf8(std::string_view s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

} // namespace evalkeep::core
