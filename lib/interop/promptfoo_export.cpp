#include "interop/export.hpp"
#include "interop/promptfoo_assert.hpp"
#include "interop/reading.hpp"
#include "interop/template.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

// YAML in block style; every string double-quoted with JSON's escapes, which YAML reads the same,
// so no value is ever taken for a number, a boolean or null.
void write_yaml(std::ostream& out, const ojson& v, int indent, bool in_list_item = false) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  auto scalar = [](const ojson& s) {
    return s.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  if (v.is_object() && !v.empty()) {
    bool first = true;
    for (const auto& [key, value] : v.items()) {
      bool plain_key = !key.empty() && key.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789_-") == std::string::npos;
      out << (first && in_list_item ? "" : pad) << (plain_key ? key : scalar(ojson(key))) << ":";
      first = false;
      if (value.is_structured() && !value.empty()) {
        out << "\n";
        write_yaml(out, value, indent + 2);
      } else {
        out << " " << (value.is_object() ? "{}" : value.is_array() ? "[]" : scalar(value)) << "\n";
      }
    }
  } else if (v.is_array() && !v.empty()) {
    for (const auto& item : v) {
      out << pad << "- ";
      if (item.is_object() && !item.empty())
        write_yaml(out, item, indent + 2, true);
      else if (item.is_array() && !item.empty()) {
        out << "\n";
        write_yaml(out, item, indent + 2);
      } else
        out << scalar(item) << "\n";
    }
  }
}

// promptfoo renders a var's value as a template before using it, unless the value names a
// variable it does not have; a value it would render is written as a raw block.
std::string var_literal(const std::string& text) {
  auto names = template_variables(text);
  bool left_alone = std::any_of(names.begin(), names.end(),
                                [](const std::string& n) { return n != "prompt" && n != "env"; });
  return left_alone ? text : literal_template(text);
}

// The case's input as promptfoo's provider reads it: plain text, or a JSON list of messages
// where text alone would be misread (it looks like JSON or YAML, or ends in a newline, which
// promptfoo strips from vars).
std::string input_text(const suite::Case& c) {
  std::vector<suite::Message> messages = c.messages;
  if (messages.empty()) {
    const std::string& p = *c.prompt;
    auto first = p.find_first_not_of(" \t\r\n");
    std::string_view trimmed = first == std::string::npos ? "" : std::string_view(p).substr(first);
    bool plain = !c.system && !p.ends_with('\n') && !trimmed.starts_with("{") &&
                 !trimmed.starts_with("[") && !trimmed.starts_with("- role:") && !json::accept(p);
    if (plain)
      return p;
    if (c.system)
      messages.push_back({.role = "system", .content = *c.system});
    messages.push_back({.role = "user", .content = p});
  }
  ojson list = ojson::array();
  for (const auto& m : messages) {
    ojson entry;
    entry["role"] = m.role;
    entry["content"] = m.content;
    list.push_back(std::move(entry));
  }
  return list.dump(-1, ' ', false, json::error_handler_t::replace);
}

ojson provider_entry(const providers::ProviderConfig& p) {
  ojson entry;
  ojson config;
  if (p.kind == providers::Kind::openai || p.kind == providers::Kind::openai_responses) {
    entry["id"] =
        (p.kind == providers::Kind::openai ? "openai:chat:" : "openai:responses:") + p.model;
    config["apiBaseUrl"] = p.base_url;
    config["apiKeyEnvar"] = p.api_key_env;
  } else {
    entry["id"] = "anthropic:messages:" + p.model;
    config["apiBaseUrl"] = p.base_url;
  }
  if (p.temperature)
    config["temperature"] = *p.temperature;
  if (p.max_tokens)
    config["max_tokens"] = *p.max_tokens;
  if (p.seed)
    config["seed"] = *p.seed;
  if (!p.headers.empty())
    config["headers"] = p.headers;
  entry["config"] = std::move(config);
  return entry;
}

// The metadata that carries a case's id, provenance and settings back on import.
ojson metadata_of(const suite::Case& c, const std::map<std::string, suite::Incident>& incidents) {
  ojson metadata;
  metadata["case_id"] = c.id;
  if (c.provenance.kind == suite::ProvenanceKind::incident) {
    metadata["incident"] = c.provenance.incident;
    if (auto it = incidents.find(c.provenance.incident); it != incidents.end()) {
      const auto& i = it->second;
      metadata["incident_title"] = i.title;
      for (auto [key, field] :
           {std::pair{"incident_date", &i.date}, std::pair{"incident_severity", &i.severity},
            std::pair{"incident_url", &i.url}, std::pair{"incident_summary", &i.summary}})
        if (*field)
          metadata[key] = **field;
    }
  } else {
    metadata["provenance"] = suite::to_string(c.provenance.kind);
    metadata["provenance_note"] = c.provenance.note;
  }
  if (!c.tags.empty())
    metadata["tags"] = c.tags;
  if (c.trials)
    metadata["trials"] = *c.trials;
  if (c.min_pass_rate)
    metadata["min_pass_rate"] = *c.min_pass_rate;
  return metadata;
}

// The files of the programs the exported configuration names, by their path under its folder.
struct ScriptFilesOut {
  std::optional<fs::path> dir; // the configuration's folder; unset: written to stdout
  std::map<std::string, std::string> files;
};

// Why the files of an assertion's programs cannot be written beside the configuration, or empty
// when they can (they are then added to `out`).
std::string claim_files(const scoring::Assertion& a, ScriptFilesOut& out) {
  std::vector<const scoring::Script*> scripts;
  if (!a.script.file.empty())
    scripts.push_back(&a.script);
  for (const auto& t : a.transforms)
    if (!t.file.empty())
      scripts.push_back(&t);
  for (const auto* s : scripts) {
    fs::path rel(s->file);
    bool inside = !rel.is_absolute() && !rel.empty() &&
                  std::none_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; });
    if (!out.dir)
      return fmt::format("its program {} is a file, which is written beside a configuration "
                         "written with -o",
                         s->file);
    if (!inside)
      return fmt::format("its program's file {} is not under the configuration's folder", s->file);
    if (auto it = out.files.find(s->file); it != out.files.end() && it->second != s->code)
      return fmt::format("another case's program is written to {}", s->file);
    std::error_code ec;
    fs::path on_disk = *out.dir / rel;
    if (!out.files.contains(s->file) && fs::exists(on_disk, ec)) {
      std::ifstream in(on_disk, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (text.str() != s->code)
        return fmt::format("{} is there with other code, which the export does not overwrite",
                           on_disk.string());
    }
  }
  for (const auto* s : scripts)
    out.files.emplace(s->file, s->code);
  return {};
}

// promptfoo's names of the factuality categories A to E in options.factuality.
constexpr std::string_view k_factuality_names[] = {"subset", "superset", "agree", "disagree",
                                                   "differButFactual"};

// What some judges need of their promptfoo test, which all its assertions share: relevance's
// query (vars.query; none: the prompt) and factuality's category scores (options.factuality).
struct TestSettings {
  std::optional<std::string> query;
  std::optional<std::vector<double>> categories;

  // Claims the settings the assertion needs; why it cannot have them, or empty.
  std::string claim(const scoring::Assertion& a, bool text_prompt) {
    if (a.type != scoring::AssertionType::judge)
      return {};
    if (a.grader == scoring::Grader::relevance) {
      if (a.rubric.empty() && !text_prompt)
        return "promptfoo would compare with the chat's whole rendered prompt";
      if (query && *query != a.rubric)
        return "another answer-relevance of the case compares with another query";
      query = a.rubric;
    } else if (a.grader == scoring::Grader::factuality) {
      if (categories && *categories != a.categories)
        return "another factuality of the case scores its categories otherwise";
      categories = a.categories;
    }
    return {};
  }
};

// Why promptfoo would give the program of `a` another test description or metadata than evalkeep
// does, or empty. The exported test's description is the case's title; its metadata the case's
// (metadata_of) with the keys the programs read, which are the same for all of them (`metadata`
// holds the first program's).
std::string test_context_differs(const scoring::Assertion& a, const suite::Case& c,
                                 json& metadata) {
  if (!a.test.is_object())
    return {};
  const json title = c.title ? json(*c.title) : json();
  if (auto d = a.test.find("description"); d != a.test.end() && *d != title)
    return fmt::format("its program reads the test's description, {}, and the exported test's is "
                       "the case's title",
                       d->is_null() ? std::string("none") : d->dump());
  auto m = a.test.find("metadata");
  if (m == a.test.end())
    return {};
  for (const auto& [key, _] : m->items())
    if (is_case_metadata_key(key))
      return fmt::format("its program reads the test's metadata \"{}\", which the export writes "
                         "from the case",
                         key);
  if (metadata.is_null())
    metadata = *m;
  else if (metadata != *m)
    return "its program reads other test metadata than another program of the case";
  return {};
}

// The case as a promptfoo test, or nothing (with the reason in the report) when it cannot be one.
std::optional<ojson> test_of(const suite::Case& c,
                             const std::map<std::string, suite::Incident>& incidents,
                             ExportReport& report, ScriptFilesOut& files) {
  ojson test;
  // The first transform every assertion shares is the test's options.transform when one of them
  // has another after it (promptfoo gives an assertion one of its own).
  std::vector<scoring::Assertion> expect = c.expect;
  bool shared = !expect.empty() && std::all_of(expect.begin(), expect.end(), [&](const auto& a) {
    return !a.transforms.empty() && a.transforms.front() == expect.front().transforms.front();
  });
  bool hoist = shared && std::any_of(expect.begin(), expect.end(),
                                     [](const auto& a) { return a.transforms.size() > 1; });
  if (hoist) {
    if (auto t = transform_to_promptfoo(expect.front().transforms.front())) {
      scoring::Assertion probe = expect.front();
      probe.transforms.resize(1);
      if (auto why = claim_files(probe, files); why.empty()) {
        test["options"]["transform"] = *t;
        for (auto& a : expect)
          a.transforms.erase(a.transforms.begin());
      }
    }
  }
  bool text_prompt = c.messages.empty() && c.prompt && input_text(c) == *c.prompt;
  ojson asserts = ojson::array();
  TestSettings settings;
  json read_metadata; // the metadata the programs read, which the test carries
  for (std::size_t k = 0; k < expect.size(); ++k) {
    const auto& a = expect[k];
    std::string why = test_context_differs(a, c, read_metadata);
    if (auto pa = to_promptfoo(a, text_prompt); pa && why.empty() &&
                                                (why = settings.claim(a, text_prompt)).empty() &&
                                                (why = claim_files(a, files)).empty())
      asserts.push_back(std::move(*pa));
    else
      report.left_out.push_back(fmt::format("{}: {} has no promptfoo counterpart{}; the test goes "
                                            "without it",
                                            c.id, scoring::to_spec(c.expect[k]),
                                            why.empty() ? "" : " (" + why + ")"));
  }
  if (asserts.empty()) {
    report.left_out.push_back(
        fmt::format("{}: no assertion promptfoo can check; the case is left out", c.id));
    return std::nullopt;
  }
  std::string prompt = var_literal(input_text(c));
  if (prompt.empty()) {
    report.left_out.push_back(fmt::format(
        "{}: the input holds 'endraw', which a promptfoo var cannot keep literal; the case is "
        "left out",
        c.id));
    return std::nullopt;
  }
  if (c.title)
    test["description"] = *c.title;
  test["vars"]["prompt"] = prompt;
  if (settings.query && !settings.query->empty())
    test["vars"]["query"] = *settings.query;
  test["assert"] = std::move(asserts);
  if (settings.categories && !settings.categories->empty()) {
    ojson scores;
    for (std::size_t i = 0; i < std::size(k_factuality_names); ++i)
      scores[std::string(k_factuality_names[i])] = (*settings.categories)[i];
    test["options"]["factuality"] = std::move(scores);
  }
  if (test.contains("options")) { // after the assertions, as the import reads it
    auto options = test["options"];
    test.erase("options");
    test["options"] = std::move(options);
  }
  test["metadata"] = metadata_of(c, incidents);
  if (read_metadata.is_object())
    for (const auto& [key, value] : read_metadata.items())
      test["metadata"][key] = value;
  return test;
}

} // namespace

Result<ExportReport> export_promptfoo(suite::Suite& s, std::ostream& out,
                                      const std::optional<providers::ProviderConfig>& provider,
                                      const std::optional<fs::path>& files_dir) {
  if (provider && provider->kind == providers::Kind::exec)
    return invalid("provider {} runs a command; promptfoo can be given an openai or anthropic "
                   "provider",
                   provider->name);
  suite::CaseFilter filter;
  filter.status = suite::CaseStatus::active;
  auto cases = TRY(suite::list_cases(s, filter));
  auto incident_list = TRY(suite::list_incidents(s));
  std::map<std::string, suite::Incident> incidents;
  for (auto& i : incident_list)
    incidents.emplace(i.id, std::move(i));

  ExportReport report;
  ojson tests = ojson::array();
  ScriptFilesOut files{files_dir, {}};
  for (const auto& c : cases)
    if (auto test = test_of(c, incidents, report, files))
      tests.push_back(std::move(*test));
  report.cases = tests.size();
  for (const auto& [name, code] : files.files) {
    fs::path path = *files.dir / name;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream f(path, std::ios::binary);
    f << code;
    if (!f)
      return fail(ExitCode::environment, "cannot write '{}'", path.string());
  }

  out << "# promptfoo configuration for the active cases of an evalkeep suite\n"
         "# (evalkeep export --to promptfoo). Each test's var \"prompt\" is the case's input:\n"
         "# text, or a JSON list of chat messages, which promptfoo sends as a conversation.\n";
  ojson head;
  head["description"] =
      fmt::format("evalkeep suite: {} active case{}", report.cases, report.cases == 1 ? "" : "s");
  head["prompts"] = ojson::array({"{{prompt}}"});
  write_yaml(out, head, 0);
  if (provider) {
    ojson p;
    p["providers"] = ojson::array({provider_entry(*provider)});
    write_yaml(out, p, 0);
  } else {
    out << "# providers: name the model to run, e.g.\n"
           "#   - id: openai:chat:gpt-4o-mini\n"
           "# or pass --provider NAME (from evalkeep.toml) to the export.\n";
  }
  ojson body;
  body["tests"] = std::move(tests);
  write_yaml(out, body, 0);
  out.flush();
  if (!out)
    return fail(ExitCode::environment, "cannot write the promptfoo configuration");
  return report;
}

} // namespace evalkeep::interop
