// evalkeep: keeps eval cases with their provenance; no case disappears without a decision.

#include "cli/context.hpp"

#include <cstring>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {
void add_report_command(CLI::App& app, Context& ctx); // cmd_report.cpp
}

int main(int argc, char** argv) {
  using namespace evalkeep;
  // The version answers before anything else is set up.
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::fputs("evalkeep " EVALKEEP_VERSION "\n", stdout);
    return 0;
  }
  cli::Context ctx;
  CLI::App app{"evalkeep keeps a team's LLM eval cases in a git-committed suite, linked to the "
               "incidents they came from.\nNo case disappears without a recorded retirement "
               "decision.",
               "evalkeep"};
  app.set_version_flag("--version", "evalkeep " EVALKEEP_VERSION);
  app.add_option("--suite", ctx.suite_override,
                 "Suite file (default: 'suite' in evalkeep.toml, else evals/suite.db)")
      ->envname("EVALKEEP_SUITE");
  app.add_option("--runs-db", ctx.runs_db, "Runs store (default: .evalkeep/runs.db)")
      ->envname("EVALKEEP_RUNS_DB");
  app.add_flag("-q,--quiet", ctx.quiet, "Print only data and errors");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Exit codes: 0 ok, 1 refused or a check failed, 2 usage or input error, "
             "3 environment error.\nRun 'evalkeep COMMAND --help' for a command's options and "
             "an example.\nExamples:\n  evalkeep init\n  evalkeep list --status retired\n"
             "  evalkeep gate --base main");

  cli::add_init_command(app, ctx);
  cli::add_incident_commands(app, ctx);
  cli::add_case_commands(app, ctx);
  cli::add_retirement_commands(app, ctx);
  cli::add_transfer_commands(app, ctx);
  cli::add_history_commands(app, ctx);
  cli::add_upgrade_command(app, ctx);
  cli::add_run_commands(app, ctx);
  cli::add_git_commands(app, ctx);
  cli::add_merge_resolve_command(app, ctx);
  cli::add_gate_commands(app, ctx);
  cli::add_report_command(app, ctx);
  cli::add_capture_command(app, ctx);
  cli::add_help_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    cli::print_error(cli::usage_error(app, e));
    return static_cast<int>(ExitCode::usage);
  }
  return ctx.exit_code();
}
