#pragma once

#include "providers/provider.hpp"
#include "suite/suite.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace evalkeep::interop {

struct ExportReport {
  std::size_t cases = 0;             // tests written
  std::vector<std::string> left_out; // what promptfoo cannot check, one line each
};

/// Writes a promptfoo configuration (YAML) for the suite's active cases, so the same cases can be
/// run by promptfoo: one prompt, "{{prompt}}", and per test the case's input in the var `prompt`
/// (text, or a JSON list of chat messages, which promptfoo sends as a conversation), the
/// assertions promptfoo has, the title as description and, in metadata, the case id, its
/// incident (with the incident's details) or provenance, tags, trials and min_pass_rate, so that
/// `import --from promptfoo` gives the same cases back. With a provider (openai or anthropic),
/// it is written as promptfoo's provider; otherwise a comment says where one goes. Assertions
/// promptfoo has no counterpart for, and cases left with none, are listed in the report.
/// Programs read from files (script assertions, transforms) are written as file:// references and
/// their files under `files_dir` (the configuration's folder) at the paths they were read from;
/// a file that is there with other code is not overwritten. Without `files_dir` (the
/// configuration goes to stdout) they are left out and listed.
Result<ExportReport> export_promptfoo(suite::Suite& s, std::ostream& out,
                                      const std::optional<providers::ProviderConfig>& provider,
                                      const std::optional<std::filesystem::path>& files_dir = {});

} // namespace evalkeep::interop
