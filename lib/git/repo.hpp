#pragma once

#include "core/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace evalkeep::git {

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

} // namespace evalkeep::git
