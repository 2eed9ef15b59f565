#include "interop/template_filters.hpp"

#include "core/json_text.hpp"
#include "core/text.hpp"
#include "interop/template.hpp"
#include "interop/template_values.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <re2/re2.h>

namespace evalkeep::interop {

using json = nlohmann::ordered_json;

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

json arg(const std::vector<json>& args, std::size_t i) {
  return i < args.size() ? args[i] : js::undefined();
}

// nunjucks' normalize(): null, undefined and false become the default.
json normalize(const json& v, const json& fallback) {
  if (js::is_nullish(v) || (v.is_boolean() && !v.get<bool>()))
    return fallback;
  return v;
}

// A filter that calls string methods on its input: JavaScript throws on anything else.
Result<std::string> text_input(std::string_view filter, const json& v) {
  if (!v.is_string())
    return invalid("the filter '{}' is given {}, not text (nunjucks fails on it)", filter,
                   js::is_undefined(v) ? "an undefined value" : v.type_name());
  return v.get<std::string>();
}

Result<std::string> bounded(std::string s) {
  if (s.size() > k_max_text)
    return invalid("a filter makes text longer than {} bytes", k_max_text);
  return s;
}

// lib.repeat(' ', n): as many spaces as the loop `i < n` counts.
std::string spaces(double n) {
  if (!(n > 0))
    return {};
  return std::string(static_cast<std::size_t>(std::min(std::ceil(n), double(k_max_text + 1))), ' ');
}

Result<std::string> change_case(std::string_view filter, const std::string& s, bool upper) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80)
      return invalid("the filter '{}' of text that is not ASCII (JavaScript's Unicode case "
                     "mapping is not reproduced)",
                     filter);
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::string> capitalize(const std::string& s) {
  auto lower = TRY(change_case("capitalize", s, false));
  if (!lower.empty())
    lower[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(lower[0])));
  return lower;
}

// The elements of a list or the characters (UTF-16 units) of a text, as JavaScript indexes them.
Result<std::vector<json>> elements(std::string_view filter, const json& v) {
  std::vector<json> out;
  if (v.is_array()) {
    out.assign(v.begin(), v.end());
  } else if (v.is_string()) {
    auto units = TRY(js::utf16(v.get_ref<const std::string&>()));
    for (char16_t u : units) {
      if (u >= 0xD800 && u < 0xE000)
        return invalid("the filter '{}' splits text outside Unicode's basic plane", filter);
      out.emplace_back(js::utf8(std::u16string(1, u)));
    }
  } else {
    return invalid("the filter '{}' is given {}, not a list", filter,
                   js::is_undefined(v) ? "an undefined value" : v.type_name());
  }
  return out;
}

// JavaScript's parseInt(String(v), 10) and parseFloat(String(v)).
double parse_leading(const json& v, bool integer) {
  std::string s(js::trim_start(js::to_string(v)));
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    ++i;
  if (!integer && s.compare(i, 8, "Infinity") == 0)
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  std::size_t digits_start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i;
  std::size_t int_end = i;
  if (!integer && i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
  }
  if (i == digits_start || (i == digits_start + 1 && s[digits_start] == '.'))
    return k_nan;
  if (!integer && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t e = i + 1;
    if (e < s.size() && (s[e] == '+' || s[e] == '-'))
      ++e;
    if (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) {
      while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e])))
        ++e;
      i = e;
    }
  }
  std::string number = s.substr(0, integer ? int_end : i);
  return std::strtod(number.c_str(), nullptr);
}

std::string url_component(const std::string& s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) ||
        std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

// JavaScript's \s as an RE2 class over UTF-8.
constexpr std::string_view k_space_class =
    R"([\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}])";

std::string js_trim(std::string_view s) {
  return std::string(js::trim_end(js::trim_start(s)));
}

Result<json> striptags(const std::string& input, bool preserve_linebreaks) {
  static const RE2 k_tags(R"((?i)</?([a-z][a-z0-9]*)\b[^>]*>|<!--(?s:.*?)-->)");
  static const RE2 k_runs(fmt::format("{}+", k_space_class));
  std::string s = input;
  RE2::GlobalReplace(&s, k_tags, "");
  s = js_trim(s);
  if (preserve_linebreaks) {
    static const RE2 k_edge_spaces(R"((?m)^ +| +$)");
    static const RE2 k_spaces(" +");
    static const RE2 k_crlf("\r\n");
    static const RE2 k_breaks("\n\n\n+");
    RE2::GlobalReplace(&s, k_edge_spaces, "");
    RE2::GlobalReplace(&s, k_spaces, " ");
    RE2::GlobalReplace(&s, k_crlf, "\n");
    RE2::GlobalReplace(&s, k_breaks, "\n\n");
  } else {
    RE2::GlobalReplace(&s, k_runs, " ");
  }
  return s;
}

// Array.prototype.sort with a comparator on JavaScript's < and >: only lists whose sort keys are
// all numbers or all text, where the order is total.
Result<json> sort_list(const json& value, bool reversed, bool case_sensitive,
                       const json& attribute) {
  auto items = TRY(elements("sort", value));
  if (!value.is_array())
    return invalid("the filter 'sort' is given text, not a list");
  std::vector<std::string> parts;
  if (js::truthy(attribute)) {
    std::string a = js::to_string(attribute);
    for (std::size_t start = 0;;) {
      auto dot = a.find('.', start);
      parts.push_back(a.substr(start, dot - start));
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
  }
  auto key_of = [&](const json& item) {
    const json* v = &item;
    for (const auto& p : parts) {
      if (v->is_object() && v->contains(p))
        v = &(*v)[p];
      else
        return js::undefined();
    }
    json k = *v;
    if (!case_sensitive && k.is_string()) {
      std::string s = k.get<std::string>();
      for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      k = s;
    }
    return k;
  };
  std::vector<std::pair<json, json>> keyed;
  bool numbers = true, texts = true;
  for (auto& item : items) {
    json k = key_of(item);
    numbers = numbers && k.is_number() && !std::isnan(k.get<double>());
    texts = texts && k.is_string();
    if (k.is_string() && !case_sensitive &&
        std::any_of(k.get_ref<const std::string&>().begin(), k.get_ref<const std::string&>().end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      return invalid("the filter 'sort' of text that is not ASCII, without case_sensitive");
    keyed.emplace_back(std::move(k), std::move(item));
  }
  if (!numbers && !texts)
    return invalid("the filter 'sort' of a list whose keys are not all numbers or all text");
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reversed ? js::relational(x.first, y.first, ">") : js::relational(x.first, y.first, "<");
  });
  json out = json::array();
  for (auto& [_, item] : keyed)
    out.push_back(std::move(item));
  return out;
}

Result<json> replace(const json& input, const json& old_value, const json& new_value,
                     const json& max_count_arg) {
  double max_count = js::is_undefined(max_count_arg) ? -1 : js::to_number(max_count_arg);
  std::string old;
  if (old_value.is_number())
    old = js::to_string(old_value);
  else if (old_value.is_string())
    old = old_value.get<std::string>();
  else
    return input;
  json str = input.is_number() ? json(js::to_string(input)) : input;
  if (!str.is_string())
    return input;
  const std::string& s = str.get_ref<const std::string&>();
  std::string replacement = js::to_string(new_value);
  if (old.empty()) {
    auto chars = TRY(elements("replace", str));
    std::string res = replacement;
    for (std::size_t i = 0; i < chars.size(); ++i) {
      res += (i ? replacement : "") + chars[i].get<std::string>();
      if (res.size() > k_max_text)
        return bounded(std::move(res));
    }
    return TRY(bounded(res + replacement));
  }
  auto next = s.find(old);
  if (max_count == 0 || next == std::string::npos)
    return str;
  std::string res;
  std::size_t pos = 0;
  double count = 0;
  while (next != std::string::npos && (max_count == -1 || count < max_count)) {
    res += s.substr(pos, next - pos) + replacement;
    if (res.size() > k_max_text)
      return bounded(std::move(res));
    pos = next + old.size();
    ++count;
    next = s.find(old, pos);
  }
  if (pos < s.size())
    res += s.substr(pos);
  return res;
}

Result<json> truncate(const json& input_arg, const json& length_arg, const json& killwords,
                      const json& end) {
  json input = normalize(input_arg, "");
  double length = js::truthy(length_arg) ? js::to_number(length_arg) : 255;
  auto text = TRY(text_input("truncate", input));
  auto units = TRY(js::utf16(text));
  if (static_cast<double>(units.size()) <= length)
    return input;
  // String.prototype.substring and lastIndexOf clamp their positions.
  auto clamp = [&](double d) {
    if (std::isnan(d) || d < 0)
      return std::size_t{0};
    return static_cast<std::size_t>(std::min(d, static_cast<double>(units.size())));
  };
  std::u16string cut;
  if (js::truthy(killwords)) {
    cut = units.substr(0, clamp(length));
  } else {
    auto idx = units.rfind(u' ', clamp(length));
    cut = units.substr(0, idx == std::u16string::npos ? clamp(length) : idx);
  }
  return js::utf8(cut) + (js::is_nullish(end) ? std::string("...") : js::to_string(end));
}

} // namespace

Result<json> apply_filter(std::string_view name, const json& input, const std::vector<json>& args,
                          const KeywordArgs& kwargs) {
  if (!kwargs.empty() && name != "sort")
    return invalid("the filter '{}' with keyword arguments (nunjucks passes them as one more "
                   "argument, an object)",
                   name);
  auto a = [&](std::size_t i) { return arg(args, i); };
  if (name == "abs")
    return js::number(std::fabs(js::to_number(input)));
  if (name == "batch") {
    auto items = TRY(elements("batch", input));
    double linecount = js::to_number(a(0));
    json fill = a(1);
    json res = json::array(), tmp = json::array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (std::fmod(static_cast<double>(i), linecount) == 0 && !tmp.empty()) {
        res.push_back(tmp);
        tmp = json::array();
      }
      tmp.push_back(items[i]);
    }
    if (!tmp.empty()) {
      if (js::truthy(fill))
        for (double i = static_cast<double>(tmp.size());
             i < linecount && tmp.size() <= items.size(); ++i)
          tmp.push_back(fill);
      res.push_back(tmp);
    }
    return res;
  }
  if (name == "capitalize")
    return TRY(capitalize(TRY(text_input(name, normalize(input, "")))));
  if (name == "center") {
    auto s = TRY(text_input(name, normalize(input, "")));
    double width = js::truthy(a(0)) ? js::to_number(a(0)) : 80;
    double length = static_cast<double>(TRY(js::utf16(s)).size());
    if (length >= width)
      return s;
    double gap = width - length;
    if (gap > static_cast<double>(k_max_text))
      return invalid("the filter 'center' makes text longer than {} bytes", k_max_text);
    return spaces(gap / 2 - std::fmod(gap, 2)) + s + spaces(gap / 2);
  }
  if (name == "default" || name == "d") {
    if (js::truthy(a(1)))
      return js::truthy(input) ? input : a(0);
    return js::is_undefined(input) ? a(0) : input;
  }
  if (name == "dictsort") {
    if (!input.is_object())
      return invalid("the filter 'dictsort' is given {}, not an object", input.type_name());
    bool case_sensitive = js::truthy(a(0));
    json by = a(1);
    std::size_t si = 0;
    if (by == "value")
      si = 1;
    else if (!js::is_undefined(by) && by != "key")
      return invalid("the filter 'dictsort' sorts by key or value, not '{}'", js::to_string(by));
    std::vector<std::pair<json, json>> keyed; // (sort key, [key, value])
    for (const auto& [k, v] : input.items()) {
      json pair = json::array({k, v});
      json key = pair[si];
      if (!case_sensitive && key.is_string())
        key = TRY(change_case(name, key.get<std::string>(), true));
      keyed.emplace_back(std::move(key), std::move(pair));
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) {
      return js::relational(x.first, y.first, "<");
    });
    json out = json::array();
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      // nunjucks' comparator (a > b ? 1 : a === b ? 0 : -1) is an order only over texts or over
      // numbers; ties keep the object's order, as Array.prototype.sort is stable.
      const json& x = i ? keyed[i - 1].first : keyed[i].first;
      const json& y = keyed[i].first;
      bool same_kind = (x.is_string() && y.is_string()) ||
                       (x.is_number() && y.is_number() && !std::isnan(x.get<double>()) &&
                        !std::isnan(y.get<double>()));
      if (i && !js::relational(x, y, "<") && !(same_kind && x == y))
        return invalid("the filter 'dictsort' of keys or values that JavaScript cannot order "
                       "({} and {})",
                       x.type_name(), y.type_name());
      out.push_back(keyed[i].second);
    }
    return out;
  }
  if (name == "dump") {
    if (js::is_undefined(input))
      return js::undefined();
    std::string indent;
    json spacing = a(0);
    if (spacing.is_number()) {
      double n = std::min(10.0, std::floor(js::to_number(spacing)));
      indent = n >= 1 ? std::string(static_cast<std::size_t>(n), ' ') : "";
    } else if (spacing.is_string()) {
      indent = spacing.get<std::string>().substr(0, 10);
    }
    return TRY(bounded(js::stringify(input, indent)));
  }
  if (name == "escape" || name == "e" || name == "forceescape")
    return core::html_escape(js::is_nullish(input) ? "" : js_string(input));
  if (name == "first" || name == "last") {
    auto items = TRY(elements(name, input));
    if (items.empty())
      return js::undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "float" || name == "int") {
    double d = parse_leading(input, name == "int");
    return std::isnan(d) ? a(0) : js::number(d);
  }
  if (name == "indent") {
    auto s = TRY(text_input(name, normalize(input, "")));
    if (s.empty())
      return s;
    double width = js::truthy(a(0)) ? js::to_number(a(0)) : 4;
    if (width > static_cast<double>(k_max_text))
      return invalid("the filter 'indent' makes text longer than {} bytes", k_max_text);
    std::string sp = spaces(width), out;
    bool first = true;
    for (std::size_t start = 0;;) {
      auto nl = s.find('\n', start);
      out += (first ? "" : "\n") + ((first && !js::truthy(a(1))) ? "" : sp) +
             s.substr(start, nl - start);
      if (out.size() > k_max_text)
        return bounded(std::move(out));
      first = false;
      if (nl == std::string::npos)
        break;
      start = nl + 1;
    }
    return out;
  }
  if (name == "join") {
    if (!input.is_array())
      return invalid("the filter 'join' is given {}, not a list",
                     js::is_undefined(input) ? "an undefined value" : input.type_name());
    std::string sep = js::truthy(a(0)) ? js::to_string(a(0)) : "";
    json attr = a(1);
    std::string out;
    for (std::size_t i = 0; i < input.size(); ++i) {
      json v = input[i];
      if (js::truthy(attr)) {
        std::string key = js::to_string(attr);
        v = v.is_object() && v.contains(key) ? v[key] : js::undefined();
      }
      out += (i ? sep : "") + js_string(v);
      if (out.size() > k_max_text)
        return bounded(std::move(out));
    }
    return out;
  }
  if (name == "length") {
    json v = normalize(input, "");
    if (v.is_object())
      return v.size();
    if (v.is_array())
      return v.size();
    if (v.is_string())
      return TRY(js::utf16(v.get<std::string>())).size();
    return js::undefined();
  }
  if (name == "list") {
    if (input.is_object()) {
      json out = json::array();
      for (const auto& [k, v] : input.items())
        out.push_back({{"key", k}, {"value", v}});
      return out;
    }
    auto items = TRY(elements(name, input));
    return json(items);
  }
  if (name == "load") {
    std::string text = js::to_string(input);
    if (core::json_depth(text) > js::k_max_json_depth)
      return invalid("the filter 'load' is given JSON nested deeper than {} levels",
                     js::k_max_json_depth);
    json parsed = json::parse(text, nullptr, false);
    if (parsed.is_discarded())
      return invalid("the filter 'load' is given text that is not JSON");
    js::own_order(parsed);
    return parsed;
  }
  if (name == "lower" || name == "upper")
    return TRY(change_case(name, TRY(text_input(name, normalize(input, ""))), name == "upper"));
  if (name == "nl2br") {
    if (js::is_nullish(input))
      return std::string();
    auto s = TRY(text_input(name, input));
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        out += "<br />\n";
        ++i;
      } else if (s[i] == '\n') {
        out += "<br />\n";
      } else {
        out += s[i];
      }
    }
    return TRY(bounded(std::move(out)));
  }
  if (name == "replace")
    return replace(input, a(0), a(1), a(2));
  if (name == "reverse") {
    auto items = TRY(elements(name, input));
    std::reverse(items.begin(), items.end());
    if (input.is_string()) {
      std::string out;
      for (const auto& c : items)
        out += c.get<std::string>();
      return out;
    }
    return json(items);
  }
  if (name == "round") {
    double precision = js::truthy(a(0)) ? js::to_number(a(0)) : 0;
    double factor = std::pow(10.0, precision);
    double x = js::to_number(input) * factor;
    std::string method = a(1).is_string() ? a(1).get<std::string>() : "";
    double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::floor(x);
    if (method != "ceil" && method != "floor" && x - r >= 0.5)
      r += 1; // Math.round: halves go up
    return js::number(r / factor);
  }
  if (name == "safe")
    return js::is_nullish(input) ? std::string() : js_string(input);
  if (name == "sort") {
    json reverse = a(0), case_sensitive = a(1), attribute = a(2);
    for (const auto& [k, v] : kwargs) {
      if (k == "reverse")
        reverse = v;
      else if (k == "case_sensitive")
        case_sensitive = v;
      else if (k == "attribute")
        attribute = v;
      else
        return invalid("the filter 'sort' has no argument '{}'", k);
    }
    return sort_list(input, js::truthy(reverse), js::truthy(case_sensitive), attribute);
  }
  if (name == "string") {
    if (js::is_nullish(input))
      return invalid("the filter 'string' is given an undefined value (nunjucks fails on it)");
    return js_string(input);
  }
  if (name == "striptags")
    return striptags(TRY(text_input(name, normalize(input, ""))), js::truthy(a(0)));
  if (name == "sum") {
    auto items = TRY(elements(name, input));
    json attr = a(0);
    json total = 0;
    for (auto item : items) {
      if (js::truthy(attr)) {
        std::string key = js::to_string(attr);
        item = item.is_object() && item.contains(key) ? item[key] : js::undefined();
      }
      total = js::add(total, item);
      if (total.is_string() && total.get_ref<const std::string&>().size() > k_max_text)
        return invalid("the filter 'sum' makes text longer than {} bytes", k_max_text);
    }
    json start = js::is_undefined(a(1)) ? json(0) : a(1);
    return js::add(start, total);
  }
  if (name == "selectattr" || name == "rejectattr") {
    if (args.size() != 1)
      return invalid("the filter '{}' with other than one argument", name);
    auto items = TRY(elements(name, input));
    std::string key = js::to_string(a(0));
    json out = json::array();
    for (const auto& item : items) {
      bool set = item.is_object() && item.contains(key) && js::truthy(item[key]);
      if (set == (name == "selectattr"))
        out.push_back(item);
    }
    return out;
  }
  if (name == "select" || name == "reject") {
    // nunjucks' getSelectOrReject: the items whose test (truthy unless named) is true, or false.
    if (args.size() > 2)
      return invalid("the filter '{}' with more than two arguments", name);
    auto items = TRY(elements(name, input));
    std::string test = js::is_undefined(a(0)) ? std::string("truthy") : js::to_string(a(0));
    std::vector<json> test_args;
    if (args.size() == 2)
      test_args.push_back(a(1));
    json out = json::array();
    for (const auto& item : items)
      if (TRY(apply_test(test, item, test_args)) == (name == "select"))
        out.push_back(item);
    return out;
  }
  if (name == "slice") {
    // nunjucks' slice: `slices` lists, the first `length % slices` one longer; the others padded
    // with `fillWith` when it is given and truthy.
    auto items = TRY(elements(name, input));
    double slices = js::to_number(a(0));
    if (std::isnan(slices) || slices < 0 || slices > 10'000)
      return invalid("the filter 'slice' into {} lists", js::to_string(a(0)));
    auto count = static_cast<std::size_t>(slices);
    if (count == 0)
      return json::array();
    std::size_t length = items.size() / count, extra = items.size() % count, offset = 0;
    json out = json::array();
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t start = offset + i * length;
      if (i < extra)
        ++offset;
      std::size_t end = std::min(offset + (i + 1) * length, items.size());
      json part = json::array();
      for (std::size_t k = start; k < end; ++k)
        part.push_back(items[k]);
      if (js::truthy(a(1)) && i >= extra)
        part.push_back(a(1));
      out.push_back(std::move(part));
    }
    return out;
  }
  if (name == "groupby") {
    // nunjucks' lib.groupBy: an object from each item's attribute (a dotted path; a missing one
    // is "undefined") as text to the items that have it, in order.
    auto items = TRY(elements(name, input));
    std::vector<std::string> parts;
    if (a(0).is_number()) {
      parts.push_back(js::to_string(a(0)));
    } else {
      std::string path = js::to_string(a(0));
      for (std::size_t at = 0;;) {
        auto dot = path.find('.', at);
        parts.push_back(path.substr(at, dot == std::string::npos ? dot : dot - at));
        if (dot == std::string::npos)
          break;
        at = dot + 1;
      }
    }
    json out = json::object();
    for (const auto& item : items) {
      json v = item;
      for (const auto& part : parts) {
        if (v.is_object() && v.contains(part)) {
          json next = v[part];
          v = std::move(next);
        } else if (v.is_array() && !part.empty() &&
                   part.find_first_not_of("0123456789") == std::string::npos && part.size() < 10 &&
                   std::stoul(part) < v.size()) {
          json next = v[std::stoul(part)];
          v = std::move(next);
        } else {
          v = js::undefined();
          break;
        }
      }
      std::string key = js::is_undefined(v) ? std::string("undefined") : js::to_string(v);
      if (!out.contains(key))
        out[key] = json::array();
      out[key].push_back(item);
    }
    js::own_order(out);
    return out;
  }
  if (name == "title") {
    auto s = TRY(text_input(name, normalize(input, "")));
    std::string out;
    for (std::size_t start = 0;;) {
      auto sp = s.find(' ', start);
      out += (start ? " " : "") + TRY(capitalize(s.substr(start, sp - start)));
      if (sp == std::string::npos)
        break;
      start = sp + 1;
    }
    return out;
  }
  if (name == "trim")
    return js_trim(TRY(text_input(name, input)));
  if (name == "truncate")
    return truncate(input, a(0), a(1), a(2));
  if (name == "urlencode") {
    if (input.is_string())
      return url_component(input.get<std::string>());
    std::string out;
    auto pair = [&](const json& k, const json& v) {
      out += (out.empty() ? "" : "&") + url_component(js::to_string(k)) + "=" +
             url_component(js::to_string(v));
    };
    if (input.is_array()) {
      for (const auto& p : input)
        pair(p.is_array() && !p.empty() ? p[0] : js::undefined(),
             p.is_array() && p.size() > 1 ? p[1] : js::undefined());
    } else if (input.is_object()) {
      for (const auto& [k, v] : input.items())
        pair(k, v);
    } else {
      return invalid("the filter 'urlencode' is given {}", input.type_name());
    }
    return out;
  }
  if (name == "wordcount") {
    json v = normalize(input, "");
    if (!js::truthy(v))
      return nullptr;
    auto s = TRY(text_input(name, v));
    std::size_t words = 0;
    bool in_word = false;
    for (char c : s) {
      bool w = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      words += w && !in_word;
      in_word = w;
    }
    return words ? json(words) : json(nullptr);
  }
  if (name == "random")
    return invalid("the filter 'random' picks at random; its case has no one input");
  return invalid("the template filter '{}' is not one of Nunjucks' built-in filters evalkeep "
                 "renders (a custom filter from nunjucksFilters is code)",
                 name);
}

Result<bool> apply_test(std::string_view name, const json& input, const std::vector<json>& args) {
  auto a = [&](std::size_t i) { return arg(args, i); };
  if (name == "defined")
    return !js::is_undefined(input);
  if (name == "undefined")
    return js::is_undefined(input);
  if (name == "null" || name == "none")
    return input.is_null();
  if (name == "number")
    return input.is_number();
  if (name == "string")
    return input.is_string();
  if (name == "mapping")
    return input.is_object();
  if (name == "truthy")
    return js::truthy(input);
  if (name == "falsy")
    return !js::truthy(input);
  if (name == "odd" || name == "even") {
    double r = std::fmod(js::to_number(input), 2);
    return name == "odd" ? r == 1 : r == 0;
  }
  if (name == "divisibleby")
    return std::fmod(js::to_number(input), js::to_number(a(0))) == 0;
  if (name == "equalto" || name == "eq" || name == "sameas")
    return js::strict_equal(input, a(0));
  if (name == "ne")
    return !TRY(js::strict_equal(input, a(0)));
  if (name == "lower" || name == "upper") {
    if (!input.is_string())
      return invalid("the test '{}' of {}, not text", name, input.type_name());
    auto changed = TRY(change_case(name, input.get<std::string>(), name == "upper"));
    return changed == input.get<std::string>();
  }
  if (name == "gt" || name == "greaterthan")
    return js::relational(input, a(0), ">");
  if (name == "ge")
    return js::relational(input, a(0), ">=");
  if (name == "lt" || name == "lessthan")
    return js::relational(input, a(0), "<");
  if (name == "le")
    return js::relational(input, a(0), "<=");
  return invalid("the template test 'is {}' is not one evalkeep renders", name);
}

} // namespace evalkeep::interop
