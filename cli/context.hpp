#pragma once

#include "core/error.hpp"
#include "core/terminal.hpp"
#include "suite/ledger.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace CLI {
class App;
class ParseError;
} // namespace CLI

namespace evalkeep::cli {

/// Prints text for people on stdout, with its control characters shown rather than obeyed
/// (core::for_terminal): what a suite or a model wrote cannot drive the terminal. JSON and other
/// data formats are printed as they are.
void print_text(std::string_view text);

/// What every command shares: global options, the workspace, output and the exit code.
class Context {
public:
  std::optional<std::string> suite_override; // --suite or EVALKEEP_SUITE
  std::optional<std::string> runs_db;        // --runs-db or EVALKEEP_RUNS_DB
  bool quiet = false;
  // The gate reads a broken evalkeep.toml as the defaults and reports it; others refuse it.
  suite::ConfigErrors config_errors = suite::ConfigErrors::fail;

  /// Runs a command body; an error is printed as "evalkeep: error: ..." and sets the exit code.
  void run(const std::function<Status()>& body);
  int exit_code() const { return m_exit_code; }
  void set_exit_code(ExitCode c) { m_exit_code = static_cast<int>(c); }

  Result<suite::Workspace*> workspace();
  Result<suite::Suite> open_suite(suite::Suite::Access access);
  Result<suite::Origin> origin();
  /// What a command that changes the suite works with: the workspace (its policy), the suite
  /// open for writing, and who is acting. The one way commands open the suite to write.
  struct Writer {
    suite::Workspace* ws;
    suite::Suite suite;
    suite::Origin origin;
    const suite::Policy& policy() const { return ws->config.policy; }
  };
  Result<Writer> writer();
  /// The runs store path: --runs-db, else .evalkeep/runs.db at the project root.
  Result<std::filesystem::path> runs_path();

  /// A confirmation for people, on stdout; silent with --quiet.
  template <typename... Args> void say(fmt::format_string<Args...> f, Args&&... args) {
    if (!quiet)
      print_text(fmt::format(f, std::forward<Args>(args)...) + "\n");
  }
  /// A warning on stderr.
  template <typename... Args> void warn(fmt::format_string<Args...> f, Args&&... args) {
    fmt::print(stderr, "evalkeep: warning: {}\n",
               core::for_terminal(fmt::format(f, std::forward<Args>(args)...)));
  }

private:
  std::optional<suite::Workspace> m_workspace;
  int m_exit_code = 0;
};

/// Prints an error and its hint on stderr.
void print_error(const Error& e);

/// Reads a whole file, or stdin for "-". A file larger than `max_bytes` is refused before it is
/// read: "'PATH' is 50 MB, more than the 8 MB `limit`" (e.g. "a case's input may hold").
Result<std::string> read_input(const std::string& path, std::size_t max_bytes = SIZE_MAX,
                               std::string_view limit = {});

// One function per command group; each adds its subcommands to the app.
void add_init_command(CLI::App& app, Context& ctx);
void add_incident_commands(CLI::App& app, Context& ctx);
void add_case_commands(CLI::App& app, Context& ctx);
void add_retirement_commands(CLI::App& app, Context& ctx);
void add_transfer_commands(CLI::App& app, Context& ctx);
void add_history_commands(CLI::App& app, Context& ctx);
void add_upgrade_command(CLI::App& app, Context& ctx);
void add_run_commands(CLI::App& app, Context& ctx);
void add_git_commands(CLI::App& app, Context& ctx);
void add_merge_resolve_command(CLI::App& app, Context& ctx);
void add_gate_commands(CLI::App& app, Context& ctx);
void add_help_commands(CLI::App& app, Context& ctx);
void add_capture_command(CLI::App& app, Context& ctx);

/// A parse error as the user sees it: the unknown command or flag named, with the nearest one
/// as a hint ("did you mean 'list'?"), else the help to read.
Error usage_error(const CLI::App& app, const CLI::ParseError& e);

} // namespace evalkeep::cli
