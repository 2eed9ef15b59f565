#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace evalkeep::store {

/// What a path holds, learnt from stat and the first 100 bytes without opening it as a database:
/// SQLite's open of a FIFO blocks, and a folder or a device is never a database.
struct FileFacts {
  enum class Type {
    missing,
    regular,
    directory,
    fifo,
    character_device,
    block_device,
    socket,
    other
  };
  Type type = Type::missing;
  std::uintmax_t size = 0;
  bool sqlite = false; // begins with SQLite's header ("SQLite format 3")
  bool wal = false;    // the header says write-ahead-log mode (`PRAGMA journal_mode = WAL`)
  /// Page size times the header's page count, when the header's count is valid: a file shorter
  /// than this lost its end (when no journal or WAL beside it holds the rest).
  std::optional<std::uintmax_t> header_bytes;
  std::uint32_t application_id = 0;
  std::int32_t user_version = 0;
};

/// Looks at `path`, following symbolic links, without ever blocking on what it finds; an error
/// only when the path cannot be examined at all (exit 3).
Result<FileFacts> inspect_file(const std::filesystem::path& path);

/// For messages: "a directory", "a FIFO (named pipe)", "a character device", ...
std::string_view describe(FileFacts::Type type);

} // namespace evalkeep::store
