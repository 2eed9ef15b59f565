#include "cli/context.hpp"
#include "interop/export.hpp"
#include "interop/import.hpp"
#include "suite/interchange.hpp"

#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct ImportOptions {
  std::string file;
  std::string from = "evalkeep";
  bool dry_run = false;
  bool skip_unsupported = false;
};

struct ExportOptions {
  std::string output;
  std::string to = "evalkeep";
  std::string provider;
};

const char* plural(std::size_t n) {
  return n == 1 ? "" : "s";
}

Status run_import(Context& ctx, const ImportOptions& o) {
  auto format = interop::parse_format(o.from);
  if (!format)
    return invalid("--from '{}' is not one of {}", o.from, interop::format_names());
  auto text = TRY(read_input(o.file));
  auto w = TRY(ctx.writer());
  interop::ImportRequest request;
  request.format = *format;
  request.text = std::move(text);
  request.source = o.file == "-" ? "<stdin>" : o.file;
  request.base_dir = o.file == "-" ? "" : std::filesystem::path(o.file).parent_path();
  request.dry_run = o.dry_run;
  request.skip_unsupported = o.skip_unsupported;
  auto report = TRY(interop::import_file(w.suite, request, w.policy(), w.origin));
  if (report.skipped.size() <= interop::k_skipped_listed)
    for (const auto& item : report.skipped)
      ctx.warn("left out: {}: {}", item.where, item.what);
  else // counted by cause, the first of each shown
    ctx.warn("left out {} things evalkeep cannot import exactly:{}", report.skipped.size(),
             interop::describe_skipped(report.skipped));
  for (const auto& p : report.grading_providers)
    ctx.warn("{}: grading provider {} is not kept: evalkeep grades model-graded assertions with "
             "the judge provider (judge = \"NAME\" in evalkeep.toml, or --judge)",
             p.where, p.name);
  const auto& n = report.summary;
  ctx.say("{} {} incident{}, {} case{}, {} retirement decision{} from {}{}",
          o.dry_run ? "would import" : "imported", n.incidents, plural(n.incidents), n.cases,
          plural(n.cases), n.retirements, plural(n.retirements), request.source,
          n.without_incident == 0 ? std::string()
                                  : fmt::format(" ({} case{} without an incident)",
                                                n.without_incident, plural(n.without_incident)));
  return {};
}

Status write_export(Context& ctx, const ExportOptions& o, std::ostream& out) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  if (o.to == "evalkeep")
    return suite::export_jsonl(s, out);
  std::optional<providers::ProviderConfig> provider;
  if (!o.provider.empty()) {
    auto ws = TRY(ctx.workspace());
    auto p = TRY(suite::find_provider(ws->config, o.provider, ""));
    provider = std::move(p);
  }
  std::optional<std::filesystem::path> files_dir; // the configuration's folder, with -o
  if (!o.output.empty() && o.output != "-")
    files_dir = std::filesystem::path(o.output).parent_path();
  auto report = TRY(interop::export_promptfoo(s, out, provider, files_dir));
  for (const auto& line : report.left_out)
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
  auto* cmd = app.add_subcommand(
      "import", "Import cases from evalkeep JSONL, a promptfoo config, CSV or OpenAI Evals");
  cmd->add_option("file", imp->file, "The file ('-': stdin)")->required();
  cmd->add_option("--from", imp->from,
                  "Its format: evalkeep (JSONL, the default), promptfoo, csv, openai-evals");
  cmd->add_flag("--dry-run", imp->dry_run, "Check everything, write nothing");
  cmd->add_flag("--skip-unsupported", imp->skip_unsupported,
                "Import what evalkeep can check and list what it leaves out (by default anything "
                "it cannot import exactly refuses the import)");
  cmd->footer("All or nothing: any bad record (reported as FILE:LINE) leaves the suite unchanged.\n"
              "Examples:\n  evalkeep import evals/example-suite.jsonl --dry-run\n"
              "  evalkeep import --from promptfoo promptfooconfig.yaml\n"
              "  evalkeep import --from csv cases.csv");
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
