#include "cli/context.hpp"
#include "core/tools.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/interchange.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/weakening.hpp"

#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace evalkeep::cli {

using ojson = nlohmann::ordered_json;

namespace {

// The input and provenance options add and edit share.
struct CaseInput {
  std::optional<std::string> title, prompt, prompt_file, messages_file, system;
  std::optional<std::string> tools_file, tool_choice;
  std::optional<std::string> incident, provenance;
  std::vector<std::string> expect, tags;
  std::optional<double> min_pass_rate;
  std::optional<int> trials;
};

struct AddOptions {
  std::optional<std::string> id; // not given: a generated id
  CaseInput in;
  bool xfail = false;
};

struct ListOptions {
  std::optional<std::string> tag, incident, status, kind;
  bool json = false;
};

struct ShowOptions {
  std::string id;
  bool json = false;
};

struct EditOptions {
  std::string id;
  CaseInput in;
  std::vector<std::string> add_expect, remove_expect, remove_tags;
  std::optional<std::string> status;
  std::string rationale;
  std::optional<std::string> reason, decided_by, approved_by;
};

Result<std::vector<scoring::Assertion>> parse_assertions(const std::vector<std::string>& specs) {
  std::vector<scoring::Assertion> out;
  for (const auto& spec : specs) {
    auto a = scoring::parse_assertion(spec);
    if (!a)
      return with_context(a.error(), fmt::format("--expect '{}'", spec));
    out.push_back(std::move(*a));
  }
  return out;
}

Result<suite::Provenance> parse_provenance(const CaseInput& in) {
  if (in.incident && in.provenance)
    return invalid("give either --incident or --provenance, not both");
  if (in.incident)
    return suite::Provenance{suite::ProvenanceKind::incident, *in.incident, {}};
  if (!in.provenance)
    return with_hint(invalid("a case needs a provenance: where did it come from?"),
                     "pass --incident INC-… or --provenance spec:\"refund policy section 4\" "
                     "(kinds: spec, red-team, exploratory, imported)");
  auto colon = in.provenance->find(':');
  auto kind = suite::parse_provenance_kind(in.provenance->substr(0, colon));
  if (!kind || *kind == suite::ProvenanceKind::incident)
    return invalid("--provenance '{}': the kind must be spec, red-team, exploratory or imported "
                   "(use --incident for incidents)",
                   *in.provenance);
  std::string note = colon == std::string::npos ? "" : in.provenance->substr(colon + 1);
  if (note.empty())
    return invalid("--provenance '{}' needs a note: KIND:NOTE, e.g. spec:\"style guide 2.1\"",
                   *in.provenance);
  return suite::Provenance{*kind, {}, note};
}

// What --messages-file, --tools-file and --tool-choice give.
struct ReadInput {
  std::optional<std::vector<suite::Message>> messages;
  std::optional<nlohmann::json> tools, tool_choice;
};

Result<nlohmann::json> read_json_file(const std::string& path, const char* flag) {
  auto text = read_input(path, suite::k_max_line_bytes, "a case's input may take");
  if (!text)
    return with_context(text.error(), flag);
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded())
    return invalid("{} {}: not JSON", flag, path);
  return j;
}

// A messages file: an array of messages, or an object with "messages" and, optionally, the
// "tools" and "tool_choice" of a request body.
Status read_messages(const std::string& path, ReadInput& out) {
  auto j = TRY(read_json_file(path, "--messages-file"));
  auto in_file = [&](Error e) {
    return std::unexpected(with_context(std::move(e), fmt::format("--messages-file {}", path)));
  };
  const nlohmann::json* msgs = &j;
  if (j.is_object()) {
    for (const auto& [key, _] : j.items())
      if (key != "messages" && key != "tools" && key != "tool_choice")
        return in_file(invalid_field(key, "unknown field (a messages file holds messages, tools "
                                          "and tool_choice)")
                           .error());
    if (!j.contains("messages"))
      return in_file(invalid_field("messages", "required").error());
    msgs = &j["messages"];
    if (j.contains("tools")) {
      auto tools = suite::parse_tools(j["tools"]);
      if (!tools)
        return in_file(tools.error());
      out.tools = *tools;
    }
    if (j.contains("tool_choice"))
      out.tool_choice = j["tool_choice"];
  }
  auto messages = suite::parse_messages(*msgs);
  if (!messages)
    return in_file(messages.error());
  out.messages = std::move(*messages);
  return {};
}

// --tool-choice: auto, none, required, or a tool's name.
nlohmann::json tool_choice_arg(const std::string& v) {
  if (v == "auto" || v == "none" || v == "required")
    return v;
  return {{"type", "function"}, {"function", {{"name", v}}}};
}

// Fills the case's input from --prompt, --prompt-file or --messages-file, and its tools from
// --tools-file and --tool-choice.
Status read_case_input(const CaseInput& in, std::optional<std::string>& prompt, ReadInput& out) {
  int given = (in.prompt ? 1 : 0) + (in.prompt_file ? 1 : 0) + (in.messages_file ? 1 : 0);
  if (given > 1)
    return invalid("give one of --prompt, --prompt-file and --messages-file");
  if (in.prompt)
    prompt = *in.prompt;
  if (in.prompt_file) {
    auto text = read_input(*in.prompt_file, suite::k_max_input_bytes, "a case's input may hold");
    if (!text)
      return with_context(text.error(), "--prompt-file");
    while (!text->empty() && text->back() == '\n')
      text->pop_back();
    prompt = *text;
  }
  if (in.messages_file)
    TRY(read_messages(*in.messages_file, out));
  if (in.tools_file) {
    if (out.tools)
      return invalid("the messages file has tools: leave out --tools-file");
    auto j = TRY(read_json_file(*in.tools_file, "--tools-file"));
    if (j.is_array() && j.empty()) {
      out.tools = nlohmann::json(); // none
    } else if (auto tools = suite::parse_tools(j); !tools) {
      return with_context(tools.error(), fmt::format("--tools-file {}", *in.tools_file));
    } else {
      out.tools = *tools;
    }
  }
  if (in.tool_choice) {
    if (out.tool_choice)
      return invalid("the messages file has a tool_choice: leave out --tool-choice");
    out.tool_choice = tool_choice_arg(*in.tool_choice);
  }
  return {};
}

// The library names a case's fields as the JSONL does; on the command line they are flags.
Error in_flag_terms(Error e) {
  static const std::map<std::string_view, std::string_view> k_flags{
      {"min_pass_rate", "--min-pass-rate"},
      {"trials", "--trials"},
      {"prompt", "--prompt"},
      {"system", "--system"},
      {"messages", "--messages-file"},
      {"tools", "--tools-file"},
      {"tool_choice", "--tool-choice"},
      {"tags", "--tag"},
      {"id", "--id"},
      {"title", "--title"}};
  if (auto flag = k_flags.find(e.field); flag != k_flags.end())
    e.name_field(flag->second);
  return e;
}

// Output is written in chunks of this size.
constexpr std::size_t k_output_chunk = std::size_t{1} << 20;

ojson listing(const suite::Case& c) {
  ojson r = suite::case_record(c);
  r.erase("type");
  r["status"] = suite::to_string(c.status);
  if (!r.contains("tags"))
    r["tags"] = ojson::array();
  return r;
}

Status run_add(Context& ctx, const AddOptions& o) {
  // `--id "$ID"` with ID unset must not quietly become a generated id.
  if (o.id && o.id->empty())
    return with_hint(invalid("--id is empty"),
                     "give the case a readable id, or leave --id out for a generated one");
  suite::Case c;
  c.id = o.id.value_or("");
  c.title = o.in.title;
  c.system = o.in.system;
  ReadInput read;
  TRY(read_case_input(o.in, c.prompt, read));
  if (read.messages)
    c.messages = std::move(*read.messages);
  c.tools = read.tools.value_or(nlohmann::json());
  if (read.tool_choice) {
    auto choice = core::normalize_tool_choice(*read.tool_choice, c.tools);
    if (!choice)
      return std::unexpected(in_flag_terms(choice.error()));
    c.tool_choice = *choice;
  }
  if (!c.prompt && c.messages.empty())
    return with_hint(invalid("a case needs an input"),
                     "pass --prompt TEXT, --prompt-file FILE or --messages-file FILE ('-' reads "
                     "stdin)");
  c.expect = TRY(parse_assertions(o.in.expect));
  if (c.expect.empty())
    return with_hint(invalid("a case needs at least one assertion"),
                     "add --expect TYPE:VALUE, e.g. --expect 'icontains:30 days'");
  c.tags = o.in.tags;
  c.provenance = TRY(parse_provenance(o.in));
  c.status = o.xfail ? suite::CaseStatus::xfail : suite::CaseStatus::active;
  c.min_pass_rate = o.in.min_pass_rate;
  c.trials = o.in.trials;

  auto w = TRY(ctx.writer());
  auto id = suite::add_case(w.suite, std::move(c), w.policy(), w.origin);
  if (!id)
    return std::unexpected(in_flag_terms(id.error()));
  fmt::print("{}\n", *id); // the id is data: a script can capture a generated one
  return {};
}

// The listing as JSON, streamed: one case and at most a chunk of output in memory.
Status list_json(suite::Suite& s, const suite::CaseFilter& filter) {
  std::string out = "[";
  std::size_t listed = 0;
  TRY(suite::for_each_case(s, filter, [&](suite::Case&& c) {
    out += listed++ ? ",\n  " : "\n  ";
    out += listing(c).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (out.size() >= k_output_chunk) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
    return Status{};
  }));
  out += listed ? "\n]\n" : "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return {};
}

// The listing as text, one line a case, streamed as list_json is; the number of cases listed.
Result<std::size_t> list_text(suite::Suite& s, const suite::CaseFilter& filter) {
  std::size_t id_width = std::max<std::size_t>(8, TRY(suite::longest_case_id(s, filter)));
  std::string out;
  std::size_t listed = 0;
  TRY(suite::for_each_case(s, filter, [&](suite::Case&& c) {
    ++listed;
    std::string source = c.provenance.kind == suite::ProvenanceKind::incident
                             ? c.provenance.incident
                             : std::string(suite::to_string(c.provenance.kind));
    std::string tags;
    for (const auto& t : c.tags)
      tags += (tags.empty() ? "" : ",") + t;
    out += fmt::format("{:<{}}  {:<7}  {:<11}  {:<16}  {}\n", c.id, id_width,
                       suite::to_string(c.status), source, tags.empty() ? "-" : tags,
                       suite::input_preview(c, 60));
    if (out.size() >= k_output_chunk) {
      print_text(out);
      out.clear();
    }
    return Status{};
  }));
  print_text(out);
  return listed;
}

Status run_list(Context& ctx, const ListOptions& o) {
  suite::CaseFilter filter;
  filter.tag = o.tag;
  filter.incident = o.incident;
  if (o.status) {
    filter.status = suite::parse_status(*o.status);
    if (!filter.status)
      return invalid("--status '{}' is not active, xfail, retired or removed", *o.status);
  }
  if (o.kind) {
    filter.kind = suite::parse_provenance_kind(*o.kind);
    if (!filter.kind)
      return invalid("--provenance '{}' is not incident, spec, red-team, exploratory or imported",
                     *o.kind);
  }
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  if (o.json)
    return list_json(s, filter);
  auto listed = TRY(list_text(s, filter));
  if (listed == 0 && !ctx.quiet)
    fmt::print(stderr, "no cases match\n");
  return {};
}

// What `show` tells of a case: the case, its incident, its retirement decision, its history and
// the edits in it that weakened the case, each with the decision it recorded.
struct CaseStory {
  suite::Case c;
  std::optional<suite::Incident> incident;
  std::optional<suite::RetirementDecision> decision;
  std::vector<suite::LedgerEvent> history;
  std::vector<std::pair<const suite::LedgerEvent*, suite::RecordedEdit>> weakenings;
  const suite::LedgerEvent* first() const { return history.empty() ? nullptr : &history.front(); }
};

Result<CaseStory> read_story(suite::Suite& s, const std::string& id) {
  CaseStory story;
  story.c = TRY(suite::get_case(s, id));
  story.decision = TRY(suite::find_decision(s, id));
  story.history = TRY(suite::read_ledger(s.db(), id));
  if (story.c.provenance.kind == suite::ProvenanceKind::incident) {
    auto i = suite::get_incident(s, story.c.provenance.incident);
    if (i)
      story.incident = *i;
  }
  for (const auto& e : story.history)
    if (auto edit = suite::recorded_edit(e); edit && edit->decision)
      story.weakenings.emplace_back(&e, std::move(*edit));
  return story;
}

ojson weakening_json(const suite::LedgerEvent& e, const suite::RecordedEdit& edit) {
  ojson w;
  w["seq"] = e.seq;
  w["at"] = e.at;
  w["reason"] = edit.decision->reason;
  w["rationale"] = edit.decision->rationale;
  w["decided_by"] = edit.decision->decided_by;
  w["approved_by"] = edit.decision->approved_by ? ojson(*edit.decision->approved_by) : ojson();
  ojson changes = ojson::array();
  for (const auto& change : edit.changes)
    if (change.weakens)
      changes.push_back(suite::to_json(change));
  w["weakenings"] = std::move(changes);
  return w;
}

ojson story_json(const CaseStory& story) {
  ojson r = listing(story.c);
  if (const auto* first = story.first()) {
    r["author"] = first->actor;
    r["created_at"] = first->at;
  }
  r["content_hash"] = core::to_hex(story.c.content_hash);
  if (story.decision) {
    auto d = suite::retirement_record(*story.decision);
    d.erase("type");
    d.erase("case");
    r["retirement"] = std::move(d);
  }
  ojson weakened = ojson::array();
  for (const auto& [e, edit] : story.weakenings)
    weakened.push_back(weakening_json(*e, edit));
  r["weakened"] = std::move(weakened);
  r["events"] = story.history.size();
  return r;
}

// The case's own lines: its facts, its input and its assertions.
std::string case_text(const CaseStory& story) {
  const auto& c = story.c;
  std::string out = fmt::format("case {}\n", c.id);
  if (c.title)
    out += fmt::format("Title:      {}\n", *c.title);
  out += fmt::format("Status:     {}\n", suite::to_string(c.status));
  if (story.incident)
    out += fmt::format("Incident:   {} — {}{}\n", story.incident->id, story.incident->title,
                       story.incident->date ? " (" + *story.incident->date + ")" : "");
  else
    out +=
        fmt::format("Provenance: {}: {}\n", suite::to_string(c.provenance.kind), c.provenance.note);
  if (!c.tags.empty())
    out += fmt::format("Tags:       {}\n", fmt::join(c.tags, ", "));
  if (const auto* first = story.first())
    out += fmt::format("Added:      {} by {}\n", first->at, first->actor);
  if (c.min_pass_rate || c.trials)
    out += fmt::format("Trials:     {} (pass rate at least {})\n", c.trials.value_or(1),
                       c.min_pass_rate.value_or(1.0));
  if (c.purged)
    return out + fmt::format("\n(input and assertions were purged; content hash {})\n",
                             core::to_hex(c.content_hash));
  out += "\nInput:\n";
  if (c.system)
    out += fmt::format("  [system] {}\n", *c.system);
  if (c.prompt)
    out += fmt::format("  [user] {}\n", *c.prompt);
  for (const auto& m : c.messages) {
    if (m.tool_call_id.empty())
      out += fmt::format("  [{}] {}\n", m.role, m.content);
    else
      out += fmt::format("  [tool {}] {}\n", m.tool_call_id, m.content);
    for (const auto& call : m.tool_calls)
      out += fmt::format("    calls {}({}) [{}]\n", call.name, call.arguments, call.id);
  }
  if (!c.tools.is_null()) {
    out += "\nTools:\n";
    for (const auto& name : core::tool_names(c.tools))
      out += fmt::format("  {}\n", name);
  }
  if (!c.tool_choice.is_null())
    out += fmt::format("Tool choice: {}\n", c.tool_choice.dump());
  if (c.evidence.is_object()) {
    out += fmt::format("\nEvidence (as logged{}{}; never an expectation):\n",
                       c.evidence.contains("source") ? ", " + c.evidence.value("source", "") : "",
                       c.evidence.contains("id") ? ", " + c.evidence.value("id", "") : "");
    if (auto answer = c.evidence.value("answer", ""); !answer.empty())
      out += fmt::format("  answered: {}\n", answer);
    for (const auto& call :
         core::parse_tool_calls(c.evidence.value("tool_calls", nlohmann::json()).dump()))
      out += fmt::format("  called: {}({})\n", call.name, call.arguments);
  }
  out += "\nExpect:\n";
  for (const auto& a : c.expect)
    out += fmt::format("  {}\n", scoring::to_spec(a));
  return out;
}

// The decisions that gave something of the case up: its retirement and its weakenings, then
// the size of its history.
std::string decisions_text(const CaseStory& story) {
  std::string out;
  if (story.decision) {
    const auto& d = *story.decision;
    out += fmt::format("\nRetired:    {} — {}\n", suite::to_string(d.reason), d.rationale);
    out += fmt::format("Decided:    {} by {}{}\n", d.decided_at, d.decided_by,
                       d.approved_by ? ", approved by " + *d.approved_by : "");
    if (!d.superseded_by.empty())
      out += fmt::format("Superseded by: {}\n", fmt::join(d.superseded_by, ", "));
    if (d.revisit)
      out += fmt::format("Revisit:    {}\n", *d.revisit);
  }
  for (const auto& [e, edit] : story.weakenings) {
    const auto& d = *edit.decision;
    out +=
        fmt::format("\nWeakened:   {} — {} (event {}, {})\n", d.reason, d.rationale, e->seq, e->at);
    for (const auto& change : edit.changes)
      if (change.weakens)
        out += fmt::format("  {}\n", suite::describe(change));
    out += fmt::format("Decided:    by {}{}\n", d.decided_by,
                       d.approved_by ? ", approved by " + *d.approved_by : "");
  }
  return out + fmt::format("\nHistory: {} event{} (evalkeep log {})\n", story.history.size(),
                           story.history.size() == 1 ? "" : "s", story.c.id);
}

Status run_show(Context& ctx, const ShowOptions& o) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto story = TRY(read_story(s, o.id));
  if (o.json)
    fmt::print("{}\n",
               story_json(story).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    print_text(case_text(story) + decisions_text(story));
  return {};
}

// The changes edit's flags ask for.
Result<suite::CaseChanges> edit_changes(const EditOptions& o) {
  suite::CaseChanges ch;
  ch.rationale = o.rationale;
  ch.title = o.in.title;
  ch.system = o.in.system;
  ReadInput read;
  TRY(read_case_input(o.in, ch.prompt, read));
  ch.messages = std::move(read.messages);
  ch.tools = std::move(read.tools);
  ch.tool_choice = std::move(read.tool_choice);
  if (!o.in.expect.empty())
    ch.expect = TRY(parse_assertions(o.in.expect));
  ch.add_expect = TRY(parse_assertions(o.add_expect));
  ch.remove_expect = TRY(parse_assertions(o.remove_expect));
  ch.add_tags = o.in.tags;
  ch.remove_tags = o.remove_tags;
  if (o.in.incident || o.in.provenance)
    ch.provenance = TRY(parse_provenance(o.in));
  if (o.status) {
    ch.status = suite::parse_status(*o.status);
    if (!ch.status)
      return invalid("--status '{}' is not active or xfail", *o.status);
  }
  ch.min_pass_rate = o.in.min_pass_rate;
  ch.trials = o.in.trials;
  ch.reason = o.reason;
  ch.decided_by = o.decided_by;
  ch.approved_by = o.approved_by;
  return ch;
}

Status run_edit(Context& ctx, const EditOptions& o) {
  auto ch = TRY(edit_changes(o));
  auto w = TRY(ctx.writer());
  if (auto r = suite::edit_case(w.suite, o.id, ch, w.policy(), w.origin); !r)
    return std::unexpected(in_flag_terms(r.error()));
  ctx.say("edited {}", o.id);
  return {};
}

void add_input_options(CLI::App* cmd, CaseInput& in, bool for_edit) {
  cmd->add_option("--title", in.title, "A short title");
  cmd->add_option("--prompt", in.prompt, "The user prompt");
  cmd->add_option("--prompt-file", in.prompt_file, "Read the prompt from a file ('-': stdin)");
  cmd->add_option("--messages-file", in.messages_file,
                  "Read a conversation: a JSON array of {\"role\",\"content\"} (with assistant "
                  "\"tool_calls\" and \"tool\" results), or {\"messages\",\"tools\","
                  "\"tool_choice\"} ('-': stdin)");
  cmd->add_option("--tools-file", in.tools_file,
                  for_edit ? "Replace the tools the model may call: a JSON array of function "
                             "definitions ('[]' removes them)"
                           : "The tools the model may call: a JSON array of function definitions "
                             "(OpenAI's format; Anthropic's is read too)");
  cmd->add_option("--tool-choice", in.tool_choice,
                  "auto, none, required, or the name of the tool the model must call");
  cmd->add_option("--system", in.system, "A system prompt, with --prompt");
  cmd->add_option("--expect", in.expect,
                  for_edit ? "Replace all assertions with these (repeatable)"
                           : "An assertion TYPE:VALUE (repeatable): " + scoring::type_names());
  cmd->add_option(for_edit ? "--add-tag" : "--tag", in.tags, "A tag (repeatable)");
  cmd->add_option("--incident", in.incident, "The incident this case guards against");
  cmd->add_option("--provenance", in.provenance,
                  "Another origin, KIND:NOTE with KIND spec, red-team, exploratory or imported");
  cmd->add_option("--min-pass-rate", in.min_pass_rate,
                  "Pass when at least this share of trials pass")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--trials", in.trials, "How many times to run the case")
      ->check(CLI::Range(1, 1000));
}

} // namespace

void add_case_commands(CLI::App& app, Context& ctx) {
  auto add = std::make_shared<AddOptions>();
  auto* cmd = app.add_subcommand("add", "Add a case, linked to the incident it came from");
  cmd->add_option("--id", add->id, "A readable id (default: a generated sortable id)");
  add_input_options(cmd, add->in, false);
  cmd->add_flag("--xfail", add->xfail, "Known to fail today; reported, not gating");
  cmd->footer(
      "Examples:\n"
      "  evalkeep add --id refund-window --prompt \"Can I get a refund after 45 days?\" \\\n"
      "      --expect 'icontains:30 days' --incident INC-7 --tag billing\n"
      "  evalkeep add --messages-file convo.json --expect 'not-contains:unfortunately' \\\n"
      "      --provenance 'spec:style guide 2.1'\n"
      "Assertions: equals:TEXT contains:TEXT icontains:TEXT not-contains:TEXT starts-with:TEXT\n"
      "  regex:RE2 is-json json-path:/ptr=JSON min-length:N max-length:N number-close:X,TOL\n"
      "  max-latency-ms:N max-cost:USD judge[@THRESHOLD]:RUBRIC judge/factuality:REFERENCE\n"
      "  judge/closedqa:CRITERION judge/g-eval[@THRESHOLD]:CRITERIA\n"
      "  judge/answer-relevance[@THRESHOLD][:QUERY] (docs/USAGE.md lists every type)");
  cmd->callback([&ctx, add] { ctx.run([&] { return run_add(ctx, *add); }); });

  auto list = std::make_shared<ListOptions>();
  cmd = app.add_subcommand("list", "List cases (retired ones too; removed ones with --status)");
  cmd->add_option("--tag", list->tag, "Only cases with this tag");
  cmd->add_option("--incident", list->incident, "Only cases guarding this incident");
  cmd->add_option("--status", list->status,
                  "Only cases with this status: active, xfail, "
                  "retired, removed");
  cmd->add_option("--provenance", list->kind,
                  "Only cases of this provenance kind: incident, spec, red-team, ...");
  cmd->add_flag("--json", list->json, "Print a JSON array");
  cmd->footer("Examples:\n  evalkeep list --tag billing\n  evalkeep list --incident INC-7 --json");
  cmd->callback([&ctx, list] { ctx.run([&] { return run_list(ctx, *list); }); });

  auto show = std::make_shared<ShowOptions>();
  cmd = app.add_subcommand("show", "Show one case: input, assertions, provenance, decision");
  cmd->add_option("case", show->id, "Case id")->required();
  cmd->add_flag("--json", show->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep show refund-window");
  cmd->callback([&ctx, show] { ctx.run([&] { return run_show(ctx, *show); }); });

  auto edit = std::make_shared<EditOptions>();
  cmd = app.add_subcommand("edit", "Change a case; the rationale is kept in the ledger");
  cmd->add_option("case", edit->id, "Case id")->required();
  add_input_options(cmd, edit->in, true);
  cmd->add_option("--add-expect", edit->add_expect, "Add an assertion TYPE:VALUE (repeatable)");
  cmd->add_option("--remove-expect", edit->remove_expect,
                  "Remove an assertion, written as shown by 'evalkeep show' (repeatable)");
  cmd->add_option("--remove-tag", edit->remove_tags, "Remove a tag (repeatable)");
  cmd->add_option("--status", edit->status, "active or xfail");
  cmd->add_option("--rationale", edit->rationale, "Why the case changes")->required();
  cmd->add_option("--reason", edit->reason,
                  "Record a weakening as a decision: " + suite::weakening_reason_names());
  cmd->add_option("--decided-by", edit->decided_by,
                  "Who decided the weakening (default: your git identity)");
  cmd->add_option("--approved-by", edit->approved_by, "Who approved the weakening");
  cmd->footer(
      "A change that makes the case easier to pass (xfail, a lower pass rate, an assertion\n"
      "removed or loosened, a changed input) is refused unless --reason records it as a decision.\n"
      "Examples:\n"
      "  evalkeep edit refund-window --add-expect 'not-contains:guarantee' --rationale \"INC-9 "
      "showed the refund promise can be implicit\"\n"
      "  evalkeep edit refund-window --prompt \"Can I get a refund after 60 days?\" --reason "
      "reworded \\\n"
      "      --rationale \"the policy window is 60 days now\"");
  cmd->callback([&ctx, edit] { ctx.run([&] { return run_edit(ctx, *edit); }); });
}

} // namespace evalkeep::cli
