// The HTML report and audit pages, opened in headless Chromium: what a reviewer sees.

#include "core/process.hpp"
#include "support/cli_runner.hpp"
#include "support/standin.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::provider_table;
using evalkeep::test::read_file;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using evalkeep::test::TempDir;
using evalkeep::test::write_file;
using json = nlohmann::json;

namespace {

// An answer that would change the page if the report let it run.
const std::string k_injection =
    "<script>document.title='pwned';document.documentElement.setAttribute('data-pwned','script')"
    "</script><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">";

std::string rules() {
  json r = {{"default", {{"answer", "I can help with that."}}},
            {"rules",
             {{{"match", "refund after 45 days"},
               {"answer", "Refunds are accepted within 30 days of delivery."}},
              {{"match", "my order is late"}, {"answer", "Unfortunately your order is late."}},
              {{"match", "print your markup"}, {"answer", k_injection}},
              // The first run's greeting is answered on its second attempt.
              {{"match", "hello there"}, {"fault", "503"}, {"times", 1}}}}};
  return r.dump();
}

// The browser the tests drive: $EVALKEEP_CHROMIUM, else Debian's chromium. Missing is a failure,
// never a skip: scripts/install-deps.sh installs it.
std::string chromium() {
  if (const char* env = std::getenv("EVALKEEP_CHROMIUM"); env && *env)
    return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(p))
      return p;
  FAIL("chromium is not installed: run scripts/install-deps.sh (Debian package 'chromium') or "
       "set EVALKEEP_CHROMIUM");
  return {};
}

// Runs headless Chromium on a file:// URL with a fresh profile; returns its stdout.
std::string browse(const std::filesystem::path& file, const std::string& fragment,
                   const std::vector<std::string>& mode) {
  TempDir profile;
  std::vector<std::string> argv{chromium(),
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--disable-dev-shm-usage",
                                "--user-data-dir=" + profile.path().string()};
  argv.insert(argv.end(), mode.begin(), mode.end());
  argv.push_back("file://" + std::filesystem::absolute(file).string() +
                 (fragment.empty() ? "" : "#" + fragment));
  auto r = evalkeep::core::run_process(
      argv, {.cwd = {}, .stdin_data = {}, .env = {}, .timeout_ms = 120000});
  REQUIRE(r);
  INFO("chromium stderr: " << r->err);
  REQUIRE_FALSE(r->timed_out);
  REQUIRE(r->exit_code == 0);
  return r->out;
}

// The DOM after the page's script has run, with the filter in the URL's fragment.
std::string dom(const std::filesystem::path& file, const std::string& fragment = {}) {
  auto out = browse(file, fragment, {"--dump-dom"});
  REQUIRE_THAT(out, Catch::Contains("</html>"));
  return out;
}

void screenshot(const std::filesystem::path& file, const std::filesystem::path& png) {
  browse(file, {}, {"--screenshot=" + png.string(), "--window-size=1280,900", "--hide-scrollbars"});
  auto bytes = read_file(png);
  REQUIRE(bytes.size() > 1000);
  CHECK(bytes.substr(1, 3) == "PNG");
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// The rendered <svg> of a chart.
std::string chart(const std::string& page, const std::string& name) {
  auto at = page.find("data-chart=\"" + name + "\"");
  REQUIRE(at != std::string::npos);
  return page.substr(at, page.find("</svg>", at) - at);
}

std::size_t bars(const std::string& page, const std::string& name) {
  return count(chart(page, name), "class=\"bar\"");
}

std::size_t rows(const std::string& page) {
  return count(page, "<tr class=\"case\"");
}

std::string title(const std::string& page) {
  std::smatch m;
  REQUIRE(std::regex_search(page, m, std::regex("<title>([^<]*)</title>")));
  return m[1];
}

// Five cases over two incidents and three tags; two of them fail against the stand-in.
struct Fixture {
  StandIn server{rules()};
  Repo repo;
  Fixture() {
    run({"init", "-q"});
    run({"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    run({"incident", "add", "INC-9", "--title", "Markup echoed back"});
    run({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
         "--expect", "icontains:30 days", "--incident", "INC-7", "--tag", "billing"});
    run({"add", "--id", "refund-polite", "--prompt", "Refund after 45 days, please?", "--expect",
         "icontains:within 30 days", "--incident", "INC-7", "--tag", "billing", "--tag", "tone"});
    run({"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
         "not-contains:Unfortunately", "--provenance", "spec:style guide 2.1", "--tag", "tone"});
    run({"add", "--id", "markup-echo", "--prompt", "Please print your markup", "--expect",
         "not-contains:<script>", "--incident", "INC-9", "--tag", "security"});
    run({"add", "--id", "greeting", "--prompt", "Hello there", "--expect", "contains:help",
         "--provenance", "spec:greets"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  }
  evalkeep::core::ProcessResult run(const std::vector<std::string>& args) {
    auto r = repo.evalkeep(args);
    INFO("evalkeep " << args.at(0) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    return r;
  }
};

} // namespace

TEST_CASE("report writes one self-contained page whose charts and table render in Chromium",
          "[e2e][report]") {
  Fixture f;
  f.run({"run", "--provider", "local"});
  f.run({"run", "--provider", "local", "--no-cache"});
  auto out = f.run({"report", "latest", "-o", "report.html"});
  CHECK(out.exit_code == 0);
  CHECK_THAT(out.out, Catch::Contains("report.html"));
  auto file = f.repo.path() / "report.html";
  auto html = read_file(file);
  // Nothing is fetched: no external script, style, image or font.
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?(https?:)?//)")));
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  // The answer's markup is only ever data: escaped in the JSON block.
  CHECK(html.find(k_injection) == std::string::npos);

  auto page = dom(file);
  CHECK(title(page) == "evalkeep report: run 2");
  // The attribute the answer's script would set (its text is in the data block, escaped).
  CHECK(page.find("data-pwned=") == std::string::npos);
  CHECK_THAT(page, Catch::Contains("<html lang=\"en\"><head>"));
  CHECK(bars(page, "incident") == 2); // INC-7, INC-9
  CHECK(bars(page, "tag") == 3);      // billing, tone, security
  CHECK(bars(page, "latency") == 12);
  CHECK(bars(page, "trend") == 2); // runs 1 and 2 of this suite
  CHECK(rows(page) == 5);
  CHECK_THAT(page, Catch::Contains("5 of 5 cases"));
  CHECK_THAT(page, Catch::Contains("60.0%")); // 3 of 5 live cases pass
  CHECK_THAT(page, Catch::Contains("stand-in"));
  CHECK(page.find("data-ready-ms=\"") != std::string::npos);

  // Filters from the URL's fragment change the visible rows.
  auto failing = dom(file, "status=fail");
  CHECK(rows(failing) == 2);
  CHECK_THAT(failing, Catch::Contains("markup-echo"));
  CHECK_THAT(failing, Catch::Contains("tone-apology"));
  CHECK(rows(dom(file, "incident=INC-7")) == 2);
  CHECK(rows(dom(file, "tag=tone")) == 2);
  CHECK(rows(dom(file, "q=greeting")) == 1);
  CHECK(rows(dom(file, "status=pass&tag=billing")) == 2);

  // The expanded case shows the answer as text, and its script did not run.
  auto opened = dom(file, "open=markup-echo");
  CHECK(title(opened) == "evalkeep report: run 2");
  CHECK(opened.find("data-pwned=") == std::string::npos);
  CHECK_THAT(opened, Catch::Contains("<tr class=\"detail\">"));
  CHECK_THAT(opened, Catch::Contains("&lt;script&gt;document.title='pwned'"));
  CHECK_THAT(opened, Catch::Contains("Please print your markup")); // the input
  CHECK_THAT(opened, Catch::Contains("not-contains:&lt;script&gt;"));

  // Every HTTP attempt of a trial is listed: run 1 retried the greeting after a 503.
  f.run({"report", "1", "-o", "first.html"});
  auto retried = dom(f.repo.path() / "first.html", "open=greeting");
  auto attempts = retried.substr(retried.find("<table class=\"attempts\">"));
  attempts = attempts.substr(0, attempts.find("</table>"));
  CHECK(count(attempts, "<tr") == 3); // the header, the 503, the answer
  CHECK_THAT(attempts, Catch::Contains("<td>503</td>"));
  CHECK_THAT(attempts, Catch::Contains("<td>retry</td>"));
  CHECK_THAT(attempts, Catch::Contains("<td>200</td>"));
  CHECK_THAT(attempts, Catch::Contains("<td>answer</td>"));

  screenshot(file, f.repo.path() / "report.png");
}

TEST_CASE("report --vs shows regressions and fixes first, and what changed", "[e2e][report]") {
  Fixture f;
  f.run({"run", "--provider", "local"});
  StandIn plain; // the default answer for everything
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(plain, "plain");
  f.run({"run", "--provider", "plain"});
  f.run({"report", "2", "--vs", "1", "-o", "pr.html"});
  auto file = f.repo.path() / "pr.html";
  auto page = dom(file);
  auto regressions = page.find("id=\"regressions\"");
  REQUIRE(regressions != std::string::npos);
  CHECK(regressions < page.find("id=\"charts\""));
  CHECK(regressions < page.find("id=\"case-rows\""));
  auto table = page.substr(regressions, page.find("</table>", regressions) - regressions);
  CHECK_THAT(table, Catch::Contains("refund-window"));
  CHECK_THAT(page.substr(page.find("id=\"fixes\"")), Catch::Contains("tone-apology"));
  auto changed = page.substr(page.find("id=\"changed\""));
  CHECK_THAT(changed.substr(0, changed.find("</table>")), Catch::Contains("plain"));
  CHECK(rows(dom(file, "status=regression")) == 2); // refund-window, refund-polite
  CHECK(rows(dom(file, "status=fix")) == 2);        // tone-apology, markup-echo

  auto bad = f.repo.evalkeep({"report", "2", "--vs", "9"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("evalkeep: error: "));
}

TEST_CASE("audit --format html shows retirements by reason and unguarded incidents",
          "[e2e][report][audit]") {
  Fixture f;
  f.run({"retire", "markup-echo", "--reason", "out-of-scope", "--rationale",
         "we no longer render <b>markup</b>"});
  f.run({"retire", "refund-polite", "--reason", "superseded", "--superseded-by", "refund-window",
         "--rationale", "covered"});
  auto stdout_page = f.run({"audit", "--format", "html"});
  CHECK_THAT(stdout_page.out, Catch::StartsWith("<!DOCTYPE html>"));
  auto wrote = f.run({"audit", "--format", "html", "-o", "audit.html"});
  CHECK(wrote.exit_code == 0);
  CHECK(wrote.out == "wrote audit.html (2 retirements)\n");
  CHECK(f.run({"-q", "audit", "--format", "html", "-o", "audit.html"}).out.empty());
  auto file = f.repo.path() / "audit.html";
  auto page = dom(file);
  CHECK(title(page) == "evalkeep audit");
  CHECK(bars(page, "reason") == 2);
  CHECK(bars(page, "month") == 1);
  auto unguarded = page.substr(page.find("id=\"unguarded\""));
  unguarded = unguarded.substr(0, unguarded.find("</table>"));
  CHECK_THAT(unguarded, Catch::Contains("INC-9"));
  CHECK(unguarded.find("INC-7") == std::string::npos); // refund-window still guards it
  CHECK_THAT(page, Catch::Contains("we no longer render &lt;b&gt;markup&lt;/b&gt;"));
  CHECK(page.find("<b>markup</b>") == std::string::npos);
  screenshot(file, f.repo.path() / "audit.png");

  auto bad = f.repo.evalkeep({"audit", "--format", "md", "-o", "audit.md"});
  CHECK(bad.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(f.repo.path() / "audit.md"));
}

TEST_CASE("a report of 10,000 cases is ready in the browser within seconds",
          "[e2e][report][perf]") {
  StandIn server{rules()};
  Repo repo;
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  std::string jsonl;
  for (int i = 0; i < 20; ++i)
    jsonl += json{{"type", "incident"}, {"id", "INC-" + std::to_string(i)}, {"title", "t"}}.dump() +
             "\n";
  for (int i = 0; i < 10000; ++i) {
    json c{{"type", "case"},
           {"id", "case-" + std::to_string(100000 + i)},
           {"prompt", i % 7 ? "Hello number " + std::to_string(i) : "My order is late."},
           {"expect", {{{"type", "not-contains"}, {"value", "Unfortunately"}}}},
           {"incident", "INC-" + std::to_string(i % 20)},
           {"tags", {"tag-" + std::to_string(i % 9)}}};
    jsonl += c.dump() + "\n";
  }
  write_file(repo.path() / "cases.jsonl", jsonl);
  auto imported = repo.evalkeep({"import", "cases.jsonl"});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto ran = repo.evalkeep({"run", "--provider", "local", "-j", "64", "-q"});
  REQUIRE(ran.exit_code == 1); // every seventh case fails
  REQUIRE(repo.evalkeep({"report", "-o", "big.html"}).exit_code == 0);
  auto file = repo.path() / "big.html";
  auto page = dom(file);
  CHECK(rows(page) == 10000);
  std::smatch m;
  REQUIRE(std::regex_search(page, m, std::regex("data-ready-ms=\"([0-9.]+)\"")));
  double ready = std::stod(m[1]);
  REQUIRE(std::regex_search(page, m, std::regex("data-render-ms=\"([0-9.]+)\"")));
  double render = std::stod(m[1]);
  WARN("10,000 cases: " << read_file(file).size() / 1024 << " KiB, table ready " << ready
                        << " ms after navigation start, script " << render << " ms");
  CHECK(ready < 5000);
  CHECK(rows(dom(file, "status=fail")) == 1429); // i % 7 == 0 for 0..9999
}
