#pragma once

#include "core/text.hpp"
#include "report/audit.hpp"
#include "run/runner.hpp"
#include "run/runs_store.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::report {

/// Every piece of text a page or a JUnit file shows goes through it (core/text.hpp).
using core::html_escape;

/// JSON safe inside <script type="application/json">: `<`, `>` and `&` written as \u escapes,
/// so no text (a model's answer included) can end the script element.
std::string json_for_script(const nlohmann::json& j);

/// One bar of a chart: a label, a value and an optional note shown on hover.
struct Bar {
  std::string label;
  double value = 0;
  std::string note;
  /// A 95% interval around the value, drawn as an error bar (class "whisker").
  std::optional<std::pair<double, double>> interval = std::nullopt;
};

/// A horizontal bar chart as inline SVG; `max` 0 scales to the largest value. Each bar is a
/// <rect class="bar">, with a <path class="whisker"> over it when it has an interval; the chart
/// carries data-chart="NAME" and data-bars="N".
std::string bar_chart_svg(const std::string& name, const std::vector<Bar>& bars, double max,
                          bool percent);
/// A vertical column chart (histograms, trends) as inline SVG, same conventions.
std::string column_chart_svg(const std::string& name, const std::vector<Bar>& bars, bool percent);

/// A whole self-contained page: the shared style, `body`, and an optional inline script.
std::string html_page(const std::string& title, const std::string& body,
                      const std::string& script = {});

/// Writes a page to `path` whole or not at all: into a new file beside it, synced, then renamed
/// over it, so a browser reloading the page never reads half of it and a failed write leaves the
/// old page as it was. A path that is not a regular file (/dev/stdout, a pipe) is written to.
Status write_page(const std::filesystem::path& path, std::string_view page);

/// One provider and model's pass rates over the last runs of a suite, oldest first.
struct TrendSeries {
  std::string provider, model; // the model as run::subject_of says it
  std::vector<std::pair<run::RunRecord, double>> runs;
};

/// Everything the run report shows, loaded from the runs store.
struct RunReport {
  run::RunSummary summary;
  std::vector<run::PlannedCase> planned;
  std::vector<run::TrialResult> results;
  std::vector<run::Attempt> attempts; // every HTTP attempt (or exec call), answers and judges
  std::optional<run::RunSummary> vs;  // the run compared with (--vs)
  /// The pass rates of the last runs of the same suite up to this one: one series per provider
  /// and model (a rate of one model is no trend of another), this run's first, then the others
  /// by their latest run, each its last `trend_runs` runs.
  std::vector<TrendSeries> trend;
};

/// Loads a run, optionally the run to compare it with, and the trend of its suite's runs: at
/// most `trend_series` series of at most `trend_runs` runs each.
Result<RunReport> load_run_report(run::RunsStore& store, std::int64_t run,
                                  std::optional<std::int64_t> vs, std::size_t trend_runs = 12,
                                  std::size_t trend_series = 4);

/// The run report: headline, charts, the comparison with --vs, and a filterable case table.
std::string run_report_html(const RunReport& r);

/// The audit in the same page style: retirements by reason and over time, unguarded incidents,
/// overdue revisits. `today` is YYYY-MM-DD.
std::string audit_html(const Audit& a, const std::string& today);

} // namespace evalkeep::report
