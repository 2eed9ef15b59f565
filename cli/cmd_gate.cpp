#include "cli/context.hpp"
#include "core/time.hpp"
#include "gate/gate.hpp"
#include "git/repo.hpp"
#include "report/audit.hpp"
#include "report/gate_report.hpp"
#include "report/why.hpp"

#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct GateOptions {
  std::string base;
  std::string markdown, junit;
  bool json = false;
};

Status write_file(const std::string& path, const std::string& text, bool append) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << text;
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", path);
  return {};
}

// The base when none is given: origin/main if it exists, else main.
std::string default_base(const suite::Workspace& ws) {
  for (const char* ref : {"origin/main", "main", "origin/master", "master"})
    if (git::resolve(ws.root, ref))
      return ref;
  return "main";
}

Status run_gate(Context& ctx, const GateOptions& o) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  std::string base = o.base.empty() ? default_base(**ws) : o.base;
  auto report = gate::gate(**ws, base);
  if (!report)
    return std::unexpected(report.error());
  if (o.json)
    fmt::print("{}\n", report::gate_json(*report).dump(2, ' ', false,
                                                       nlohmann::json::error_handler_t::replace));
  else
    fmt::print("{}", report::gate_text(*report));
  std::string markdown = report::gate_markdown(*report);
  if (!o.markdown.empty())
    if (auto r = write_file(o.markdown, markdown, false); !r)
      return r;
  // $GITHUB_STEP_SUMMARY collects every step's summary: append to it.
  if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY"); summary && *summary)
    if (auto r = write_file(summary, markdown, true); !r)
      return r;
  if (!o.junit.empty())
    if (auto r = write_file(o.junit, report::gate_junit(*report), false); !r)
      return r;
  if (const char* gha = std::getenv("GITHUB_ACTIONS"); gha && std::string_view(gha) == "true") {
    auto relative = std::filesystem::relative((*ws)->suite_path, (*ws)->root).generic_string();
    fmt::print(stderr, "{}", report::gate_annotations(*report, relative));
  }
  if (!report->passed())
    ctx.set_exit_code(ExitCode::refused);
  return {};
}

// The runs store when there is one: reviewers may audit before anything has run.
Result<std::optional<run::RunsStore>> existing_runs(Context& ctx) {
  auto path = ctx.runs_path();
  if (!path)
    return std::unexpected(path.error());
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec))
    return std::optional<run::RunsStore>();
  auto opened = run::RunsStore::open(*path, false);
  if (!opened)
    return std::unexpected(opened.error());
  return std::optional<run::RunsStore>(std::move(*opened));
}

struct WhyOptions {
  std::string id;
  bool json = false;
};

Status run_why(Context& ctx, const WhyOptions& o) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto s = ctx.open_suite(suite::Suite::Access::read);
  if (!s)
    return std::unexpected(s.error());
  auto runs = existing_runs(ctx);
  if (!runs)
    return std::unexpected(runs.error());
  auto story = report::why(*s, **ws, *runs ? &**runs : nullptr, o.id);
  if (!story)
    return std::unexpected(story.error());
  if (o.json)
    fmt::print("{}\n", report::why_json(*story).dump(2, ' ', false,
                                                     nlohmann::json::error_handler_t::replace));
  else
    fmt::print("{}", report::why_text(*story));
  return {};
}

struct AuditOptions {
  std::string since, format = "text";
  bool json = false;
};

Status run_audit(Context& ctx, const AuditOptions& o) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto s = ctx.open_suite(suite::Suite::Access::read);
  if (!s)
    return std::unexpected(s.error());
  auto runs = existing_runs(ctx);
  if (!runs)
    return std::unexpected(runs.error());
  auto a =
      report::audit(*s, **ws, *runs ? &**runs : nullptr, o.since, core::now_utc().substr(0, 10));
  if (!a)
    return std::unexpected(a.error());
  std::string format = o.json ? "json" : o.format;
  if (format == "json")
    fmt::print("{}\n", report::audit_json(*a).dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace));
  else if (format == "md")
    fmt::print("{}", report::audit_markdown(*a));
  else
    fmt::print("{}", report::audit_text(*a));
  return {};
}

} // namespace

void add_gate_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<GateOptions>();
  auto* cmd = app.add_subcommand(
      "gate", "Check a pull request's suite against its base: no guarantee retires silently");
  cmd->add_option(
      "--base", o->base,
      "Compare with the merge base of this ref and HEAD (default: origin/main, else main)");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_option("--markdown", o->markdown,
                  "Write a Markdown summary here (default: $GITHUB_STEP_SUMMARY when set)");
  cmd->add_option("--junit", o->junit, "Write JUnit XML here");
  cmd->footer("Fails (exit 1) when the suite fails verify, its history was rewritten, a case live "
              "at the base\nwas deleted or retired without a decision, or the policy is broken. "
              "Always reports what\nthe change adds, edits and retires.\n"
              "Examples:\n  evalkeep gate --base main\n"
              "  evalkeep gate --base origin/main --junit gate.xml --markdown gate.md");
  cmd->callback([&ctx, o] { ctx.run([&] { return run_gate(ctx, *o); }); });

  auto w = std::make_shared<WhyOptions>();
  cmd = app.add_subcommand("why", "One case's story: incident, author, commit, edits, retirement, "
                                  "last results");
  cmd->add_option("case", w->id, "Case id")->required();
  cmd->add_flag("--json", w->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep why refund-window");
  cmd->callback([&ctx, w] { ctx.run([&] { return run_why(ctx, *w); }); });

  auto au = std::make_shared<AuditOptions>();
  cmd = app.add_subcommand("audit", "The reviewer's view: every retirement, unguarded incidents, "
                                    "weak supersessions, revisits due");
  cmd->add_option("--since", au->since,
                  "Only decisions from this date (YYYY-MM-DD) or not yet in this git revision");
  cmd->add_option("--format", au->format, "text, md or json")
      ->check(CLI::IsMember({"text", "md", "json"}))
      ->capture_default_str();
  cmd->add_flag("--json", au->json, "Same as --format json");
  cmd->footer("Examples:\n  evalkeep audit\n  evalkeep audit --since main --format md\n"
              "  evalkeep audit --since 2026-01-01 --json");
  cmd->callback([&ctx, au] { ctx.run([&] { return run_audit(ctx, *au); }); });
}

} // namespace evalkeep::cli
