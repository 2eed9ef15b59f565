#pragma once

#include "core/hash.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

/// Where an exec provider's program lives, for its cache key.
struct ProgramScope {
  std::filesystem::path root; // the project (where evalkeep.toml is), inside a git repository
  /// Files and folders of the repository that are not the program: the suite, evalkeep.toml
  /// (the provider settings it holds are keyed on their own), the runs store and .evalkeep/.
  std::vector<std::filesystem::path> excluded_files, excluded_dirs;
  /// The exec commands of the run (its provider's, its judge's): each argument that names a
  /// file by a path (it holds a '/') is hashed too, wherever it is (an agent built into an
  /// ignored folder, or kept outside the repository).
  std::vector<std::vector<std::string>> commands;
};

/// What identifies an exec program, once per run: a digest of the files of the git repository
/// holding `scope.root` as they are on disk (every tracked file, and every untracked one git does
/// not ignore, by path and the object id git would give its content, so committing a change
/// leaves it as it was), leaving out the excluded paths, and of the files the commands name.
/// Nothing outside a git repository, or when git cannot tell (a submodule changed inside): then
/// exec answers are neither replayed nor cached.
std::optional<core::Digest> identify_program(const ProgramScope& scope);

} // namespace evalkeep::run
