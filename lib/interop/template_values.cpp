#include "interop/template_values.hpp"

#include "interop/template.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace evalkeep::interop::js {

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

// A code point of JavaScript's \s (WhiteSpace and LineTerminator).
bool is_js_space(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// The code point at s[i] and its length in bytes; length 0 when the bytes are not UTF-8.
std::pair<char32_t, std::size_t> decode(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80)
    return {b, 1};
  std::size_t n = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size())
    return {0, 0};
  char32_t c = b & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    auto cont = static_cast<unsigned char>(s[i + k]);
    if ((cont & 0xC0) != 0x80)
      return {0, 0};
    c = (c << 6) | (cont & 0x3F);
  }
  if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)))
    return {0, 0};
  return {c, n};
}

// ToPrimitive: a list joins, an object is "[object Object]".
json primitive(const json& v) {
  return v.is_structured() ? json(js_string(v)) : v;
}

double parse_number_text(std::string_view s) {
  s = trim_end(trim_start(s));
  if (s.empty())
    return 0;
  if (s == "Infinity" || s == "+Infinity")
    return std::numeric_limits<double>::infinity();
  if (s == "-Infinity")
    return -std::numeric_limits<double>::infinity();
  if (s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
    double d = 0;
    for (char c : s.substr(2)) {
      int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c | 0x20) >= 'a' && (c | 0x20) <= 'f'    ? (c | 0x20) - 'a' + 10
                                                              : -1;
      if (digit < 0)
        return k_nan;
      d = d * 16 + digit;
    }
    return d;
  }
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
        c != '+' && c != '-')
      return k_nan;
  std::string_view body = s;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.empty() || body.front() == '+' || body.front() == '-')
    return k_nan;
  double d = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
  if (ec == std::errc::result_out_of_range) {
    // from_chars gives up where JavaScript rounds to 0 or Infinity.
    bool tiny =
        body.find("e-") != std::string_view::npos || body.find("E-") != std::string_view::npos;
    d = tiny ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (ec != std::errc() || end != body.data() + body.size()) {
    return k_nan;
  }
  return negative ? -d : d;
}

void stringify_into(std::string& out, const json& v, const std::string& indent, std::size_t depth) {
  auto newline = [&](std::size_t d) {
    if (indent.empty())
      return;
    out += '\n';
    for (std::size_t i = 0; i < d; ++i)
      out += indent;
  };
  switch (v.type()) {
  case json::value_t::null:
  case json::value_t::discarded:
    out += "null";
    return;
  case json::value_t::number_float: {
    double d = v.get<double>();
    out += std::isfinite(d) ? number_text(d) : "null";
    return;
  }
  case json::value_t::string:
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  case json::value_t::array: {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += i ? "," : "";
      newline(depth + 1);
      stringify_into(out, v[i], indent, depth + 1);
    }
    newline(depth);
    out += ']';
    return;
  }
  case json::value_t::object: {
    bool any = false;
    out += '{';
    for (const auto& [k, e] : v.items()) {
      if (is_undefined(e))
        continue;
      out += any ? "," : "";
      any = true;
      newline(depth + 1);
      out += json(k).dump(-1, ' ', false, json::error_handler_t::replace);
      out += indent.empty() ? ":" : ": ";
      stringify_into(out, e, indent, depth + 1);
    }
    if (any)
      newline(depth);
    out += '}';
    return;
  }
  default:
    out += js_string(v); // an integer, as a JavaScript number prints it
  }
}

// The index an array-index key stands for.
std::uint64_t index_of(const std::string& key) {
  std::uint64_t n = 0;
  std::from_chars(key.data(), key.data() + key.size(), n);
  return n;
}

// Whether the keys of `v` itself are in JavaScript's order: no index after another key, the
// indices ascending.
bool in_own_order(const json& v) {
  bool others = false;
  std::optional<std::uint64_t> last;
  for (const auto& [k, _] : v.items()) {
    if (!is_array_index(k)) {
      others = true;
      continue;
    }
    auto i = index_of(k);
    if (others || (last && *last >= i))
      return false;
    last = i;
  }
  return true;
}

} // namespace

bool is_array_index(std::string_view key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0'))
    return false;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
  return ec == std::errc() && end == key.data() + key.size() && n <= 4294967294ULL;
}

namespace {

// Deeper than this a value is hostile, not a configuration: it is left as it is rather than
// walked to the stack's end (a template refuses to print values nested this deep).
constexpr std::size_t k_max_order_depth = 256;

bool needs_own_order_at(const json& v, std::size_t depth) {
  if (depth > k_max_order_depth)
    return false;
  if (v.is_object() && !in_own_order(v))
    return true;
  if (v.is_structured())
    for (const auto& e : v)
      if (needs_own_order_at(e, depth + 1))
        return true;
  return false;
}

void own_order_at(json& v, std::size_t depth) {
  if (!v.is_structured() || depth > k_max_order_depth)
    return;
  for (auto& e : v)
    own_order_at(e, depth + 1);
  if (!v.is_object() || in_own_order(v))
    return;
  std::vector<std::pair<std::uint64_t, std::string>> indices;
  for (const auto& [k, _] : v.items())
    if (is_array_index(k))
      indices.emplace_back(index_of(k), k);
  std::sort(indices.begin(), indices.end());
  json out = json::object();
  // Reserved, so that growing never copies a pair (its key is const, so it is copied, not moved,
  // and with it the whole value below it).
  out.get_ref<json::object_t&>().reserve(v.size());
  for (const auto& [_, k] : indices)
    out[k] = std::move(v[k]);
  for (auto& [k, e] : v.items())
    if (!is_array_index(k))
      out[k] = std::move(e);
  v = std::move(out);
}

} // namespace

bool needs_own_order(const json& v) {
  return needs_own_order_at(v, 0);
}

void own_order(json& v) {
  own_order_at(v, 0);
}

json number(double d) {
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740992.0 &&
      !(d == 0 && std::signbit(d)))
    return json(static_cast<std::int64_t>(d));
  return json(d);
}

double to_number(const json& v) {
  switch (v.type()) {
  case json::value_t::null:
    return 0;
  case json::value_t::boolean:
    return v.get<bool>() ? 1 : 0;
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float:
    return v.get<double>();
  case json::value_t::string:
    return parse_number_text(v.get_ref<const std::string&>());
  case json::value_t::array:
    return parse_number_text(js_string(v));
  default:
    return k_nan;
  }
}

bool truthy(const json& v) {
  switch (v.type()) {
  case json::value_t::null:
  case json::value_t::discarded:
    return false;
  case json::value_t::boolean:
    return v.get<bool>();
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float: {
    double d = v.get<double>();
    return d != 0 && !std::isnan(d);
  }
  case json::value_t::string:
    return !v.get_ref<const std::string&>().empty();
  default:
    return true; // [] and {} are truthy in JavaScript
  }
}

std::string to_string(const json& v) {
  if (is_undefined(v))
    return "undefined";
  if (v.is_null())
    return "null";
  return js_string(v);
}

std::string number_text(double d) {
  if (std::isnan(d))
    return "NaN";
  if (std::isinf(d))
    return d < 0 ? "-Infinity" : "Infinity";
  if (d == 0)
    return "0";
  if (d < 0)
    return "-" + number_text(-d);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end); // "1.2345e+02"
  auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (auto dot = digits.find('.'); dot != std::string::npos)
    digits.erase(dot, 1);
  int exponent = std::stoi(sci.substr(e + 1));
  int k = static_cast<int>(digits.size());
  int n = exponent + 1; // the decimal point's place after the first digit
  if (k <= n && n <= 21)
    return digits + std::string(static_cast<std::size_t>(n - k), '0');
  if (0 < n && n <= 21)
    return digits.substr(0, static_cast<std::size_t>(n)) + "." +
           digits.substr(static_cast<std::size_t>(n));
  if (-6 < n && n <= 0)
    return "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
  std::string exp = (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  if (k == 1)
    return digits + exp;
  return digits.substr(0, 1) + "." + digits.substr(1) + exp;
}

std::string stringify(const json& v, const std::string& indent) {
  std::string out;
  stringify_into(out, v, indent, 0);
  return out;
}

Result<bool> strict_equal(const json& a, const json& b) {
  if (a.is_structured() && b.is_structured())
    return invalid("compares two lists or objects, which JavaScript compares by identity");
  if (a.is_number() && b.is_number())
    return a.get<double>() == b.get<double>();
  if (a.is_number() || b.is_number() || a.type() != b.type())
    return false;
  if (a.is_structured())
    return false;
  return is_undefined(a) ? true : a == b;
}

Result<bool> loose_equal(const json& a, const json& b) {
  if (is_nullish(a) || is_nullish(b))
    return is_nullish(a) && is_nullish(b);
  if (a.is_structured() && b.is_structured())
    return invalid("compares two lists or objects, which JavaScript compares by identity");
  json pa = primitive(a), pb = primitive(b);
  if (pa.is_string() && pb.is_string())
    return pa == pb;
  if (pa.is_boolean() && pb.is_boolean())
    return pa == pb;
  double x = to_number(pa), y = to_number(pb);
  return x == y;
}

bool relational(const json& a, const json& b, std::string_view op) {
  json pa = primitive(a), pb = primitive(b);
  int order = 0;
  if (pa.is_string() && pb.is_string()) {
    auto ua = utf16(pa.get_ref<const std::string&>());
    auto ub = utf16(pb.get_ref<const std::string&>());
    if (ua && ub)
      order = ua->compare(*ub);
    else
      order = pa.get_ref<const std::string&>().compare(pb.get_ref<const std::string&>());
    order = order < 0 ? -1 : order > 0 ? 1 : 0;
  } else {
    double x = to_number(pa), y = to_number(pb);
    if (std::isnan(x) || std::isnan(y))
      return false;
    order = x < y ? -1 : x > y ? 1 : 0;
  }
  if (op == "<")
    return order < 0;
  if (op == ">")
    return order > 0;
  if (op == "<=")
    return order <= 0;
  return order >= 0; // ">="
}

json add(const json& a, const json& b) {
  json pa = primitive(a), pb = primitive(b);
  if (pa.is_string() || pb.is_string())
    return to_string(pa) + to_string(pb);
  return number(to_number(pa) + to_number(pb));
}

Result<std::u16string> utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto [c, n] = decode(s, i);
    if (n == 0)
      return invalid("text that is not UTF-8");
    if (c >= 0x10000) {
      c -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (c >> 10));
      out += static_cast<char16_t>(0xDC00 + (c & 0x3FF));
    } else {
      out += static_cast<char16_t>(c);
    }
    i += n;
  }
  return out;
}

std::string utf8(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000)
      c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string_view trim_start(std::string_view s) {
  while (!s.empty()) {
    auto [c, n] = decode(s, 0);
    if (n == 0 || !is_js_space(c))
      break;
    s.remove_prefix(n);
  }
  return s;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty()) {
    // Back up to the first byte of the last code point.
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
      --start;
    auto [c, n] = decode(s, start);
    if (n == 0 || start + n != s.size() || !is_js_space(c))
      break;
    s.remove_suffix(n);
  }
  return s;
}

} // namespace evalkeep::interop::js
