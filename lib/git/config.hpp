#pragma once

#include "core/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace evalkeep::git {

/// The value of `key` in the repository's own config (`git config --local`), or nothing when it
/// is not set there.
Result<std::optional<std::string>> local_config(const std::filesystem::path& dir,
                                                const std::string& key);

/// Sets `key` to `value` in the repository's own config unless it already holds exactly that.
/// True when the config changed.
Result<bool> ensure_local_config(const std::filesystem::path& dir, const std::string& key,
                                 const std::string& value);

} // namespace evalkeep::git
