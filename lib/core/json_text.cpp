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

std::vector<std::string> string_array(std::string_view text) {
  // The compact form the stores write, ["a","b"], with plain ASCII strings: no parser needed.
  // Anything else goes through the parser, which also refuses text that is not UTF-8.
  std::vector<std::string> out;
  bool plain = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  bool closed = text == "[]";
  for (std::size_t i = 1; plain && !closed;) {
    auto end = text.find('"', i + 1);
    plain = text[i] == '"' && end != std::string_view::npos && end + 1 < text.size();
    if (!plain)
      break;
    auto value = text.substr(i + 1, end - i - 1);
    plain = std::none_of(value.begin(), value.end(), [](char ch) {
      auto byte = static_cast<unsigned char>(ch);
      return ch == '\\' || byte < 0x20 || byte >= 0x80;
    });
    out.emplace_back(value);
    i = end + 1;
    closed = i + 1 == text.size(); // at the closing bracket
    if (!closed && text[i++] != ',')
      plain = false;
  }
  if (plain)
    return out;
  out.clear();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string())
        out.push_back(e.get<std::string>());
  return out;
}

bool is_utf8(std::string_view s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

std::size_t json_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace evalkeep::core
