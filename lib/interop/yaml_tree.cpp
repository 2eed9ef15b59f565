#include "interop/yaml_tree.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <yaml-cpp/yaml.h>

namespace evalkeep::interop {

using json = nlohmann::json;

namespace {

// Deeper documents are hostile, not configs; the limit keeps the recursion off the stack's end.
constexpr int k_max_depth = 200;

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// A plain scalar as YAML 1.2's core schema types it.
json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    return nullptr;
  if (s == "true" || s == "True" || s == "TRUE")
    return true;
  if (s == "false" || s == "False" || s == "FALSE")
    return false;
  static const std::regex k_int("[-+]?[0-9]+");
  static const std::regex k_float(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, k_int)) {
    std::int64_t v = 0;
    const char* begin = s.data() + (s.front() == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size())
      return v;
  }
  if (std::regex_match(s, k_float)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d))
      return d;
  }
  return s;
}

class Converter {
public:
  Converter(LineMap& lines, const std::string& file) : m_lines(lines), m_file(file) {}

  Status convert(const YAML::Node& n, const std::string& pointer, json& out, int depth) {
    if (depth > k_max_depth)
      return invalid("{}:{}: nested more than {} levels deep", m_file, n.Mark().line + 1,
                     k_max_depth);
    m_lines.emplace(pointer, n.Mark().line + 1);
    switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& tag = n.Tag();
      if (tag == "?")
        out = plain_scalar(n.Scalar());
      else if (tag == "!" || tag.ends_with(":str"))
        out = n.Scalar();
      else
        out = plain_scalar(n.Scalar());
      return {};
    }
    case YAML::NodeType::Sequence: {
      out = json::array();
      std::size_t i = 0;
      for (const auto& item : n) {
        json v;
        if (auto s = convert(item, pointer + "/" + std::to_string(i++), v, depth + 1); !s)
          return s;
        out.push_back(std::move(v));
      }
      return {};
    }
    case YAML::NodeType::Map: {
      out = json::object();
      std::vector<json> merged;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          return invalid("{}:{}: a mapping key must be a plain value", m_file,
                         kv.first.Mark().line + 1);
        const std::string key = kv.first.Scalar();
        json v;
        std::string child = pointer + "/" + escape_pointer_token(key);
        if (auto s = convert(kv.second, child, v, depth + 1); !s)
          return s;
        if (key == "<<" && kv.first.Tag() == "?")
          merged.push_back(std::move(v));
        else
          out[key] = std::move(v);
      }
      // Merge keys fill in what the mapping does not set itself.
      for (const auto& m : merged)
        for (const auto& part : m.is_array() ? m : json::array({m}))
          if (part.is_object())
            for (const auto& [k, v] : part.items())
              if (!out.contains(k))
                out[k] = v;
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

Result<Document> parse_yaml(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalid("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  auto lines = std::make_shared<LineMap>();
  Document doc;
  Converter converter(*lines, file);
  try {
    if (auto s = converter.convert(root, "", doc.value, 0); !s)
      return std::unexpected(s.error());
  } catch (const YAML::Exception& e) {
    return invalid("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  doc.where = Where{file, 1, "", std::move(lines)};
  return doc;
}

} // namespace evalkeep::interop
