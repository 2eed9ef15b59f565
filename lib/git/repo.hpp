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

/// True when git tracks `path` (a file in the index, which in a fresh checkout is HEAD's tree).
bool is_tracked(const std::filesystem::path& dir, const std::filesystem::path& path);

/// The full commit id `rev` names, or an error naming the revision.
Result<std::string> resolve(const std::filesystem::path& dir, const std::string& rev);

/// The best common ancestor of two revisions.
Result<std::string> merge_base(const std::filesystem::path& dir, const std::string& a,
                               const std::string& b);

/// The bytes of the file `path` (relative to the repository root) as of `rev`, or nothing when
/// there is no such path there. An entry that is not a regular file (a symbolic link, a folder,
/// a submodule) is an error naming it.
Result<std::optional<std::string>> read_text_at(const std::filesystem::path& dir,
                                                const std::string& rev, const std::string& path);

/// Writes the bytes of the file `path` as of `rev` to `dest` (read_text_at's rules). Returns
/// false (not an error) when the file does not exist at that revision.
Result<bool> read_file_at(const std::filesystem::path& dir, const std::string& rev,
                          const std::string& path, const std::filesystem::path& dest);

/// Commits that changed `path`, oldest first, with their dates and subjects.
struct Commit {
  std::string id, date, subject;
};
Result<std::vector<Commit>> file_history(const std::filesystem::path& dir, const std::string& path);

/// The versions of a file git keeps in the index while a merge of it is unsettled, as blob ids:
/// stage 1 (the common ancestor; none when there was none), 2 (ours) and 3 (theirs); a side that
/// deleted the file has none.
struct MergeStages {
  std::optional<std::string> base, ours, theirs;
};

/// The unsettled merge stages of `path` (relative to `dir`, or absolute), or nothing when `path`
/// is not in a conflicted merge.
Result<std::optional<MergeStages>> merge_stages(const std::filesystem::path& dir,
                                                const std::filesystem::path& path);

/// Writes the blob `id` to `dest`.
Status write_blob(const std::filesystem::path& dir, const std::string& id,
                  const std::filesystem::path& dest);

/// The blob id git would store for the file at `file` (`git hash-object`).
Result<std::string> blob_id(const std::filesystem::path& dir, const std::filesystem::path& file);

} // namespace evalkeep::git
