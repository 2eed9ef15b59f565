#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::core {

struct ProcessOptions {
  std::optional<std::filesystem::path> cwd;
  std::string stdin_data;              // written to the child's stdin, then closed
  std::vector<std::string> env;        // extra "NAME=value" entries, replacing inherited ones
  int timeout_ms = 0;                  // > 0: kill the child (SIGKILL) once this has passed
  std::size_t max_output = 0;          // > 0: kill the child once stdout or stderr would hold more
  std::vector<std::string> unset = {}; // names of inherited variables the child does not get
};

struct ProcessResult {
  int exit_code = -1; // the exit status, or 128 + signal when the child was killed
  bool timed_out = false;
  bool output_too_large = false; // killed for writing more than max_output
  std::string out;
  std::string err;
};

/// Runs argv[0] (looked up in PATH) to completion, capturing stdout and stderr.
/// Fails only when the program cannot be started; a non-zero exit is a result. Safe to call from
/// several threads at once: the first call ignores SIGPIPE for the whole process (a child that
/// exits without reading its stdin must not kill us), and the child starts with SIGPIPE at its
/// default.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options = {});

} // namespace evalkeep::core
