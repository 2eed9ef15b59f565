#include "interop/template.hpp"

#include <cctype>
#include <cmath>
#include <optional>

#include <re2/re2.h>

namespace evalkeep::interop {

using json = nlohmann::json;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// One tag of a template: "{{ ... }}", "{% ... %}" or "{# ... #}" at [begin, end).
struct Tag {
  std::size_t begin = 0, end = 0;
  char kind = '{';
  std::string_view inner; // without the delimiters and the whitespace-control dashes
  bool trim_before = false, trim_after = false;
};

// The next tag at or after `from`; nullopt when there is none, and an unclosed tag sets
// `unclosed`.
std::optional<Tag> next_tag(std::string_view text, std::size_t from, bool& unclosed) {
  for (std::size_t pos = text.find('{', from); pos != std::string_view::npos;
       pos = text.find('{', pos + 1)) {
    if (pos + 1 >= text.size())
      return std::nullopt;
    char kind = text[pos + 1];
    if (kind != '{' && kind != '%' && kind != '#')
      continue;
    std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    auto end = text.find(close, pos + 2);
    if (end == std::string_view::npos) {
      unclosed = true;
      return std::nullopt;
    }
    Tag t;
    t.begin = pos;
    t.end = end + 2;
    t.kind = kind;
    t.inner = text.substr(pos + 2, end - pos - 2);
    if (!t.inner.empty() && t.inner.front() == '-') {
      t.trim_before = true;
      t.inner.remove_prefix(1);
    }
    if (!t.inner.empty() && t.inner.back() == '-') {
      t.trim_after = true;
      t.inner.remove_suffix(1);
    }
    t.inner = trim(t.inner);
    return t;
  }
  return std::nullopt;
}

// The "{% endraw %}" that closes a raw block opened before `from`.
std::optional<Tag> find_endraw(std::string_view text, std::size_t from) {
  for (auto pos = text.find("{%", from); pos != std::string_view::npos;
       pos = text.find("{%", pos + 2)) {
    bool unclosed = false;
    auto t = next_tag(text, pos, unclosed);
    if (t && t->begin == pos && t->inner == "endraw")
      return t;
  }
  return std::nullopt;
}

// Splits "a.b[0]['c']" into keys; nullopt when it is not such a path.
std::optional<std::vector<json>> parse_path(std::string_view s) {
  std::vector<json> keys;
  std::size_t i = 0;
  auto ident = [&]() -> std::optional<std::string> {
    std::size_t start = i;
    while (i < s.size() && is_ident_char(s[i]))
      ++i;
    if (i == start || std::isdigit(static_cast<unsigned char>(s[start])))
      return std::nullopt;
    return std::string(s.substr(start, i - start));
  };
  auto first = ident();
  if (!first)
    return std::nullopt;
  keys.emplace_back(*first);
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
      auto k = ident();
      if (!k)
        return std::nullopt;
      keys.emplace_back(*k);
    } else if (s[i] == '[') {
      auto close = s.find(']', i);
      if (close == std::string_view::npos)
        return std::nullopt;
      std::string_view inside = trim(s.substr(i + 1, close - i - 1));
      if (inside.size() >= 2 && (inside.front() == '\'' || inside.front() == '"') &&
          inside.back() == inside.front())
        keys.emplace_back(std::string(inside.substr(1, inside.size() - 2)));
      else if (!inside.empty() && inside.find_first_not_of("0123456789") == std::string_view::npos)
        keys.emplace_back(std::stoull(std::string(inside)));
      else
        return std::nullopt;
      i = close + 1;
    } else {
      return std::nullopt;
    }
  }
  return keys;
}

std::optional<std::string> string_literal(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front() &&
      s.substr(1, s.size() - 2).find(s.front()) == std::string_view::npos)
    return std::string(s.substr(1, s.size() - 2));
  return std::nullopt;
}

// Splits on '|' outside quotes.
std::vector<std::string_view> split_filters(std::string_view expr) {
  std::vector<std::string_view> parts;
  char quote = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (quote) {
      if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '|') {
      parts.push_back(trim(expr.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(expr.substr(start)));
  return parts;
}

// The value of an expression; a null json stands for "undefined".
Result<json> evaluate(std::string_view expr, const json& vars) {
  auto parts = split_filters(expr);
  json value;
  if (auto lit = string_literal(parts[0])) {
    value = *lit;
  } else if (auto path = parse_path(parts[0])) {
    const json* v = &vars;
    for (const auto& k : *path) {
      if (k.is_string() && v->is_object() && v->contains(k.get<std::string>()))
        v = &(*v)[k.get<std::string>()];
      else if (k.is_number() && v->is_array() && k.get<std::size_t>() < v->size())
        v = &(*v)[k.get<std::size_t>()];
      else {
        v = nullptr;
        break;
      }
    }
    if (!v && path->front() == "env" && !vars.contains("env"))
      return invalid("'{{{{ {} }}}}' reads the environment, which an import does not copy",
                     parts[0]);
    value = v ? *v : json();
  } else {
    return invalid("'{{{{ {} }}}}' is not a variable or a string", expr);
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string_view f = parts[i];
    if (f == "trim") {
      value = std::string(trim(js_string(value)));
    } else if (f == "upper" || f == "lower") {
      std::string s = js_string(value);
      for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x80)
          c = static_cast<char>(f == "upper" ? std::toupper(c) : std::tolower(c));
      value = s;
    } else if (f == "dump") {
      value = value.dump(-1, ' ', false, json::error_handler_t::replace);
    } else if (f == "safe") {
      // Output is never escaped here: promptfoo turns autoescaping off.
    } else if ((f.starts_with("default(") || f.starts_with("d(")) && f.ends_with(")")) {
      auto open = f.find('(');
      auto arg = string_literal(trim(f.substr(open + 1, f.size() - open - 2)));
      if (!arg)
        return invalid("'{}': only a string default is supported", f);
      if (value.is_null())
        value = *arg;
    } else {
      return invalid("the template filter '{}' is not supported", f);
    }
  }
  return value;
}

} // namespace

std::string js_string(const json& v) {
  switch (v.type()) {
  case json::value_t::null:
  case json::value_t::discarded:
    return "";
  case json::value_t::string:
    return v.get<std::string>();
  case json::value_t::boolean:
    return v.get<bool>() ? "true" : "false";
  case json::value_t::number_float: {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e21)
      return fmt::format("{}", static_cast<std::int64_t>(d));
    return v.dump();
  }
  case json::value_t::array: {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + js_string(v[i]);
    return out;
  }
  case json::value_t::object:
    return "[object Object]";
  default:
    return v.dump();
  }
}

Result<std::string> render_template(std::string_view text, const json& vars) {
  std::string out;
  std::size_t i = 0;
  for (;;) {
    bool unclosed = false;
    auto t = next_tag(text, i, unclosed);
    if (!t) {
      // promptfoo takes a text with a tag left open as it is, rather than failing on it.
      if (unclosed)
        return std::string(text);
      break;
    }
    out.append(text.substr(i, t->begin - i));
    if (t->trim_before)
      while (!out.empty() && is_space(out.back()))
        out.pop_back();
    i = t->end;
    if (t->kind == '{') {
      auto v = TRY(evaluate(t->inner, vars));
      out += js_string(v);
    } else if (t->kind == '%') {
      if (t->inner != "raw")
        return invalid("the template tag '{{% {} %}}' is not supported", t->inner);
      auto end = find_endraw(text, i);
      if (!end)
        return invalid("'{{% raw %}}' without '{{% endraw %}}'");
      std::string_view body = text.substr(i, end->begin - i);
      if (t->trim_after)
        while (!body.empty() && is_space(body.front()))
          body.remove_prefix(1);
      if (end->trim_before)
        while (!body.empty() && is_space(body.back()))
          body.remove_suffix(1);
      out.append(body);
      i = end->end;
      t = end;
    }
    if (t->trim_after)
      while (i < text.size() && is_space(text[i]))
        ++i;
  }
  out.append(text.substr(i));
  return out;
}

std::vector<std::string> template_variables(std::string_view text) {
  // promptfoo's own scan (extractVariablesFromTemplate): it decides which vars it renders, so the
  // same scan, not a parse, says what it will do. RE2 runs it in linear time without recursion:
  // std::regex overflowed the stack on a long comment.
  // Bytes, not UTF-8: text that is not UTF-8 is scanned like any other.
  static const RE2::Options k_bytes = [] {
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingLatin1);
    return o;
  }();
  static const RE2 k_comment(R"(\{#[\s\S]*?#\})", k_bytes);
  static const RE2 k_reference(
      R"(\{\{[\s]*([^{}\s|]+)[\s]*(?:\|[^}]+)?\}\}|\{%[\s]*(?:if|for)[\s]+([^{}\s]+)[\s]*.*?%\})",
      k_bytes);
  static const RE2 k_root(R"(^([A-Za-z_]\w*))", k_bytes);
  std::string t(text);
  RE2::GlobalReplace(&t, k_comment, "");
  std::vector<std::string> names;
  re2::StringPiece rest(t), groups[3];
  while (!rest.empty() && k_reference.Match(rest, 0, rest.size(), RE2::UNANCHORED, groups, 3)) {
    auto variable = groups[1].data() ? groups[1] : groups[2];
    std::string root;
    if (RE2::PartialMatch(variable, k_root, &root))
      names.push_back(root);
    // Past the match; an empty one cannot happen (each alternative starts with two characters).
    rest.remove_prefix(static_cast<std::size_t>(groups[0].data() + groups[0].size() - rest.data()));
  }
  return names;
}

std::string literal_template(std::string_view text) {
  bool syntax = text.find("{{") != std::string_view::npos ||
                text.find("{%") != std::string_view::npos ||
                text.find("{#") != std::string_view::npos;
  if (!syntax)
    return std::string(text);
  if (text.find("endraw") != std::string_view::npos || text.ends_with('{'))
    return {};
  return fmt::format("{{% raw %}}{}{{% endraw %}}", text);
}

} // namespace evalkeep::interop
