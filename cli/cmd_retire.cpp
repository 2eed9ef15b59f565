#include "cli/context.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"

#include <algorithm>

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

struct RetireOptions {
  suite::RetireRequest request; // its case_id stays empty: the selection names the cases
  suite::CaseSelection select;
  std::optional<std::string> from;
  bool dry_run = false;
};

std::string guarded_text(const suite::RetirementDecision& d) {
  return d.incidents.empty() ? "-" : fmt::format("{}", fmt::join(d.incidents, ", "));
}

Status run_retire(Context& ctx, const RetireOptions& o) {
  suite::CaseSelection select = o.select;
  if (o.from) {
    auto text = read_input(*o.from, suite::k_max_input_bytes, "a list of case ids may take");
    if (!text)
      return with_context(text.error(), "--from");
    auto ids = TRY(suite::parse_case_ids(*text, *o.from == "-" ? "stdin" : *o.from));
    if (ids.empty())
      return invalid("--from {}: the list names no case", *o.from);
    select.ids.insert(select.ids.end(), ids.begin(), ids.end());
  }
  auto ws = TRY(ctx.workspace());
  auto s =
      TRY(ctx.open_suite(o.dry_run ? suite::Suite::Access::read : suite::Suite::Access::write));
  auto origin = TRY(ctx.origin());
  auto batch = TRY(suite::retire_cases(s, select, o.request, ws->config.policy, origin, o.dry_run));
  const auto& decisions = batch.decisions;
  auto reason = suite::to_string(decisions.front().reason);
  if (o.dry_run) {
    // The preview is the command's output, printed with --quiet too.
    std::size_t width = 0;
    for (const auto& d : decisions)
      width = std::max(width, d.case_id.size());
    std::string out = fmt::format("would retire {} case{} ({}):\n", decisions.size(),
                                  decisions.size() == 1 ? "" : "s", reason);
    for (const auto& d : decisions)
      out += fmt::format("  {:<{}}  {}\n", d.case_id, width, guarded_text(d));
    for (const auto& incident : batch.unguarded)
      out += fmt::format("{} would be left with no active guarding case\n", incident);
    out += "nothing was changed (dry run)\n";
    print_text(out);
    return {};
  }
  if (decisions.size() == 1) {
    const auto& d = decisions.front();
    ctx.say("retired {} ({}); it stays in the suite, excluded from runs", d.case_id, reason);
    if (!d.incidents.empty())
      ctx.say("guarantee retired for incident {}", fmt::join(d.incidents, ", "));
  } else {
    for (const auto& d : decisions)
      ctx.say("retired {}", d.case_id);
    ctx.say("retired {} cases ({}); they stay in the suite, excluded from runs", decisions.size(),
            reason);
  }
  for (const auto& incident : batch.unguarded)
    ctx.say("{} is left with no active guarding case", incident);
  return {};
}

Status run_remove(Context& ctx, const RemoveOptions& o) {
  auto w = TRY(ctx.writer());
  TRY(suite::remove_case(w.suite, o.id, o.purge, w.origin));
  ctx.say("removed {}; its tombstone, decision and history stay{}", o.id,
          o.purge ? " (input and assertions purged)" : "");
  return {};
}

Status run_reinstate(Context& ctx, const ReinstateOptions& o) {
  auto w = TRY(ctx.writer());
  TRY(suite::reinstate(w.suite, o.id, o.rationale, w.origin));
  ctx.say("reinstated {}", o.id);
  return {};
}

} // namespace

void add_retirement_commands(CLI::App& app, Context& ctx) {
  auto retire = std::make_shared<RetireOptions>();
  auto* cmd = app.add_subcommand("retire", "Record a retirement decision for one or more cases");
  cmd->add_option("cases", retire->select.ids, "Case ids");
  cmd->add_option("--tag", retire->select.tag, "Every live case with this tag");
  cmd->add_option("--incident", retire->select.incident,
                  "Every live case guarding this incident (with --tag: those with both)");
  cmd->add_option("--from", retire->from,
                  "Read case ids from a file, one a line, '#' comments ('-': stdin)");
  cmd->add_option("--reason", retire->request.reason, "Why: " + suite::reason_names())->required();
  cmd->add_option("--rationale", retire->request.rationale, "The decision in words")->required();
  cmd->add_option("--superseded-by", retire->request.superseded_by,
                  "Case(s) that take over the guarantee (required for superseded; repeatable)");
  cmd->add_option("--decided-by", retire->request.decided_by,
                  "Who decided (default: your git identity)");
  cmd->add_option("--approved-by", retire->request.approved_by, "Who approved the decision");
  cmd->add_option("--revisit", retire->request.revisit,
                  "When to look at the decision again, YYYY-MM-DD (not in the past)");
  cmd->add_flag("--dry-run", retire->dry_run,
                "Show the cases and the incidents left unguarded; change nothing");
  cmd->footer(
      "All the cases are retired with one decision in one transaction, or none are.\n"
      "Examples:\n"
      "  evalkeep retire refund-window --reason superseded --superseded-by tone-apology \\\n"
      "      --rationale \"covered by the tone case\"\n"
      "  evalkeep retire --tag legacy-ui --reason feature-removed --rationale \"the old UI is "
      "gone\" --dry-run");
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
