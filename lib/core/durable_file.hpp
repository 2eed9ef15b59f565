#pragma once

#include "core/error.hpp"

#include <filesystem>

namespace evalkeep::core {

/// Puts the finished file `staged` in the place of `target` so that a crash or a power cut at any
/// moment leaves either the old file or the new one, whole: `staged` (beside `target`, on the same
/// file system) is synced to disk, renamed over `target`, and then the folder holding them is
/// synced, so that the rename itself is on disk. On an error before the rename `target` is as it
/// was and `staged` is left for the caller to remove. Errors are environment errors (exit 3)
/// naming `target`.
Status replace_file(const std::filesystem::path& staged, const std::filesystem::path& target);

} // namespace evalkeep::core
