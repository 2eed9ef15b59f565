#include "suite/model.hpp"

#include <array>
#include <utility>

namespace evalkeep::suite {

namespace {

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value)
      return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name)
      return v;
  return std::nullopt;
}

constexpr std::array<std::pair<ProvenanceKind, std::string_view>, 5> k_kinds{{
    {ProvenanceKind::incident, "incident"},
    {ProvenanceKind::spec, "spec"},
    {ProvenanceKind::red_team, "red-team"},
    {ProvenanceKind::exploratory, "exploratory"},
    {ProvenanceKind::imported, "imported"},
}};

constexpr std::array<std::pair<CaseStatus, std::string_view>, 4> k_statuses{{
    {CaseStatus::active, "active"},
    {CaseStatus::xfail, "xfail"},
    {CaseStatus::retired, "retired"},
    {CaseStatus::removed, "removed"},
}};

constexpr std::array<std::pair<RetirementReason, std::string_view>, 6> k_reasons{{
    {RetirementReason::feature_removed, "feature-removed"},
    {RetirementReason::superseded, "superseded"},
    {RetirementReason::duplicate, "duplicate"},
    {RetirementReason::invalid_expectation, "invalid-expectation"},
    {RetirementReason::out_of_scope, "out-of-scope"},
    {RetirementReason::flaky_unfixable, "flaky-unfixable"},
}};

} // namespace

std::string_view to_string(ProvenanceKind k) {
  return name_of(k_kinds, k);
}
std::optional<ProvenanceKind> parse_provenance_kind(std::string_view s) {
  return value_of(k_kinds, s);
}
std::string_view to_string(CaseStatus s) {
  return name_of(k_statuses, s);
}
std::optional<CaseStatus> parse_status(std::string_view s) {
  return value_of(k_statuses, s);
}
std::string_view to_string(RetirementReason r) {
  return name_of(k_reasons, r);
}
std::optional<RetirementReason> parse_reason(std::string_view s) {
  return value_of(k_reasons, s);
}

std::string reason_names() {
  std::string out;
  for (const auto& [_, name] : k_reasons)
    out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

} // namespace evalkeep::suite
