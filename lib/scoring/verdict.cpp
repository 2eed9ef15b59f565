#include "scoring/verdict.hpp"

#include <array>
#include <utility>

namespace evalkeep::scoring {

namespace {

constexpr std::array<std::pair<Verdict, std::string_view>, 7> k_verdicts{{
    {Verdict::pass, "pass"},
    {Verdict::fail, "fail"},
    {Verdict::error, "error"},
    {Verdict::xfail, "xfail"},
    {Verdict::xpass, "xpass"},
    {Verdict::missing, "missing"},
    {Verdict::not_run, "not-run"},
}};

constexpr std::array<std::pair<RunState, std::string_view>, 3> k_states{{
    {RunState::running, "running"},
    {RunState::finished, "finished"},
    {RunState::stopped, "stopped"},
}};

template <typename E, std::size_t N>
std::string_view name_in(const std::array<std::pair<E, std::string_view>, N>& names, E e) {
  for (const auto& [value, name] : names)
    if (value == e)
      return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_in(const std::array<std::pair<E, std::string_view>, N>& names,
                          std::string_view text) {
  for (const auto& [value, name] : names)
    if (name == text)
      return value;
  return std::nullopt;
}

} // namespace

std::string_view to_string(Verdict v) {
  return name_in(k_verdicts, v);
}
std::optional<Verdict> verdict_from(std::string_view name) {
  return value_in(k_verdicts, name);
}
std::string_view to_string(RunState s) {
  return name_in(k_states, s);
}
std::optional<RunState> run_state_from(std::string_view name) {
  return value_in(k_states, name);
}

} // namespace evalkeep::scoring
