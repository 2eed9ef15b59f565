#include "interop/import.hpp"

#include "interop/reading.hpp"
#include "suite/incidents.hpp"

#include <array>
#include <map>
#include <utility>

namespace evalkeep::interop {

namespace {

constexpr std::array<std::pair<Format, std::string_view>, 4> k_formats{{
    {Format::evalkeep, "evalkeep"},
    {Format::promptfoo, "promptfoo"},
    {Format::csv, "csv"},
    {Format::openai_evals, "openai-evals"},
}};

} // namespace

std::string describe_skipped(const std::vector<Skipped>& items) {
  std::string out;
  if (items.size() <= k_skipped_listed) {
    for (const auto& item : items)
      out += fmt::format("\n  {}: {}", item.where, item.what);
    return out;
  }
  // Thousands of lines would hide what matters: how many of each, and one to look at.
  std::vector<std::pair<const Skipped*, std::size_t>> causes; // first of each, and its count
  std::map<std::string_view, std::size_t> index;
  for (const auto& item : items) {
    auto [it, added] = index.try_emplace(item.cause, causes.size());
    if (added)
      causes.emplace_back(&item, 0);
    ++causes[it->second].second;
  }
  out += fmt::format("\n  by cause ({} of them, the first of each shown):", causes.size());
  for (const auto& [first, count] : causes)
    out += fmt::format("\n  {} x {}: first at {}: {}", count,
                       first->cause.empty() ? std::string_view("other") : first->cause,
                       first->where, first->what);
  return out;
}

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& [f, n] : k_formats)
    if (n == name)
      return f;
  return std::nullopt;
}

std::string format_names() {
  std::string out;
  for (const auto& [_, n] : k_formats)
    out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Result<ImportReport> import_file(suite::Suite& s, const ImportRequest& request,
                                 const suite::Policy& policy, const suite::Origin& origin) {
  ImportReport report;
  if (request.format == Format::evalkeep) {
    auto summary =
        suite::import_jsonl(s, request.text, request.source, policy, origin, request.dry_run);
    if (!summary)
      return std::unexpected(summary.error());
    report.summary = *summary;
    return report;
  }
  ReadContext ctx{request.base_dir, {}};
  auto incidents = TRY(suite::list_incidents(s));
  for (const auto& i : incidents)
    ctx.suite_incidents.insert(i.id);
  Result<Reading> reading =
      request.format == Format::promptfoo ? read_promptfoo(request.text, request.source, ctx)
      : request.format == Format::csv     ? read_csv_cases(request.text, request.source, ctx)
                                          : read_openai_evals(request.text, request.source, ctx);
  if (!reading)
    return std::unexpected(reading.error());
  if (!reading->skipped.empty() && !request.skip_unsupported) {
    std::string list = describe_skipped(reading->skipped);
    return with_hint(invalid("{}: {} thing{} evalkeep cannot import exactly, so nothing was "
                             "imported:{}",
                             request.source, reading->skipped.size(),
                             reading->skipped.size() == 1 ? "" : "s", list),
                     "--skip-unsupported imports the rest and lists what it leaves out");
  }
  if (reading->batch.cases.empty())
    return invalid("{}: no case to import", request.source);
  auto summary =
      suite::import_batch(s, reading->batch, request.source, policy, origin, request.dry_run);
  if (!summary)
    return std::unexpected(summary.error());
  report.summary = *summary;
  report.skipped = std::move(reading->skipped);
  report.grading_providers = std::move(reading->grading_providers);
  return report;
}

} // namespace evalkeep::interop
