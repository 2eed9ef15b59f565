#include "interop/promptfoo_assert.hpp"

#include "interop/reading.hpp"
#include "interop/template.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <sstream>

namespace evalkeep::interop {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using scoring::Assertion;
using scoring::AssertionType;

namespace {

// promptfoo's own assertion types (0.123), which its CSV shorthand recognises.
constexpr std::array<std::string_view, 67> k_promptfoo_types{"agent-rubric",
                                                             "answer-relevance",
                                                             "bleu",
                                                             "classifier",
                                                             "contains",
                                                             "contains-all",
                                                             "contains-any",
                                                             "contains-html",
                                                             "contains-json",
                                                             "contains-sql",
                                                             "contains-xml",
                                                             "context-faithfulness",
                                                             "context-recall",
                                                             "context-relevance",
                                                             "conversation-relevance",
                                                             "cost",
                                                             "equals",
                                                             "factuality",
                                                             "finish-reason",
                                                             "g-eval",
                                                             "gleu",
                                                             "guardrails",
                                                             "icontains",
                                                             "icontains-all",
                                                             "icontains-any",
                                                             "is-html",
                                                             "is-json",
                                                             "is-refusal",
                                                             "is-sql",
                                                             "is-valid-function-call",
                                                             "is-valid-openai-function-call",
                                                             "is-valid-openai-tools-call",
                                                             "is-xml",
                                                             "javascript",
                                                             "latency",
                                                             "levenshtein",
                                                             "llm-rubric",
                                                             "pi",
                                                             "meteor",
                                                             "model-graded-closedqa",
                                                             "model-graded-factuality",
                                                             "moderation",
                                                             "perplexity",
                                                             "perplexity-score",
                                                             "python",
                                                             "regex",
                                                             "rouge-n",
                                                             "ruby",
                                                             "similar",
                                                             "similar:cosine",
                                                             "similar:dot",
                                                             "similar:euclidean",
                                                             "starts-with",
                                                             "tool-call-f1",
                                                             "skill-used",
                                                             "trajectory:goal-success",
                                                             "trajectory:tool-args-match",
                                                             "trajectory:step-count",
                                                             "trajectory:tool-sequence",
                                                             "trajectory:tool-used",
                                                             "trace-error-spans",
                                                             "trace-span-count",
                                                             "trace-span-duration",
                                                             "search-rubric",
                                                             "webhook",
                                                             "word-count",
                                                             "select-best"};

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The values of a list assertion: a list, or a comma-separated string as promptfoo's CSV
// shorthand gives.
Result<std::vector<std::string>> list_values(const json& v, std::string_view type) {
  std::vector<std::string> out;
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
      if (i == s.size() || s[i] == ',') {
        out.emplace_back(trim(std::string_view(s).substr(start, i - start)));
        start = i + 1;
      }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string() && !e.is_number())
        return invalid("{} needs a list of text values", type);
      out.push_back(js_string(e));
    }
  } else {
    return invalid("{} needs a list of values", type);
  }
  if (out.empty())
    return invalid("{} needs at least one value", type);
  return out;
}

Result<std::string> text_value(const json& v, std::string_view type) {
  if (v.is_string() || v.is_number() || v.is_boolean())
    return js_string(v);
  if (v.is_null())
    return invalid("{} needs a value", type);
  return invalid("{} with a JSON value (compared as JSON) has no exact counterpart", type);
}

// The pattern of a case-insensitive regex as evalkeep's export writes it (JavaScript's RegExp
// has no inline (?i), so it becomes a flag of the constructor), or nothing for other code.
std::optional<std::string> icase_regex(const json& value) {
  constexpr std::string_view head = "new RegExp(", tail = ", 'i').test(output)";
  if (!value.is_string())
    return std::nullopt;
  std::string_view code = value.get_ref<const std::string&>();
  if (!code.starts_with(head) || !code.ends_with(tail))
    return std::nullopt;
  auto pattern = json::parse(code.substr(head.size(), code.size() - head.size() - tail.size()),
                             nullptr, false);
  if (!pattern.is_string())
    return std::nullopt;
  return pattern.get<std::string>();
}

// A JSON Schema given as a promptfoo value: a mapping, or JSON text (a CSV cell's form).
Result<json> schema_value(const json& v, std::string_view type) {
  if (v.is_object() || v.is_boolean()) {
    // Whether promptfoo renders the texts inside a mapping is not something to bet a case on.
    auto text = v.dump();
    for (std::string_view tag : {"{{", "{%", "{#"})
      if (text.find(tag) != std::string::npos)
        return invalid("a JSON Schema of {} that holds template syntax ({}) is not imported", type,
                       tag);
    return v;
  }
  if (v.is_string()) {
    auto parsed = json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_object() || parsed.is_boolean())
      return parsed;
  }
  return invalid("the value of {} must be a JSON Schema (a mapping), got {}", type,
                 v.dump().substr(0, 80));
}

// The negated and list string checks and JSON with a schema; nullopt for other types.
std::optional<Status> string_or_json_check(const std::string& type, const json& value,
                                           std::vector<json>& out) {
  auto text = [&](std::string_view evalkeep_type) -> Status {
    auto t = TRY(text_value(value, type));
    out.push_back({{"type", evalkeep_type}, {"value", t}});
    return {};
  };
  auto list = [&](std::string_view evalkeep_type) -> Status {
    auto values = TRY(list_values(value, type));
    out.push_back({{"type", evalkeep_type}, {"values", values}});
    return {};
  };
  auto each = [&](std::string_view evalkeep_type) -> Status { // all of them: one per value
    for (const auto& v : TRY(list_values(value, type)))
      out.push_back({{"type", evalkeep_type}, {"value", v}});
    return {};
  };
  if (type == "not-equals" || type == "not-icontains" || type == "not-starts-with" ||
      type == "not-regex")
    return text(type);
  if (type == "contains-any" || type == "icontains-any" || type == "not-contains-all" ||
      type == "not-icontains-all")
    return list(type);
  if (type == "contains-all" || type == "icontains-all")
    return each(type == "contains-all" ? "contains" : "icontains");
  if (type == "not-contains-any" || type == "not-icontains-any") // none of them
    return each(type == "not-contains-any" ? "not-contains" : "not-icontains");
  if (type == "is-json" || type == "contains-json" || type == "not-contains-json") {
    json j{{"type", type}};
    if (!value.is_null())
      j["schema"] = TRY(schema_value(value, type));
    if (type == "is-json") // JSON.parse of the whole answer: a fenced one is not JSON
      j["strict"] = true;
    out.push_back(std::move(j));
    return Status{};
  }
  if (type == "not-is-json") {
    // promptfoo checks a not-is-json's schema only once the answer is not JSON, against nothing.
    if (!value.is_null())
      return invalid("a not-is-json with a schema has no counterpart: promptfoo validates the "
                     "schema against no value once the answer is not JSON");
    out.push_back({{"type", "not-is-json"}, {"strict", true}});
    return Status{};
  }
  return std::nullopt;
}

// The tool names of a promptfoo list: a list of names, or one name (tool-call-f1: names separated
// by commas), trimmed, empty ones dropped, each once.
Result<json> tool_names(const json& v, std::string_view type, bool comma_separated) {
  std::vector<std::string> names;
  auto add = [&](std::string_view n) {
    auto t = std::string(trim(n));
    if (!t.empty() && std::find(names.begin(), names.end(), t) == names.end())
      names.push_back(std::move(t));
  };
  if (v.is_string() && comma_separated) {
    for (const auto& n : TRY(list_values(v, type)))
      add(n);
  } else if (v.is_string()) {
    add(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string())
        return invalid("{} needs tool names as text, got {}", type, e.dump().substr(0, 80));
      add(e.get<std::string>());
    }
  } else {
    return invalid("{} needs a tool name or a list of them", type);
  }
  if (names.empty())
    return invalid("{} needs at least one tool name", type);
  return json(names);
}

Status keys_within(const json& v, std::initializer_list<std::string_view> keys,
                   std::string_view type) {
  for (const auto& [key, _] : v.items())
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return invalid("\"{}\" in the value of {} has no counterpart in evalkeep", key, type);
  return {};
}

// An object or array of arguments holding an object inside an array: promptfoo's partial match
// matches such items partially, where tool-args compares arrays as they are.
bool object_in_array(const json& v, bool in_array = false) {
  if (v.is_object())
    return in_array ||
           std::any_of(v.begin(), v.end(), [](const json& e) { return object_in_array(e, false); });
  if (v.is_array())
    return std::any_of(v.begin(), v.end(), [](const json& e) { return object_in_array(e, true); });
  return false;
}

// promptfoo's trajectory:tool-used and its negation; the names match exactly (no pattern).
Status tool_used(const std::string& type, const json& value, std::vector<json>& out) {
  bool negated = type.starts_with("not-");
  if (!value.is_object()) {
    for (const auto& n : TRY(tool_names(value, type, false)))
      out.push_back(negated ? json{{"type", "no-tool-call"}, {"name", n}}
                            : json{{"type", "tool-called"}, {"name", n}});
    return {};
  }
  if (negated)
    return invalid("{} with a count has no counterpart in evalkeep", type);
  TRY(keys_within(value, {"name", "min", "max"}, type));
  if (!value.contains("name") || !value["name"].is_string())
    return invalid("{} needs a tool \"name\" (a pattern has no counterpart)", type);
  auto min = value.value("min", json(1));
  if (value.contains("max")) {
    if (value["max"] != 0 || value.contains("min"))
      return invalid("{} with a \"max\" other than 0 has no counterpart in evalkeep", type);
    out.push_back({{"type", "no-tool-call"}, {"name", value["name"]}});
    return {};
  }
  if (!min.is_number() || min.get<double>() < 1)
    return invalid("{} needs a \"min\" of at least 1", type);
  out.push_back({{"type", "tool-called"}, {"name", value["name"]}, {"min", min}});
  return {};
}

Status tool_args_match(const std::string& type, const json& value, std::vector<json>& out) {
  if (!value.is_object())
    return invalid("{} needs an object with a tool \"name\" and its \"args\"", type);
  TRY(keys_within(value, {"name", "args", "arguments", "mode"}, type));
  if (value.contains("mode") && value["mode"] != "partial")
    return invalid("{} in mode {} has no counterpart in evalkeep: tool-args matches a part of the "
                   "arguments",
                   type, value["mode"].dump());
  const json& args = value.contains("args") ? value["args"] : value.value("arguments", json());
  if (!args.is_object())
    return invalid("{} needs its \"args\" as an object", type);
  if (object_in_array(args))
    return invalid("{} with an object inside a list of its args has no exact counterpart: "
                   "tool-args compares lists as they are",
                   type);
  out.push_back({{"type", "tool-args"}, {"name", value.value("name", json())}, {"args", args}});
  return {};
}

// promptfoo's assertions on tool calls; nullopt for other types.
std::optional<Status> tool_check(const std::string& type, const json& value,
                                 std::optional<double> threshold, std::vector<json>& out) {
  if (type == "is-valid-openai-tools-call") {
    out.push_back({{"type", "tool-args-valid"}});
    return Status{};
  }
  if (type == "tool-call-f1") {
    auto names = tool_names(value, type, true);
    if (!names)
      return Status(std::unexpected(names.error()));
    out.push_back({{"type", "tool-call-f1"},
                   {"values", *names},
                   {"threshold", threshold.value_or(scoring::k_default_tool_f1)}});
    return Status{};
  }
  if (type == "trajectory:tool-used" || type == "not-trajectory:tool-used")
    return tool_used(type, value, out);
  if (type == "trajectory:tool-args-match")
    return tool_args_match(type, value, out);
  if (type == "trajectory:tool-sequence") {
    json steps = value.is_object() ? value.value("steps", json()) : value;
    if (value.is_object()) {
      TRY(keys_within(value, {"mode", "steps"}, type));
      if (value.contains("mode") && value["mode"] != "exact" && value["mode"] != "in_order")
        return invalid("{} has a mode of exact or in_order", type);
    }
    if (!steps.is_array())
      return invalid("{} needs a list of steps", type);
    json j{{"type", "tool-sequence"}, {"steps", steps}};
    j["mode"] = value.is_object() ? value.value("mode", "in_order") : "in_order";
    out.push_back(std::move(j));
    return Status{};
  }
  if (type == "trajectory:step-count") {
    if (!value.is_object() || value.value("type", json()) != "tool" || !value.contains("max") ||
        value.contains("min") || value.contains("name") || value.contains("pattern"))
      return invalid("{} has a counterpart only as {{type: tool, max: N}} (max-tool-calls)", type);
    out.push_back({{"type", "max-tool-calls"}, {"value", value["max"]}});
    return Status{};
  }
  return std::nullopt;
}

// What a program reads of its `context`, which evalkeep gives as {prompt, vars, test: {vars,
// description, metadata}, config}: the vars (context.vars, context.test.vars), the prompt, the
// test's description or metadata, or something evalkeep does not give (named in `other`). When
// unsure, it is `other`.
struct ContextNeeds {
  bool vars = false;
  bool prompt = false;
  bool description = false;
  bool metadata = false;
  std::string other;
};

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// The reads of `word` (the context's name: "context" for inline code, a Python function's second
// parameter) in `code`. The word is looked for anywhere, comments and strings included.
ContextNeeds context_reads(std::string_view code, std::string_view word = "context") {
  enum What { vars, config, prompt, description, metadata };
  struct Read {
    std::string_view text;
    What what;
  };
  static constexpr Read k_reads[] = {{".vars", vars},
                                     {".config", config},
                                     {".prompt", prompt},
                                     {".test.vars", vars},
                                     {"['vars']", vars},
                                     {"[\"vars\"]", vars},
                                     {"['config']", config},
                                     {"[\"config\"]", config},
                                     {"['prompt']", prompt},
                                     {"[\"prompt\"]", prompt},
                                     {"['test']['vars']", vars},
                                     {"[\"test\"][\"vars\"]", vars},
                                     {".test.description", description},
                                     {".test.metadata", metadata},
                                     {"['test']['description']", description},
                                     {"[\"test\"][\"description\"]", description},
                                     {"['test']['metadata']", metadata},
                                     {"[\"test\"][\"metadata\"]", metadata},
                                     {".get('vars'", vars},
                                     {".get(\"vars\"", vars},
                                     {".get('config'", config},
                                     {".get(\"config\"", config},
                                     {".get('prompt'", prompt},
                                     {".get(\"prompt\"", prompt}};
  ContextNeeds needs;
  for (auto at = code.find(word); at != std::string_view::npos; at = code.find(word, at + 1)) {
    auto end = at + word.size();
    if ((at > 0 && (ident_char(code[at - 1]) || code[at - 1] == '.')) ||
        (end < code.size() && ident_char(code[end])))
      continue; // part of another name
    auto rest = code.substr(end);
    const Read* known = nullptr;
    for (const auto& r : k_reads)
      if (rest.starts_with(r.text) &&
          (rest.size() == r.text.size() || !ident_char(rest[r.text.size()]) ||
           r.text.back() == ']' || r.text.back() == '\'' || r.text.back() == '"'))
        known = &r;
    if (!known) {
      std::size_t n = 0;
      while (n < rest.size() && n < 40 &&
             (ident_char(rest[n]) ||
              std::string_view(".[]'\"").find(rest[n]) != std::string_view::npos))
        ++n;
      needs.other = n == 0 ? fmt::format("{} as a whole", word)
                           : fmt::format("{}{}", word, rest.substr(0, n));
      return needs;
    }
    needs.vars = needs.vars || known->what == vars;
    needs.prompt = needs.prompt || known->what == prompt;
    needs.description = needs.description || known->what == description;
    needs.metadata = needs.metadata || known->what == metadata;
  }
  return needs;
}

// Whether `name` appears in `code` as a whole word.
bool has_word(std::string_view code, std::string_view name) {
  for (auto at = code.find(name); at != std::string_view::npos; at = code.find(name, at + 1)) {
    auto end = at + name.size();
    if ((at == 0 || !ident_char(code[at - 1])) && (end >= code.size() || !ident_char(code[end])))
      return true;
  }
  return false;
}

// The second parameter of a Python file's top-level `def NAME(output, context)`; empty when it
// has none.
std::string python_context_name(std::string_view code, std::string_view function) {
  std::istringstream in{std::string(code)};
  for (std::string line; std::getline(in, line);) {
    std::string_view l = line;
    if (l.starts_with("async "))
      l.remove_prefix(6);
    if (!l.starts_with("def "))
      continue;
    l.remove_prefix(4);
    auto open = l.find('(');
    if (open == std::string_view::npos || trim(l.substr(0, open)) != function)
      continue;
    auto params = l.substr(open + 1, l.find(')') - open - 1);
    auto comma = params.find(',');
    if (comma == std::string_view::npos)
      return {};
    auto second = trim(params.substr(comma + 1));
    second = second.substr(0, second.find_first_of(":=, "));
    return std::string(second);
  }
  return {};
}

// What a program read from a file reads of its context. A Python function's context is its second
// parameter, read as inline code is; a JavaScript file may name it anything (or take it apart), so
// the names of what evalkeep does not give are looked for anywhere in it.
ContextNeeds file_context_reads(const scoring::Script& s, bool transform) {
  if (s.language == scoring::Language::python) {
    auto name = python_context_name(
        s.code, s.function.empty() ? (transform ? "get_transform" : "get_assert") : s.function);
    if (name.empty())
      return {};
    // The function's body: its lines after its def, up to the next line that is not indented. Its
    // context reaches other functions only when passed to them, which reads it as a whole. The
    // parameter lists of nested functions name their own context without reading it.
    std::string body;
    std::istringstream in(s.code);
    bool inside = false;
    std::string_view function = s.function.empty() ? (transform ? "get_transform" : "get_assert")
                                                   : std::string_view(s.function);
    for (std::string line; std::getline(in, line);) {
      auto t = trim(line);
      bool top = !line.empty() && !std::isspace(static_cast<unsigned char>(line[0]));
      if (top && !t.starts_with("#")) {
        std::string_view l = t;
        if (l.starts_with("async "))
          l.remove_prefix(6);
        inside = l.starts_with("def ") && trim(l.substr(4)).starts_with(function) &&
                 trim(trim(l.substr(4)).substr(function.size())).starts_with("(");
        continue;
      }
      if (inside && !t.starts_with("def ") && !t.starts_with("async def "))
        body += line + '\n';
    }
    return context_reads(body, name);
  }
  ContextNeeds needs;
  for (std::string_view w :
       {"logProbs", "provider", "providerResponse", "originalProvider", "trace", "options"})
    if (has_word(s.code, w)) {
      needs.other = fmt::format("'{}'", w);
      return needs;
    }
  needs.vars = has_word(s.code, "vars");
  needs.prompt = has_word(s.code, "prompt");
  needs.description = has_word(s.code, "description");
  needs.metadata = has_word(s.code, "metadata");
  return needs;
}

// A file the program loads from beside it, which a case cannot keep: a relative require or
// import in JavaScript, a module of the same folder in Python. Empty when there is none.
std::string local_dependency(const scoring::Script& s, const fs::path& dir) {
  std::istringstream in{s.code};
  for (std::string line; std::getline(in, line);) {
    std::string_view l = trim(line);
    if (s.language == scoring::Language::javascript) {
      for (std::string_view head : {"require('.", "require(\".", "from '.", "from \".", "import('.",
                                    "import(\".", "import '.", "import \"."})
        if (auto at = l.find(head); at != std::string_view::npos)
          return std::string(l.substr(at, l.find_first_of(")\n;", at) - at));
      continue;
    }
    std::string_view module;
    if (l.starts_with("from ") || l.starts_with("import ")) {
      module = l.substr(l.find(' ') + 1);
      module = trim(module.substr(0, module.find_first_of(" ,;")));
    }
    if (module.empty())
      continue;
    if (module.starts_with("."))
      return std::string(l);
    std::string top(module.substr(0, module.find('.')));
    std::error_code ec;
    if (fs::exists(dir / (top + ".py"), ec) || fs::is_directory(dir / top, ec))
      return std::string(l);
  }
  return {};
}

// The program a file:// reference names, from the files read; an error says why it has no
// counterpart.
Result<scoring::Script> file_script(const std::string& ref, const ScriptSources& sources,
                                    std::string_view what) {
  auto found = sources.files ? sources.files->find(ref) : ScriptFiles::const_iterator{};
  if (!sources.files || found == sources.files->end())
    return invalid("{} read from a file ({}) is not imported", what, ref);
  const auto& [script, dir] = found->second;
  if (!script)
    return invalid("{} {}: only JavaScript (.js, .cjs, .mjs) and Python (.py) files run in "
                   "evalkeep",
                   what, ref);
  if (auto dep = local_dependency(*script, dir); !dep.empty())
    return invalid("{} {} loads another file beside it ({}), which a case cannot keep", what, ref,
                   dep);
  return *script;
}

// What a program reading its test's description or metadata is given: the description (null for
// none) and the metadata without the keys evalkeep keeps as the case's own fields (case_id, tags,
// ...: is_case_metadata_key), which the import reads into the case and the export writes back.
// Code that names one of those the metadata holds is refused: evalkeep would not give it.
Result<json> test_context(std::string_view code, const ContextNeeds& needs,
                          const ScriptSources& sources, std::string_view type) {
  json test = json::object();
  if (needs.description)
    test["description"] = sources.description.is_string() ? sources.description : json();
  if (!needs.metadata)
    return test;
  json metadata = json::object();
  if (sources.metadata.is_object())
    for (const auto& [key, value] : sources.metadata.items()) {
      if (!is_case_metadata_key(key)) {
        metadata[key] = value;
        continue;
      }
      if (has_word(code, key))
        return invalid("the {} code reads the test's metadata and names \"{}\", which evalkeep "
                       "keeps as the case's own field and does not give scripts",
                       type, key);
    }
  test["metadata"] = std::move(metadata);
  return test;
}

// A javascript or python assertion, written inline or read from a file, with the test's vars when
// its code reads them, and its description and metadata when it reads those.
Result<json> script_assertion(const std::string& type, const json& a, const json& value,
                              std::optional<double> threshold, const json& vars,
                              const ScriptSources& sources) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty())
    return invalid("{} needs its code as text", type);
  const auto& code = value.get_ref<const std::string&>();
  json j{{"type", type}};
  ContextNeeds needs;
  std::string_view read_code = code;
  scoring::Script s;
  if (code.starts_with("file://")) {
    s = TRY(file_script(code, sources, fmt::format("the {} assertion", type)));
    read_code = s.code;
    if (scoring::to_string(s.language) != type)
      return invalid("a {} assertion naming a {} file ({}) has no exact counterpart", type,
                     scoring::to_string(s.language), code);
    needs = file_context_reads(s, false);
    j["value"] = s.code;
    j["file"] = s.file;
    if (!s.function.empty())
      j["function"] = s.function;
  } else {
    needs = context_reads(code);
    j["value"] = code;
  }
  if (!needs.other.empty())
    return invalid("the {} code reads {}, which evalkeep does not give scripts (it gives "
                   "context.prompt, context.vars, context.config and context.test's vars, "
                   "description and metadata)",
                   type, needs.other);
  if (needs.prompt && !sources.text_prompt)
    return invalid("the {} code reads context.prompt, and the prompt is a chat: promptfoo gives "
                   "its JSON text, evalkeep the last message",
                   type);
  if (threshold)
    j["threshold"] = *threshold;
  if (a.contains("config"))
    j["config"] = a["config"];
  if (needs.vars)
    j["vars"] = vars.is_object() ? vars : json::object();
  if (needs.description || needs.metadata) {
    auto test = TRY(test_context(read_code, needs, sources, type));
    j["test"] = std::move(test);
  }
  return j;
}

// The transforms in front of an assertion's check: the test's options.transform, then the
// assertion's own. Each is JavaScript code written inline, as an expression or a function body,
// or a JavaScript or Python file.
Status add_transforms(std::vector<json>& out, const json& a, const json& test_transform,
                      const json& vars, const ScriptSources& sources) {
  json list = json::array();
  bool reads_vars = false;
  auto add = [&](const json& code, std::string_view what) -> Status {
    if (!code.is_string() || code.get_ref<const std::string&>().empty())
      return invalid("{} must be JavaScript code written as text", what);
    const auto& text = code.get_ref<const std::string&>();
    ContextNeeds needs;
    json entry;
    if (text.starts_with("file://")) {
      auto s = TRY(file_script(text, sources, what));
      needs = file_context_reads(s, true);
      entry = {{"language", scoring::to_string(s.language)}, {"value", s.code}, {"file", s.file}};
      if (!s.function.empty())
        entry["function"] = s.function;
    } else {
      needs = context_reads(text);
      entry = {{"value", text}};
    }
    if (!needs.other.empty() || needs.prompt || needs.description || needs.metadata)
      return invalid("{} reads {}, which evalkeep does not give transforms as promptfoo does (it "
                     "gives context.vars)",
                     what,
                     needs.prompt           ? std::string("context.prompt")
                     : !needs.other.empty() ? needs.other
                     : needs.description    ? std::string("context.test.description")
                                            : std::string("context.test.metadata"));
    reads_vars = reads_vars || needs.vars;
    list.push_back(std::move(entry));
    return {};
  };
  if (!test_transform.is_null())
    TRY(add(test_transform, "the test's options.transform"));
  if (a.contains("transform"))
    TRY(add(a["transform"], "the assertion's transform"));
  if (list.empty())
    return {};
  for (auto& j : out) {
    if (j["type"] == "judge")
      return invalid("a {} after a transform has no counterpart: evalkeep's judge grades the "
                     "answer as it is",
                     a.value("type", std::string("llm-rubric")));
    j["transform"] = list;
    if (reads_vars && !j.contains("vars"))
      j["vars"] = vars.is_object() ? vars : json::object();
  }
  return {};
}

// evalkeep's is-json (or, with the results swapped, not-is-json) as promptfoo JavaScript: the
// answer parsed as JSON, from inside its Markdown fence when it is fenced (scoring::strip_fence).
constexpr const char* k_fenced_json_js =
    "const s = String(output).replace(/^[ \\t\\r\\n]+/, '');\n"
    "let t = s;\n"
    "if (s.startsWith('```')) {{\n"
    "  const b = s.indexOf('\\n'), e = s.lastIndexOf('```');\n"
    "  if (b >= 0 && e > b) t = s.slice(b + 1, e);\n"
    "}}\n"
    "try {{ JSON.parse(t); return {}; }} catch (err) {{ return {}; }}";

// The promptfoo form of the negated and list string checks and of JSON with a schema, their
// texts kept literal: nullopt for other types, an empty ojson when promptfoo cannot say the same.
std::optional<ojson> added_to_promptfoo(const Assertion& a, bool text_prompt) {
  using T = AssertionType;
  ojson j;
  j["type"] = scoring::to_string(a.type);
  switch (a.type) {
  case T::not_equals:
  case T::not_icontains:
  case T::not_starts_with:
  case T::not_regex: {
    auto v = literal_template(a.text);
    // JavaScript's RegExp has no inline (?i), and a not-regex has no flag to carry it.
    if ((v.empty() && !a.text.empty()) || (a.type == T::not_regex && a.text.starts_with("(?i)")))
      return ojson();
    j["value"] = v;
    return j;
  }
  case T::contains_any:
  case T::icontains_any:
  case T::not_contains_all:
  case T::not_icontains_all: {
    ojson values = ojson::array();
    for (const auto& v : a.values) {
      auto t = literal_template(v);
      if (t.empty())
        return ojson();
      values.push_back(t);
    }
    j["value"] = std::move(values);
    return j;
  }
  case T::javascript:
  case T::python: {
    // promptfoo's context.vars would hold the exported test's vars; its context.prompt is the
    // exported prompt, the case's input, when that is written as text.
    bool from_file = !a.script.file.empty();
    auto needs = from_file ? file_context_reads(a.script, false) : context_reads(a.script.code);
    if (!needs.other.empty() || needs.vars || (needs.prompt && !text_prompt))
      return ojson();
    // The test's description and metadata it reads go with the exported test (export_promptfoo
    // checks they are the case's); without them kept, promptfoo would give it others.
    if ((needs.description && !a.test.contains("description")) ||
        (needs.metadata && !a.test.contains("metadata")))
      return ojson();
    if (from_file) {
      if (a.script.file.find(':') != std::string::npos)
        return ojson();
      j["value"] = "file://" + a.script.file +
                   (a.script.function.empty() ? std::string() : ":" + a.script.function);
    } else {
      auto v = literal_template(a.script.code);
      if (v.empty())
        return ojson();
      j["value"] = v;
    }
    if (a.pass_score)
      j["threshold"] = *a.pass_score;
    if (!a.config.is_null())
      j["config"] = ojson::parse(a.config.dump());
    return j;
  }
  case T::tool_args_valid: // promptfoo checks every call, against the provider's tools
    if (!a.text.empty())
      return ojson();
    j["type"] = "is-valid-openai-tools-call";
    return j;
  case T::tool_call_f1:
    j["value"] = a.values;
    j["threshold"] = a.threshold;
    return j;
  case T::tool_called:
  case T::no_tool_call:
  case T::tool_args:
  case T::tool_sequence:
  case T::max_tool_calls:
  case T::max_steps:
    // promptfoo's trajectory assertions read a trace, which the exported providers do not make.
    return ojson();
  case T::similar: { // promptfoo's default embedding model is evalkeep's
    auto v = literal_template(a.text);
    if (v.empty() && !a.text.empty())
      return ojson();
    j["value"] = v;
    j["threshold"] = a.threshold;
    if (!a.model.empty())
      j["provider"] = "openai:embedding:" + a.model;
    return j;
  }
  case T::not_is_json:
  case T::is_json:
    // promptfoo's is-json reads the whole answer; evalkeep's, unless strict, reads inside a
    // Markdown fence as well, which only a program can say in promptfoo.
    if (!a.strict) {
      if (!a.schema.is_null())
        return ojson();
      j["type"] = "javascript";
      j["value"] = fmt::format(k_fenced_json_js, a.type == T::is_json ? "true" : "false",
                               a.type == T::is_json ? "false" : "true");
      return j;
    }
    if (a.type == T::not_is_json)
      return j;
    [[fallthrough]];
  case T::contains_json:
  case T::not_contains_json: {
    if (a.schema.is_null())
      return j;
    auto text = a.schema.dump();
    // promptfoo renders the texts of a value as templates: a schema that looks like one stays.
    for (std::string_view tag : {"{{", "{%", "{#"})
      if (text.find(tag) != std::string::npos)
        return ojson();
    j["value"] = ojson::parse(text);
    return j;
  }
  default:
    return std::nullopt;
  }
}

// promptfoo's similar (cosine similarity of embeddings): evalkeep's similar, its embeddings
// fetched from the judge provider's POST /embeddings. A `provider` may name the embedding model
// of OpenAI's API; nothing else about it has a counterpart.
Status similar_assertion(const std::string& type, const json& a, const json& value,
                         std::optional<double> threshold, const json& test_transform,
                         std::vector<json>& out) {
  if (value.is_array())
    return invalid("{} with a list of values (passing when close to any one of them) has no "
                   "counterpart: evalkeep's similar compares one text",
                   type);
  auto text = TRY(text_value(value, type));
  if (a.contains("transform") || !test_transform.is_null())
    return invalid("a {} after a transform has no counterpart: evalkeep embeds the answer as it is",
                   type);
  json j{{"type", "similar"}, {"value", text}};
  if (threshold)
    j["threshold"] = *threshold;
  if (a.contains("provider")) {
    const json& p = a["provider"];
    const json id = p.is_object() && p.size() == 1 ? p.value("id", json()) : p;
    std::string_view name =
        id.is_string() ? std::string_view(id.get_ref<const std::string&>()) : std::string_view();
    std::string model;
    for (std::string_view prefix : {"openai:embedding:", "openai:embeddings:"})
      if (name.starts_with(prefix))
        model = std::string(name.substr(prefix.size()));
    if (model.empty())
      return invalid("the provider {} of {} has no counterpart: evalkeep embeds with the judge "
                     "provider's /embeddings endpoint and keeps only the model "
                     "(openai:embedding:MODEL)",
                     p.dump().substr(0, 80), type);
    j["model"] = model;
  }
  out.push_back(std::move(j));
  return {};
}

// promptfoo's factuality (and model-graded-factuality), model-graded-closedqa, g-eval and
// answer-relevance: evalkeep's judge with the grader of the same name.
// - factuality and closedqa: the reference or criterion is the rendered value; the verdict is the
//   grader's category or Y/N, so promptfoo reads no threshold of theirs. factuality's category
//   scores are the test's options.factuality, which the importer sets (apply_factuality_scores).
// - g-eval: the criteria are the value (one text: promptfoo averages a list of them against one
//   threshold); its threshold defaults to 0.7.
// - answer-relevance: promptfoo compares the answer's question with the test's `query` var when
//   it is text, else with the rendered prompt: the case's input when the prompt is text. Its
//   threshold defaults to 0.5; it reads no value.
Status graded_assertion(const std::string& type, const json& value, std::optional<double> threshold,
                        const json& vars, bool text_prompt, std::vector<json>& out) {
  json j{{"type", "judge"}}; // its grading provider, if any, is noted and dropped (from_promptfoo)
  if (type == "answer-relevance") {
    const json query = vars.is_object() ? vars.value("query", json()) : json();
    if (!query.is_string() && !text_prompt)
      return invalid("answer-relevance on a chat prompt compares with the whole rendered prompt "
                     "(its messages as JSON), which is not the case's input; give the test a "
                     "`query` var to compare with");
    j["grader"] = "answer-relevance";
    j["rubric"] = query.is_string() ? query.get<std::string>() : std::string();
  } else if (type == "g-eval") {
    if (value.is_array())
      return invalid("g-eval with a list of criteria averages their scores against one threshold; "
                     "evalkeep's judge scores one criterion: write one g-eval for each");
    if (!value.is_string())
      return invalid("g-eval needs its criteria as text");
    j["grader"] = "g-eval";
    j["rubric"] = value;
  } else {
    bool factuality = type != "model-graded-closedqa";
    if (!value.is_string())
      return invalid("{} needs its {} as text", type,
                     factuality ? "reference answer" : "criterion");
    j["grader"] = factuality ? "factuality" : "closedqa";
    j["rubric"] = value;
    threshold.reset(); // promptfoo reads none: the verdict is the grader's answer
  }
  if (threshold)
    j["threshold"] = *threshold;
  out.push_back(std::move(j));
  return {};
}

// Why a model-graded type other than llm-rubric and similar is not imported, or nullopt.
std::optional<std::string> model_graded_refusal(std::string_view type) {
  if (type == "similar:dot")
    return "evalkeep's similar compares the cosine similarity of the embeddings, not their dot "
           "product";
  if (type == "similar:euclidean")
    return "evalkeep's similar compares the cosine similarity of the embeddings, not their "
           "distance";
  if (type.starts_with("not-similar"))
    return "evalkeep has no negated similar";
  if (type == "not-factuality" || type == "not-model-graded-factuality" ||
      type == "not-model-graded-closedqa")
    return "promptfoo does not negate its verdict (a grader's answer is not inverted); evalkeep "
           "has no negated judge";
  if (type == "not-g-eval" || type == "not-answer-relevance")
    return "evalkeep has no negated judge";
  return std::nullopt;
}

} // namespace

bool has_counterpart(std::string_view type) {
  static constexpr std::string_view k_mapped[] = {"equals",
                                                  "contains",
                                                  "icontains",
                                                  "not-contains",
                                                  "starts-with",
                                                  "regex",
                                                  "not-equals",
                                                  "not-icontains",
                                                  "not-starts-with",
                                                  "not-regex",
                                                  "contains-all",
                                                  "icontains-all",
                                                  "contains-any",
                                                  "icontains-any",
                                                  "not-contains-all",
                                                  "not-icontains-all",
                                                  "not-contains-any",
                                                  "not-icontains-any",
                                                  "is-json",
                                                  "not-is-json",
                                                  "contains-json",
                                                  "not-contains-json",
                                                  "latency",
                                                  "cost",
                                                  "llm-rubric",
                                                  "factuality",
                                                  "model-graded-factuality",
                                                  "model-graded-closedqa",
                                                  "g-eval",
                                                  "answer-relevance",
                                                  "similar",
                                                  "similar:cosine",
                                                  "javascript",
                                                  "python",
                                                  "is-valid-openai-tools-call",
                                                  "tool-call-f1",
                                                  "trajectory:tool-used",
                                                  "not-trajectory:tool-used",
                                                  "trajectory:tool-args-match",
                                                  "trajectory:tool-sequence",
                                                  "trajectory:step-count"};
  return std::find(std::begin(k_mapped), std::end(k_mapped), type) != std::end(k_mapped);
}

Result<ScriptFile> read_script_file(std::string_view reference, bool transform,
                                    const fs::path& base, const std::string& where) {
  std::string_view rest = reference.substr(reference.starts_with("file://") ? 7 : 0);
  // An assertion's reference splits at its first ':', a transform's at its last (after a drive
  // letter's), as promptfoo splits them.
  auto colon = transform ? rest.rfind(':') : rest.find(':');
  if (transform && colon != std::string_view::npos && colon <= 1)
    colon = std::string_view::npos;
  std::string path(rest.substr(0, colon));
  std::string function(colon == std::string_view::npos ? "" : rest.substr(colon + 1));
  fs::path file = fs::path(path).is_absolute() ? fs::path(path) : base / path;
  auto code = TRY(read_referenced(file, where));
  ScriptFile out{std::nullopt, file.parent_path()};
  auto ext = file.extension().string();
  bool js = ext == ".js" || ext == ".cjs" || ext == ".mjs";
  if (!js && ext != ".py")
    return out; // no counterpart: from_promptfoo says so
  scoring::Script s{js ? scoring::Language::javascript : scoring::Language::python, code, path,
                    function};
  if (s.code.find_first_not_of(" \t\r\n") == std::string::npos)
    return invalid("{}: {} is empty", where, file.string());
  if (!js) {
    std::string name = function.empty() ? (transform ? "get_transform" : "get_assert") : function;
    bool defined = false;
    std::istringstream in(code);
    for (std::string line; std::getline(in, line) && !defined;) {
      std::string_view l = line;
      if (l.starts_with("async "))
        l.remove_prefix(6);
      if (l.starts_with("def ")) {
        l = trim(l.substr(4));
        defined = l.starts_with(name) && trim(l.substr(name.size())).starts_with("(");
      }
    }
    if (!defined)
      return invalid("{}: {} defines no function {}", where, file.string(), name);
  } else if (!function.empty()) {
    if (!has_word(code, function) || (!has_word(code, "export") && !has_word(code, "exports")))
      return invalid("{}: {} exports no function {}", where, file.string(), function);
  } else if (code.find("module.exports") == std::string::npos &&
             code.find("export default") == std::string::npos &&
             code.find("exports.default") == std::string::npos) {
    return invalid("{}: {} exports no function (module.exports or export default); name one as "
                   "{}:FUNCTION",
                   where, file.string(), reference);
  }
  out.script = std::move(s);
  return out;
}

std::vector<std::string> script_references(const json& a) {
  std::vector<std::string> out;
  auto add = [&](const json& v) {
    if (v.is_string() && v.get_ref<const std::string&>().starts_with("file://"))
      out.push_back(v.get<std::string>());
  };
  if (!a.is_object()) {
    add(a);
    return out;
  }
  if (a.value("type", json()) == "javascript" || a.value("type", json()) == "python")
    add(a.value("value", json()));
  add(a.value("transform", json()));
  return out;
}

bool graded_by_model(std::string_view promptfoo_type) {
  static constexpr std::string_view k_types[] = {
      "llm-rubric", "factuality",      "model-graded-factuality", "model-graded-closedqa",
      "g-eval",     "answer-relevance"};
  return std::find(std::begin(k_types), std::end(k_types), promptfoo_type) != std::end(k_types);
}

std::string grading_provider_name(const json& provider) {
  if (provider.is_string())
    return provider.get<std::string>();
  if (provider.is_object() && provider.contains("id") && provider["id"].is_string())
    return provider["id"].get<std::string>();
  std::string text = provider.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

Result<std::vector<Assertion>> from_promptfoo(const json& a, const json& vars,
                                              const json& test_transform,
                                              const ScriptSources& sources) {
  if (!a.is_object() || !a.contains("type") || !a["type"].is_string())
    return invalid("an assertion must be a mapping with a \"type\"");
  const std::string type = a["type"].get<std::string>();
  if (graded_by_model(type) && a.contains("provider")) {
    // The grader is a run setting (the judge provider), reported by the importer, not the case's.
    json without = a;
    without.erase("provider");
    return from_promptfoo(without, vars, test_transform, sources);
  }
  for (const auto& [key, _] : a.items()) {
    if (key == "type" || key == "value" || key == "threshold" || key == "weight" ||
        key == "metric" || key == "provider")
      continue;
    if ((key == "config" && (type == "javascript" || type == "python")) || key == "transform")
      continue; // the script's context.config; a program in front of the check
    return invalid("\"{}\" of an assertion changes what is checked; evalkeep checks the "
                   "answer as it is",
                   key);
  }
  const json value = a.value("value", json());
  if (value.is_string() && value.get<std::string>().starts_with("file://") &&
      type != "javascript" && type != "python")
    return invalid("a value read from a file ({}) is not imported", value.get<std::string>());
  std::optional<double> threshold;
  if (a.contains("threshold")) {
    if (!a["threshold"].is_number())
      return invalid("\"threshold\" must be a number");
    threshold = a["threshold"].get<double>();
  }

  std::vector<json> out;
  auto text_assertion = [&](std::string_view evalkeep_type) -> Status {
    auto t = TRY(text_value(value, type));
    out.push_back({{"type", evalkeep_type}, {"value", t}});
    return {};
  };
  Status s;
  if (auto handled = string_or_json_check(type, value, out)) {
    s = *handled;
  } else if (auto tool = tool_check(type, value, threshold, out)) {
    s = *tool;
  } else if (type == "equals" || type == "contains" || type == "icontains" ||
             type == "not-contains" || type == "starts-with" || type == "regex") {
    s = text_assertion(type);
  } else if (type == "latency" || type == "cost") {
    if (!threshold)
      return invalid("{} needs a threshold", type);
    if (type == "latency" && *threshold != std::floor(*threshold))
      return invalid("latency needs a whole number of milliseconds, got {}", *threshold);
    out.push_back({{"type", type == "latency" ? "max-latency-ms" : "max-cost"},
                   {"value", type == "latency" ? json(static_cast<std::int64_t>(*threshold))
                                               : json(*threshold)}});
  } else if (type == "llm-rubric") {
    auto rubric = TRY(text_value(value, type));
    json j{{"type", "judge"}, {"rubric", rubric}};
    if (threshold)
      j["threshold"] = *threshold;
    out.push_back(std::move(j));
  } else if (type == "similar" || type == "similar:cosine") {
    s = similar_assertion(type, a, value, threshold, test_transform, out);
  } else if (type == "factuality" || type == "model-graded-factuality" ||
             type == "model-graded-closedqa" || type == "g-eval" || type == "answer-relevance") {
    s = graded_assertion(type, value, threshold, vars, sources.text_prompt, out);
  } else if (auto why = model_graded_refusal(type)) {
    return invalid("evalkeep has no assertion like promptfoo's \"{}\": {}", type, *why);
  } else if (auto pattern = type == "javascript" ? icase_regex(value) : std::nullopt) {
    out.push_back({{"type", "regex"}, {"value", "(?i)" + *pattern}});
  } else if (type == "javascript" || type == "python") {
    out.push_back(TRY(script_assertion(type, a, value, threshold, vars, sources)));
  } else {
    return invalid("evalkeep has no assertion like promptfoo's \"{}\"", type);
  }
  if (!s)
    return std::unexpected(s.error());
  TRY(add_transforms(out, a, test_transform, vars, sources));
  std::vector<Assertion> assertions;
  for (const auto& j : out) {
    auto parsed = TRY(scoring::from_json(j));
    assertions.push_back(std::move(parsed));
  }
  return assertions;
}

std::optional<std::string> transform_to_promptfoo(const scoring::Script& t) {
  if (!t.file.empty())
    return "file://" + t.file + (t.function.empty() ? std::string() : ":" + t.function);
  if (t.language != scoring::Language::javascript)
    return std::nullopt;
  auto needs = context_reads(t.code);
  if (!needs.other.empty() || needs.prompt || needs.vars || needs.description || needs.metadata)
    return std::nullopt;
  return t.code;
}

namespace {

std::optional<ojson> to_promptfoo_check(const Assertion& a, bool text_prompt) {
  ojson j;
  auto literal = [](std::string_view text) -> std::optional<std::string> {
    auto t = literal_template(text);
    if (t.empty() && !text.empty())
      return std::nullopt;
    return t;
  };
  if (auto added = added_to_promptfoo(a, text_prompt))
    return added->is_null() ? std::nullopt : std::optional<ojson>(std::move(*added));
  switch (a.type) {
  case AssertionType::equals:
  case AssertionType::contains:
  case AssertionType::icontains:
  case AssertionType::not_contains:
  case AssertionType::starts_with:
  case AssertionType::regex: {
    // JavaScript's RegExp has no inline (?i): a flag of the constructor instead.
    if (a.type == AssertionType::regex && a.text.starts_with("(?i)")) {
      auto v =
          literal(fmt::format("new RegExp({}, 'i').test(output)", json(a.text.substr(4)).dump()));
      if (!v)
        return std::nullopt;
      j["type"] = "javascript";
      j["value"] = *v;
      return j;
    }
    auto v = literal(a.text);
    if (!v)
      return std::nullopt;
    j["type"] = scoring::to_string(a.type);
    j["value"] = *v;
    return j;
  }
  case AssertionType::max_latency_ms:
    j["type"] = "latency";
    j["threshold"] = static_cast<std::int64_t>(a.number);
    return j;
  case AssertionType::max_cost:
    j["type"] = "cost";
    j["threshold"] = a.number;
    return j;
  case AssertionType::judge: {
    auto v = literal(a.rubric);
    if (!v)
      return std::nullopt;
    switch (a.grader) { // the test carries factuality's scores and relevance's query
    case scoring::Grader::factuality:
      j["type"] = "factuality";
      j["value"] = *v;
      return j;
    case scoring::Grader::closedqa:
      j["type"] = "model-graded-closedqa";
      j["value"] = *v;
      return j;
    case scoring::Grader::geval:
      j["type"] = "g-eval";
      j["value"] = *v;
      j["threshold"] = a.threshold;
      return j;
    case scoring::Grader::relevance:
      j["type"] = "answer-relevance";
      j["threshold"] = a.threshold;
      return j;
    case scoring::Grader::rubric:
      break;
    }
    j["type"] = "llm-rubric";
    j["value"] = *v;
    j["threshold"] = a.threshold;
    return j;
  }
  default:
    return std::nullopt;
  }
}

} // namespace

std::optional<ojson> to_promptfoo(const Assertion& a, bool text_prompt) {
  if (!a.vars.is_null() || a.transforms.size() > 1)
    return std::nullopt; // promptfoo's vars would be the exported test's; one transform each
  auto j = to_promptfoo_check(a, text_prompt);
  if (!j || a.transforms.empty())
    return j;
  auto t = transform_to_promptfoo(a.transforms.front());
  if (!t)
    return std::nullopt;
  (*j)["transform"] = *t;
  return j;
}

namespace {

// The values of a list assertion's cell: comma-separated; a value in double quotes may hold commas
// ("" or \" for a quote).
json cell_list(std::string_view value) {
  json items = json::array();
  std::string item;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    char c = i < value.size() ? value[i] : ',';
    if (quoted && (c == '\\' || c == '"') && i + 1 < value.size() && value[i + 1] == '"') {
      item += '"';
      ++i;
    } else if (c == '"' && (quoted || trim(item).empty())) {
      quoted = !quoted;
      was_quoted = true;
      if (quoted)
        item.clear();
    } else if (c == ',' && !quoted) {
      std::string v = was_quoted ? item : std::string(trim(item));
      if (!v.empty() || was_quoted)
        items.push_back(v);
      item.clear();
      was_quoted = false;
    } else if (!(was_quoted && !quoted)) {
      item += c;
    }
  }
  return items;
}

} // namespace

json assertion_from_cell(std::string_view cell) {
  cell = trim(cell);
  auto rest_after = [&](std::string_view prefix) {
    return std::string(cell.substr(prefix.size()));
  };
  for (std::string_view p : {"javascript:", "fn:", "eval:"})
    if (cell.starts_with(p))
      return {{"type", "javascript"}, {"value", std::string(trim(rest_after(p)))}};
  for (std::string_view p : {"grade:", "llm-rubric:"})
    if (cell.starts_with(p))
      return {{"type", "llm-rubric"}, {"value", std::string(trim(rest_after(p)))}};
  // A script file keeps its file:// reference: its code is not the path.
  if (cell.starts_with("python:"))
    return {{"type", "python"}, {"value", std::string(trim(rest_after("python:")))}};
  if (cell.starts_with("file://") && (cell.ends_with(".py") || cell.find(".py:") != cell.npos))
    return {{"type", "python"}, {"value", std::string(cell)}};
  if (cell.starts_with("file://") &&
      (cell.ends_with(".js") || cell.ends_with(".ts") || cell.find(".js:") != cell.npos))
    return {{"type", "javascript"}, {"value", std::string(cell)}};

  // [not-]TYPE[(THRESHOLD)][:VALUE], with the longest type that fits.
  std::string_view body = cell;
  bool negated = body.starts_with("not-");
  if (negated)
    body.remove_prefix(4);
  std::string_view type;
  std::string_view rest;
  for (auto t : k_promptfoo_types) {
    if (!body.starts_with(t) || t.size() <= type.size())
      continue;
    std::string_view r = body.substr(t.size());
    if (r.empty() || r.front() == ':' || r.front() == '(') {
      type = t;
      rest = r;
    }
  }
  if (type.empty())
    return {{"type", "equals"}, {"value", std::string(cell)}};
  json out{{"type", (negated ? "not-" : "") + std::string(type)}};
  std::optional<double> threshold;
  if (rest.starts_with("(")) {
    auto close = rest.find(')');
    if (close == std::string_view::npos)
      return {{"type", "equals"}, {"value", std::string(cell)}};
    std::string number(rest.substr(1, close - 1));
    char* end = nullptr;
    double d = std::strtod(number.c_str(), &end);
    if (end && *end == '\0' && !number.empty())
      threshold = d;
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return {{"type", "equals"}, {"value", std::string(cell)}};
  }
  std::optional<std::string> value;
  if (rest.starts_with(":"))
    value = std::string(rest.substr(1));
  bool list = type == "contains-all" || type == "contains-any" || type == "icontains-all" ||
              type == "icontains-any";
  bool raw = type == "contains-json" || type == "is-json";
  if (value && list) {
    out["value"] = cell_list(*value);
  } else if (value) {
    out["value"] = raw ? *value : std::string(trim(*value));
  }
  bool thresholded = type == "answer-relevance" || type == "classifier" ||
                     type == "context-faithfulness" || type == "context-recall" ||
                     type == "context-relevance" || type == "cost" || type == "latency" ||
                     type == "levenshtein" || type == "perplexity-score" || type == "perplexity" ||
                     type == "rouge-n" || type == "similar" || type == "starts-with";
  if (thresholded)
    out["threshold"] = threshold.value_or(type == "similar" ? 0.8 : 0.75);
  return out;
}

} // namespace evalkeep::interop
