#pragma once

#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace evalkeep::scoring {

/// What one trial, a case over its trials, or a case in a stored run came to. A trial is pass,
/// fail or error; a case adds xfail (an xfail case that failed, as expected) and xpass (one that
/// passed); a case a run planned but has no result for is missing, and a case not in a run at all
/// (or in it at an older version) is not_run.
enum class Verdict { pass, fail, error, xfail, xpass, missing, not_run };

/// "pass", "fail", "error", "xfail", "xpass", "missing", "not-run": the stored and printed names.
std::string_view to_string(Verdict v);
/// The verdict a stored name stands for; nullopt for any other text.
std::optional<Verdict> verdict_from(std::string_view name);

/// The case held: pass, or xpass (an xfail case that passed).
constexpr bool held(Verdict v) {
  return v == Verdict::pass || v == Verdict::xpass;
}
/// The case did not hold: fail, error, or xfail (failing as expected).
constexpr bool broke(Verdict v) {
  return v == Verdict::fail || v == Verdict::error || v == Verdict::xfail;
}
/// The case as its status expects it: pass for an active case, xfail for an xfail one.
constexpr bool as_expected(Verdict v) {
  return v == Verdict::pass || v == Verdict::xfail;
}

/// Where a stored run is: still running (or interrupted), finished, or stopped early.
enum class RunState { running, finished, stopped };

std::string_view to_string(RunState s);
std::optional<RunState> run_state_from(std::string_view name);

} // namespace evalkeep::scoring

template <> struct fmt::formatter<evalkeep::scoring::Verdict> : fmt::formatter<std::string_view> {
  auto format(evalkeep::scoring::Verdict v, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(to_string(v), ctx);
  }
};
template <> struct fmt::formatter<evalkeep::scoring::RunState> : fmt::formatter<std::string_view> {
  auto format(evalkeep::scoring::RunState s, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(to_string(s), ctx);
  }
};
