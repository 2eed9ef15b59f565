#include "cli/context.hpp"
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
  std::optional<std::string> resume; // "" = the latest unfinished run
  std::string shard;                 // I/N
  bool resume_given = false;
};

struct RunsOptions {
  std::string a = "latest", b;
  std::string file;
  std::vector<std::string> shards;
  std::string output;
  bool json = false;
};

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
    auto line = fmt::format("[{}/{}] pass {} fail {} error {}  {:.0f} req/s  ETA {:.0f}s", p.done,
                            p.total, p.passed, p.failed, p.errored, rate, eta);
    fmt::print(stderr, "\r{:<{}}", line, width);
    width = line.size();
    if (p.done >= p.total)
      fmt::print(stderr, "\n");
    std::fflush(stderr);
  };
}

Result<run::RunsStore> open_runs(Context& ctx, bool create) {
  auto path = ctx.runs_path();
  if (!path)
    return std::unexpected(path.error());
  return run::RunsStore::open(*path, create);
}

// The summary of a run named by number or "latest".
Result<run::RunSummary> summary_of(run::RunsStore& store, const std::string& ref) {
  auto id = store.resolve(ref);
  if (!id)
    return std::unexpected(id.error());
  return run::summarize(store, *id);
}

Status print_summary(Context& ctx, const run::RunSummary& s, bool json) {
  if (json)
    fmt::print("{}\n", report::summary_json(s).dump(2, ' ', false,
                                                    nlohmann::json::error_handler_t::replace));
  else
    print_text(report::summary_text(s));
  ctx.set_exit_code(static_cast<ExitCode>(s.exit_code()));
  // A stopped run is an error a person or CI must see, whatever stdout is piped into.
  if (s.run.state == "stopped")
    print_error(
        {ExitCode::environment,
         fmt::format("run {} stopped early: {}", s.run.id, s.run.stop_reason.value_or("?")),
         fmt::format("fix the cause, then finish it with: evalkeep run --resume {}", s.run.id)});
  return {};
}

Status run_run(Context& ctx, RunOptions& o) {
  if (o.resume_given) {
    auto store = open_runs(ctx, false);
    if (!store)
      return std::unexpected(store.error());
    std::int64_t id = 0;
    if (o.resume && !o.resume->empty()) {
      auto r = store->resolve(*o.resume);
      if (!r)
        return std::unexpected(r.error());
      id = *r;
    } else {
      auto latest = store->latest_unfinished();
      if (!latest)
        return std::unexpected(latest.error());
      if (!*latest)
        return refuse("no unfinished run to resume");
      id = **latest;
    }
    auto s = run::resume_run(*store, id, progress_line(ctx));
    if (!s)
      return std::unexpected(s.error());
    return print_summary(ctx, *s, o.json);
  }
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto provider = suite::find_provider((*ws)->config, o.provider, o.model);
  if (!provider)
    return std::unexpected(provider.error());
  if (o.no_cache && o.offline)
    return invalid("--no-cache and --offline contradict each other");
  auto suite = ctx.open_suite(suite::Suite::Access::read);
  if (!suite)
    return std::unexpected(suite.error());
  auto store = open_runs(ctx, true);
  if (!store)
    return std::unexpected(store.error());
  run::RunRequest req;
  req.provider = *provider;
  std::string judge = o.judge.empty() ? (*ws)->config.judge : o.judge;
  if (!judge.empty()) {
    auto j = suite::find_provider((*ws)->config, judge, "");
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
    auto shard = run::parse_shard(o.shard);
    if (!shard)
      return std::unexpected(shard.error());
    req.shard = *shard;
  }
  req.cache = o.offline    ? run::CacheMode::offline
              : o.no_cache ? run::CacheMode::refresh
                           : run::CacheMode::use;
  auto s = run::start_run(*suite, **ws, *store, req, progress_line(ctx));
  if (!s)
    return std::unexpected(s.error());
  return print_summary(ctx, *s, o.json);
}

Status run_list(Context& ctx, const RunsOptions& o) {
  auto store = open_runs(ctx, false);
  if (!store)
    return std::unexpected(store.error());
  auto runs = store->list_runs();
  if (!runs)
    return std::unexpected(runs.error());
  if (o.json)
    fmt::print("{}\n", report::runs_json(*runs).dump(2));
  else
    print_text(report::runs_text(*runs));
  return {};
}

Status run_show(Context& ctx, const RunsOptions& o) {
  auto store = open_runs(ctx, false);
  if (!store)
    return std::unexpected(store.error());
  auto s = summary_of(*store, o.a);
  if (!s)
    return std::unexpected(s.error());
  if (o.json)
    fmt::print("{}\n", report::run_detail_json(*s).dump(2, ' ', false,
                                                        nlohmann::json::error_handler_t::replace));
  else
    print_text(report::run_detail_text(*s));
  return {};
}

Status run_diff(Context& ctx, const RunsOptions& o) {
  auto store = open_runs(ctx, false);
  if (!store)
    return std::unexpected(store.error());
  auto sa = summary_of(*store, o.a);
  if (!sa)
    return std::unexpected(sa.error());
  auto sb = summary_of(*store, o.b);
  if (!sb)
    return std::unexpected(sb.error());
  auto d = run::diff_runs(*sa, *sb);
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
    auto path = ctx.runs_path();
    if (!path)
      return std::unexpected(path.error());
    output = *path;
  }
  std::vector<std::filesystem::path> shards(o.shards.begin(), o.shards.end());
  for (const auto& s : shards)
    if (std::filesystem::absolute(s) == std::filesystem::absolute(output))
      return invalid("the output '{}' is also a shard; merge into another file", output.string());
  auto store = run::RunsStore::open(output, true);
  if (!store)
    return std::unexpected(store.error());
  auto id = run::merge_runs(*store, shards);
  if (!id)
    return std::unexpected(id.error());
  ctx.say("merged {} shards into run {} of {}", shards.size(), *id, output.string());
  return {};
}

Status run_cache(Context& ctx, const RunsOptions& o, bool export_) {
  auto store = open_runs(ctx, !export_);
  if (!store)
    return std::unexpected(store.error());
  if (export_) {
    auto n = run::export_cache(*store, o.file);
    if (!n)
      return std::unexpected(n.error());
    ctx.say("exported {} cached answer{} to {}", *n, *n == 1 ? "" : "s", o.file);
    return {};
  }
  auto n = run::import_cache(*store, o.file);
  if (!n)
    return std::unexpected(n.error());
  ctx.say("imported {} cached answer{} from {}", *n, *n == 1 ? "" : "s", o.file);
  return {};
}

} // namespace

void add_run_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the suite's cases against a model");
  cmd->add_option("--provider", o->provider, "A provider from evalkeep.toml ([providers.NAME])");
  cmd->add_option("--model", o->model, "An ad hoc model: openai:MODEL or anthropic:MODEL");
  cmd->add_option("--judge", o->judge,
                  "The provider that scores judge assertions (default: judge in evalkeep.toml)");
  cmd->add_option("-j,--jobs", o->jobs, "Requests in flight at once (default: max_concurrency)")
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
                "Never call the model: a case without a cached answer "
                "is an error");
  auto* resume = cmd->add_option("--resume", o->resume,
                                 "Finish an interrupted run (default: the latest unfinished)")
                     ->expected(0, 1);
  cmd->add_option("--shard", o->shard,
                  "Run only shard I of N (I/N): a stable split by case id, for CI matrix jobs");
  cmd->add_flag("--json", o->json, "Print the summary as JSON");
  cmd->footer("Exit codes: 0 all passed, 1 an active case failed, 3 provider errors or a stop.\n"
              "Examples:\n  evalkeep run --provider local -j 32\n"
              "  evalkeep run --model openai:gpt-4o-mini --tag billing --trials 3\n"
              "  evalkeep run --resume");
  cmd->callback([&ctx, o, resume] {
    o->resume_given = resume->count() > 0;
    ctx.run([&] { return run_run(ctx, *o); });
  });

  auto* runs = app.add_subcommand("runs", "Look at stored runs");
  runs->require_subcommand(1);
  runs->footer("Examples:\n  evalkeep runs list\n  evalkeep runs diff latest~1 latest");
  auto lo = std::make_shared<RunsOptions>();
  cmd = runs->add_subcommand("list", "List runs, newest first");
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
  cmd->footer("Example:\n  evalkeep run --provider local --shard 1/2 --runs-db s1.db\n"
              "  evalkeep run --provider local --shard 2/2 --runs-db s2.db\n"
              "  evalkeep runs merge s1.db s2.db -o merged.db");
  cmd->callback([&ctx, mo] { ctx.run([&] { return run_merge(ctx, *mo); }); });

  auto* cache = app.add_subcommand("cache", "Move cached answers between machines");
  cache->require_subcommand(1);
  cache->footer("Example:\n  evalkeep cache export answers.jsonl");
  auto ce = std::make_shared<RunsOptions>();
  cmd = cache->add_subcommand("export", "Write every cached answer as JSONL");
  cmd->add_option("file", ce->file, "Output file")->required();
  cmd->footer("Example:\n  evalkeep cache export answers.jsonl");
  cmd->callback([&ctx, ce] { ctx.run([&] { return run_cache(ctx, *ce, true); }); });
  auto ci = std::make_shared<RunsOptions>();
  cmd = cache->add_subcommand("import", "Add cached answers from a JSONL export");
  cmd->add_option("file", ci->file, "Input file")->required();
  cmd->footer("Example:\n  evalkeep cache import answers.jsonl");
  cmd->callback([&ctx, ci] { ctx.run([&] { return run_cache(ctx, *ci, false); }); });
}

} // namespace evalkeep::cli
