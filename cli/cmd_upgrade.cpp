#include "cli/context.hpp"

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

Status run_upgrade(Context& ctx) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::write));
  auto done = TRY(s.upgrade());
  auto path = s.path().string();
  if (!done.changed()) {
    ctx.say("suite {} is already at schema version {}, the latest: nothing to upgrade", path,
            done.to);
    return {};
  }
  if (done.from != done.to)
    ctx.say("upgraded suite {} from schema version {} to {}", path, done.from, done.to);
  else
    ctx.say("suite {} is at schema version {}, the latest", path, done.to);
  if (done.journal_restored)
    ctx.say("switched suite {} from WAL mode back to a rollback journal", path);
  return {};
}

} // namespace

void add_upgrade_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "upgrade",
      "Bring the suite to the latest schema version (any change would, when it succeeds)");
  cmd->footer("Prints the version it moved from and to; on a current suite it changes nothing. "
              "Other commands\nleave the file as it was when they are refused.\nExample:\n"
              "  evalkeep upgrade");
  cmd->callback([&ctx] { ctx.run([&] { return run_upgrade(ctx); }); });
}

} // namespace evalkeep::cli
