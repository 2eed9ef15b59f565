#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace evalkeep {

/// Process exit codes, documented in the README.
enum class ExitCode : int {
  ok = 0,
  refused = 1,     // a refusal, a failed check, a failed gate or run
  usage = 2,       // bad arguments or bad input
  environment = 3, // missing key, unreachable provider, locked or read-only file
};

/// What went wrong, with the exit code it maps to and an optional hint on what to do.
struct Error {
  ExitCode code = ExitCode::usage;
  std::string message;
  std::string hint;

  /// Prefixes the message with context: "open suite 'x': <message>".
  Error& context(std::string_view what) {
    message = fmt::format("{}: {}", what, message);
    return *this;
  }
};

template <typename T> using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

template <typename... Args>
std::unexpected<Error> fail(ExitCode code, fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected(Error{code, fmt::format(f, std::forward<Args>(args)...), {}});
}

/// Bad input from the user: exit 2.
template <typename... Args>
std::unexpected<Error> invalid(fmt::format_string<Args...> f, Args&&... args) {
  return fail(ExitCode::usage, f, std::forward<Args>(args)...);
}

/// A refusal or failed check: exit 1.
template <typename... Args>
std::unexpected<Error> refuse(fmt::format_string<Args...> f, Args&&... args) {
  return fail(ExitCode::refused, f, std::forward<Args>(args)...);
}

/// A size in bytes for a message, in MB of 2^20 bytes: "8 MB", "50.2 MB".
inline std::string megabytes(std::size_t bytes) {
  double mb = static_cast<double>(bytes) / (1 << 20);
  return bytes % (1 << 20) == 0 ? fmt::format("{:.0f} MB", mb) : fmt::format("{:.1f} MB", mb);
}

/// Adds a hint line to an error result.
inline std::unexpected<Error> with_hint(std::unexpected<Error> e, std::string hint) {
  e.error().hint = std::move(hint);
  return e;
}

/// Adds context to the error of a failed result and passes it on.
inline std::unexpected<Error> with_context(Error e, std::string_view what) {
  e.context(what);
  return std::unexpected(std::move(e));
}

} // namespace evalkeep
