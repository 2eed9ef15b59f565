#include "cli/context.hpp"
#include "core/time.hpp"
#include "gate/gate.hpp"
#include "git/repo.hpp"
#include "report/audit.hpp"
#include "report/gate_report.hpp"
#include "report/html.hpp"
#include "report/why.hpp"
#include "run/runner.hpp"

#include <cstdlib>
#include <fstream>
#include <map>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct GateOptions {
  std::string base;
  std::string markdown, junit;
  bool json = false;
  std::string run, baseline_run; // run references: a number, latest, latest~N
  bool run_now = false;
  std::string provider; // for --run-now
  int jobs = 0;
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

// A stored run as the gate reads it: each case's verdict, with the content hash it ran.
Result<gate::RunResults> run_results(run::RunsStore& store, const run::RunSummary& s) {
  auto planned = store.planned(s.run.id);
  if (!planned)
    return std::unexpected(planned.error());
  std::map<std::string, core::Digest> hashes;
  for (const auto& p : *planned)
    hashes.emplace(p.case_id, p.case_hash);
  gate::RunResults out{{s.run.id, s.run.provider, s.run.model, s.run.state}, {}};
  for (const auto& c : s.cases)
    out.cases.push_back({c.case_id, c.status, c.verdict, hashes[c.case_id], c.first_failure});
  return out;
}

Result<gate::RunResults> stored_run(run::RunsStore& store, const std::string& ref) {
  auto id = store.resolve(ref);
  if (!id)
    return std::unexpected(id.error());
  auto s = run::summarize(store, *id);
  if (!s)
    return std::unexpected(s.error());
  return run_results(store, *s);
}

// What 'evalkeep run --provider NAME' would run: every live case, with the configured judge.
Result<run::RunRequest> run_now_request(const suite::Workspace& ws, const GateOptions& o) {
  run::RunRequest req;
  auto provider = suite::find_provider(ws.config, o.provider, "");
  if (!provider)
    return std::unexpected(provider.error());
  req.provider = *provider;
  if (!ws.config.judge.empty()) {
    auto judge = suite::find_provider(ws.config, ws.config.judge, "");
    if (!judge)
      return with_context(judge.error(), "judge");
    req.judge = *judge;
  }
  req.concurrency = o.jobs;
  return req;
}

Result<gate::RunResults> run_now(Context& ctx, const suite::Workspace& ws, run::RunsStore& store,
                                 const run::RunRequest& req) {
  auto suite = ctx.open_suite(suite::Suite::Access::read);
  if (!suite)
    return std::unexpected(suite.error());
  auto s = run::start_run(*suite, ws, store, req, {});
  if (!s)
    return std::unexpected(s.error());
  return run_results(store, *s);
}

// The runs rule 4 checks, read (or made) before anything is printed or written.
Result<std::optional<gate::RunInput>> gate_runs(Context& ctx, const suite::Workspace& ws,
                                                const GateOptions& o) {
  if (o.run.empty() && !o.run_now) {
    if (!o.baseline_run.empty())
      return invalid("--baseline-run needs --run or --run-now: the run to compare with it");
    return std::optional<gate::RunInput>();
  }
  std::optional<run::RunRequest> request;
  if (o.run_now) {
    auto r = run_now_request(ws, o);
    if (!r)
      return with_context(r.error(), "--run-now");
    request = std::move(*r);
  }
  auto path = ctx.runs_path();
  if (!path)
    return std::unexpected(path.error());
  // Only a new run may create the store; a named baseline must already be in it.
  auto store = run::RunsStore::open(*path, o.run_now && o.baseline_run.empty());
  if (!store)
    return std::unexpected(store.error());
  gate::RunInput in;
  if (!o.baseline_run.empty()) {
    auto b = stored_run(*store, o.baseline_run);
    if (!b)
      return with_context(b.error(), "--baseline-run");
    in.baseline = std::move(*b);
  }
  auto r = request ? run_now(ctx, ws, *store, *request) : stored_run(*store, o.run);
  if (!r)
    return with_context(r.error(), request ? "--run-now" : "--run");
  in.run = std::move(*r);
  return std::optional(std::move(in));
}

Status run_gate(Context& ctx, const GateOptions& o) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  std::string base = o.base.empty() ? default_base(**ws) : o.base;
  if (o.run_now) // a bad base must not cost a run first
    if (auto b = git::merge_base((*ws)->root, base, "HEAD"); !b)
      return std::unexpected(b.error());
  auto runs = gate_runs(ctx, **ws, o);
  if (!runs)
    return std::unexpected(runs.error());
  auto report = gate::gate(**ws, base, *runs ? &**runs : nullptr);
  if (!report)
    return std::unexpected(report.error());
  if (o.json)
    fmt::print("{}\n", report::gate_json(*report).dump(2, ' ', false,
                                                       nlohmann::json::error_handler_t::replace));
  else
    print_text(report::gate_text(*report));
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

// What the reviewer's commands read: the workspace, its suite read-only, and the runs store when
// there is one (reviewers may audit before anything has run).
struct Review {
  suite::Workspace* ws;
  suite::Suite suite;
  std::optional<run::RunsStore> runs;
  run::RunsStore* runs_or_null() { return runs ? &*runs : nullptr; }
};

Result<Review> open_review(Context& ctx) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto s = ctx.open_suite(suite::Suite::Access::read);
  if (!s)
    return std::unexpected(s.error());
  Review review{*ws, std::move(*s), std::nullopt};
  auto path = ctx.runs_path();
  if (!path)
    return std::unexpected(path.error());
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec))
    return review;
  auto opened = run::RunsStore::open(*path, false);
  if (!opened)
    return std::unexpected(opened.error());
  review.runs = std::move(*opened);
  return review;
}

struct WhyOptions {
  std::string id;
  bool json = false;
};

Status run_why(Context& ctx, const WhyOptions& o) {
  auto r = open_review(ctx);
  if (!r)
    return std::unexpected(r.error());
  auto story = report::why(r->suite, *r->ws, r->runs_or_null(), o.id);
  if (!story)
    return std::unexpected(story.error());
  if (o.json)
    fmt::print("{}\n", report::why_json(*story).dump(2, ' ', false,
                                                     nlohmann::json::error_handler_t::replace));
  else
    print_text(report::why_text(*story));
  return {};
}

struct AuditOptions {
  std::string since, format = "text", output;
  bool json = false;
};

Status run_audit(Context& ctx, const AuditOptions& o) {
  auto r = open_review(ctx);
  if (!r)
    return std::unexpected(r.error());
  auto a =
      report::audit(r->suite, *r->ws, r->runs_or_null(), o.since, core::now_utc().substr(0, 10));
  if (!a)
    return std::unexpected(a.error());
  std::string format = o.json ? "json" : o.format;
  if (!o.output.empty() && format != "html")
    return invalid("-o is for --format html; the other formats go to stdout");
  if (format == "json")
    fmt::print("{}\n", report::audit_json(*a).dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace));
  else if (format == "md")
    fmt::print("{}", report::audit_markdown(*a));
  else if (format == "html" && !o.output.empty()) {
    if (auto w =
            report::write_page(o.output, report::audit_html(*a, core::now_utc().substr(0, 10)));
        !w)
      return w;
    ctx.say("wrote {} ({} retirements)", o.output, a->retirements.size());
  } else if (format == "html")
    fmt::print("{}", report::audit_html(*a, core::now_utc().substr(0, 10)));
  else
    print_text(report::audit_text(*a));
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
  auto* run = cmd->add_option("--run", o->run,
                              "Also fail when an active case failed in this stored run (number, "
                              "'latest', 'latest~N')");
  auto* now = cmd->add_flag("--run-now", o->run_now,
                            "Run the suite's live cases now with --provider, and gate on that run");
  auto* provider =
      cmd->add_option("--provider", o->provider, "The provider for --run-now ([providers.NAME])");
  cmd->add_option("-j,--jobs", o->jobs, "Requests in flight at once for --run-now")
      ->check(CLI::Range(1, 1024))
      ->needs(now);
  cmd->add_option("--baseline-run", o->baseline_run,
                  "Also fail when a case that passed in this run fails in the checked one");
  run->excludes(now);
  now->needs(provider);
  provider->needs(now);
  cmd->footer("Fails (exit 1) when the suite fails verify, its history was rewritten, a case live "
              "at the base\nwas deleted or retired without a decision, the policy is broken, or, "
              "with --run or\n--run-now, an active case failed or a case that passed in the "
              "--baseline-run fails.\nAlways reports what the change adds, edits and retires.\n"
              "Examples:\n  evalkeep gate --base main\n"
              "  evalkeep gate --base origin/main --junit gate.xml --markdown gate.md\n"
              "  evalkeep gate --run latest --baseline-run 12\n"
              "  evalkeep gate --run-now --provider local -j 16");
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
  cmd->add_option("--format", au->format, "text, md, json or html (one self-contained page)")
      ->check(CLI::IsMember({"text", "md", "json", "html"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", au->output, "With --format html: write the page here");
  cmd->add_flag("--json", au->json, "Same as --format json");
  cmd->footer("Examples:\n  evalkeep audit\n  evalkeep audit --since main --format md\n"
              "  evalkeep audit --since 2026-01-01 --json\n"
              "  evalkeep audit --format html -o audit.html");
  cmd->callback([&ctx, au] { ctx.run([&] { return run_audit(ctx, *au); }); });
}

} // namespace evalkeep::cli
