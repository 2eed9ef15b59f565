#include "cli/context.hpp"
#include "cli/merge_text.hpp"
#include "suite/merge.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct MergeResolveOptions {
  std::vector<std::string> ours, theirs; // record ids
};

Result<suite::Resolutions> resolutions_of(const MergeResolveOptions& o) {
  suite::Resolutions r;
  for (const auto& id : o.ours)
    r.keep[id] = suite::Keep::ours;
  for (const auto& id : o.theirs)
    if (!r.keep.emplace(id, suite::Keep::theirs).second)
      return invalid("{} is named by both --ours and --theirs: keep one side of it", id);
  return r;
}

// "kept ours for case a and incident INC-9, theirs for case b".
std::string kept_text(const std::vector<suite::Resolved>& resolved) {
  std::string out;
  for (auto side : {suite::Keep::ours, suite::Keep::theirs}) {
    std::vector<std::string> records;
    for (const auto& r : resolved)
      if (r.kept == side)
        records.push_back(fmt::format("{} {}", r.kind, r.id));
    if (!records.empty())
      out += fmt::format("{}{} for {}", out.empty() ? "kept " : ", ", suite::to_string(side),
                         fmt::join(records, ", "));
  }
  return out;
}

Status run_merge_resolve(Context& ctx, const MergeResolveOptions& o) {
  auto resolutions = TRY(resolutions_of(o));
  auto* ws = TRY(ctx.workspace());
  if (!ws->in_git)
    return invalid("not in a git repository: merge-resolve settles a conflicted 'git merge'");
  resolutions.by = TRY(ctx.origin());
  auto outcome = TRY(suite::resolve_conflicted_merge(ws->root, ws->suite_path, resolutions));
  std::error_code ec;
  auto name = std::filesystem::relative(ws->suite_path, ws->root, ec).string();
  if (ec || name.empty())
    name = ws->suite_path.string();
  if (!outcome.not_in_conflict.empty()) {
    std::vector<std::string> conflicting;
    for (const auto& c : outcome.conflicts)
      conflicting.push_back(fmt::format("{} {}", c.kind, c.id));
    for (const auto& r : outcome.resolved)
      conflicting.push_back(fmt::format("{} {}", r.kind, r.id));
    return with_hint(invalid("no conflicting record of this merge is named {}",
                             fmt::join(outcome.not_in_conflict, " or ")),
                     conflicting.empty() ? std::string("nothing in this merge conflicts")
                                         : fmt::format("the conflicting records: {}",
                                                       fmt::join(conflicting, ", ")));
  }
  if (!outcome.conflicts.empty()) {
    print_conflicts(outcome, name);
    ctx.set_exit_code(ExitCode::refused);
    return {};
  }
  ctx.say("settled {}: {}; {}", name, kept_text(outcome.resolved), merge_summary(outcome));
  ctx.say("next: git add {} && git commit", name);
  for (const auto& r : outcome.resolved)
    if (!r.weakens.empty()) {
      std::vector<std::string> what;
      for (const auto& change : r.weakens)
        what.push_back(suite::describe(change));
      ctx.warn("the kept version of {} {} weakens the other side's ({}): the gate will ask for a "
               "decision this merge does not record; to record one, keep --{} {} and make the "
               "change again with 'evalkeep edit {} ... --reason REASON'",
               r.kind, r.id, fmt::join(what, "; "), suite::to_string(suite::Keep::theirs), r.id,
               r.id);
    }
  return {};
}

} // namespace

void add_merge_resolve_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<MergeResolveOptions>();
  auto* cmd = app.add_subcommand(
      "merge-resolve", "Settle a conflicted git merge of the suite, keeping one side per record");
  cmd->add_option("--ours", opts->ours, "Keep our version of this case or incident (repeatable)")
      ->type_name("ID");
  cmd->add_option("--theirs", opts->theirs,
                  "Keep their version of this case or incident (repeatable)")
      ->type_name("ID");
  cmd->footer("Example, after 'git merge main' stopped on a conflict in the suite:\n"
              "  evalkeep merge-resolve --ours tone-apology --theirs refund-window\n"
              "  git add evals/suite.db && git commit\n\n"
              "Merges the three versions git keeps during the conflict (the common ancestor, ours\n"
              "and theirs) as the merge driver does, keeping the named side of each conflicting\n"
              "record, and writes the result over the suite in the work tree. Where the merged\n"
              "ledger's latest event about a record describes the other side's version, one more\n"
              "event records the version kept. Every conflict must be named; without any, the\n"
              "conflicts are listed (exit 1) and nothing is written.");
  cmd->callback([&ctx, opts] { ctx.run([&] { return run_merge_resolve(ctx, *opts); }); });
}

} // namespace evalkeep::cli
