// runs push and runs fetch: stored runs shared through the repository itself, under
// refs/evalkeep/runs/, so a pull request's CI job can compare against the run main's job made.

#include "cli/context.hpp"
#include "git/repo.hpp"
#include "run/shared.hpp"

#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace evalkeep::cli {

namespace {

constexpr const char* k_refs = "refs/evalkeep/runs/";

struct ShareOptions {
  std::string remote = "origin";
  std::string run = "latest";
  bool full = false;
  bool local = false;
};

Result<suite::Workspace*> git_workspace(Context& ctx) {
  auto* ws = TRY(ctx.workspace());
  if (!ws->in_git)
    return invalid("'{}' is not in a git repository: runs are shared through git",
                   ws->root.string());
  return ws;
}

// Runs git and turns a failure into an error that shows git's own message.
Result<std::string> git_ok(const std::filesystem::path& dir, std::vector<std::string> args,
                           const std::string& input = {}) {
  std::string what = "git " + args.front();
  args.insert(args.begin(), "git");
  core::ProcessOptions options;
  options.cwd = dir;
  options.stdin_data = input;
  // A ref on a remote may hold anything: a shared run is read into memory only up to a bound.
  options.max_output = std::size_t{1} << 30;
  auto r = TRY(core::run_process(args, options));
  if (r.exit_code != 0 && r.out.size() + r.err.size() >= options.max_output)
    return fail(ExitCode::usage, "{} printed more than 1 GB: not a run evalkeep shared", what);
  if (r.exit_code != 0) {
    auto message = r.err.empty() ? r.out : r.err;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return fail(ExitCode::environment, "{} failed: {}", what, message);
  }
  return r.out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

Status run_push(Context& ctx, const ShareOptions& o) {
  auto* ws = TRY(git_workspace(ctx));
  auto path = TRY(ctx.runs_path());
  auto store = TRY(run::RunsStore::open(path, false));
  auto id = TRY(store.resolve(o.run));
  auto record = TRY(store.get_run(id));
  if (record.git_dirty.value_or(false))
    return refuse("run {} was made with uncommitted changes: it stands for no commit. Commit, "
                  "run again, then push",
                  id);
  auto doc = TRY(run::shared_run(store, id, o.full));
  auto ref = run::shared_run_ref(record);
  auto object = trimmed(TRY(git_ok(ws->root, {"hash-object", "-w", "--stdin"}, doc.dump())));
  TRY(git_ok(ws->root, {"update-ref", ref, object}));
  if (o.local) {
    ctx.say("stored run {} as {}", id, ref);
    return {};
  }
  TRY(git_ok(ws->root, {"push", "--quiet", o.remote, "+" + ref + ":" + ref}));
  ctx.say("pushed run {} to {} as {}", id, o.remote, ref);
  return {};
}

// A fetched ref not yet in the runs store, read and checked.
struct Fetched {
  std::string ref, source;
  run::SharedRun run;
};

Status run_fetch(Context& ctx, const ShareOptions& o) {
  auto* ws = TRY(git_workspace(ctx));
  TRY(git_ok(ws->root, {"fetch", "--quiet", o.remote, fmt::format("+{}*:{}*", k_refs, k_refs)}));
  auto listing = TRY(git_ok(
      ws->root, {"for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", k_refs}));
  auto path = TRY(ctx.runs_path());
  std::optional<run::RunsStore> store;
  if (std::filesystem::exists(path))
    store = TRY(run::RunsStore::open(path, false));
  // Every new ref is read and checked before anything is stored: a bad one stores nothing.
  std::vector<Fetched> fetched;
  std::vector<std::string> bad;
  int known = 0;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    Fetched f;
    std::string object, type;
    fields >> object >> type >> f.ref;
    f.source = f.ref + " " + object;
    if (store && TRY(run::fetched_before(*store, f.source))) {
      ++known;
      continue;
    }
    if (type != "blob") {
      bad.push_back(fmt::format("{} is a {}, not a run evalkeep shared", f.ref, type));
      continue;
    }
    auto text = TRY(git_ok(ws->root, {"cat-file", "blob", object}));
    auto shared = run::read_shared_run(nlohmann::json::parse(text, nullptr, false));
    if (!shared) {
      bad.push_back(fmt::format("{}: {}", f.ref, shared.error().message));
      continue;
    }
    f.run = std::move(*shared);
    fetched.push_back(std::move(f));
  }
  if (!bad.empty())
    return std::unexpected(
        Error{ExitCode::usage,
              fmt::format("{} ref{} on {} hold{} no run evalkeep can read; "
                          "nothing was stored:\n  {}",
                          bad.size(), bad.size() == 1 ? "" : "s", o.remote,
                          bad.size() == 1 ? "s" : "", fmt::join(bad, "\n  ")),
              fmt::format("delete a bad ref with 'git push {} :REF'", o.remote)});
  if (!store && !fetched.empty()) {
    std::filesystem::create_directories(path.parent_path());
    store = TRY(run::RunsStore::open(path, true));
  }
  for (auto& f : fetched) {
    auto provider = f.run.run.provider;
    auto id = TRY(run::store_shared_run(*store, std::move(f.run), f.source));
    ctx.say("fetched {} ({}) as run {}", f.ref.substr(std::string_view(k_refs).size()), provider,
            id);
  }
  ctx.say("{} run{} fetched from {}, {} already here", fetched.size(),
          fetched.size() == 1 ? "" : "s", o.remote, known);
  return {};
}

} // namespace

void add_runs_share_commands(CLI::App& runs, Context& ctx) {
  auto po = std::make_shared<ShareOptions>();
  auto* cmd = runs.add_subcommand(
      "push", "Store a run in git under refs/evalkeep/runs/<commit>/ and push it to a remote");
  cmd->add_option("remote", po->remote, "The remote to push to")->capture_default_str();
  cmd->add_option("--run", po->run, "Run number or 'latest'")->capture_default_str();
  cmd->add_flag("--full", po->full, "Include each case's record and each trial's answer");
  cmd->add_flag("--local", po->local, "Store the ref in this repository only; push nothing");
  cmd->footer("The run is stored compact: its settings, suite hash and each case's trial "
              "verdicts.\nExamples:\n  evalkeep runs push\n  evalkeep runs push origin --run 12 "
              "--full");
  cmd->callback([&ctx, po] { ctx.run([&] { return run_push(ctx, *po); }); });

  auto fo = std::make_shared<ShareOptions>();
  cmd = runs.add_subcommand("fetch", "Fetch the runs stored under refs/evalkeep/runs/ on a remote "
                                     "into this runs store");
  cmd->add_option("remote", fo->remote, "The remote to fetch from")->capture_default_str();
  cmd->footer("Each run is fetched once; a fetched run keeps the ref it came from.\n"
              "Example:\n  evalkeep runs fetch && evalkeep gate --run latest --baseline-run 3");
  cmd->callback([&ctx, fo] { ctx.run([&] { return run_fetch(ctx, *fo); }); });
}

} // namespace evalkeep::cli
