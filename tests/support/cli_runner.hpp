#pragma once

#include "core/process.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace evalkeep::test {

/// A temporary git repository with an identity, where the real evalkeep binary is run.
class Repo {
public:
  /// `git init` with user.name/user.email set; `with_git = false` makes a plain folder.
  explicit Repo(bool with_git = true);

  /// Runs `evalkeep ARGS...` in the repository (or in `cwd` below it); never throws on failure.
  core::ProcessResult evalkeep(const std::vector<std::string>& args,
                               const std::string& stdin_data = {},
                               const std::vector<std::string>& env = {}) const;
  /// Runs any program in the repository.
  core::ProcessResult run(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {}) const;
  /// Runs `git ARGS...` and requires it to succeed.
  std::string git(const std::vector<std::string>& args) const;

  const std::filesystem::path& path() const { return m_dir.path(); }
  std::filesystem::path suite() const { return m_dir.path() / "evals" / "suite.db"; }

private:
  TempDir m_dir;
};

/// The example suite shipped in evals/.
std::filesystem::path example_suite();

} // namespace evalkeep::test
