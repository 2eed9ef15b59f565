// Reads a promptfoo configuration: every test crossed with every prompt becomes a case whose
// input is the prompt rendered with the test's vars, as promptfoo 0.123 renders it.

#include "core/json_text.hpp"
#include "interop/csv.hpp"
#include "interop/promptfoo_assert.hpp"
#include "interop/reading.hpp"
#include "interop/template.hpp"
#include "interop/template_values.hpp"
#include "interop/yaml_tree.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <utility>

namespace evalkeep::interop {

// Read as promptfoo's JavaScript holds it: objects keep their keys in the order written.
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

struct Prompt {
  std::string raw;
  std::string label;     // given in the config, else empty
  std::string reference; // "file://..." when read from a file
  std::string where;
};

struct Test {
  json value;
  Where where;
  std::string id_base;  // FILESTEM-N, the id when nothing better is given
  std::string suffix{}; // added to its cases' ids: the config entry of a scenario
};

// The keys of a test, and what evalkeep does with each.
constexpr std::string_view k_test_keys[] = {"description", "vars",    "assert",
                                            "metadata",    "options", "provider",
                                            "providers",   "prompts", "threshold"};
// Test options that do not change what is asked or checked.
constexpr std::string_view k_neutral_options[] = {
    "provider",    "disableVarExpansion", "disableConversationVar",
    "runSerially", "storeOutputAs",       "delay"};

bool is_code_file(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".js" || ext == ".cjs" || ext == ".mjs" || ext == ".ts" || ext == ".py" ||
         ext == ".rb";
}

std::string file_stem(const std::string& file) {
  std::string stem = slug(fs::path(file).stem().string());
  return stem.empty() ? "test" : stem;
}

// Merges two mappings, the second's keys winning.
json merged(const json& base, const json& over) {
  json out = base.is_object() ? base : json::object();
  if (over.is_object())
    for (const auto& [k, v] : over.items())
      out[k] = v;
  return out;
}

// promptfoo types whose score is 1 when they pass and 0 when they fail.
constexpr std::string_view k_all_or_nothing_types[] = {"equals",
                                                       "contains",
                                                       "icontains",
                                                       "contains-all",
                                                       "icontains-all",
                                                       "contains-any",
                                                       "icontains-any",
                                                       "starts-with",
                                                       "regex",
                                                       "is-json",
                                                       "contains-json",
                                                       "not-equals",
                                                       "not-contains",
                                                       "not-icontains",
                                                       "not-contains-all",
                                                       "not-icontains-all",
                                                       "not-contains-any",
                                                       "not-icontains-any",
                                                       "not-starts-with",
                                                       "not-regex",
                                                       "not-contains-json"};

// A threshold as promptfoo reads it: a number, or (from a CSV's __threshold) number text.
std::optional<double> threshold_number(const json& t) {
  if (t.is_number())
    return t.get<double>();
  if (!t.is_string())
    return std::nullopt;
  const std::string& s = t.get_ref<const std::string&>();
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

// Whether an assert-set scores 1 exactly when it passes: all its assertions score 1 or 0 (or are
// such sets), so its weighted mean is 1 only when all pass. A threshold of 1 over it then asks
// what evalkeep asks of its assertions opened out.
bool scores_one_only_when_passing(const json& a, int depth) {
  if (depth > 8 || !a.is_object() || a.value("type", json()) != "assert-set" ||
      !a.contains("assert") || !a["assert"].is_array() || a["assert"].empty())
    return false;
  for (const auto& c : a["assert"]) {
    std::string type = c.is_object() && c.contains("type") && c["type"].is_string()
                           ? c["type"].get<std::string>()
                           : "";
    json w = c.is_object() ? c.value("weight", json(1)) : json();
    if (!w.is_number() || w.get<double>() <= 0)
      return false;
    if (std::find(std::begin(k_all_or_nothing_types), std::end(k_all_or_nothing_types), type) ==
            std::end(k_all_or_nothing_types) &&
        !scores_one_only_when_passing(c, depth + 1))
      return false;
  }
  return true;
}

// Whether promptfoo's pass rule for a threshold over `asserts` (pass when the weighted mean score
// reaches it) is evalkeep's rule (pass when every assertion passes): every assertion scores 1 or
// 0 with a positive weight, and the threshold is at most 1 but above what is left when the
// lightest one fails. An empty reason when it is; else why not.
std::string threshold_differs(const json& threshold, const std::vector<json>& asserts) {
  if (threshold.is_null())
    return {}; // promptfoo ignores a threshold that is not a number
  auto t = threshold_number(threshold);
  if (!t)
    return "the threshold is not a number";
  double total = 0, lightest = 0;
  for (const auto& a : asserts) {
    std::string type = a.is_object() && a.contains("type") && a["type"].is_string()
                           ? a["type"].get<std::string>()
                           : "";
    if (std::find(std::begin(k_all_or_nothing_types), std::end(k_all_or_nothing_types), type) ==
            std::end(k_all_or_nothing_types) &&
        !(*t == 1 && scores_one_only_when_passing(a, 0)))
      return fmt::format("\"{}\" scores between 0 and 1, so the test may pass with it failing",
                         type.empty() ? "?" : type);
    json w = a.value("weight", json(1));
    if (!w.is_number() || w.get<double>() <= 0)
      return "an assertion's weight is not a positive number";
    double weight = w.get<double>();
    lightest = total == 0 ? weight : std::min(lightest, weight);
    total += weight;
  }
  if (total == 0)
    return "there is no assertion to weigh";
  if (*t > 1)
    return fmt::format("a threshold of {} is never reached", *t);
  if (*t <= 1 - lightest / total)
    return fmt::format("with a threshold of {} the test passes with an assertion failing", *t);
  return {};
}

// JSON text nested deeper than a configuration ever is (js::k_max_json_depth).
bool too_deep(std::string_view text) {
  return core::json_depth(text) > js::k_max_json_depth && json::accept(text);
}

// More cases than this from one test is a mistake or a hostile file, not a suite.
constexpr std::size_t k_max_combinations = 10'000;

// Whether promptfoo makes a case of each value of a var: a list whose first value is text (a list
// of messages or numbers is one value).
bool expands(const json& value) {
  return value.is_array() && !value.empty() && value[0].is_string();
}

// How many combinations the array-valued vars make, counted up to past k_max_combinations.
std::size_t count_combinations(const json& vars) {
  std::size_t n = 1;
  for (const auto& [_, value] : vars.items())
    if (expands(value))
      n = std::min(n * value.size(), k_max_combinations + 1);
  return n;
}

// Every combination of the values of the array-valued vars, in promptfoo's order.
std::vector<json> expand_vars(const json& vars) {
  std::vector<json> combos{json::object()};
  for (const auto& [key, value] : vars.items()) {
    std::vector<json> next;
    for (const auto& combo : combos) {
      if (expands(value)) {
        for (const auto& v : value) {
          json c = combo;
          c[key] = v;
          next.push_back(std::move(c));
        }
      } else {
        json c = combo;
        c[key] = value;
        next.push_back(std::move(c));
      }
    }
    combos = std::move(next);
  }
  return combos;
}

// The first {{ NAME }} (\{\{\s*(\w+)\s*\}\}) in `text`, scanned.
struct Reference {
  std::size_t at = 0, length = 0;
  std::string name;
};
std::optional<Reference> first_reference(const std::string& text) {
  auto space = [&](std::size_t i) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    return i;
  };
  for (auto at = text.find("{{"); at != std::string::npos; at = text.find("{{", at + 1)) {
    auto begin = space(at + 2), end = begin;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
      ++end;
    auto close = space(end);
    if (end > begin && text.compare(close, 2, "}}") == 0)
      return Reference{at, close + 2 - at, text.substr(begin, end - begin)};
  }
  return std::nullopt;
}

// promptfoo's resolveVariables: a var whose value names another var ("{{ item }}") gets that
// var's value, first reference first, for at most five rounds.
void resolve_variables(json& vars) {
  for (int round = 0; round < 5; ++round) {
    bool changed = false;
    for (auto& [key, value] : vars.items()) {
      if (!value.is_string())
        continue;
      std::string text = value.get<std::string>();
      auto ref = first_reference(text);
      if (!ref || !vars.contains(ref->name))
        continue;
      text.replace(ref->at, ref->length, js_string(vars[ref->name]));
      value = text;
      changed = true;
    }
    if (!changed)
      return;
  }
}

// The var combinations a test stands for: expanded unless its options say not to, each with
// one trailing newline dropped (as promptfoo reads vars) and its references resolved.
std::vector<json> combinations(const json& vars, const json& options) {
  bool expand = !options.value("disableVarExpansion", false);
  std::vector<json> combos = expand ? expand_vars(vars) : std::vector<json>{vars};
  for (auto& combo : combos) {
    for (auto& [_, value] : combo.items())
      if (value.is_string() && value.get<std::string>().ends_with('\n'))
        value = value.get<std::string>().substr(0, value.get<std::string>().size() - 1);
    resolve_variables(combo);
  }
  return combos;
}

// A case for the test's combination `v` of `combos` and prompt `p` of `prompts`: named after
// its description (or its place), with suffixes that tell the combinations and prompts apart.
CaseDraft draft_for(const Test& test, std::size_t v, std::size_t combos, const Prompt& prompt,
                    std::size_t p, std::size_t prompts) {
  const json& t = test.value;
  CaseDraft draft;
  draft.where = test.where.str();
  draft.format_label = "promptfoo";
  if (t.contains("description")) {
    draft.c.title = t["description"].get<std::string>();
    draft.fallback_id = slug(*draft.c.title);
  }
  if (draft.fallback_id.empty())
    draft.fallback_id = test.id_base;
  draft.suffix = test.suffix;
  if (combos > 1)
    draft.suffix += fmt::format("-v{}", v + 1);
  if (prompts > 1) {
    std::string label = slug(prompt.label);
    draft.suffix += "-" + (label.empty() ? fmt::format("p{}", p + 1) : label);
  }
  return draft;
}

class Reader {
public:
  Reader(const ReadContext& ctx, std::string source) : m_ctx(ctx), m_source(std::move(source)) {}

  Result<Reading> read(std::string_view text) {
    auto doc = TRY(parse_yaml(text, m_source));
    const json& root = doc.value;
    const Where& w = doc.where;
    if (!root.is_object())
      return invalid("{}: a promptfoo configuration is a mapping with prompts and tests", m_source);
    if (!root.contains("prompts"))
      return invalid("{}: no prompts", m_source);
    if (!root.contains("tests") && !root.contains("scenarios"))
      return invalid("{}: no tests", m_source);
    TRY(load_prompts(root["prompts"], w.key("prompts")));
    json default_test = json::object();
    Where default_where = w.key("defaultTest");
    if (root.contains("defaultTest")) {
      default_test = root["defaultTest"];
      if (default_test.is_string()) {
        auto loaded = TRY(load_default_test(default_test.get<std::string>(), default_where));
        std::tie(default_test, default_where) = std::move(loaded);
      }
      if (!default_test.is_object())
        return invalid("{}: defaultTest must be a mapping", default_where.str());
    }
    if (root.contains("assertionTemplates"))
      m_templates = root["assertionTemplates"];
    if (root.contains("extensions"))
      skip_test_hooks(root["extensions"], w.key("extensions"));
    if (root.contains("tests"))
      TRY(load_tests(root["tests"], w.key("tests")));
    if (root.contains("scenarios"))
      TRY(load_scenarios(root["scenarios"], w.key("scenarios")));
    for (const auto& t : m_tests)
      TRY(convert(t, default_test, default_where));
    return std::move(m_reading);
  }

private:
  // promptfoo calls an extension named file://FILE:afterEach or :afterAll after each test or the
  // eval only, to record what happened; any other is called before them too, and a beforeAll or
  // beforeEach hook may change the tests and their vars, so what promptfoo runs is not what the
  // file says. evalkeep runs no hooks: those are left out, and the tests come over as written.
  void skip_test_hooks(const json& extensions, const Where& w) {
    if (!extensions.is_array()) {
      if (!extensions.is_null())
        skip(m_reading, w.str(), "extensions must be a list of hooks",
             "extensions (hooks that may change the tests)");
      return;
    }
    for (std::size_t i = 0; i < extensions.size(); ++i) {
      const json& e = extensions[i];
      if (e.is_string()) {
        const auto& ref = e.get_ref<const std::string&>();
        auto colon = ref.rfind(':');
        std::string_view hook =
            ref.starts_with("file://") && colon != std::string::npos && colon > 8
                ? std::string_view(ref).substr(colon + 1)
                : std::string_view();
        if (hook == "afterEach" || hook == "afterAll")
          continue;
      }
      skip(m_reading, w.index(i).str(),
           fmt::format("extension {}: promptfoo calls it before the eval and each test too, and "
                       "a beforeAll or beforeEach hook may change the tests and their vars; "
                       "evalkeep runs no hooks (only :afterEach and :afterAll ones change "
                       "nothing it imports)",
                       e.dump()),
           "extensions (hooks that may change the tests)");
    }
  }

  Status load_prompts(const json& v, const Where& w) {
    if (v.is_string())
      return add_prompt(v.get<std::string>(), "", w);
    if (v.is_object()) {
      // The older form: {"file://prompt.txt": "label"}.
      for (const auto& [ref, label] : v.items()) {
        if (!ref.starts_with("file://") || !label.is_string())
          return invalid("{}: prompts must be a list", w.str());
        TRY(add_prompt_file(ref, label.get<std::string>(), w.key(ref)));
      }
      return {};
    }
    if (!v.is_array() || v.empty())
      return invalid("{}: prompts must be a list of prompts", w.str());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const json& p = v[i];
      Where pw = w.index(i);
      if (p.is_string()) {
        TRY(add_prompt(p.get<std::string>(), "", pw));
        continue;
      }
      if (!p.is_object())
        return invalid("{}: a prompt is text or a mapping with raw or id", pw.str());
      std::string label = p.contains("label") && p["label"].is_string() ? p["label"] : "";
      if (p.contains("function")) {
        skip(m_reading, pw.str(), "a prompt function is code; its cases are not imported",
             "a prompt written as code");
      } else if (p.contains("raw") && p["raw"].is_string()) {
        std::string id = p.contains("id") && p["id"].is_string() ? p["id"].get<std::string>() : "";
        m_prompts.push_back({p["raw"], label, id, pw.str()});
      } else if (p.contains("id") && p["id"].is_string()) {
        TRY(add_prompt(p["id"].get<std::string>(), label, pw));
      } else {
        return invalid("{}: a prompt mapping needs raw or id", pw.str());
      }
    }
    return {};
  }

  Status add_prompt(const std::string& text, const std::string& label, const Where& w) {
    if (text.starts_with("file://"))
      return add_prompt_file(text, label, w);
    if (auto scheme = remote_scheme(text)) {
      skip(m_reading, w.str(),
           fmt::format("{}: a prompt kept by {}:// is fetched from it; its cases are not imported",
                       text, *scheme),
           "a remote prompt");
      return {};
    }
    m_prompts.push_back({text, label, "", w.str()});
    return {};
  }

  // The scheme of a prompt that is only a reference to a prompt kept elsewhere (langfuse://,
  // helicone://, portkey://, ...): one word, SCHEME://..., not a web address, which promptfoo
  // sends as it is.
  static std::optional<std::string> remote_scheme(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0 ||
        text.find_first_of(" \t\r\n") != std::string_view::npos)
      return std::nullopt;
    auto scheme = text.substr(0, sep);
    bool word =
        std::isalpha(static_cast<unsigned char>(scheme.front())) &&
        std::all_of(scheme.begin(), scheme.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
    if (!word || scheme == "http" || scheme == "https")
      return std::nullopt;
    return std::string(scheme);
  }

  // Reads each file a file:// reference names; a file of code is left out, saying `code`.
  template <typename Use>
  Status each_file(const std::string& ref, const Where& w, std::string_view code, Use use) {
    auto files = TRY(expand_reference(ref, m_ctx.base_dir, w.str()));
    for (const auto& file : files) {
      std::string name = file.string();
      if (is_code_file(file) || name.find(".py:") != std::string::npos ||
          name.find(".js:") != std::string::npos) {
        skip(m_reading, w.str(), fmt::format("{} ({}) is code; {}", ref, name, code),
             "a file of code");
        continue;
      }
      auto text = TRY(read_referenced(file, w.str()));
      TRY(use(file, text));
    }
    return {};
  }

  Status add_prompt_file(const std::string& ref, const std::string& label, const Where& w) {
    return each_file(ref, w, "a prompt written as code is not imported",
                     [&](const fs::path& file, const std::string& content) -> Status {
                       const std::string name = file.string();
                       const std::string ext = file.extension().string();
                       const std::string* text = &content;
                       if (too_deep(*text))
                         return invalid("{}: nested more than {} levels deep", name,
                                        js::k_max_json_depth);
                       if (ext == ".json" && json::accept(*text)) {
                         m_prompts.push_back({json::parse(*text).dump(), label, ref, name});
                       } else if (ext == ".yaml" || ext == ".yml") {
                         auto doc = TRY(parse_yaml(*text, name));
                         m_prompts.push_back({doc.value.dump(), label, ref, name});
                       } else if (ext == ".jsonl") {
                         std::istringstream in(*text);
                         int n = 0;
                         for (std::string line; std::getline(in, line);) {
                           ++n;
                           if (!line.empty() && line.back() == '\r')
                             line.pop_back();
                           if (!line.empty())
                             m_prompts.push_back({line, label, ref, fmt::format("{}:{}", name, n)});
                         }
                       } else if (ext == ".csv") {
                         TRY(add_csv_prompts(*text, label, ref, name));
                       } else if (ext == ".md" || ext == ".json") {
                         m_prompts.push_back({*text, label, ref, name});
                       } else {
                         // Text prompts: one per part between lines of "---".
                         std::istringstream in(*text);
                         std::string part;
                         auto flush = [&] {
                           std::string raw(part);
                           auto first = raw.find_first_not_of(" \t\r\n");
                           if (first != std::string::npos) {
                             raw = raw.substr(first, raw.find_last_not_of(" \t\r\n") - first + 1);
                             m_prompts.push_back({raw, label, ref, name});
                           }
                           part.clear();
                         };
                         for (std::string line; std::getline(in, line);) {
                           if (!line.empty() && line.back() == '\r')
                             line.pop_back();
                           auto t = line.find_first_not_of(" \t");
                           if (t != std::string::npos &&
                               line.substr(t, line.find_last_not_of(" \t") - t + 1) == "---")
                             flush();
                           else
                             part += (part.empty() ? "" : "\n") + line;
                         }
                         flush();
                       }
                       return {};
                     });
  }

  // A CSV of prompts, as promptfoo's processCsvPrompts reads it: with no comma, one prompt a
  // line (a first line "prompt" is a header); else a `prompt` column and an optional `label`
  // column, cells trimmed, rows without a prompt skipped. Unlabelled prompts are "Prompt N - TEXT".
  Status add_csv_prompts(const std::string& text, const std::string& label, const std::string& ref,
                         const std::string& name) {
    auto blank = [](std::string_view s) {
      return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
    };
    auto trimmed = [](const std::string& s) {
      auto first = s.find_first_not_of(" \t");
      return first == std::string::npos ? std::string()
                                        : s.substr(first, s.find_last_not_of(" \t") - first + 1);
    };
    auto add = [&](const std::string& raw, const std::string& own_label, std::size_t n,
                   std::size_t line) {
      std::string l = !own_label.empty() ? own_label
                      : !label.empty()   ? label
                                         : fmt::format("Prompt {} - {}", n, raw);
      m_prompts.push_back({raw, l, ref, fmt::format("{}:{}", name, line)});
    };
    if (text.find(',') == std::string::npos) {
      std::istringstream in(text);
      std::size_t line_no = 0, n = 0;
      bool first = true;
      for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        if (blank(line))
          continue;
        std::string lower = trimmed(line);
        for (char& c : lower)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (std::exchange(first, false) && lower == "prompt")
          continue;
        add(line, "", ++n, line_no);
      }
      return {};
    }
    auto table = TRY(parse_csv(text, name));
    auto column = [&](std::string_view want) -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < table.header.size(); ++i)
        if (trimmed(table.header[i]) == want)
          return i;
      return std::nullopt;
    };
    auto prompt_col = column("prompt");
    auto label_col = column("label");
    if (!prompt_col)
      return invalid("{}: a CSV of prompts has a 'prompt' column (and optionally 'label')", name);
    std::size_t n = 0;
    for (const auto& row : table.rows) {
      std::string raw = trimmed(row.cells[*prompt_col]);
      if (raw.empty())
        continue;
      add(raw, label_col ? trimmed(row.cells[*label_col]) : "", ++n, row.line);
    }
    return {};
  }

  Result<std::pair<json, Where>> load_default_test(const std::string& ref, const Where& w) {
    auto files = TRY(expand_reference(ref, m_ctx.base_dir, w.str()));
    auto text = TRY(read_referenced(files.front(), w.str()));
    auto doc = TRY(parse_yaml(text, files.front().string()));
    return std::pair{doc.value, doc.where};
  }

  Status load_tests(const json& v, const Where& w) {
    if (v.is_string())
      return add_test_file(v.get<std::string>(), w);
    if (!v.is_array())
      return invalid("{}: tests must be a list, or a file:// reference", w.str());
    std::size_t inline_count = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_string()) {
        TRY(add_test_file(v[i].get<std::string>(), w.index(i)));
      } else {
        m_tests.push_back(
            {v[i], w.index(i), fmt::format("{}-{}", file_stem(m_source), ++inline_count)});
      }
    }
    return {};
  }

  // promptfoo's scenarios, after the tests: each entry of a scenario's config crossed with each of
  // its tests (or one empty test), the test's fields over the entry's, vars, options and metadata
  // merged, the entry's assertions first. A scenario, or a list of them, may be a file://.
  Status load_scenarios(const json& v, const Where& w) {
    std::vector<std::pair<json, Where>> scenarios;
    auto add = [&](const json& entry, const Where& ew) -> Status {
      if (!entry.is_string()) {
        scenarios.emplace_back(entry, ew);
        return {};
      }
      for (const auto& file :
           TRY(expand_reference(entry.get<std::string>(), m_ctx.base_dir, ew.str()))) {
        auto doc = TRY(parse_yaml(TRY(read_referenced(file, ew.str())), file.string()));
        if (doc.value.is_array())
          for (std::size_t i = 0; i < doc.value.size(); ++i)
            scenarios.emplace_back(doc.value[i], doc.where.index(i));
        else
          scenarios.emplace_back(doc.value, doc.where);
      }
      return {};
    };
    if (v.is_array())
      for (std::size_t i = 0; i < v.size(); ++i)
        TRY(add(v[i], w.index(i)));
    else
      TRY(add(v, w));
    std::size_t number = 0;
    for (const auto& [scenario, sw] : scenarios) {
      ++number;
      if (!scenario.is_object() || !scenario.contains("config") || !scenario["config"].is_array())
        return invalid("{}: a scenario is a mapping with a config list (and tests)", sw.str());
      std::vector<Test> tests;
      if (scenario.contains("tests")) {
        std::swap(tests, m_tests);
        auto loaded = load_tests(scenario["tests"], sw.key("tests"));
        std::swap(tests, m_tests);
        if (!loaded)
          return std::unexpected(loaded.error());
      } else {
        tests.push_back({json::object(), sw, ""});
      }
      const json& config = scenario["config"];
      for (std::size_t k = 0; k < config.size(); ++k) {
        const json& data = config[k];
        Where dw = sw.key("config").index(k);
        if (!data.is_object())
          return invalid("{}: a scenario's config entry must be a mapping", dw.str());
        for (const char* key : {"vars", "options", "metadata"})
          if (data.contains(key) && !data[key].is_object() && !data[key].is_null())
            return invalid("{}: {} of a scenario's config entry must be a mapping", dw.str(), key);
        std::string suffix;
        if (config.size() > 1) {
          std::string label = data.contains("description") && data["description"].is_string()
                                  ? slug(data["description"].get<std::string>())
                                  : "";
          suffix = "-" + (label.empty() ? fmt::format("c{}", k + 1) : label);
        }
        for (std::size_t t = 0; t < tests.size(); ++t) {
          const json& test = tests[t].value;
          if (!test.is_object())
            return invalid("{}: a test must be a mapping", tests[t].where.str());
          json merged_test = data;
          for (const auto& [key, value] : test.items())
            merged_test[key] = value;
          for (const char* key : {"vars", "options", "metadata"})
            if (data.contains(key) || test.contains(key))
              merged_test[key] =
                  merged(data.value(key, json::object()), test.value(key, json::object()));
          json asserts = json::array();
          for (const json* source : {&data, &test})
            if (source->contains("assert") && (*source)["assert"].is_array())
              for (const auto& a : (*source)["assert"])
                asserts.push_back(a);
          if (!asserts.empty())
            merged_test["assert"] = std::move(asserts);
          std::string base = fmt::format("{}-scenario{}-{}", file_stem(m_source), number, t + 1);
          m_tests.push_back({std::move(merged_test), tests[t].where, base, suffix});
        }
      }
    }
    return {};
  }

  Status add_test_file(const std::string& ref, const Where& w) {
    if (!ref.starts_with("file://")) {
      skip(m_reading, w.str(),
           fmt::format("tests from '{}' are {}; they are not imported", ref,
                       ref.find("://") != std::string::npos ? "a dataset fetched from the network"
                                                            : "not a file:// reference"),
           "tests not from a file");
      return {};
    }
    return each_file(
        ref, w, "tests generated by code are not imported",
        [&](const fs::path& file, const std::string& content) -> Status {
          const std::string name = file.string();
          const std::string ext = file.extension().string();
          const std::string stem = file_stem(name);
          const std::string* text = &content;
          if (ext == ".csv") {
            auto table = TRY(parse_csv(*text, name));
            std::size_t n = 0;
            for (const auto& row : table.rows)
              m_tests.push_back({test_from_csv_row(table.header, row.cells),
                                 Where{name, static_cast<int>(row.line), "", nullptr},
                                 fmt::format("{}-{}", stem, ++n)});
          } else if (ext == ".jsonl") {
            std::istringstream in(*text);
            int line_no = 0;
            std::size_t n = 0;
            for (std::string line; std::getline(in, line);) {
              ++line_no;
              if (line.find_first_not_of(" \t\r") == std::string::npos)
                continue;
              if (core::json_depth(line) > js::k_max_json_depth)
                return invalid("{}:{}: nested more than {} levels deep", name, line_no,
                               js::k_max_json_depth);
              json j = json::parse(line, nullptr, false);
              if (j.is_discarded() || !j.is_object())
                return invalid("{}:{}: each line must be a JSON object (a test)", name, line_no);
              m_tests.push_back({std::move(j), Where{name, line_no, "", nullptr},
                                 fmt::format("{}-{}", stem, ++n)});
            }
          } else if (ext == ".yaml" || ext == ".yml" || ext == ".json") {
            auto doc = TRY(parse_yaml(*text, name));
            if (doc.value.is_object()) {
              m_tests.push_back({doc.value, doc.where, stem + "-1"});
            } else if (doc.value.is_array()) {
              for (std::size_t i = 0; i < doc.value.size(); ++i)
                m_tests.push_back(
                    {doc.value[i], doc.where.index(i), fmt::format("{}-{}", stem, i + 1)});
            } else {
              return invalid("{}: a test file holds a list of tests", name);
            }
          } else {
            return invalid("{}: '{}': tests are read from .yaml, .yml, .json, .jsonl or .csv files",
                           w.str(), name);
          }
          return {};
        });
  }

  // A CSV row as promptfoo reads it: vars by header, __expected* assertions, __description,
  // __metadata:KEY (KEY[] splits on unescaped commas) and the rest of promptfoo's columns.
  static json test_from_csv_row(const std::vector<std::string>& header,
                                const std::vector<std::string>& cells) {
    json t{{"vars", json::object()}, {"assert", json::array()}};
    for (std::size_t i = 0; i < header.size(); ++i) {
      const std::string& key = header[i];
      const std::string& value = cells[i];
      bool blank = value.find_first_not_of(" \t\r\n") == std::string::npos;
      if (key.starts_with("__expected")) {
        if (!blank)
          t["assert"].push_back(json(assertion_from_cell(value)));
      } else if (key == "__description") {
        if (!value.empty())
          t["description"] = value;
      } else if (key == "__prefix" || key == "__suffix") {
        t["options"][key.substr(2)] = value;
      } else if (key.starts_with("__metadata:")) {
        std::string name = key.substr(11);
        if (blank)
          continue;
        if (name.ends_with("[]")) {
          json list = json::array();
          std::string item;
          for (std::size_t k = 0; k <= value.size(); ++k) {
            if (k < value.size() && value[k] == '\\' && k + 1 < value.size() &&
                value[k + 1] == ',') {
              item += ',';
              ++k;
            } else if (k == value.size() || value[k] == ',') {
              auto f = item.find_first_not_of(" \t");
              list.push_back(f == std::string::npos
                                 ? std::string()
                                 : item.substr(f, item.find_last_not_of(" \t") - f + 1));
              item.clear();
            } else {
              item += value[k];
            }
          }
          t["metadata"][name.substr(0, name.size() - 2)] = std::move(list);
        } else {
          t["metadata"][name] = value;
        }
      } else if (key == "__metric" || key == "__metadata") {
        // A metric name only labels scores; a bare __metadata column is ignored by promptfoo.
      } else if (key == "__threshold") {
        if (!blank)
          t["threshold"] = value;
      } else if (key == "__providerOutput") {
        if (!blank)
          t["providerOutput"] = value;
      } else if (key.starts_with("__config:")) {
        if (!blank)
          t["csv_config"][key] = value;
      } else {
        t["vars"][key] = value;
      }
    }
    return t;
  }

  static std::string test_name(const json& t, std::size_t index) {
    if (t.contains("description") && t["description"].is_string())
      return fmt::format("test \"{}\"", t["description"].get<std::string>());
    return fmt::format("test {}", index);
  }

  // Loads file:// vars as promptfoo does: text files' contents, YAML as JSON text.
  Result<bool> load_var_files(json& vars, const std::string& where, const std::string& name) {
    for (auto& [key, value] : vars.items()) {
      if (!value.is_string() || !value.get<std::string>().starts_with("file://"))
        continue;
      auto files = TRY(expand_reference(value.get<std::string>(), m_ctx.base_dir, where));
      const fs::path& file = files.front();
      std::string ext = file.extension().string();
      static constexpr std::string_view k_binary[] = {".jpg",  ".jpeg", ".png", ".gif", ".bmp",
                                                      ".webp", ".svg",  ".pdf", ".mp3", ".wav",
                                                      ".mp4",  ".webm", ".ogg", ".m4a"};
      if (is_code_file(file) ||
          std::find(std::begin(k_binary), std::end(k_binary), ext) != std::end(k_binary)) {
        skip(m_reading, where,
             fmt::format("{}: var \"{}\" comes from {}, which is not text; the test is not "
                         "imported",
                         name, key, file.string()),
             "a var that is not text");
        return false;
      }
      auto text = TRY(read_referenced(file, where));
      if (ext == ".yaml" || ext == ".yml") {
        auto doc = TRY(parse_yaml(text, file.string()));
        js::own_order(doc.value);
        value = js::stringify(doc.value, "");
      } else {
        auto first = text.find_first_not_of(" \t\r\n");
        value = first == std::string::npos
                    ? std::string()
                    : text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
      }
    }
    return true;
  }

  // The test's input for one prompt, rendered as promptfoo renders it; an error says why it
  // cannot be.
  Result<std::vector<suite::Message>> render_input(const Prompt& prompt, const json& vars,
                                                   const json& options) {
    std::string raw = options.value("prefix", "") + prompt.raw + options.value("suffix", "");
    std::string rendered;
    if (too_deep(raw))
      return invalid("the prompt is JSON nested more than {} levels deep", js::k_max_json_depth);
    json as_json = json::parse(raw, nullptr, false);
    if (!as_json.is_discarded()) {
      // A JSON prompt: promptfoo renders each string inside it.
      Status failed;
      std::function<void(json&)> walk = [&](json& j) {
        if (j.is_string()) {
          auto r = render_template(j.get<std::string>(), vars);
          if (!r)
            failed = std::unexpected(r.error());
          else
            j = *r;
        } else if (j.is_structured()) {
          for (auto& e : j)
            walk(e);
        }
      };
      walk(as_json);
      if (!failed)
        return std::unexpected(failed.error());
      rendered = as_json.dump();
    } else {
      // A text prompt: string vars are rendered first (those naming only defined vars).
      json rendered_vars = vars;
      for (auto& [key, v] : rendered_vars.items()) {
        if (!v.is_string())
          continue;
        auto names = template_variables(v.get<std::string>());
        bool defined = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
          return n == "env" || vars.contains(n);
        });
        if (!defined)
          continue;
        auto r = render_template(v.get<std::string>(), vars);
        if (!r)
          return with_context(r.error(), fmt::format("var \"{}\"", key));
        v = *r;
      }
      auto r = TRY(render_template(raw, rendered_vars));
      rendered = r;
    }
    // The provider reads a rendered prompt that is a JSON (or YAML) list of messages as a chat.
    auto first = rendered.find_first_not_of(" \t\r\n");
    std::string_view trimmed =
        first == std::string::npos ? std::string_view{} : std::string_view(rendered).substr(first);
    json chat;
    if (trimmed.starts_with("- role:")) {
      auto doc = TRY(parse_yaml(rendered, prompt.where));
      chat = doc.value;
    } else {
      if (too_deep(rendered))
        return invalid("the prompt renders to JSON nested more than {} levels deep",
                       js::k_max_json_depth);
      chat = json::parse(rendered, nullptr, false);
      if (chat.is_discarded()) {
        if (trimmed.starts_with("{") || trimmed.starts_with("["))
          return invalid("the prompt renders to text that starts like JSON but is not JSON");
        return std::vector<suite::Message>{{"user", rendered}};
      }
    }
    auto messages = as_messages(chat);
    if (!messages)
      return invalid("the prompt renders to JSON that is not a list of {{role, content}} text "
                     "messages");
    return *messages;
  }

  // Lists the fields and options of a test (and of defaultTest) evalkeep cannot bring over, all of
  // them; false when there is any.
  bool supported_fields(const Test& test, const json& default_test, const Where& default_where,
                        const std::string& name) {
    if (test.value.contains("path")) {
      skip(m_reading, test.where.str(),
           fmt::format("{}: a test generator ({{path, config}}) is code; its tests are not "
                       "imported",
                       name),
           "tests generated by code");
      return false;
    }
    bool usable = true;
    for (const auto* source : {&default_test, &test.value}) {
      const Where& sw = source == &test.value ? test.where : default_where;
      for (const auto& [key, value] : source->items()) {
        if (key == "csv_config" || key == "providerOutput" || key == "assertScoringFunction" ||
            std::find(std::begin(k_test_keys), std::end(k_test_keys), key) ==
                std::end(k_test_keys)) {
          std::string what = key == "providerOutput" ? "a fixed provider output"
                             : key == "csv_config"   ? "assertion settings from __config columns"
                                                     : fmt::format("the field \"{}\"", key);
          skip(m_reading, sw.key(key).str(),
               fmt::format("{}: {} is not supported; the test is not imported", name, what),
               fmt::format("the test field \"{}\"", key));
          usable = false;
        }
      }
      if (source->contains("options") && (*source)["options"].is_object())
        for (const auto& [key, _] : (*source)["options"].items())
          if (key != "prefix" && key != "suffix" && key != "transform" && key != "postprocess" &&
              key != "rubricPrompt" && key != "factuality" &&
              std::find(std::begin(k_neutral_options), std::end(k_neutral_options), key) ==
                  std::end(k_neutral_options)) {
            skip(m_reading, sw.key("options").key(key).str(),
                 fmt::format("{}: options.{} changes the prompt or the answer; the test is not "
                             "imported",
                             name, key),
                 fmt::format("options.{}", key));
            usable = false;
          }
    }
    if (!threshold_and_grading_kept(test, default_test, default_where, name))
      usable = false;
    return usable;
  }

  // The assertions of a test and its defaultTest as written, $refs resolved and assert-sets
  // opened (the set itself listed too).
  void listed_asserts(const json& list, std::vector<json>& out, bool open_sets, int depth) const {
    if (!list.is_array() || depth > 8)
      return;
    for (const auto& a : list) {
      auto r = resolve_template(a);
      const json& v = r ? *r : a;
      out.push_back(v);
      if (open_sets && v.is_object() && v.value("type", json()) == "assert-set" &&
          v.contains("assert"))
        listed_asserts(v["assert"], out, open_sets, depth + 1);
    }
  }

  // A threshold is kept when it passes the test exactly when all its assertions pass; a grading
  // prompt (options.rubricPrompt) when no assertion is graded by a model. Lists them otherwise.
  bool threshold_and_grading_kept(const Test& test, const json& default_test,
                                  const Where& default_where, const std::string& name) {
    const json& t = test.value;
    bool kept = true;
    if (t.contains("threshold") || default_test.contains("threshold")) {
      const bool own = t.contains("threshold");
      std::vector<json> top;
      for (const json* source : {&default_test, &t})
        if (source->contains("assert"))
          listed_asserts((*source)["assert"], top, false, 0);
      std::string why = threshold_differs(own ? t["threshold"] : default_test["threshold"], top);
      if (!why.empty()) {
        skip(m_reading, (own ? test.where : default_where).key("threshold").str(),
             fmt::format("{}: a pass threshold over weighted assertions is not supported ({}); "
                         "the test is not imported",
                         name, why),
             "the test field \"threshold\"");
        kept = false;
      }
    }
    for (const json* source : {&t, &default_test}) {
      if (!source->contains("options") || !(*source)["options"].is_object() ||
          !(*source)["options"].contains("rubricPrompt"))
        continue;
      std::vector<json> all;
      for (const json* s : {&default_test, &t})
        if (s->contains("assert"))
          listed_asserts((*s)["assert"], all, true, 0);
      for (const auto& a : all) {
        std::string type = a.is_object() && a.contains("type") && a["type"].is_string()
                               ? a["type"].get<std::string>()
                               : "";
        bool ungraded =
            std::find(std::begin(k_all_or_nothing_types), std::end(k_all_or_nothing_types), type) !=
                std::end(k_all_or_nothing_types) ||
            type == "javascript" || type == "python" || type == "latency" || type == "cost" ||
            type == "assert-set";
        if (!ungraded) {
          const Where& sw = source == &t ? test.where : default_where;
          skip(m_reading, sw.key("options").key("rubricPrompt").str(),
               fmt::format("{}: options.rubricPrompt replaces the grading prompt of \"{}\" "
                           "(evalkeep's judge grades with its own); the test is not imported",
                           name, type.empty() ? "?" : type),
               "options.rubricPrompt");
          kept = false;
          break;
        }
      }
      break; // the test's own options win over defaultTest's
    }
    return kept;
  }

  // The assertions of defaultTest first, then the test's own, each with its place; $ref templates
  // resolved.
  Result<std::vector<std::pair<json, Where>>> collect_asserts(const Test& test,
                                                              const json& default_test,
                                                              const Where& default_where,
                                                              const std::string& name) {
    std::vector<std::pair<json, Where>> asserts;
    for (const auto* source : {&default_test, &test.value}) {
      const Where& sw = source == &test.value ? test.where : default_where;
      if (!source->contains("assert") || (*source)["assert"].is_null())
        continue;
      const json& list = (*source)["assert"];
      if (!list.is_array())
        return invalid("{}: assert must be a list", sw.key("assert").str());
      for (std::size_t i = 0; i < list.size(); ++i)
        add_assert(asserts, list[i], sw.key("assert").index(i), name, 0);
    }
    return asserts;
  }

  // Adds an assertion, its $ref resolved; an assert-set whose pass rule is "all of them pass"
  // (no threshold, or one that only all of them reach) becomes its assertions.
  void add_assert(std::vector<std::pair<json, Where>>& asserts, const json& a, const Where& aw,
                  const std::string& name, int depth) {
    auto resolved = resolve_template(a);
    if (!resolved) {
      skip(m_reading, aw.str(), fmt::format("{}: assert: {}", name, resolved.error().message),
           "an assertion $ref");
      return;
    }
    if (!resolved->is_object() || resolved->value("type", json()) != "assert-set") {
      asserts.emplace_back(std::move(*resolved), aw);
      return;
    }
    const json& set = *resolved;
    std::string why;
    for (const auto& [key, _] : set.items())
      if (key != "type" && key != "assert" && key != "threshold" && key != "weight" &&
          key != "metric" && why.empty())
        why = fmt::format("its \"{}\" changes how it is checked", key);
    if (why.empty() &&
        (!set.contains("assert") || !set["assert"].is_array() || set["assert"].empty()))
      why = "it needs a non-empty list of assertions under \"assert\"";
    if (why.empty() && depth >= 8)
      why = "it is nested in more than 8 other assert-sets";
    if (why.empty()) {
      std::vector<json> children;
      for (const auto& c : set["assert"]) {
        auto r = resolve_template(c);
        children.push_back(r ? *r : c);
      }
      why = threshold_differs(set.value("threshold", json()), children);
    }
    if (!why.empty()) {
      skip(m_reading, aw.str(), fmt::format("{}: assert \"assert-set\": {}", name, why),
           "assert \"assert-set\"");
      return;
    }
    for (std::size_t j = 0; j < set["assert"].size(); ++j)
      add_assert(asserts, set["assert"][j], aw.key("assert").index(j), name, depth + 1);
  }

  // A test's vars: a mapping, or read from files (file://PATH or a glob, or a list of them) merged
  // in order. nullopt when they are computed by code, which is listed.
  Result<std::optional<json>> vars_of(const json& source, const Where& sw,
                                      const std::string& name) {
    const Where vw = sw.key("vars");
    if (!source.contains("vars") || source["vars"].is_null())
      return json::object();
    const json& v = source["vars"];
    if (v.is_object())
      return v;
    auto is_ref = [](const json& r) {
      return r.is_string() && r.get_ref<const std::string&>().starts_with("file://");
    };
    if (!is_ref(v) && !(v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), is_ref)))
      return invalid("{}: vars must be a mapping, or files given as file://", vw.str());
    json out = json::object();
    for (const auto& ref : v.is_array() ? v : json::array({v})) {
      for (const auto& file :
           TRY(expand_reference(ref.get<std::string>(), m_ctx.base_dir, vw.str()))) {
        if (is_code_file(file)) {
          skip(m_reading, vw.str(),
               fmt::format("{}: vars from {} are computed by code; the test is not imported", name,
                           file.string()),
               "vars read from code");
          return std::optional<json>();
        }
        auto doc = TRY(parse_yaml(TRY(read_referenced(file, vw.str())), file.string()));
        if (!doc.value.is_object())
          return invalid("{}: the vars in {} must be a mapping", vw.str(), file.string());
        out = merged(out, doc.value);
      }
    }
    return out;
  }

  // For a test left out for its fields, its assertions of a type evalkeep lacks are listed too:
  // one refusal tells all that stands in the way.
  void list_types_without_counterpart(const Test& test, const json& default_test,
                                      const Where& default_where, const std::string& name) {
    auto asserts = collect_asserts(test, default_test, default_where, name);
    if (!asserts)
      return; // a malformed list is reported once the test's fields are fixed
    for (const auto& [a, aw] : *asserts) {
      if (!a.is_object() || !a.contains("type") || !a["type"].is_string() ||
          has_counterpart(a["type"].get<std::string>()))
        continue;
      std::string type = a["type"].get<std::string>();
      auto mapped = from_promptfoo(a);
      skip(m_reading, aw.str(),
           fmt::format("{}: assert \"{}\": {}", name, type,
                       mapped ? std::string("no counterpart") : mapped.error().message),
           fmt::format("assert \"{}\"", type));
    }
  }

  // The prompts a test runs with: those its `prompts` names, or all.
  Result<std::vector<const Prompt*>> prompts_of(const json& t, const std::string& where) const {
    std::vector<const Prompt*> prompts;
    if (!t.contains("prompts")) {
      for (const auto& p : m_prompts)
        prompts.push_back(&p);
      return prompts;
    }
    if (!t["prompts"].is_array())
      return invalid("{}: prompts must be a list of prompt labels", where);
    for (const auto& p : m_prompts)
      for (const auto& want : t["prompts"])
        if (want.is_string() && (want == p.label || want == p.reference || want == p.raw)) {
          prompts.push_back(&p);
          break;
        }
    return prompts;
  }

  // Adds to the draft the evalkeep assertions of the test's assertions, rendered with `vars`;
  // those without a counterpart are listed.
  void map_asserts(CaseDraft& draft, const std::vector<std::pair<json, Where>>& asserts,
                   const json& vars, const json& test_transform, const std::string& name,
                   const ScriptSources& sources) {
    for (const auto& [a, aw] : asserts) {
      json rendered = a;
      if (auto s = render_value(rendered, vars); !s) {
        skip(m_reading, aw.str(), fmt::format("{}: assert: {}", name, s.error().message),
             "an assertion value that cannot be rendered");
        continue;
      }
      auto mapped = from_promptfoo(rendered, vars, test_transform, sources);
      if (!mapped) {
        std::string type = a.is_object() && a.contains("type") && a["type"].is_string()
                               ? a["type"].get<std::string>()
                               : "?";
        skip(m_reading, aw.str(),
             fmt::format("{}: assert \"{}\": {}", name, type, mapped.error().message),
             fmt::format("assert \"{}\"", type));
        continue;
      }
      for (auto& m : *mapped)
        draft.c.expect.push_back(std::move(m));
    }
  }

  Status convert(const Test& test, const json& default_test, const Where& default_where) {
    const json& t = test.value;
    const std::string where = test.where.str();
    if (!t.is_object())
      return invalid("{}: a test must be a mapping", where);
    std::size_t number = m_converted++ + 1;
    std::string name = test_name(t, number);
    bool usable = supported_fields(test, default_test, default_where, name);
    for (const char* key : {"metadata", "options"})
      for (const json* source : {&default_test, &t})
        if (source->contains(key) && !(*source)[key].is_object() && !(*source)[key].is_null())
          return invalid("{}: {} must be a mapping", where, key);
    if (t.contains("description") && !t["description"].is_string())
      return invalid("{}: description must be text", where);
    for (const json* source : {&default_test, &t}) {
      if (!source->contains("options") || !(*source)["options"].is_object())
        continue;
      const json& o = (*source)["options"];
      const std::string ow = (source == &t ? test.where : default_where).key("options").str();
      for (const char* key : {"prefix", "suffix"})
        if (o.contains(key) && !o[key].is_string())
          return invalid("{}: options.{} must be text", ow, key);
      for (const char* key : {"disableVarExpansion", "disableConversationVar", "runSerially"})
        if (o.contains(key) && !o[key].is_boolean())
          return invalid("{}: options.{} must be true or false", ow, key);
      if (o.contains("factuality"))
        TRY(factuality_scores(o["factuality"], ow));
    }
    if (!usable) {
      list_types_without_counterpart(test, default_test, default_where, name);
      return {};
    }

    auto default_vars = TRY(vars_of(default_test, default_where, name));
    auto own_vars = TRY(vars_of(t, test.where, name));
    if (!default_vars || !own_vars)
      return {};
    // {...defaultTest.vars, ...test.vars}: defaultTest's keys first, array indices before all.
    json vars = merged(*default_vars, *own_vars);
    js::own_order(vars);
    json metadata =
        merged(default_test.value("metadata", json::object()), t.value("metadata", json::object()));
    json options =
        merged(default_test.value("options", json::object()), t.value("options", json::object()));
    auto loaded = TRY(load_var_files(vars, where, name));
    if (!loaded)
      return {};
    auto asserts = TRY(collect_asserts(test, default_test, default_where, name));
    auto prompts = TRY(prompts_of(t, where));
    if (!options.value("disableVarExpansion", false) &&
        count_combinations(vars) * std::max<std::size_t>(prompts.size(), 1) > k_max_combinations) {
      skip(m_reading, where,
           fmt::format("{}: its array vars and prompts make more than {} cases; the test is not "
                       "imported",
                       name, k_max_combinations),
           "a test of too many combinations");
      return {};
    }

    note_grading_providers(asserts, test, default_test, default_where);
    // options.transform runs in front of every assertion (checked with each of them); when it
    // is absent or empty, promptfoo runs options.postprocess, its older name, instead.
    json test_transform = options.value("transform", json());
    if (!js::truthy(test_transform))
      test_transform = options.value("postprocess", json());
    // options.factuality scores the categories of the test's factuality assertions.
    const auto categories = TRY(factuality_scores(options.value("factuality", json()), where));
    ScriptFiles files;
    TRY(read_script_files(files, test_transform, true, where));
    for (const auto& [a, aw] : asserts)
      TRY(read_script_files(files, a, false, aw.str()));
    std::vector<json> combos = combinations(vars, options);
    for (std::size_t v = 0; v < combos.size(); ++v) {
      for (std::size_t p = 0; p < prompts.size(); ++p) {
        const Prompt& prompt = *prompts[p];
        CaseDraft draft = draft_for(test, v, combos.size(), prompt, p, prompts.size());
        auto input = render_input(prompt, combos[v], options);
        if (!input) {
          skip(m_reading, where,
               fmt::format("{} with the prompt at {}: {}; the case is not imported", name,
                           prompt.where, input.error().message),
               "a prompt that cannot be rendered");
          continue;
        }
        // promptfoo gives a program its test's own description (defaultTest's is not merged)
        // and its metadata over defaultTest's.
        ScriptSources sources{&files, is_text_prompt(prompt, options, combos[v], *input),
                              t.value("description", json()), metadata};
        set_input(draft.c, std::move(*input));
        map_asserts(draft, asserts, combos[v], test_transform, name, sources);
        for (auto& a : draft.c.expect)
          if (a.type == scoring::AssertionType::judge && a.grader == scoring::Grader::factuality)
            a.categories = categories;
        if (draft.c.expect.empty()) {
          skip(m_reading, where,
               fmt::format("{}: no assertion evalkeep can check; the test is not imported", name),
               "a test left with no assertion");
          continue;
        }
        TRY(add_case(m_reading, m_ctx, std::move(draft), metadata));
      }
    }
    return {};
  }

  // The factuality category scores of options.factuality ({subset, superset, agree, disagree,
  // differButFactual}, each defaulting to promptfoo's), in order A to E; empty when it is absent
  // or gives the defaults.
  static Result<std::vector<double>> factuality_scores(const json& o, const std::string& where) {
    static constexpr std::string_view k_names[] = {"subset", "superset", "agree", "disagree",
                                                   "differButFactual"};
    if (o.is_null())
      return std::vector<double>();
    if (!o.is_object())
      return invalid("{}: options.factuality must be a mapping of category scores ({})", where,
                     fmt::join(k_names, ", "));
    std::vector<double> scores(std::begin(scoring::k_factuality_scores),
                               std::end(scoring::k_factuality_scores));
    for (const auto& [key, value] : o.items()) {
      auto it = std::find(std::begin(k_names), std::end(k_names), key);
      if (it == std::end(k_names))
        return invalid("{}: options.factuality has no category \"{}\" (it has {})", where, key,
                       fmt::join(k_names, ", "));
      if (!value.is_number() || !std::isfinite(value.get<double>()))
        return invalid("{}: options.factuality.{} must be a number", where, key);
      scores[static_cast<std::size_t>(it - std::begin(k_names))] = value.get<double>();
    }
    if (std::equal(scores.begin(), scores.end(), std::begin(scoring::k_factuality_scores)))
      scores.clear();
    return scores;
  }

  // Lists the grading providers the test names (its and defaultTest's options.provider, its
  // model-graded assertions' provider), each once in the whole configuration.
  void note_grading_providers(const std::vector<std::pair<json, Where>>& asserts, const Test& test,
                              const json& default_test, const Where& default_where) {
    auto note = [&](const json& provider, const Where& where) {
      std::string name = grading_provider_name(provider);
      auto& list = m_reading.grading_providers;
      if (std::none_of(list.begin(), list.end(), [&](const auto& p) { return p.name == name; }))
        list.push_back({std::move(name), where.str()});
    };
    for (const auto* source : {&default_test, &test.value})
      if (source->contains("options") && (*source)["options"].is_object() &&
          (*source)["options"].contains("provider"))
        note((*source)["options"]["provider"],
             (source == &test.value ? test.where : default_where).key("options").key("provider"));
    for (const auto& [a, aw] : asserts)
      if (a.is_object() && a.contains("provider") && a.contains("type") && a["type"].is_string() &&
          graded_by_model(a["type"].get<std::string>()))
        note(a["provider"], aw.key("provider"));
  }

  // Reads the programs an assertion (or a test's transform) names as file://; a missing file or
  // function is an error naming `where`.
  Status read_script_files(ScriptFiles& files, const json& source, bool transform,
                           const std::string& where) const {
    for (const auto& ref : script_references(source)) {
      if (files.contains(ref))
        continue;
      // An assertion's own transform is split as a transform; its value as an assertion.
      bool as_transform =
          transform || (source.is_object() && source.value("transform", json()) == json(ref));
      auto file = TRY(read_script_file(ref, as_transform, m_ctx.base_dir, where));
      files.emplace(ref, std::move(file));
    }
    return {};
  }

  // Whether promptfoo's context.prompt is the case's input as text: the prompt is text (not a
  // chat written as JSON or YAML, nor a var at its start that may hold one) and rendered to one
  // user message.
  static bool is_text_prompt(const Prompt& prompt, const json& options, const json& vars,
                             const std::vector<suite::Message>& input) {
    auto chat_like = [](std::string_view text) {
      auto first = text.find_first_not_of(" \t\r\n");
      auto t = first == std::string::npos ? std::string_view{} : text.substr(first);
      return t.starts_with("[") || (t.starts_with("{") && !t.starts_with("{{")) ||
             t.starts_with("- role:");
    };
    std::string raw = options.value("prefix", "") + prompt.raw + options.value("suffix", "");
    if (input.size() != 1 || input[0].role != "user" || json::accept(raw) || chat_like(raw))
      return false;
    if (raw.find_first_not_of(" \t\r\n") != raw.find("{{"))
      return true;
    return std::none_of(vars.begin(), vars.end(), [&](const json& v) {
      return v.is_string() && chat_like(v.get_ref<const std::string&>());
    });
  }

  // An assertion written as {$ref: "#/assertionTemplates/NAME"} is that template; any other
  // assertion is itself.
  Result<json> resolve_template(const json& a) const {
    if (!a.is_object() || !a.contains("$ref"))
      return a;
    constexpr std::string_view k_prefix = "#/assertionTemplates/";
    const json& ref = a["$ref"];
    if (a.size() != 1 || !ref.is_string())
      return invalid("a $ref is a mapping with nothing but the reference as text");
    std::string_view r = ref.get_ref<const std::string&>();
    if (!r.starts_with(k_prefix))
      return invalid("$ref '{}' is not one of this configuration's assertionTemplates", r);
    std::string name(r.substr(k_prefix.size()));
    if (!m_templates.is_object() || !m_templates.contains(name))
      return invalid("$ref '{}': assertionTemplates has no template '{}'", r, name);
    const json& t = m_templates[name];
    if (!t.is_object() || t.contains("$ref"))
      return invalid("$ref '{}': the template must be an assertion, not another $ref", r);
    return t;
  }

  static Status render_value(json& assertion, const json& vars) {
    if (!assertion.is_object() || !assertion.contains("value"))
      return {};
    json& value = assertion["value"];
    auto render = [&](json& s) -> Status {
      if (!s.is_string() || s.get<std::string>().starts_with("file://"))
        return {};
      auto r = TRY(render_template(s.get<std::string>(), vars));
      s = r;
      return {};
    };
    if (value.is_array()) {
      for (auto& e : value)
        TRY(render(e));
      return {};
    }
    return render(value);
  }

  const ReadContext& m_ctx;
  std::string m_source;
  Reading m_reading;
  std::vector<Prompt> m_prompts;
  std::vector<Test> m_tests;
  json m_templates; // assertionTemplates, for {$ref: "#/assertionTemplates/NAME"}
  std::size_t m_converted = 0;
};

} // namespace

Result<Reading> read_promptfoo(std::string_view text, const std::string& source,
                               const ReadContext& ctx) {
  Reader reader(ctx, source);
  return reader.read(text);
}

} // namespace evalkeep::interop
