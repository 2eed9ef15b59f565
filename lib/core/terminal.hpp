#pragma once

#include <string>
#include <string_view>

namespace evalkeep::core {

/// `s` made safe to print for people: control characters other than newline and tab are shown in
/// caret notation, as `cat -v` shows them ("^[" for ESC, "^M" for CR, "M-^[" for the C1 control
/// U+009B), so a model's answer or a suite's text cannot move the cursor, clear the screen,
/// retitle the window or overwrite a line of a terminal or a CI log. Everything else, invalid
/// UTF-8 included, is kept as it is.
std::string for_terminal(std::string_view s);

} // namespace evalkeep::core
