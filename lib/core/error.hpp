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
  Error() = default;
  Error(ExitCode c, std::string m, std::string h = {}, std::string f = {})
      : code(c), message(std::move(m)), hint(std::move(h)), field(std::move(f)) {}

  ExitCode code = ExitCode::usage;
  std::string message;
  std::string hint;
  /// The field, flag or column the problem is about, as the input names it ("trials",
  /// "messages"), when it is about one; the message names it with field_label(). Code that names
  /// the field otherwise (the CLI, by its flag) tests this, never the message's words.
  std::string field;

  /// Prefixes the message with context: "open suite 'x': <message>".
  Error& context(std::string_view what) {
    message = fmt::format("{}: {}", what, message);
    return *this;
  }

  /// Names the field as the message's reader knows it, a flag for instance: the message's
  /// `field "trials": ` becomes `--trials: `, its context kept. An error about no field is kept.
  Error& name_field(std::string_view name);
};

/// How a message names the field it is about: `field "trials": `.
inline std::string field_label(std::string_view field) {
  return fmt::format("field \"{}\": ", field);
}

inline Error& Error::name_field(std::string_view name) {
  if (field.empty())
    return *this;
  auto label = field_label(field);
  if (auto at = message.find(label); at != std::string::npos)
    message.replace(at, label.size(), fmt::format("{}: ", name));
  return *this;
}

template <typename T> using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

template <typename... Args>
std::unexpected<Error> fail(ExitCode code, fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected(Error{code, fmt::format(f, std::forward<Args>(args)...)});
}

/// Bad input from the user: exit 2.
template <typename... Args>
std::unexpected<Error> invalid(fmt::format_string<Args...> f, Args&&... args) {
  return fail(ExitCode::usage, f, std::forward<Args>(args)...);
}

/// Bad input in one field of a record: exit 2, the message led by field_label(field), the
/// error's `field` set.
template <typename... Args>
std::unexpected<Error> invalid_field(std::string_view field, fmt::format_string<Args...> f,
                                     Args&&... args) {
  return std::unexpected(Error{ExitCode::usage,
                               field_label(field) + fmt::format(f, std::forward<Args>(args)...),
                               {},
                               std::string(field)});
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

/// Propagates a failed Result or Status to the caller, else yields its value (nothing for a
/// Status), as ccache's TRY does: `auto suite = TRY(Suite::open(path));`, `TRY(tx.commit());`.
/// Add context by hand where it helps: `if (!r) return with_context(r.error(), "...");`.
#define TRY(...) EVALKEEP_TRY_(EVALKEEP_TRY_NAME_(evalkeep_try_, __COUNTER__), __VA_ARGS__)
// One name per expansion, so that a TRY inside another's argument shadows nothing.
#define EVALKEEP_TRY_NAME_(a, b) EVALKEEP_TRY_CAT_(a, b)
#define EVALKEEP_TRY_CAT_(a, b) a##b
#define EVALKEEP_TRY_(var, ...)                                                                    \
  __extension__({                                                                                  \
    auto&& var = (__VA_ARGS__);                                                                    \
    if (!var)                                                                                      \
      return std::unexpected(std::move(var).error());                                              \
    std::move(var).value();                                                                        \
  })

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
