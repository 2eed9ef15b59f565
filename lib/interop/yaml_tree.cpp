#include "interop/yaml_tree.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <yaml-cpp/yaml.h>

namespace evalkeep::interop {

using json = nlohmann::ordered_json;

namespace {

// Deeper documents are hostile, not configs; the limit keeps the recursion off the stack's end.
constexpr int k_max_depth = 200;
// Aliases let a short document stand for an enormous one (each alias of an alias multiplies); a
// configuration has far fewer values than this.
constexpr std::size_t k_max_nodes = 500'000;

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// The digits from `i` on; returns where they end.
std::size_t digits(const std::string& s, std::size_t i) {
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  return i;
}

std::size_t after_sign(const std::string& s) {
  return !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
}

// [-+]?[0-9]+, scanned (std::regex recursed once a character and overflowed the stack).
bool is_int(const std::string& s) {
  auto start = after_sign(s);
  auto end = digits(s, start);
  return end > start && end == s.size();
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float(const std::string& s) {
  auto i = after_sign(s);
  auto whole = digits(s, i);
  if (whole > i) {
    i = whole;
    if (i < s.size() && s[i] == '.')
      i = digits(s, i + 1);
  } else {
    if (i >= s.size() || s[i] != '.')
      return false;
    auto fraction = digits(s, i + 1);
    if (fraction == i + 1)
      return false;
    i = fraction;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    auto e = i + 1 + (i + 1 < s.size() && (s[i + 1] == '-' || s[i + 1] == '+') ? 1 : 0);
    auto end = digits(s, e);
    if (end == e)
      return false;
    i = end;
  }
  return i == s.size();
}

// A plain scalar as YAML 1.2's core schema types it.
json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    return nullptr;
  if (s == "true" || s == "True" || s == "TRUE")
    return true;
  if (s == "false" || s == "False" || s == "FALSE")
    return false;
  if (is_int(s)) {
    std::int64_t v = 0;
    const char* begin = s.data() + (s.front() == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size())
      return v;
  }
  if (is_float(s)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d))
      return d;
  }
  return s;
}

// yaml-cpp ends a plain scalar inside [...] or {...} at a '?' (`{q: Is it open?, n: 1}` fails
// to parse), where YAML 1.2 and promptfoo's js-yaml read the '?' as part of the text. A '?' that
// follows a character of text (not a space, a line start or `[{,`) cannot be the key indicator,
// so it is swapped for a private-use character before parsing and swapped back in every scalar.
constexpr std::string_view k_question_stand_in = "\xEE\x80\x80"; // U+E000

std::string hide_inner_questions(std::string_view text, bool& hidden) {
  hidden = false;
  if (text.find('?') == std::string_view::npos ||
      text.find(k_question_stand_in) != std::string_view::npos)
    return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char before = i > 0 ? text[i - 1] : '\n';
    if (text[i] == '?' && before != ' ' && before != '\t' && before != '\n' && before != '\r' &&
        before != '[' && before != '{' && before != ',') {
      out += k_question_stand_in;
      hidden = true;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string restore_questions(std::string s) {
  for (auto at = s.find(k_question_stand_in); at != std::string::npos;
       at = s.find(k_question_stand_in, at + 1))
    s.replace(at, k_question_stand_in.size(), "?");
  return s;
}

class Converter {
public:
  Converter(LineMap& lines, const std::string& file, bool hidden_questions)
      : m_lines(lines), m_file(file), m_hidden_questions(hidden_questions) {}

  std::string scalar(const YAML::Node& n) const {
    return m_hidden_questions ? restore_questions(n.Scalar()) : n.Scalar();
  }

  Status convert(const YAML::Node& n, const std::string& pointer, json& out, int depth) {
    if (depth > k_max_depth)
      return invalid("{}:{}: nested more than {} levels deep", m_file, n.Mark().line + 1,
                     k_max_depth);
    if (++m_nodes > k_max_nodes)
      return invalid("{}:{}: more than {} values (aliases repeated over and over?)", m_file,
                     n.Mark().line + 1, k_max_nodes);
    m_lines.emplace(pointer, n.Mark().line + 1);
    switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& tag = n.Tag();
      if (tag == "?")
        out = plain_scalar(scalar(n));
      else if (tag == "!" || tag.ends_with(":str"))
        out = scalar(n);
      else
        out = plain_scalar(scalar(n));
      return {};
    }
    case YAML::NodeType::Sequence: {
      out = json::array();
      std::size_t i = 0;
      for (const auto& item : n) {
        json v;
        TRY(convert(item, pointer + "/" + std::to_string(i++), v, depth + 1));
        out.push_back(std::move(v));
      }
      return {};
    }
    case YAML::NodeType::Map: {
      out = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          return invalid("{}:{}: a mapping key must be a plain value", m_file,
                         kv.first.Mark().line + 1);
        const std::string key = scalar(kv.first);
        json v;
        std::string child = pointer + "/" + escape_pointer_token(key);
        TRY(convert(kv.second, child, v, depth + 1));
        if (key == "<<" && kv.first.Tag() == "?") {
          // Merge keys fill in, where the `<<` stands, what the mapping has not set (the first
          // of several merged mappings winning); a key set later replaces the value in place.
          for (const auto& part : v.is_array() ? v : json::array({v}))
            if (part.is_object())
              for (const auto& [k, e] : part.items())
                if (!out.contains(k))
                  out[k] = e;
        } else {
          out[key] = std::move(v);
        }
      }
      return {};
    }
    default:
      out = nullptr;
      return {};
    }
  }

private:
  LineMap& m_lines;
  const std::string& m_file;
  bool m_hidden_questions = false;
  std::size_t m_nodes = 0;
};

} // namespace

std::string Where::str() const {
  if (lines) {
    std::string p = pointer;
    for (;;) {
      if (auto it = lines->find(p); it != lines->end())
        return fmt::format("{}:{}", file, it->second);
      if (p.empty())
        break;
      p.erase(p.rfind('/'));
    }
  }
  return line > 0 ? fmt::format("{}:{}", file, line) : file;
}

Where Where::key(std::string_view k) const {
  Where w = *this;
  w.pointer += "/" + escape_pointer_token(k);
  return w;
}

Where Where::index(std::size_t i) const {
  Where w = *this;
  w.pointer += "/" + std::to_string(i);
  return w;
}

namespace {

int hex4(std::string_view s, std::size_t at) {
  if (at + 4 > s.size())
    return -1;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data() + at, s.data() + at + 4, v, 16);
  return ec == std::errc() && end == s.data() + at + 4 ? v : -1;
}

// JSON writes a character outside the Basic Multilingual Plane as a pair of \u escapes (a
// surrogate pair), which YAML does not read; in a JSON document each pair becomes YAML's \U
// escape of the same character. Only JSON text is touched: there a backslash can only start an
// escape inside a string.
std::string surrogates_as_yaml(std::string_view text) {
  if (text.find("\\u") == std::string_view::npos || !json::accept(text))
    return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    int high = text[i + 1] == 'u' ? hex4(text, i + 2) : -1;
    int low =
        high >= 0xD800 && high <= 0xDBFF && text.substr(i + 6, 2) == "\\u" ? hex4(text, i + 8) : -1;
    if (low >= 0xDC00 && low <= 0xDFFF) {
      out += fmt::format("\\U{:08X}", 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
      i += 11;
      continue;
    }
    out += text.substr(i, 2); // any other escape, kept as it is
    ++i;
  }
  return out;
}

} // namespace

Result<Document> parse_yaml(std::string_view text, const std::string& file) {
  YAML::Node root;
  bool hidden = false;
  try {
    root = YAML::Load(hide_inner_questions(surrogates_as_yaml(text), hidden));
  } catch (const YAML::Exception& e) {
    return invalid("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  auto lines = std::make_shared<LineMap>();
  Document doc;
  Converter converter(*lines, file, hidden);
  try {
    TRY(converter.convert(root, "", doc.value, 0));
  } catch (const YAML::Exception& e) {
    return invalid("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  doc.where = Where{file, 1, "", std::move(lines)};
  return doc;
}

} // namespace evalkeep::interop
