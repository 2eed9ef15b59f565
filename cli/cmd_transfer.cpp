#include "cli/context.hpp"
#include "interop/export.hpp"
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
  std::string to = "evalkeep";
  std::string provider;
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

Status write_export(Context& ctx, const ExportOptions& o, std::ostream& out) {
  auto s = ctx.open_suite(suite::Suite::Access::read);
  if (!s)
    return std::unexpected(s.error());
  if (o.to == "evalkeep")
    return suite::export_jsonl(*s, out);
  std::optional<providers::ProviderConfig> provider;
  if (!o.provider.empty()) {
    auto ws = ctx.workspace();
    if (!ws)
      return std::unexpected(ws.error());
    auto p = suite::find_provider((*ws)->config, o.provider, "");
    if (!p)
      return std::unexpected(p.error());
    provider = std::move(*p);
  }
  auto report = interop::export_promptfoo(*s, out, provider);
  if (!report)
    return std::unexpected(report.error());
  for (const auto& line : report->left_out)
    ctx.warn("{}", line);
  return {};
}

Status run_export(Context& ctx, const ExportOptions& o) {
  if (o.to != "evalkeep" && o.to != "promptfoo")
    return invalid("--to '{}' is not one of evalkeep, promptfoo", o.to);
  if (!o.provider.empty() && o.to != "promptfoo")
    return invalid("--provider goes with --to promptfoo");
  if (o.output.empty() || o.output == "-")
    return write_export(ctx, o, std::cout);
  std::ofstream out(o.output, std::ios::binary);
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", o.output);
  return write_export(ctx, o, out);
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
  cmd = app.add_subcommand("export", "Write the suite as JSONL, or its active cases for promptfoo");
  cmd->add_option("-o,--output", exp->output, "Write to this file instead of stdout");
  cmd->add_option("--to", exp->to, "evalkeep (JSONL, the default) or promptfoo (a config)");
  cmd->add_option("--provider", exp->provider,
                  "With --to promptfoo: write this provider of evalkeep.toml into the config");
  cmd->footer("Examples:\n  evalkeep export > suite.jsonl\n"
              "  evalkeep export --to promptfoo --provider local -o promptfooconfig.yaml");
  cmd->callback([&ctx, exp] { ctx.run([&] { return run_export(ctx, *exp); }); });
}

} // namespace evalkeep::cli
