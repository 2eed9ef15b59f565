#pragma once

#include "core/error.hpp"
#include "core/process.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::git {

/// Runs `git ARGS...` in `dir`; a non-zero exit is a result, not an error.
Result<core::ProcessResult> run_git(const std::filesystem::path& dir,
                                    std::vector<std::string> args);

/// The top of the working tree containing `start` (a folder holding `.git`), if any.
std::optional<std::filesystem::path> find_root(const std::filesystem::path& start);

/// "Name <email>" from git config (user.name, user.email), or nothing when either is unset.
std::optional<std::string> identity(const std::filesystem::path& dir);

/// The commit HEAD points at, or nothing in a repository without commits or outside one.
std::optional<std::string> head(const std::filesystem::path& dir);

/// The current branch name, or nothing when HEAD is detached or outside a repository.
std::optional<std::string> branch(const std::filesystem::path& dir);

/// True when tracked files differ from HEAD (untracked files do not count).
bool is_dirty(const std::filesystem::path& dir);

/// The full commit id `rev` names, or an error naming the revision.
Result<std::string> resolve(const std::filesystem::path& dir, const std::string& rev);

/// The best common ancestor of two revisions.
Result<std::string> merge_base(const std::filesystem::path& dir, const std::string& a,
                               const std::string& b);

/// Writes the bytes of `path` (relative to the repository root) as of `rev` to `dest`.
/// Returns false (not an error) when the file does not exist at that revision.
Result<bool> read_file_at(const std::filesystem::path& dir, const std::string& rev,
                          const std::string& path, const std::filesystem::path& dest);

/// Commits that changed `path`, oldest first, with their dates and subjects.
struct Commit {
  std::string id, date, subject;
};
Result<std::vector<Commit>> file_history(const std::filesystem::path& dir, const std::string& path);

} // namespace evalkeep::git
