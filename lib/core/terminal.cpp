#include "core/terminal.hpp"

namespace evalkeep::core {

std::string for_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += {'^', static_cast<char>(c ^ 0x40)};
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) { // C1: U+0080 to U+009F
      out += {'M', '-', '^', static_cast<char>((next - 0x80) ^ 0x40)};
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace evalkeep::core
