#include "cli/context.hpp"
#include "suite/retirement.hpp"

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct RemoveOptions {
  std::string id;
  bool purge = false;
};

struct ReinstateOptions {
  std::string id;
  std::string rationale;
};

Status run_retire(Context& ctx, const suite::RetireRequest& request) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto s = ctx.open_suite(suite::Suite::Access::write);
  if (!s)
    return std::unexpected(s.error());
  auto origin = ctx.origin();
  if (!origin)
    return std::unexpected(origin.error());
  auto d = suite::retire(*s, request, (*ws)->config.policy, *origin);
  if (!d)
    return std::unexpected(d.error());
  ctx.say("retired {} ({}); it stays in the suite, excluded from runs", d->case_id,
          suite::to_string(d->reason));
  if (!d->incidents.empty())
    ctx.say("guarantee retired for incident {}", fmt::join(d->incidents, ", "));
  return {};
}

Status run_remove(Context& ctx, const RemoveOptions& o) {
  auto s = ctx.open_suite(suite::Suite::Access::write);
  if (!s)
    return std::unexpected(s.error());
  auto origin = ctx.origin();
  if (!origin)
    return std::unexpected(origin.error());
  if (auto r = suite::remove_case(*s, o.id, o.purge, *origin); !r)
    return r;
  ctx.say("removed {}; its tombstone, decision and history stay{}", o.id,
          o.purge ? " (input and assertions purged)" : "");
  return {};
}

Status run_reinstate(Context& ctx, const ReinstateOptions& o) {
  auto s = ctx.open_suite(suite::Suite::Access::write);
  if (!s)
    return std::unexpected(s.error());
  auto origin = ctx.origin();
  if (!origin)
    return std::unexpected(origin.error());
  if (auto r = suite::reinstate(*s, o.id, o.rationale, *origin); !r)
    return r;
  ctx.say("reinstated {}", o.id);
  return {};
}

} // namespace

void add_retirement_commands(CLI::App& app, Context& ctx) {
  auto retire = std::make_shared<suite::RetireRequest>();
  auto* cmd = app.add_subcommand("retire", "Record a retirement decision for a case");
  cmd->add_option("case", retire->case_id, "Case id")->required();
  cmd->add_option("--reason", retire->reason, "Why: " + suite::reason_names())->required();
  cmd->add_option("--rationale", retire->rationale, "The decision in words")->required();
  cmd->add_option("--superseded-by", retire->superseded_by,
                  "Case(s) that take over the guarantee (required for superseded; repeatable)");
  cmd->add_option("--decided-by", retire->decided_by, "Who decided (default: your git identity)");
  cmd->add_option("--approved-by", retire->approved_by, "Who approved the decision");
  cmd->add_option("--revisit", retire->revisit, "When to look at the decision again, YYYY-MM-DD");
  cmd->footer("Example:\n  evalkeep retire refund-window --reason superseded --superseded-by "
              "tone-apology \\\n      --rationale \"covered by the tone case\"");
  cmd->callback([&ctx, retire] { ctx.run([&] { return run_retire(ctx, *retire); }); });

  auto rm = std::make_shared<RemoveOptions>();
  cmd = app.add_subcommand("rm", "Remove a retired case, keeping its tombstone and history");
  cmd->add_option("case", rm->id, "Case id")->required();
  cmd->add_flag("--purge", rm->purge, "Also drop the case's title, input and assertions");
  cmd->footer("A case without a retirement decision is never removed: retire it first.\n"
              "Example:\n  evalkeep rm refund-window");
  cmd->callback([&ctx, rm] { ctx.run([&] { return run_remove(ctx, *rm); }); });

  auto back = std::make_shared<ReinstateOptions>();
  cmd = app.add_subcommand("reinstate", "Bring a retired case back into the runs");
  cmd->add_option("case", back->id, "Case id")->required();
  cmd->add_option("--rationale", back->rationale, "Why the guarantee is needed again")->required();
  cmd->footer("Example:\n  evalkeep reinstate refund-window --rationale \"the new model regressed "
              "on refunds\"");
  cmd->callback([&ctx, back] { ctx.run([&] { return run_reinstate(ctx, *back); }); });
}

} // namespace evalkeep::cli
