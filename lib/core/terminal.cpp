#include "core/terminal.hpp"

namespace evalkeep::core {

std::string for_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += {'^', static_cast<char>(c ^ 0x40)};
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += {'M', '-', '^', static_cast<char>((static_cast<unsigned char>(s[++i]) - 0x80) ^ 0x40)};
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace evalkeep::core
