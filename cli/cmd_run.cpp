#include "cli/context.hpp"
#include "core/terminal.hpp"
#include "report/run_report.hpp"
#include "run/cache_transfer.hpp"
#include "run/diff.hpp"
#include "run/merge.hpp"
#include "run/runner.hpp"

#include <cstdio>
#include <unistd.h>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct RunOptions {
  std::string provider, model, judge;
  int trials = 0, jobs = 0;
  std::vector<std::string> tags, incidents, cases;
  bool include_retired = false, no_cache = false, offline = false, json = false;
  std::string replay_from;           // a trusted cache file
  std::optional<std::string> resume; // "" = the latest unfinished run
  std::string shard;                 // I/N
  bool resume_given = false;
  bool batch = false;                  // --batch
  std::optional<double> poll_interval; // --poll-interval, seconds
};

struct RunsOptions {
  std::string a = "latest", b;
  std::string file;
  std::vector<std::string> shards;
  std::string output;
  bool json = false;
  bool trust = false;      // cache import --trust
  bool with_cache = false; // runs merge --with-cache
};

// The pace of requests and what sets it: "98 req/s, limit 6000/min", and after 429s the window
// of requests in flight they cut "-j 64", the ceiling, down to.
std::string pace_text(const run::Progress& p, double overall_rate) {
  auto text = fmt::format("{:.0f} req/s", p.pace > 0 ? p.pace : overall_rate);
  if (p.request_limit)
    text += fmt::format(", limit {:.0f}/min", *p.request_limit);
  if (p.token_limit)
    text += fmt::format(", {:.0f} tokens/min", *p.token_limit);
  if (p.rate_limited > 0)
    text += fmt::format(", {} in flight of {} after {} 429s", static_cast<int>(p.window), p.ceiling,
                        p.rate_limited);
  return text;
}

// A live progress line on a terminal; nothing otherwise. Spaces, not an erase-line escape, cover
// the end of a longer line before it: evalkeep prints no escape codes at all, so NO_COLOR and
// dumb terminals need nothing of their own.
run::ProgressFn progress_line(const Context& ctx) {
  if (ctx.quiet || !::isatty(STDERR_FILENO))
    return {};
  return [width = std::size_t{0}](const run::Progress& p) mutable {
    double rate = p.elapsed_s > 0 ? static_cast<double>(p.requests) / p.elapsed_s : 0;
    double per = p.elapsed_s > 0 && p.done ? p.elapsed_s / static_cast<double>(p.done) : 0;
    double eta = per * static_cast<double>(p.total - std::min(p.total, p.done));
    auto line = fmt::format("[{}/{}] pass {} fail {} error {}  {}  ETA {:.0f}s", p.done, p.total,
                            p.passed, p.failed, p.errored, pace_text(p, rate), eta);
    fmt::print(stderr, "\r{:<{}}", line, width);
    width = line.size();
    if (p.done >= p.total)
      fmt::print(stderr, "\n");
    std::fflush(stderr);
  };
}

// The live line, and a batch's status on stderr each time it changes (whether or not stderr is
// a terminal: a batch can take hours, and a log should say what it waited on).
run::ProgressFn with_batch_lines(const Context& ctx, run::ProgressFn live) {
  if (ctx.quiet)
    return live;
  return [live = std::move(live), last = std::string()](const run::Progress& p) mutable {
    if (!p.batch.empty() && p.batch != last) {
      last = p.batch;
      fmt::print(stderr, "evalkeep: {}\n", core::for_terminal(p.batch));
      std::fflush(stderr);
    }
    if (live)
      live(p);
  };
}

std::optional<std::chrono::milliseconds> poll_interval(const RunOptions& o) {
  if (!o.poll_interval)
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(*o.poll_interval * 1000));
}

Result<run::RunsStore> open_runs(Context& ctx, bool create) {
  auto path = TRY(ctx.runs_path());
  return run::RunsStore::open(path, create);
}

// The summary of a run named by number or "latest".
Result<run::RunSummary> summary_of(run::RunsStore& store, const std::string& ref) {
  auto id = TRY(store.resolve(ref));
  return run::summarize(store, id);
}

// The run's summary: JSON with --json, else text unless --quiet, whose run says only what went
// wrong (on stderr) and its exit code.
Status print_summary(Context& ctx, const run::RunSummary& s, bool json) {
  if (json)
    fmt::print("{}\n", report::summary_json(s).dump(2, ' ', false,
                                                    nlohmann::json::error_handler_t::replace));
  else if (!ctx.quiet)
    print_text(report::summary_text(s));
  ctx.set_exit_code(s.exit_code());
  // A stopped run is an error a person or CI must see, whatever stdout is piped into.
  if (s.run.state == scoring::RunState::stopped)
    print_error(
        {ExitCode::environment,
         fmt::format("run {} stopped early: {}", s.run.id, s.run.stop_reason.value_or("?")),
         fmt::format("fix the cause, then finish it with: evalkeep run --resume {}", s.run.id)});
  return {};
}

Status run_run(Context& ctx, RunOptions& o) {
  if (o.resume_given) {
    auto store = TRY(open_runs(ctx, false));
    std::int64_t id = 0;
    if (o.resume && !o.resume->empty()) {
      auto r = TRY(store.resolve(*o.resume));
      id = r;
    } else {
      auto latest = TRY(store.latest_unfinished());
      if (!latest)
        return refuse("no unfinished run to resume");
      id = *latest;
    }
    auto ws = TRY(ctx.workspace());
    auto s = TRY(run::resume_run(store, id, *ws, with_batch_lines(ctx, progress_line(ctx)),
                                 poll_interval(o)));
    return print_summary(ctx, s, o.json);
  }
  auto ws = TRY(ctx.workspace());
  auto provider = TRY(suite::find_provider(ws->config, o.provider, o.model));
  if (o.no_cache && o.offline)
    return invalid("--no-cache and --offline contradict each other");
  if (o.no_cache && !o.replay_from.empty())
    return invalid("--no-cache and --replay-from contradict each other");
  auto suite = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto store = TRY(open_runs(ctx, true));
  run::RunRequest req;
  req.provider = provider;
  std::string judge = o.judge.empty() ? ws->config.judge : o.judge;
  if (!judge.empty()) {
    auto j = suite::find_provider(ws->config, judge, "");
    if (!j)
      return with_context(j.error(), "--judge");
    req.judge = *j;
  }
  req.trials = o.trials;
  req.concurrency = o.jobs;
  req.tags = o.tags;
  req.incidents = o.incidents;
  req.cases = o.cases;
  req.include_retired = o.include_retired;
  if (!o.shard.empty()) {
    auto shard = TRY(run::parse_shard(o.shard));
    req.shard = shard;
  }
  req.cache = o.offline    ? run::CacheMode::offline
              : o.no_cache ? run::CacheMode::refresh
                           : run::CacheMode::use;
  if (!o.replay_from.empty())
    req.replay_from = o.replay_from;
  if (o.batch) {
    run::BatchSettings batch;
    if (auto every = poll_interval(o))
      batch.poll_interval = *every;
    req.batch = batch;
  } else if (o.poll_interval) {
    return invalid("--poll-interval is for batch runs (--batch)");
  }
  auto s = TRY(run::start_run(suite, *ws, store, req, with_batch_lines(ctx, progress_line(ctx))));
  return print_summary(ctx, s, o.json);
}

Status run_list(Context& ctx, const RunsOptions& o) {
  auto store = TRY(open_runs(ctx, false));
  auto runs = TRY(store.list_runs());
  if (o.json)
    fmt::print("{}\n", report::runs_json(runs).dump(2));
  else
    print_text(report::runs_text(runs));
  return {};
}

Status run_show(Context& ctx, const RunsOptions& o) {
  auto store = TRY(open_runs(ctx, false));
  auto s = TRY(summary_of(store, o.a));
  if (o.json)
    fmt::print("{}\n", report::run_detail_json(s).dump(2, ' ', false,
                                                       nlohmann::json::error_handler_t::replace));
  else
    print_text(report::run_detail_text(s));
  return {};
}

Status run_diff(Context& ctx, const RunsOptions& o) {
  auto store = TRY(open_runs(ctx, false));
  auto sa = TRY(summary_of(store, o.a));
  auto sb = TRY(summary_of(store, o.b));
  auto d = run::diff_runs(sa, sb);
  if (o.json)
    fmt::print("{}\n",
               report::diff_json(d).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    print_text(report::diff_text(d));
  return {};
}

Status run_merge(Context& ctx, const RunsOptions& o) {
  std::filesystem::path output = o.output;
  if (output.empty()) {
    auto path = TRY(ctx.runs_path());
    output = path;
  }
  std::vector<std::filesystem::path> shards(o.shards.begin(), o.shards.end());
  for (const auto& s : shards)
    if (std::filesystem::absolute(s) == std::filesystem::absolute(output))
      return invalid("the output '{}' is also a shard; merge into another file", output.string());
  // The shards are read and checked before the output store is opened: a refused merge leaves
  // no file behind.
  auto set = TRY(run::read_shards(shards));
  auto store = TRY(run::RunsStore::open(output, true));
  auto id = TRY(run::merge_runs(store, set, o.with_cache));
  ctx.say("merged {} shards into run {} of {}{}", shards.size(), id, output.string(),
          o.with_cache ? ", with their cached answers (replayed by later runs)" : "");
  if (!set.missing.empty()) {
    ctx.set_exit_code(ExitCode::refused);
    print_error({ExitCode::refused,
                 fmt::format("run {} is incomplete: shard{} {} not merged", id,
                             set.missing.size() == 1 ? "" : "s", run::missing_shards_text(set)),
                 "run the missing shards (run --shard I/N) and merge every shard again"});
  }
  return {};
}

Status run_cache(Context& ctx, const RunsOptions& o, bool export_) {
  auto store = TRY(open_runs(ctx, !export_));
  if (export_) {
    auto n = TRY(run::export_cache(store, o.file));
    ctx.say("exported {} cached answer{} to {}{}", n.written, n.written == 1 ? "" : "s", o.file,
            n.left_out ? fmt::format(" (left out {} brought in without trust)", n.left_out) : "");
    return {};
  }
  auto n = TRY(run::import_cache(store, o.file, o.trust));
  ctx.say("imported {} cached answer{} from {}{}", n, n == 1 ? "" : "s", o.file,
          o.trust ? ", trusted: plain runs replay them"
                  : ", untrusted: only --offline replays them (--trust to replay them always)");
  return {};
}

void add_run_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the suite's cases against a model");
  cmd->add_option("--provider", o->provider, "A provider from evalkeep.toml ([providers.NAME])");
  cmd->add_option("--model", o->model, "An ad hoc model: openai:MODEL or anthropic:MODEL");
  cmd->add_option("--judge", o->judge,
                  "The provider that scores judge assertions (default: judge in evalkeep.toml)");
  cmd->add_option("-j,--jobs", o->jobs,
                  "The most requests in flight at once (default: max_concurrency); fewer while the "
                  "provider's rate limits call for it")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--trials", o->trials, "Run each case K times (default: the case's own)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--tag", o->tags, "Only cases with this tag (repeatable)");
  cmd->add_option("--incident", o->incidents, "Only cases guarding this incident (repeatable)");
  cmd->add_option("--case", o->cases, "Only this case (repeatable)");
  cmd->add_flag("--include-retired", o->include_retired,
                "Also run retired cases, reported apart: would their guarantees still hold?");
  cmd->add_flag("--no-cache", o->no_cache, "Call the model even when an answer is cached");
  cmd->add_flag("--offline", o->offline,
                "Never call the model: replay any cached answer, imported ones included; a case "
                "without one is an error");
  cmd->add_option("--replay-from", o->replay_from,
                  "Replay answers only from this cache file you vouch for (a runs store or a "
                  "cache export), not from this store's cache");
  auto* resume = cmd->add_option("--resume", o->resume,
                                 "Finish an interrupted run (default: the latest unfinished)")
                     ->expected(0, 1);
  cmd->add_option("--shard", o->shard,
                  "Run only shard I of N (I/N): a stable split by case id, for CI matrix jobs");
  cmd->add_flag("--batch", o->batch,
                "Send the answer requests through the provider's batch API (openai, anthropic), "
                "then the judge calls through the judge's: half the price, results within 24 h; "
                "--resume collects a batch left processing");
  cmd->add_option("--poll-interval", o->poll_interval,
                  "Seconds between polls of a batch's status (default 10)")
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_flag("--json", o->json, "Print the summary as JSON");
  cmd->footer("Exit codes: 0 all passed, 1 an active case failed, 3 provider errors or a stop.\n"
              "Examples:\n  evalkeep run --provider local -j 32\n"
              "  evalkeep run --model openai:gpt-4o-mini --tag billing --trials 3\n"
              "  evalkeep run --provider openai --batch\n"
              "  evalkeep run --resume");
  cmd->callback([&ctx, o, resume] {
    o->resume_given = resume->count() > 0;
    ctx.run([&] { return run_run(ctx, *o); });
  });
}

} // namespace

void add_runs_share_commands(CLI::App& runs, Context& ctx); // cmd_share.cpp

namespace {

void add_runs_commands(CLI::App& app, Context& ctx) {
  auto* runs = app.add_subcommand("runs", "Look at stored runs");
  runs->require_subcommand(1);
  runs->footer("Examples:\n  evalkeep runs list\n  evalkeep runs diff latest~1 latest");
  auto lo = std::make_shared<RunsOptions>();
  auto* cmd = runs->add_subcommand("list", "List runs, newest first");
  cmd->add_flag("--json", lo->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep runs list");
  cmd->callback([&ctx, lo] { ctx.run([&] { return run_list(ctx, *lo); }); });

  auto so = std::make_shared<RunsOptions>();
  cmd = runs->add_subcommand("show", "One run per case, per incident and per tag");
  cmd->add_option("run", so->a, "Run number or 'latest'")->capture_default_str();
  cmd->add_flag("--json", so->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep runs show latest --json");
  cmd->callback([&ctx, so] { ctx.run([&] { return run_show(ctx, *so); }); });

  auto dif = std::make_shared<RunsOptions>();
  cmd = runs->add_subcommand("diff", "What regressed and what got fixed between two runs");
  cmd->add_option("a", dif->a, "The earlier run")->required();
  cmd->add_option("b", dif->b, "The later run")->required();
  cmd->add_flag("--json", dif->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep runs diff 3 4\n  evalkeep runs diff latest~1 latest --json");
  cmd->callback([&ctx, dif] { ctx.run([&] { return run_diff(ctx, *dif); }); });

  auto mo = std::make_shared<RunsOptions>();
  cmd = runs->add_subcommand("merge", "Combine shard runs (run --shard I/N) into one run");
  cmd->add_option("stores", mo->shards, "The shards' runs stores")->required()->expected(2, -1);
  cmd->add_option("-o,--output", mo->output,
                  "The runs store to merge into (default: this "
                  "project's)");
  cmd->add_flag("--with-cache", mo->with_cache,
                "Also copy the shards' cached answers, which later plain runs then replay");
  cmd->footer("Example:\n  evalkeep run --provider local --shard 1/2 --runs-db s1.db\n"
              "  evalkeep run --provider local --shard 2/2 --runs-db s2.db\n"
              "  evalkeep runs merge s1.db s2.db -o merged.db");
  cmd->callback([&ctx, mo] { ctx.run([&] { return run_merge(ctx, *mo); }); });
  add_runs_share_commands(*runs, ctx);
}

struct PlanOptions {
  double detect = 0, power = 0.8, alpha = 0.05;
  std::string baseline;
  bool json = false;
};

// How many cases and trials see a drop of o.detect, from a baseline run's noise or the largest.
Status run_plan(Context& ctx, const PlanOptions& o) {
  if (!(o.detect > 0 && o.detect < 1))
    return invalid_field("--detect",
                         "--detect {}: give the drop as a share of the pass rate, "
                         "between 0 and 1 (0.05 is five points)",
                         o.detect);
  if (!(o.power > 0 && o.power < 1))
    return invalid_field("--power", "--power {}: give a probability between 0 and 1", o.power);
  if (!(o.alpha > 0 && o.alpha < 0.5))
    return invalid_field("--alpha", "--alpha {}: give a significance level between 0 and 0.5",
                         o.alpha);
  scoring::TrialVariance variance;
  std::optional<run::RunSummary> base;
  std::vector<scoring::CaseScore> scores;
  if (!o.baseline.empty()) {
    auto store = TRY(open_runs(ctx, false));
    base = TRY(summary_of(store, o.baseline));
    scores = run::scores_of(base->cases);
    if (scores.empty())
      return invalid_field("--baseline-run", "run {} has no case with a result to measure",
                           base->run.id);
    variance = scoring::trial_variance(scores);
  }
  const int trial_counts[] = {1, 2, 3, 5, 10};
  nlohmann::json rows = nlohmann::json::array();
  std::string table;
  for (int k : trial_counts) {
    auto n = scoring::cases_needed(o.detect, o.alpha, o.power, variance.value, k);
    rows.push_back({{"trials", k}, {"cases", n}});
    table += fmt::format("  {:>6}  {:>8}\n", k, n);
  }
  std::string source =
      !variance.observed     ? "assumed: the most a pass/fail can have; --baseline-run measures it"
      : variance.upper_bound ? fmt::format("run {}, one trial a case: at most this", base->run.id)
                             : fmt::format("run {}, within its cases' trials", base->run.id);
  nlohmann::json out{{"detect", o.detect},
                     {"power", o.power},
                     {"alpha", o.alpha},
                     {"variance", {{"value", variance.value}, {"source", source}}},
                     {"needed", rows}};
  std::string text = fmt::format(
      "To see a drop of {:.1f} points in pass rate {:.0f}% of the time (one-sided alpha {}, the "
      "gate's paired test):\n  variance of one trial: {:.3f} ({})\n  {:>6}  {:>8}\n{}",
      100 * o.detect, 100 * o.power, o.alpha, variance.value, source, "trials", "cases", table);
  if (base) {
    std::size_t cases = scores.size();
    double all_trials = 0;
    for (const auto& c : scores)
      all_trials += std::max(c.trials, 1);
    int trials = static_cast<int>(std::lround(all_trials / static_cast<double>(cases)));
    double sees = scoring::detectable_drop(cases, o.alpha, o.power, variance.value, trials);
    std::optional<int> enough;
    for (int k = 1; k <= 1000 && !enough; ++k)
      if (scoring::cases_needed(o.detect, o.alpha, o.power, variance.value, k) <= cases)
        enough = k;
    out["baseline"] = {{"run", base->run.id},
                       {"cases", cases},
                       {"trials", trials},
                       {"detectable_drop", sees},
                       {"trials_needed", enough ? nlohmann::json(*enough) : nlohmann::json()}};
    text += fmt::format("Run {}'s {} cases with {} trial{} each see a drop of {:.1f} points. ",
                        base->run.id, cases, trials, trials == 1 ? "" : "s", 100 * sees);
    text += enough ? fmt::format("With {} trial{} a case they would see {:.1f}.\n", *enough,
                                 *enough == 1 ? "" : "s", 100 * o.detect)
                   : fmt::format("No number of trials sees {:.1f}: add cases.\n", 100 * o.detect);
  }
  if (o.json)
    fmt::print("{}\n", out.dump(2));
  else
    print_text(text);
  return {};
}

void add_plan_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand(
      "plan", "How many cases and trials a run needs to see a drop in pass rate of a given size");
  cmd->add_option("--detect", o->detect,
                  "The drop to see, as a share of the pass rate (0.05 is five points)")
      ->required();
  cmd->add_option("--power", o->power, "How often the drop must be seen")->capture_default_str();
  cmd->add_option("--alpha", o->alpha,
                  "The significance level the gate tests at (its policy's alpha)")
      ->capture_default_str();
  cmd->add_option("--baseline-run", o->baseline,
                  "Measure the noise in this run (a number or 'latest') instead of assuming the "
                  "most");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->footer("Examples:\n  evalkeep plan --detect 0.05\n"
              "  evalkeep plan --detect 0.1 --power 0.9 --baseline-run latest");
  cmd->callback([&ctx, o] { ctx.run([&] { return run_plan(ctx, *o); }); });
}

void add_cache_commands(CLI::App& app, Context& ctx) {
  auto* cache = app.add_subcommand("cache", "Move cached answers between machines");
  cache->require_subcommand(1);
  cache->footer("Example:\n  evalkeep cache export answers.jsonl");
  auto ce = std::make_shared<RunsOptions>();
  auto* cmd = cache->add_subcommand(
      "export", "Write the cached answers this store replays (made here or trusted) as JSONL");
  cmd->add_option("file", ce->file, "Output file")->required();
  cmd->footer("Example:\n  evalkeep cache export answers.jsonl");
  cmd->callback([&ctx, ce] { ctx.run([&] { return run_cache(ctx, *ce, true); }); });
  auto ci = std::make_shared<RunsOptions>();
  cmd = cache->add_subcommand("import", "Add cached answers from a JSONL export");
  cmd->add_option("file", ci->file, "Input file")->required();
  cmd->add_flag("--trust", ci->trust,
                "Let plain runs replay these answers (otherwise only --offline does)");
  cmd->footer("Example:\n  evalkeep cache import answers.jsonl");
  cmd->callback([&ctx, ci] { ctx.run([&] { return run_cache(ctx, *ci, false); }); });
}

} // namespace

void add_run_commands(CLI::App& app, Context& ctx) {
  add_run_command(app, ctx);
  add_runs_commands(app, ctx);
  add_cache_commands(app, ctx);
  add_plan_command(app, ctx);
}

} // namespace evalkeep::cli
