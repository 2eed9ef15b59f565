#include "cli/context.hpp"
#include "report/html.hpp"
#include "run/runs_store.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct ReportOptions {
  std::string run = "latest";
  std::string vs;
  std::string output = "report.html";
};

Status run_report(Context& ctx, const ReportOptions& o) {
  auto path = TRY(ctx.runs_path());
  auto store = TRY(run::RunsStore::open(path, false));
  auto id = TRY(store.resolve(o.run));
  std::optional<std::int64_t> vs;
  if (!o.vs.empty()) {
    auto v = store.resolve(o.vs);
    if (!v)
      return with_context(v.error(), "--vs");
    vs = *v;
  }
  auto data = TRY(report::load_run_report(store, id, vs));
  std::string page = report::run_report_html(data);
  if (o.output == "-") {
    std::fwrite(page.data(), 1, page.size(), stdout);
    return {};
  }
  TRY(report::write_page(o.output, page));
  ctx.say("wrote {} (run {}, {} cases)", o.output, id, data.summary.cases.size());
  return {};
}

} // namespace

void add_report_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "Write a run as one self-contained HTML page");
  cmd->add_option("run", o->run, "Run number, 'latest' or 'latest~N'")->capture_default_str();
  cmd->add_option("--vs", o->vs, "Compare with this run: regressions, fixes, deltas, settings");
  cmd->add_option("-o,--output", o->output, "The HTML file to write ('-' for stdout)")
      ->capture_default_str();
  cmd->footer("The page needs no network: styles, charts and the case table are inline.\n"
              "Examples:\n  evalkeep report latest -o report.html\n"
              "  evalkeep report latest --vs latest~1 -o pr.html");
  cmd->callback([&ctx, o] { ctx.run([&] { return run_report(ctx, *o); }); });
}

} // namespace evalkeep::cli
