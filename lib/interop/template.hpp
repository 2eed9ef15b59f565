#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// Renders a Nunjucks template as promptfoo's nunjucks 3.2 environment does (autoescape off):
/// `{{ expr }}`, `{% if/elif/else %}`, `{% for %}` (with `else`, `k, v` pairs and `loop.*`),
/// `{% set %}` (and its block form), comments, `{% raw %}`/`{% verbatim %}` and whitespace
/// control; expressions with JavaScript's semantics (truthiness, `==` and `===`, operators grouped
/// as the compiled JavaScript groups them); the pure built-in filters, promptfoo's `load`, and
/// `range()`. Objects keep their keys in JavaScript's order (array-index keys ascending, then
/// the others in the order they were set), so loops over an object, `dump` (JSON.stringify) and
/// `dictsort` see what promptfoo sees; `vars` are put in that order first. An undefined variable
/// renders as nothing. Anything else (`{% include %}`, macros, custom filters, method calls,
/// `env`) is an error naming it and its line; so is a template that would render more than 4 MiB
/// or take too many steps. A text with a tag left open is taken literally, as promptfoo does.
Result<std::string> render_template(std::string_view text, const nlohmann::ordered_json& vars);

/// The variables a template refers to (the first name of each `{{ path }}` and `{% if/for %}`),
/// found the way promptfoo finds them: it renders a var's value only when all are defined.
std::vector<std::string> template_variables(std::string_view text);

/// A template that renders to exactly `text`: the text itself, or the text in a raw block when it
/// holds template syntax. Empty when that is impossible (the text holds "endraw").
std::string literal_template(std::string_view text);

/// A value as JavaScript's String() prints it (numbers without a needless ".0").
std::string js_string(const nlohmann::ordered_json& v);
std::string js_string(const nlohmann::json& v);

} // namespace evalkeep::interop
