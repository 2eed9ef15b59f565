#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// Renders the part of Nunjucks that promptfoo prompts and assertion values use: `{{ var }}`,
/// `{{ a.b }}`, `{{ a[0] }}`, string literals, the filters trim, upper, lower, dump, safe and
/// default(...), `{# comments #}`, `{% raw %}...{% endraw %}` and whitespace control (`{{-`,
/// `-}}`). An undefined variable renders as nothing, as in promptfoo. Anything else (`{% if %}`,
/// other filters, `env`) is an error naming it. A text with an unclosed tag is taken literally,
/// as promptfoo does.
Result<std::string> render_template(std::string_view text, const nlohmann::json& vars);

/// The variables a template refers to (the first name of each `{{ path }}` and `{% if/for %}`),
/// found the way promptfoo finds them: it renders a var's value only when all are defined.
std::vector<std::string> template_variables(std::string_view text);

/// A template that renders to exactly `text`: the text itself, or the text in a raw block when it
/// holds template syntax. Empty when that is impossible (the text holds "endraw").
std::string literal_template(std::string_view text);

/// A value as JavaScript's String() prints it (numbers without a needless ".0").
std::string js_string(const nlohmann::json& v);

} // namespace evalkeep::interop
