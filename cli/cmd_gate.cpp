#include "cli/context.hpp"
#include "core/time.hpp"
#include "gate/gate.hpp"
#include "git/repo.hpp"
#include "report/audit.hpp"
#include "report/gate_report.hpp"
#include "report/html.hpp"
#include "report/why.hpp"
#include "run/merge.hpp"
#include "run/runner.hpp"
#include "run/shared.hpp"
#include "suite/cases.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct GateOptions {
  std::string base;
  std::string markdown, junit;
  bool json = false;
  std::string run, baseline_run; // run references: a number, latest, latest~N
  bool run_now = false;
  std::string provider;    // for --run-now
  std::string replay_from; // for --run-now: a cache file the workflow restored
  int jobs = 0;
  std::optional<double> max_drop; // with --baseline-run: tighter than the base's policy
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

// A run at temperature 0 with one trial per case: the same call gives the same answer.
bool deterministic(const run::RunSummary& s) {
  auto t = s.run.params.is_object() ? s.run.params.find("temperature") : s.run.params.end();
  return t != s.run.params.end() && t->is_number() && t->get<double>() == 0 &&
         std::all_of(s.cases.begin(), s.cases.end(), [](const auto& c) { return c.trials <= 1; });
}

// A stored run as the gate reads it: each case's verdict, with the content hash it ran.
Result<gate::RunResults> run_results(run::RunsStore& store, const run::RunSummary& s) {
  std::map<std::string, core::Digest> hashes;
  for (const auto& p : TRY(store.planned(s.run.id, false)))
    hashes.emplace(p.case_id, p.case_hash);
  gate::RunResults out{{s.run.id,
                        s.run.provider,
                        run::subject_of(s.run),
                        s.run.state,
                        s.run.params,
                        s.requests,
                        {},
                        run::missing_shards(s.run),
                        s.run.provider_kind == "exec",
                        deterministic(s)},
                       {}};
  for (const auto& r : s.replayed_from)
    out.run.replayed.push_back({r.label, r.answers, r.judge_verdicts});
  for (const auto& c : s.cases)
    out.cases.push_back(
        {c.case_id, c.status, c.verdict, hashes[c.case_id], c.first_failure, c.passes, c.trials});
  return out;
}

Result<gate::RunResults> stored_run(run::RunsStore& store, const std::string& ref) {
  auto id = TRY(store.resolve(ref));
  return run_results(store, TRY(run::summarize(store, id)));
}

// --baseline-run base: the run stored for the nearest ancestor of the merge base (the base
// itself first) made with the checked run's provider settings, from this store or fetched into it
// (runs fetch).
Result<gate::RunResults> base_baseline(run::RunsStore& store, const gate::Base& base,
                                       std::int64_t checked) {
  constexpr int k_ancestors = 1000;
  auto listed = TRY(git::run_git(
      base.repo_root, {"rev-list", "--max-count=" + std::to_string(k_ancestors), base.commit}));
  if (listed.exit_code != 0)
    return fail(ExitCode::environment, "git rev-list {} failed: {}", base.commit, listed.err);
  std::vector<std::string> ancestors;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);)
    ancestors.push_back(line);
  auto like = TRY(store.get_run(checked));
  auto id = TRY(run::nearest_run(store, like, ancestors));
  if (!id)
    return with_hint(
        invalid("no run of the base {} or its last {} ancestors with run {}'s provider settings "
                "({}, model {}) is stored here",
                base.commit.substr(0, 12), k_ancestors - 1, checked, like.provider, like.model),
        "fetch main's runs first ('evalkeep runs fetch'); main's CI pushes them with 'evalkeep "
        "runs push'");
  return stored_run(store, std::to_string(*id));
}

// What 'evalkeep run --provider NAME' would run, with NAME and the judge as the base defines
// them: a gate run never sends a key to a URL the pull request chose.
Result<run::RunRequest> run_now_request(const gate::Base& base, const GateOptions& o) {
  run::RunRequest req;
  req.provider = TRY(gate::base_provider(base, o.provider));
  if (!base.config.judge.empty()) {
    auto judge = gate::base_provider(base, base.config.judge);
    if (!judge)
      return with_context(judge.error(), "judge");
    req.judge = *judge;
  }
  req.concurrency = o.jobs;
  // The gate's verdict must rest on the model's answers now, not on answers stored by anyone:
  // it calls for every trial, unless the base's policy lets it replay a cache the workflow names.
  req.cache = run::CacheMode::refresh;
  if (!o.replay_from.empty()) {
    if (!base.config.policy.allow_gate_replay)
      return with_hint(
          invalid("--replay-from: the base's policy does not let the gate replay answers "
                  "(allow_gate_replay = false in {})",
                  base.describe()),
          "set allow_gate_replay = true in [policy] on the base branch, or drop --replay-from");
    if (git::is_tracked(base.repo_root, o.replay_from))
      return refuse("--replay-from: '{}' is committed in this change: the gate does not replay "
                    "answers the change brings with it",
                    o.replay_from);
    req.cache = run::CacheMode::use;
    req.replay_from = std::filesystem::absolute(o.replay_from);
  }
  return req;
}

// Runs HEAD's suite, the one the gate compares, when it is a file the gate may open; otherwise
// there is nothing to run and the gate reports why.
Result<gate::RunResults> run_now(const suite::Workspace& ws, const gate::Base& base,
                                 run::RunsStore& store, const run::RunRequest& req) {
  auto at_head = gate::locate_head_suite(ws, base);
  if (!at_head.file)
    return invalid("there is no suite to run at HEAD: {}",
                   at_head.refused.value_or("'" + at_head.path + "' does not exist"));
  auto suite = TRY(suite::Suite::open_untrusted(*at_head.file));
  return run_results(store, TRY(run::start_run(suite, ws, store, req, {})));
}

// The runs rule 4 checks, read (or made) before anything is printed or written.
Result<std::optional<gate::RunInput>> gate_runs(Context& ctx, const suite::Workspace& ws,
                                                const gate::Base& base, const GateOptions& o) {
  if (o.run.empty() && !o.run_now) {
    if (!o.baseline_run.empty())
      return invalid("--baseline-run needs --run or --run-now: the run to compare with it");
    return std::optional<gate::RunInput>();
  }
  std::optional<run::RunRequest> request;
  if (o.run_now) {
    auto r = run_now_request(base, o);
    if (!r)
      return with_context(r.error(), "--run-now");
    request = std::move(*r);
  }
  auto path = TRY(ctx.runs_path());
  // Results committed in the pull request are the pull request's word about itself.
  if (git::is_tracked(base.repo_root, path))
    return with_hint(refuse("the runs store '{}' is committed in this change: the gate does not "
                            "judge a change by results it brings with it",
                            path.string()),
                     "run the suite in CI (gate --run-now), or keep .evalkeep/ out of git");
  // Only a new run may create the store; a named baseline must already be in it.
  auto store = TRY(run::RunsStore::open(path, o.run_now && o.baseline_run.empty()));
  gate::RunInput in;
  in.max_drop = o.max_drop;
  bool from_base = o.baseline_run == "base";
  if (!o.baseline_run.empty() && !from_base) {
    auto b = stored_run(store, o.baseline_run);
    if (!b)
      return with_context(b.error(), "--baseline-run");
    in.baseline = std::move(*b);
  }
  auto r = request ? run_now(ws, base, store, *request) : stored_run(store, o.run);
  if (!r)
    return with_context(r.error(), request ? "--run-now" : "--run");
  in.run = std::move(*r);
  if (from_base) {
    auto b = base_baseline(store, base, in.run.run.id);
    if (!b)
      return with_context(b.error(), "--baseline-run base");
    in.baseline = std::move(*b);
  }
  return std::optional(std::move(in));
}

Status run_gate(Context& ctx, const GateOptions& o) {
  // HEAD's evalkeep.toml belongs to the pull request: a broken one is reported, not obeyed.
  ctx.config_errors = suite::ConfigErrors::keep;
  auto* ws = TRY(ctx.workspace());
  std::string base_ref = o.base.empty() ? default_base(*ws) : o.base;
  // A bad base must not cost a run first.
  auto base =
      TRY(gate::read_base(*ws, std::filesystem::current_path(), base_ref, ctx.suite_override));
  auto runs = TRY(gate_runs(ctx, *ws, base, o));
  auto report = TRY(gate::gate(*ws, base, runs ? &*runs : nullptr));
  if (o.json)
    fmt::print("{}\n", report::gate_json(report).dump(2, ' ', false,
                                                      nlohmann::json::error_handler_t::replace));
  else
    print_text(report::gate_text(report));
  std::string markdown = report::gate_markdown(report);
  if (!o.markdown.empty())
    TRY(write_file(o.markdown, markdown, false));
  // $GITHUB_STEP_SUMMARY collects every step's summary: append to it.
  if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY"); summary && *summary)
    TRY(write_file(summary, markdown, true));
  if (!o.junit.empty())
    TRY(write_file(o.junit, report::gate_junit(report), false));
  if (const char* gha = std::getenv("GITHUB_ACTIONS"); gha && std::string_view(gha) == "true")
    fmt::print(stderr, "{}",
               report::gate_annotations(report, gate::locate_head_suite(*ws, base).path));
  if (!report.passed())
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
  auto ws = TRY(ctx.workspace());
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  Review review{ws, std::move(s), std::nullopt};
  auto path = TRY(ctx.runs_path());
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return review;
  auto opened = TRY(run::RunsStore::open(path, false));
  review.runs = std::move(opened);
  return review;
}

// What the branch does against the merge base of `ref`, as the gate sees it (no run).
Result<gate::GateReport> against_base(Context& ctx, const suite::Workspace& ws,
                                      const std::string& ref, std::optional<gate::Base>* out) {
  auto base = TRY(gate::read_base(ws, std::filesystem::current_path(), ref, ctx.suite_override));
  auto report = TRY(gate::gate(ws, base));
  if (out)
    *out = std::move(base);
  return report;
}

struct WhyOptions {
  std::string id;
  std::string base;
  bool json = false;
};

// The story of a case, or, with --base, of one the branch deleted: its story at the base.
Result<report::CaseStory> case_story(Context& ctx, Review& r, const WhyOptions& o) {
  if (o.base.empty())
    return report::why(r.suite, *r.ws, r.runs_or_null(), o.id);
  std::optional<gate::Base> base;
  auto g = TRY(against_base(ctx, *r.ws, o.base, &base));
  auto here = suite::get_case(r.suite, o.id).has_value();
  auto story = [&]() -> Result<report::CaseStory> {
    if (here)
      return report::why(r.suite, *r.ws, r.runs_or_null(), o.id);
    auto then = TRY(gate::BaseSuite::read(*base));
    if (!then.get())
      return invalid("no case {}, and the base {} has no suite", o.id, base->commit.substr(0, 12));
    return report::why(*then.get(), *r.ws, r.runs_or_null(), o.id);
  }();
  if (!story)
    return std::unexpected(story.error());
  story->branch = report::branch_facts(g, o.id, here);
  return story;
}

Status run_why(Context& ctx, const WhyOptions& o) {
  auto r = TRY(open_review(ctx));
  auto story = TRY(case_story(ctx, r, o));
  if (o.json)
    fmt::print("{}\n", report::why_json(story).dump(2, ' ', false,
                                                    nlohmann::json::error_handler_t::replace));
  else
    print_text(report::why_text(story));
  return {};
}

struct AuditOptions {
  std::string since, format = "text", output, base;
  bool json = false;
};

Status run_audit(Context& ctx, const AuditOptions& o) {
  auto r = TRY(open_review(ctx));
  auto a =
      TRY(report::audit(r.suite, *r.ws, r.runs_or_null(), o.since, core::now_utc().substr(0, 10)));
  if (!o.base.empty()) {
    auto g = against_base(ctx, *r.ws, o.base, nullptr);
    if (!g)
      return with_context(g.error(), "--base");
    a.against_base = std::move(*g);
  }
  std::string format = o.json ? "json" : o.format;
  if (!o.output.empty() && format != "html")
    return invalid("-o is for --format html; the other formats go to stdout");
  if (format == "json")
    fmt::print("{}\n",
               report::audit_json(a).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else if (format == "md")
    fmt::print("{}", report::audit_markdown(a));
  else if (format == "html" && !o.output.empty()) {
    if (auto w = report::write_page(o.output, report::audit_html(a, core::now_utc().substr(0, 10)));
        !w)
      return w;
    ctx.say("wrote {} ({} retirements)", o.output, a.retirements.size());
  } else if (format == "html")
    fmt::print("{}", report::audit_html(a, core::now_utc().substr(0, 10)));
  else
    print_text(report::audit_text(a));
  return {};
}

void add_gate_command(CLI::App& app, Context& ctx) {
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
  auto* now =
      cmd->add_flag("--run-now", o->run_now,
                    "Run the suite's live cases now with the base's --provider, calling the "
                    "model for every trial, and gate on that run");
  auto* provider =
      cmd->add_option("--provider", o->provider, "The provider for --run-now ([providers.NAME])");
  cmd->add_option("-j,--jobs", o->jobs, "The most requests in flight at once for --run-now")
      ->check(CLI::Range(1, 1024))
      ->needs(now);
  cmd->add_option("--replay-from", o->replay_from,
                  "With --run-now: replay answers from this cache file (a runs store or a cache "
                  "export) when the base's policy sets allow_gate_replay; otherwise every trial "
                  "calls the model")
      ->needs(now);
  auto* baseline =
      cmd->add_option("--baseline-run", o->baseline_run,
                      "Also fail when the suite's pass rate fell from this run beyond chance, or "
                      "a case that passed in it fails in the checked one (significantly, unless "
                      "both runs are deterministic). 'base': the run stored for the nearest "
                      "ancestor of the merge base with the same provider settings (runs fetch)");
  cmd->add_option("--max-drop", o->max_drop,
                  "With --baseline-run: the drop in pass rate allowed, as a share (0.02 is two "
                  "points); only below the base's policy.max_drop")
      ->check(CLI::Range(0.0, 0.999))
      ->needs(baseline);
  run->excludes(now);
  now->needs(provider);
  provider->needs(now);
  cmd->footer(
      "Judges by the base: where the suite is, the policy and the providers come from the "
      "merge base's\nevalkeep.toml; what the change does to them is reported and judged.\n"
      "Fails (exit 1) when the suite fails verify, its history was rewritten, a case live "
      "at the base\nwas deleted, retired or weakened without a decision, the policy is "
      "broken or loosened, a\nprovider changed, or, with --run or --run-now, an active "
      "case failed, or the pass rate fell from the\n--baseline-run beyond chance, or a case "
      "that passed there fails now. Always reports "
      "what the change adds, edits (old -> new) and retires.\n"
      "Examples:\n  evalkeep gate --base main\n"
      "  evalkeep gate --base origin/main --junit gate.xml --markdown gate.md\n"
      "  evalkeep gate --run latest --baseline-run 12 --max-drop 0.02\n"
      "  evalkeep gate --run-now --provider local -j 16");
  cmd->callback([&ctx, o] { ctx.run([&] { return run_gate(ctx, *o); }); });
}

void add_review_commands(CLI::App& app, Context& ctx) {
  auto w = std::make_shared<WhyOptions>();
  auto* cmd =
      app.add_subcommand("why", "One case's story: incident, author, commit, edits, retirement, "
                                "last results");
  cmd->add_option("case", w->id, "Case id")->required();
  cmd->add_option("--base", w->base,
                  "Also say what this branch did to the case against the merge base of this ref "
                  "(a case the branch deleted is told from the base)");
  cmd->add_flag("--json", w->json, "Print JSON");
  cmd->footer("Examples:\n  evalkeep why refund-window\n  evalkeep why refund-window --base main");
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
  cmd->add_option("--base", au->base,
                  "Also show what this branch does against the merge base of this ref, as the gate "
                  "sees it: cases deleted or weakened without a decision included");
  cmd->add_flag("--json", au->json, "Same as --format json");
  cmd->footer("Examples:\n  evalkeep audit\n  evalkeep audit --since main --format md\n"
              "  evalkeep audit --base origin/main\n"
              "  evalkeep audit --since 2026-01-01 --json\n"
              "  evalkeep audit --format html -o audit.html");
  cmd->callback([&ctx, au] { ctx.run([&] { return run_audit(ctx, *au); }); });
}

} // namespace

void add_gate_commands(CLI::App& app, Context& ctx) {
  add_gate_command(app, ctx);
  add_review_commands(app, ctx);
}

} // namespace evalkeep::cli
