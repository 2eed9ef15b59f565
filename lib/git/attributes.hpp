#pragma once

#include "core/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace evalkeep::git {

/// Appends `line` to a line-based file (.gitignore, .gitattributes), creating it, unless a line
/// with the same words is already there. A last line without a final newline is kept intact.
/// True when the file changed.
Result<bool> ensure_line(const std::filesystem::path& file, const std::string& line);

/// `relative_path` (with '/' separators) as a .gitattributes pattern that matches exactly that
/// path: glob characters escaped, C-quoted when it holds spaces or quotes.
std::string attributes_pattern(const std::string& relative_path);

/// A custom diff and merge driver for one file of a repository (gitattributes(5)).
struct FileDriver {
  std::string name;                 // the driver's name, e.g. "evalkeep"
  std::filesystem::path file;       // the file it applies to, absolute
  std::string textconv;             // diff.NAME.textconv: a command that prints the file as text
  bool cache_textconv = false;      // diff.NAME.cachetextconv
  std::string merge_name;           // merge.NAME.name: what the driver is, for people
  std::string merge_driver;         // merge.NAME.driver: the command, with %O %A %B %P
  std::vector<std::string> extra{}; // more attributes on the file's line, e.g. "-text"
};

/// Installs `driver` in the repository at `root` (its top folder): the line "PATTERN diff=NAME
/// merge=NAME EXTRA..." in `root`/.gitattributes, and the commands in the repository's own
/// config. Returns what changed, one line each for people ("set git config diff.NAME.textconv =
/// ..."); empty when everything was already in place. Fails when the file is outside the
/// repository.
Result<std::vector<std::string>> install_driver(const std::filesystem::path& root,
                                                const FileDriver& driver);

} // namespace evalkeep::git
