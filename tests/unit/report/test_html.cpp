// The pieces every HTML page is built from: escaping, the JSON data blocks and the SVG charts.

#include "report/html.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <regex>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::report;
using json = nlohmann::json;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// The widths of the chart's bars, in order.
std::vector<double> bar_widths(const std::string& svg, const char* attribute) {
  std::vector<double> out;
  std::regex bar(std::string("<rect class=\"bar\"[^>]* ") + attribute + "=\"([0-9.]+)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), bar), end; it != end; ++it)
    out.push_back(std::stod((*it)[1]));
  return out;
}

} // namespace

TEST_CASE("html_escape makes markup in any text inert, in content and in quoted attributes",
          "[report]") {
  CHECK(html_escape("<script>alert('x')</script>") ==
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  CHECK(html_escape("a & b \"c\"") == "a &amp; b &quot;c&quot;");
  CHECK(html_escape("&amp;") == "&amp;amp;"); // escaped text is escaped again, not trusted
  CHECK(html_escape("naïve — ✓") == "naïve — ✓");
  CHECK(html_escape("") == "");
}

TEST_CASE("a data block cannot end its script element, whatever the answer says", "[report]") {
  json data = {{"answer", "</script><script>alert(1)</script><!-- & -->"},
               {"bytes", std::string("bad \xff utf-8")}};
  auto text = json_for_script(data);
  CHECK(text.find('<') == std::string::npos);
  CHECK(text.find('>') == std::string::npos);
  CHECK(text.find('&') == std::string::npos);
  // The browser's JSON.parse reads back the same text (invalid UTF-8 replaced, never fatal).
  auto back = json::parse(text);
  CHECK(back["answer"] == data["answer"]);
  CHECK(back["bytes"] == "bad \xEF\xBF\xBD utf-8");
}

TEST_CASE("a bar chart draws one bar per value, scaled to the largest, labels escaped",
          "[report]") {
  std::vector<Bar> bars{{"INC-7", 0.5, ""}, {"<b>INC-9</b>", 1.0, "2 of 2"}, {"INC-11", 0, ""}};
  auto svg = bar_chart_svg("incident", bars, 0, true);
  CHECK_THAT(svg, Catch::Contains("data-chart=\"incident\""));
  CHECK_THAT(svg, Catch::Contains("data-bars=\"3\""));
  CHECK(count(svg, "class=\"bar\"") == 3);
  auto widths = bar_widths(svg, "width");
  REQUIRE(widths.size() == 3);
  CHECK(widths[0] == Approx(widths[1] / 2));
  CHECK(widths[2] == 0);
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK_THAT(svg, Catch::Contains("&lt;b&gt;INC-9&lt;/b&gt;"));
  CHECK_THAT(svg, Catch::Contains("100%"));
  CHECK_THAT(svg, Catch::Contains("2 of 2"));
}

TEST_CASE("a bar with an interval gets an error bar from its low to its high end", "[report]") {
  Bar with{"INC-7", 0.5, "1/2", std::pair{0.25, 0.75}};
  auto svg = bar_chart_svg("incident", {with, {"INC-9", 1.0, "", std::nullopt}}, 1, true);
  CHECK(count(svg, "class=\"whisker\"") == 1);
  CHECK_THAT(svg, Catch::Contains("INC-7: 50%, 95% CI 25%–75% (1/2)"));
  // The plot starts at x = 200 and is 380 wide: 25% and 75% are at 295 and 485.
  CHECK_THAT(svg, Catch::Contains("d=\"M295.0 12H485.0M295.0 8V16M485.0 8V16\""));
}

TEST_CASE("a bar chart with a fixed maximum clamps values above it", "[report]") {
  auto svg = bar_chart_svg("x", {{"a", 5, ""}, {"b", 20, ""}}, 10, false);
  auto widths = bar_widths(svg, "width");
  REQUIRE(widths.size() == 2);
  CHECK(widths[1] == Approx(widths[0] * 2)); // 20 drawn as 10, the full plot width
}

TEST_CASE("an empty chart says so instead of drawing nothing", "[report]") {
  for (const auto& svg : {bar_chart_svg("tag", {}, 0, true), column_chart_svg("trend", {}, true)}) {
    CHECK_THAT(svg, Catch::Contains("data-bars=\"0\""));
    CHECK_THAT(svg, Catch::Contains("nothing to show"));
    CHECK(count(svg, "class=\"bar\"") == 0);
  }
}

TEST_CASE("a column chart draws columns in order, heights proportional to the values", "[report]") {
  std::vector<Bar> bins;
  for (int i = 0; i < 12; ++i)
    bins.push_back({std::to_string(i * 10), static_cast<double>(i), ""});
  auto svg = column_chart_svg("latency", bins, false);
  CHECK_THAT(svg, Catch::Contains("data-bars=\"12\""));
  auto heights = bar_widths(svg, "height");
  REQUIRE(heights.size() == 12);
  CHECK(heights[0] == 0);
  CHECK(heights[11] == Approx(heights[1] * 11).epsilon(0.01));
  CHECK(std::is_sorted(heights.begin(), heights.end()));
}

TEST_CASE("a long label is cut at a character boundary, never inside a character or an entity",
          "[report]") {
  std::string label = std::string(26, 'x') + "é&é";
  auto svg = bar_chart_svg("x", {{label, 1, ""}}, 0, false);
  // The visible label: 27 bytes at most before the ellipsis, whole characters, escaped after.
  CHECK_THAT(svg, Catch::Contains(">" + std::string(26, 'x') + "…</text>"));
  // The hover title keeps the whole label.
  CHECK_THAT(svg, Catch::Contains("<title>" + std::string(26, 'x') + "é&amp;é: 1</title>"));
}

TEST_CASE("a page is self-contained: its style and script inline, its title escaped", "[report]") {
  auto page = html_page("run <1>", "<main>body</main>", "var x = 1;");
  CHECK_THAT(page, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page, Catch::Contains("<title>run &lt;1&gt;</title>"));
  CHECK_THAT(page, Catch::Contains("<style>"));
  CHECK_THAT(page, Catch::Contains("<script>\nvar x = 1;\n</script>"));
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("http") == std::string::npos);
}

TEST_CASE("a column chart of many months labels at most ten of them, the latest always",
          "[report]") {
  auto months = [](int n) {
    std::vector<Bar> bars;
    for (int i = 0; i < n; ++i)
      bars.push_back({fmt::format("{:04}-{:02}", 2025 + i / 12, 1 + i % 12), 1, ""});
    return bars;
  };
  for (int n : {1, 5, 10, 11, 17, 24, 60, 200}) {
    INFO(n << " months");
    auto svg = column_chart_svg("month", months(n), false);
    auto ticks = count(svg, "class=\"tick\"");
    CHECK(ticks >= std::min<std::size_t>(n, 5));
    CHECK(ticks <= 10);
    auto last = months(n).back().label;
    CHECK_THAT(svg, Catch::Contains("class=\"tick\">" + last + "</text>"));
    // Every label inside the 660 px chart, the first and last ones too (7 characters, ~7 px
    // each, centred on its x).
    std::regex tick("<text x=\"([0-9.]+)\"[^>]*class=\"tick\"");
    for (std::sregex_iterator it(svg.begin(), svg.end(), tick), end; it != end; ++it) {
      double x = std::stod((*it)[1]);
      CHECK(x - 3.5 * 7 >= 0);
      CHECK(x + 3.5 * 7 <= 660);
    }
  }
  // Ten months fit: each one is labelled.
  CHECK(count(column_chart_svg("month", months(10), false), "class=\"tick\"") == 10);
}

TEST_CASE("a column chart labels fewer columns when the labels are too long to sit side by side",
          "[report]") {
  std::vector<Bar> runs;
  for (int i = 1; i <= 12; ++i)
    runs.push_back({fmt::format("#{} 0123abc", i), 0.5, ""});
  auto svg = column_chart_svg("trend", runs, true);
  // The x of each label: neighbours at least a label's width apart (11 characters, ~7 px each).
  std::vector<double> xs;
  std::regex tick("<text x=\"([0-9.]+)\"[^>]*class=\"tick\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), tick), end; it != end; ++it)
    xs.push_back(std::stod((*it)[1]));
  REQUIRE(xs.size() >= 2);
  for (std::size_t i = 1; i < xs.size(); ++i)
    CHECK(xs[i] - xs[i - 1] >= 11 * 7);
  CHECK_THAT(svg, Catch::Contains(">#12 0123abc</text>"));
}

TEST_CASE("the expanded case names every assertion as written, a judge's rubric included",
          "[report]") {
  RunReport r;
  r.summary.run.id = 1;
  evalkeep::run::CaseOutcome c;
  c.case_id = "judged";
  c.status = "active";
  c.verdict = evalkeep::scoring::Verdict::pass;
  c.trials = c.passes = 1;
  r.summary.cases.push_back(c);
  r.summary.total = r.summary.passed = 1;
  evalkeep::run::PlannedCase p;
  p.case_id = "judged";
  p.status = "active";
  p.case_json =
      json{{"id", "judged"},
           {"prompt", "Hello again"},
           {"expect",
            {{{"type", "judge"}, {"rubric", "greets the customer politely"}, {"threshold", 0.8}},
             {{"type", "json-path"}, {"path", "/order/status"}, {"value", "shipped"}},
             {{"type", "icontains"}, {"value", "hello"}}}}}
          .dump();
  r.planned.push_back(p);
  auto page = run_report_html(r);
  std::smatch m;
  REQUIRE(std::regex_search(
      page, m,
      std::regex("<script type=\"application/json\" id=\"details-data\">([^<]*)</script>")));
  auto details = json::parse(m[1].str());
  REQUIRE(details.size() == 1);
  CHECK(details[0]["input"]["expect"] == json{"judge@0.8:greets the customer politely",
                                              "json-path:/order/status=\"shipped\"",
                                              "icontains:hello"});
}

TEST_CASE("the run report carries its style and its case table's script inline, whole",
          "[report]") {
  RunReport r;
  r.summary.run.id = 7;
  auto page = run_report_html(r);
  // The style, from its first rule to its last.
  CHECK_THAT(page, Catch::Contains("<style>\n:root{--fg:#1d2330;"));
  CHECK_THAT(page, Catch::Contains("table.attempts th{position:static}\n</style>"));
  // The script, from its first line to its last, after the data blocks it reads.
  auto script = page.find("<script>\n(function () {\n  'use strict';");
  REQUIRE(script != std::string::npos);
  CHECK(page.find("id=\"cases-data\"") < script);
  CHECK(page.find("document.getElementById('case-rows')", script) != std::string::npos);
  CHECK_THAT(page, Catch::EndsWith("})();\n</script>\n</body></html>\n"));
  CHECK(count(page, "<script>") == 1);
}

TEST_CASE("the audit page carries the same style and no script", "[report]") {
  auto page = audit_html(Audit{}, "2026-01-01");
  CHECK_THAT(page, Catch::Contains("<style>\n:root{--fg:#1d2330;"));
  CHECK_THAT(page, Catch::Contains("table.attempts th{position:static}\n</style>"));
  CHECK(page.find("<script") == std::string::npos);
}

TEST_CASE("a page is written whole: into a new file renamed over the old, permissions kept",
          "[report]") {
  evalkeep::test::TempDir dir;
  auto file = dir / "report.html";
  REQUIRE(write_page(file, "<p>first</p>"));
  CHECK(evalkeep::test::read_file(file) == "<p>first</p>");
  std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
  struct stat before {};
  REQUIRE(::stat(file.c_str(), &before) == 0);
  // A reader holding the old page keeps it whole: the new one is another file.
  REQUIRE(write_page(file, "<p>second</p>"));
  struct stat after {};
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino);
  CHECK((after.st_mode & 07777) == 0600);
  CHECK(evalkeep::test::read_file(file) == "<p>second</p>");
  // Nothing is left beside it.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("a page that cannot be written is an error naming the file, and leaves nothing behind",
          "[report]") {
  evalkeep::test::TempDir dir;
  auto r = write_page(dir / "missing" / "report.html", "<p>x</p>");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == evalkeep::ExitCode::environment);
  CHECK_THAT(r.error().message,
             Catch::Contains("cannot write '" + (dir / "missing" / "report.html").string() + "'"));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("a page written to a device or pipe path is written to it, not renamed over it",
          "[report]") {
  REQUIRE(write_page("/dev/null", "<p>x</p>"));
  CHECK(std::filesystem::is_character_file("/dev/null"));
}
