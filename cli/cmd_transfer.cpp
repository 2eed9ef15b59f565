#include "cli/context.hpp"
#include "suite/interchange.hpp"

#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct ImportOptions {
  std::string file;
  bool dry_run = false;
};

struct ExportOptions {
  std::string output;
};

Status run_import(Context& ctx, const ImportOptions& o) {
  auto text = read_input(o.file);
  if (!text)
    return std::unexpected(text.error());
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto s = ctx.open_suite(suite::Suite::Access::write);
  if (!s)
    return std::unexpected(s.error());
  auto origin = ctx.origin();
  if (!origin)
    return std::unexpected(origin.error());
  std::string source = o.file == "-" ? "<stdin>" : o.file;
  auto summary = suite::import_jsonl(*s, *text, source, (*ws)->config.policy, *origin, o.dry_run);
  if (!summary)
    return std::unexpected(summary.error());
  ctx.say("{} {} incident{}, {} case{}, {} retirement decision{} from {}",
          o.dry_run ? "would import" : "imported", summary->incidents,
          summary->incidents == 1 ? "" : "s", summary->cases, summary->cases == 1 ? "" : "s",
          summary->retirements, summary->retirements == 1 ? "" : "s", source);
  return {};
}

Status run_export(Context& ctx, const ExportOptions& o) {
  auto s = ctx.open_suite(suite::Suite::Access::read);
  if (!s)
    return std::unexpected(s.error());
  if (o.output.empty() || o.output == "-")
    return suite::export_jsonl(*s, std::cout);
  std::ofstream out(o.output, std::ios::binary);
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", o.output);
  return suite::export_jsonl(*s, out);
}

} // namespace

void add_transfer_commands(CLI::App& app, Context& ctx) {
  auto imp = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand("import", "Import incidents, cases and decisions from JSONL");
  cmd->add_option("file", imp->file, "A JSONL file ('-': stdin)")->required();
  cmd->add_flag("--dry-run", imp->dry_run, "Check everything, write nothing");
  cmd->footer("All or nothing: any bad line (reported as FILE:LINE) leaves the suite unchanged.\n"
              "Example:\n  evalkeep import evals/example-suite.jsonl --dry-run");
  cmd->callback([&ctx, imp] { ctx.run([&] { return run_import(ctx, *imp); }); });

  auto exp = std::make_shared<ExportOptions>();
  cmd = app.add_subcommand("export", "Write the suite as JSONL (incidents, cases, decisions)");
  cmd->add_option("-o,--output", exp->output, "Write to this file instead of stdout");
  cmd->footer("Example:\n  evalkeep export > suite.jsonl");
  cmd->callback([&ctx, exp] { ctx.run([&] { return run_export(ctx, *exp); }); });
}

} // namespace evalkeep::cli
