#include "cli/context.hpp"
#include "core/text.hpp"
#include "interop/capture.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/records.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace evalkeep::cli {

namespace {

// A capture file may hold many exchanges, each up to a case's input.
constexpr std::size_t k_max_capture_bytes = std::size_t{64} << 20;

struct CaptureOptions {
  std::string file;
  std::string incident;
  std::vector<std::string> expect;
  bool accept = false;
  std::optional<std::string> id, title;
  std::vector<std::string> tags;
  std::optional<std::size_t> line;
  std::optional<std::string> id_match;
};

// Text on one line, at most `max_bytes` of it, with "…" where it was cut.
std::string cut(std::string_view text, std::size_t max_bytes) {
  std::string out(core::utf8_prefix(text, max_bytes));
  for (auto& ch : out)
    if (ch == '\n' || ch == '\r')
      ch = ' ';
  return out.size() < text.size() ? out + "…" : out;
}

// An argument as a POSIX shell reads it back.
std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_./:=@%+,-") == std::string::npos)
    return arg;
  std::string out = "'";
  for (char ch : arg)
    out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// The command line that writes the previewed case, with `tail` (--accept or --expect ...).
std::string confirm_command(const CaptureOptions& o, const std::string& tail) {
  std::string cmd =
      "evalkeep capture " + shell_quote(o.file) + " --incident " + shell_quote(o.incident);
  if (o.line)
    cmd += fmt::format(" --line {}", *o.line);
  if (o.id_match)
    cmd += " --id-match " + shell_quote(*o.id_match);
  if (o.id)
    cmd += " --id " + shell_quote(*o.id);
  if (o.title)
    cmd += " --title " + shell_quote(*o.title);
  for (const auto& t : o.tags)
    cmd += " --tag " + shell_quote(t);
  return cmd + " " + tail;
}

std::string call_text(const nlohmann::json& call) {
  const auto& args = call.value("arguments", nlohmann::json::object());
  return fmt::format("{}({})", call.value("name", ""),
                     args.is_string() ? args.get<std::string>() : args.dump());
}

std::string input_text(const suite::Case& c) {
  std::string out;
  if (c.system)
    out += fmt::format("  [system] {}\n", cut(*c.system, 200));
  if (c.prompt)
    out += fmt::format("  [user] {}\n", cut(*c.prompt, 200));
  for (const auto& m : c.messages) {
    out += m.tool_call_id.empty()
               ? fmt::format("  [{}] {}\n", m.role, cut(m.content, 200))
               : fmt::format("  [tool {}] {}\n", m.tool_call_id, cut(m.content, 200));
    for (const auto& call : m.tool_calls)
      out += fmt::format("    called {}\n", call_text(core::to_json(call)));
  }
  if (!c.tools.is_null())
    out +=
        fmt::format("  tools: {}{}\n", fmt::join(core::tool_names(c.tools), ", "),
                    c.tool_choice.is_null() ? "" : " (tool_choice " + c.tool_choice.dump() + ")");
  return out;
}

void print_preview(const CaptureOptions& o, const interop::Capture& cap, const suite::Case& c) {
  const auto& e = cap.evidence();
  std::string out = fmt::format(
      "Proposed case {} for {} (nothing written)\n",
      o.id ? *o.id : std::string("(id generated when written; --id ID to choose)"), o.incident);
  out += fmt::format("From:     {} ({}{})\n", o.file, cap.format,
                     cap.exchange_id.empty() ? "" : ", id " + cap.exchange_id);
  if (c.title)
    out += fmt::format("Title:    {}\n", *c.title);
  out += "\nInput:\n" + input_text(c);
  out += "\nEvidence (as logged; shown, never used as an expectation):\n";
  out += fmt::format("  answer: {}\n", e.value("answer", "").empty()
                                           ? std::string("(no text)")
                                           : cut(e.value("answer", ""), 300));
  for (const auto& call : e.value("tool_calls", nlohmann::json::array()))
    out += fmt::format("  called {}\n", call_text(call));
  out += "\nProposed assertions:\n";
  for (const auto& p : cap.proposals)
    out += fmt::format("  {}\n      {}\n", p.spec, p.why);
  if (cap.proposals.empty())
    out += "  (none: the logged answer called no tool; say what a right answer does with "
           "--expect, e.g. 'judge:RUBRIC' or 'not-icontains:TEXT')\n";
  std::string expects;
  for (const auto& p : cap.proposals)
    expects += " --expect " + shell_quote(p.spec);
  out += "\nTo write it:\n";
  if (!cap.proposals.empty())
    out += "  " + confirm_command(o, "--accept") + "\n";
  out += "  " + confirm_command(o, expects.empty() ? "--expect 'TYPE:VALUE'" : expects.substr(1)) +
         "\n";
  print_text(out);
}

Result<std::vector<scoring::Assertion>> chosen_assertions(const CaptureOptions& o,
                                                          const interop::Capture& cap) {
  std::vector<scoring::Assertion> out;
  if (o.accept) {
    if (cap.proposals.empty())
      return with_hint(invalid("nothing to accept: no assertion was proposed for this answer"),
                       "say what a right answer does with --expect TYPE:VALUE");
    for (const auto& p : cap.proposals)
      out.push_back(p.assertion);
  }
  for (const auto& spec : o.expect) {
    auto a = scoring::parse_assertion(spec);
    if (!a)
      return with_context(a.error(), fmt::format("--expect '{}'", spec));
    out.push_back(std::move(*a));
  }
  return out;
}

Status run_capture(Context& ctx, const CaptureOptions& o) {
  if (o.accept && !o.expect.empty())
    return invalid("give --accept or --expect, not both");
  if (o.id && o.id->empty())
    return with_hint(invalid("--id is empty"),
                     "give the case a readable id, or leave --id out for a generated one");
  auto text = TRY(read_input(o.file, k_max_capture_bytes, "a capture file may hold"));
  auto cap = TRY(interop::read_capture(text, o.file, {.line = o.line, .id_match = o.id_match}));
  suite::Case c = cap.draft;
  c.id = o.id.value_or("");
  c.title = o.title;
  c.tags = o.tags;
  c.provenance = {suite::ProvenanceKind::incident, o.incident, {}};
  c.expect = TRY(chosen_assertions(o, cap));
  if (c.expect.empty()) {
    // A preview: check what the write would refuse first, so the command shown works.
    auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
    if (auto incident = suite::get_incident(s, o.incident); !incident)
      return with_hint(
          invalid("unknown incident {}", o.incident),
          fmt::format("record it first: evalkeep incident add {} --title \"...\"", o.incident));
    print_preview(o, cap, c);
    return {};
  }
  auto w = TRY(ctx.writer());
  auto id = TRY(suite::add_case(w.suite, std::move(c), w.policy(), w.origin));
  fmt::print("{}\n", id); // the id is data, as add prints it
  return {};
}

} // namespace

void add_capture_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CaptureOptions>();
  auto* cmd = app.add_subcommand(
      "capture", "Make a case from a logged model exchange (OpenAI request/response or OTel span)");
  cmd->add_option("file", o->file,
                  "The log: an OpenAI {\"request\",\"response\"} pair or an OTLP JSON trace "
                  "(JSON, or JSONL of many; '-' reads stdin)")
      ->required();
  cmd->add_option("--incident", o->incident, "The incident this exchange went wrong in")
      ->required();
  cmd->add_option("--expect", o->expect,
                  "Write the case with these assertions TYPE:VALUE (repeatable)");
  cmd->add_flag("--accept", o->accept, "Write the case with the proposed assertions");
  cmd->add_option("--id", o->id, "A readable id (default: a generated sortable id)");
  cmd->add_option("--title", o->title, "A title for the case");
  cmd->add_option("--tag", o->tags, "A tag (repeatable)");
  cmd->add_option("--line", o->line, "Capture the exchange on this line of a JSONL file")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--id-match", o->id_match,
                  "Capture the exchange with this id: the response's id, or a trace or span id");
  cmd->footer(
      "Without --accept or --expect nothing is written: the proposed case (input, the logged\n"
      "answer as evidence, proposed assertions) is printed with the command that writes it.\n"
      "Examples:\n"
      "  evalkeep capture refund.json --incident INC-9\n"
      "  evalkeep capture refund.json --incident INC-9 --id refund-needs-policy --accept\n"
      "  evalkeep capture traces.jsonl --incident INC-9 --id-match "
      "4bf92f3577b34da6a3ce929d0e0e4736 "
      "\\\n"
      "      --expect no-tool-call:issue_refund --expect tool-called:check_policy\n"
      "Exit codes: 0 previewed or written, 1 refused by the suite's policy, 2 a file that is not\n"
      "one of the two formats, a broken field, several exchanges without --line or --id-match.");
  cmd->callback([&ctx, o] { ctx.run([&] { return run_capture(ctx, *o); }); });
}

} // namespace evalkeep::cli
