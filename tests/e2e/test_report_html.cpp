// The HTML report and audit pages, opened in headless Chromium: what a reviewer sees.

#include "core/process.hpp"
#include "support/cli_runner.hpp"
#include "support/standin.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
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

// The judge's reply to every judge call (its prompt names the case's question, so it comes first).
const std::string k_rationale = "The reply greets the customer and offers help.";

std::string rules() {
  json r = {{"default", {{"answer", "I can help with that."}}},
            {"rules",
             {{{"match", "you grade an ai assistant's answer against a rubric"},
               {"answer", json{{"score", 0.9}, {"rationale", k_rationale}}.dump()}},
              {{"match", "refund after 45 days"},
               {"answer", "Refunds are accepted within 30 days of delivery."}},
              {{"match", "my order is late"}, {"answer", "Unfortunately your order is late."}},
              // The one slow answer: the latency percentiles straddle it.
              {{"match", "print your markup"}, {"answer", k_injection}, {"latency_ms", 500}},
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

// Headless Chromium driven over the DevTools protocol on a pipe, for what --dump-dom cannot do:
// real (trusted) clicks and key presses, and several pages in one launch. With
// --remote-debugging-pipe it reads commands on fd 3 and writes replies and events on fd 4, each
// a JSON text ended by a NUL byte.
class Browser {
public:
  Browser() {
    int to[2], from[2];
    REQUIRE(::pipe2(to, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from, O_CLOEXEC) == 0);
    // The child's ends above fd 4, so that dup2 onto 3 and 4 always makes an inheritable copy.
    int child_in = ::fcntl(to[0], F_DUPFD_CLOEXEC, 10);
    int child_out = ::fcntl(from[1], F_DUPFD_CLOEXEC, 10);
    ::close(to[0]);
    ::close(from[1]);
    m_to = to[1];
    m_from = from[0];
    auto log = (m_profile / "chromium.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_adddup2(&actions, child_in, 3);
    posix_spawn_file_actions_adddup2(&actions, child_out, 4);
    std::vector<std::string> args{chromium(),
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--no-first-run",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--disable-dev-shm-usage",
                                  "--window-size=1280,900",
                                  "--remote-debugging-pipe",
                                  "--user-data-dir=" + m_profile.path().string(),
                                  "about:blank"};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(child_in);
    ::close(child_out);
    REQUIRE(rc == 0);
    // The browser's first tab, once it is there.
    std::string target;
    for (auto deadline = clock::now() + std::chrono::seconds(60); target.empty();) {
      auto targets = browser_command("Target.getTargets");
      for (const auto& t : targets["targetInfos"])
        if (t.value("type", "") == "page")
          target = t["targetId"];
      REQUIRE(clock::now() < deadline);
      if (target.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    m_session = browser_command("Target.attachToTarget",
                                {{"targetId", target}, {"flatten", true}})["sessionId"];
  }
  ~Browser() {
    // Best effort: ask it to close, then make sure it has gone.
    std::string close = R"({"id":0,"method":"Browser.close"})";
    close.push_back('\0');
    [[maybe_unused]] auto n = ::write(m_to, close.data(), close.size());
    ::close(m_to);
    ::close(m_from);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  /// Loads a page afresh (a new document even when only the fragment differs) and waits until
  /// its case table is ready.
  void open(const std::string& url) {
    command("Page.navigate", {{"url", "about:blank"}});
    REQUIRE(wait_until("location.href === 'about:blank'"));
    command("Page.navigate", {{"url", url}});
    INFO("opening " << url);
    REQUIRE(wait_until("document.readyState === 'complete' && location.protocol === 'file:' && "
                       "document.body.dataset.readyMs !== undefined"));
  }
  /// The value of a JavaScript expression in the page.
  json eval(const std::string& expression) {
    auto r = command("Runtime.evaluate",
                     {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
    INFO(expression << "\n" << r.dump());
    REQUIRE_FALSE(r.contains("exceptionDetails"));
    return r["result"].value("value", json());
  }
  /// Polls an expression until it is true, for at most ten seconds.
  bool wait_until(const std::string& expression) {
    for (auto deadline = clock::now() + std::chrono::seconds(10); clock::now() < deadline;) {
      if (eval("!!(" + expression + ")") == true)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return false;
  }
  /// A left click with the mouse in the middle of the element `element` (a JavaScript
  /// expression), scrolled into view first.
  void click(const std::string& element) {
    auto at = eval("(function (e) { e.scrollIntoView({block: 'center'}); var r = "
                   "e.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2; "
                   "return e.contains(document.elementFromPoint(x, y)) ? [x, y] : null; })(" +
                   element + ")");
    INFO(element << " is hidden under another element");
    REQUIRE(at.is_array());
    for (const char* type : {"mouseMoved", "mousePressed", "mouseReleased"})
      command("Input.dispatchMouseEvent",
              {{"type", type}, {"x", at[0]}, {"y", at[1]}, {"button", "left"}, {"clickCount", 1}});
  }
  /// Presses a key (ArrowDown, ArrowUp) on the focused element `element`.
  void press(const std::string& element, const std::string& key) {
    eval(element + ".focus()");
    int code = key == "ArrowDown" ? 40 : key == "ArrowUp" ? 38 : 0;
    REQUIRE(code != 0);
    for (const char* type : {"keyDown", "keyUp"})
      command("Input.dispatchKeyEvent",
              {{"type", type}, {"key", key}, {"code", key}, {"windowsVirtualKeyCode", code}});
  }
  /// Types text into the element `element`, as a keyboard would.
  void type(const std::string& element, const std::string& text) {
    eval(element + ".focus()");
    command("Input.insertText", {{"text", text}});
  }

private:
  using clock = std::chrono::steady_clock;

  json command(const std::string& method, const json& params = json::object()) {
    return send(method, params, m_session);
  }
  json browser_command(const std::string& method, const json& params = json::object()) {
    return send(method, params, {});
  }
  // Sends one command and reads until its reply, skipping events; fails on an error reply.
  json send(const std::string& method, const json& params, const std::string& session) {
    json message{{"id", ++m_id}, {"method", method}, {"params", params}};
    if (!session.empty())
      message["sessionId"] = session;
    std::string text = message.dump();
    text.push_back('\0');
    for (std::string_view rest = text; !rest.empty();) {
      auto n = ::write(m_to, rest.data(), rest.size());
      REQUIRE(n > 0);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    auto deadline = clock::now() + std::chrono::seconds(60);
    for (;;) {
      for (auto end = m_buffer.find('\0'); end != std::string::npos; end = m_buffer.find('\0')) {
        auto reply = json::parse(m_buffer.substr(0, end), nullptr, false);
        m_buffer.erase(0, end + 1);
        if (!reply.is_object() || reply.value("id", -1) != m_id)
          continue;
        INFO(method << " " << params.dump() << " -> " << reply.dump());
        REQUIRE_FALSE(reply.contains("error"));
        return reply["result"];
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      INFO("no reply to " << method
                          << "; chromium said: " << read_file(m_profile / "chromium.log"));
      REQUIRE(left.count() > 0);
      pollfd p{m_from, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char chunk[65536];
      auto n = ::read(m_from, chunk, sizeof chunk);
      REQUIRE(n > 0);
      m_buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  TempDir m_profile;
  pid_t m_pid = -1;
  int m_to = -1, m_from = -1;
  int m_id = 0;
  std::string m_buffer, m_session;
};

// JavaScript for the case table's row of a case.
std::string row_of(const std::string& id) {
  return "Array.prototype.find.call(document.querySelectorAll('#case-rows tr.case'), function "
         "(tr) { return tr.cells[0].textContent === '" +
         id + "'; })";
}
const std::string k_status = "document.getElementById('f-status')";
const std::string k_tag = "document.getElementById('f-tag')";
const std::string k_search = "document.getElementById('f-q')";

using Ids = std::vector<std::string>;

// The ids of the case rows shown, in order.
Ids shown(Browser& browser) {
  return browser
      .eval("Array.prototype.map.call(document.querySelectorAll('#case-rows tr.case'), "
            "function (tr) { return tr.cells[0].textContent; })")
      .get<Ids>();
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

// The text from `start` to the first `end` after it; fails when `start` is not there.
std::string between(const std::string& page, const std::string& start, const std::string& end) {
  auto at = page.find(start);
  INFO("looking for " << start);
  REQUIRE(at != std::string::npos);
  return page.substr(at, page.find(end, at) - at);
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
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server, "local", "openai",
                          "temperature = 0.25\nseed = 7\ninput_price_per_mtok = 1000\n"
                          "output_price_per_mtok = 2000\n");
    commit("the suite");
  }
  // Commits everything; returns the new HEAD.
  std::string commit(const std::string& message) {
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", message});
    return head();
  }
  std::string head() {
    auto sha = repo.git({"rev-parse", "HEAD"});
    return sha.substr(0, sha.find_last_not_of("\n") + 1);
  }
  // `run ... --json`: the run's summary.
  json run_json(std::vector<std::string> args) {
    args.insert(args.begin(), "run");
    args.push_back("--json");
    auto j = json::parse(run(args).out, nullptr, false);
    REQUIRE(j.is_object());
    return j;
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
  auto ran = f.run_json({"--provider", "local", "--no-cache"});
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
  // Its 95% interval (Wilson's, 3 of 5), and an error bar on each incident's and tag's rate.
  CHECK_THAT(page, Catch::Contains("<b>23.1–88.2%</b><span>95% CI of the pass rate (wilson)"));
  CHECK(count(between(page, "data-chart=\"incident\"", "</svg>"), "class=\"whisker\"") == 2);
  CHECK(count(between(page, "data-chart=\"tag\"", "</svg>"), "class=\"whisker\"") == 3);
  CHECK_THAT(page, Catch::Contains("stand-in"));
  CHECK(page.find("data-ready-ms=\"") != std::string::npos);

  // The headline: cost, tokens, latency percentiles, model, parameters, commit and suite hash.
  auto headline = between(page, "id=\"headline\"", "</section>");
  std::smatch m;
  REQUIRE(std::regex_search(headline, m,
                            std::regex("<b>([0-9]+) / ([0-9]+)</b><span>tokens in / out</span>")));
  long tokens_in = std::stol(m[1]), tokens_out = std::stol(m[2]);
  CHECK(tokens_in > 0);
  CHECK(tokens_out > 0);
  // $1000 and $2000 a million tokens in and out.
  CHECK_THAT(headline,
             Catch::Contains(fmt::format("<b>${:.4f}</b><span>cost</span>",
                                         (1000.0 * tokens_in + 2000.0 * tokens_out) / 1e6)));
  REQUIRE(std::regex_search(
      headline, m,
      std::regex("<b>([0-9]+) / ([0-9]+) / ([0-9]+) ms</b><span>latency p50 / p90 / p99</span>")));
  int p50 = std::stoi(m[1]), p90 = std::stoi(m[2]), p99 = std::stoi(m[3]);
  CHECK(p50 < 500); // the third fastest of five answers; only markup-echo's takes 500 ms
  CHECK(p90 >= 500);
  CHECK(p99 >= p90);
  CHECK_THAT(headline, Catch::Contains("<dt>model</dt><dd>stand-in</dd>"));
  auto params = between(headline, "<dt>parameters</dt>", "</dd>");
  CHECK_THAT(params, Catch::Contains("temperature=0.25"));
  CHECK_THAT(params, Catch::Contains("seed=7"));
  REQUIRE(ran["git_commit"] == f.head());
  CHECK_THAT(headline, Catch::Contains("<dt>git commit</dt><dd>" + f.head() + "</dd>"));
  CHECK_THAT(page, Catch::Contains("commit " + f.head().substr(0, 10) + " · suite"));
  auto suite_hash = ran["suite_hash"].get<std::string>();
  REQUIRE(suite_hash.size() >= 12);
  CHECK_THAT(headline, Catch::Contains("<dt>suite hash</dt><dd>" + suite_hash + "</dd>"));

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
  auto commit_before = f.head();
  auto before = f.run_json({"--provider", "local"});
  // The second run: another model and temperature, one more case, another commit.
  StandIn plain; // the default answer for everything
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.plain]\ntype = \"openai\"\nbase_url = \"" << plain.openai_base()
      << "\"\nmodel = \"stand-in-plain\"\ntemperature = 0.5\n";
  f.run({"add", "--id", "farewell", "--prompt", "Goodbye", "--expect", "not-contains:zzz",
         "--provenance", "spec:greets"});
  auto commit_now = f.commit("a farewell case");
  auto now = f.run_json({"--provider", "plain"});
  REQUIRE(before["suite_hash"] != now["suite_hash"]);
  f.run({"report", "2", "--vs", "1", "-o", "pr.html"});
  auto file = f.repo.path() / "pr.html";
  auto page = dom(file);
  auto regressions = page.find("id=\"regressions\"");
  REQUIRE(regressions != std::string::npos);
  CHECK(regressions < page.find("id=\"charts\""));
  CHECK(regressions < page.find("id=\"case-rows\""));
  auto table = page.substr(regressions, page.find("</table>", regressions) - regressions);
  CHECK_THAT(table, Catch::Contains("refund-window"));
  CHECK_THAT(table, Catch::Contains("within noise (p = 0.50)")); // one trial each
  // The paired difference over the 5 cases both runs ran: 2 regressed, 2 fixed.
  CHECK_THAT(between(page, "id=\"difference\"", "</p>"),
             Catch::Contains("+0.0 points (95% CI -87.7 to +87.7) over 5 paired cases; 2 pass → "
                             "fail, 2 fail → pass; p = 1 (mcnemar-exact)"));
  CHECK_THAT(page.substr(page.find("id=\"fixes\"")), Catch::Contains("tone-apology"));
  auto changed = between(page, "id=\"changed\"", "</table>");
  CHECK_THAT(changed, Catch::Contains("<tr><td>provider</td><td>local</td><td>plain</td></tr>"));
  CHECK_THAT(changed,
             Catch::Contains("<tr><td>model</td><td>stand-in</td><td>stand-in-plain</td></tr>"));
  CHECK_THAT(changed, Catch::Contains("<tr><td>temperature</td><td>0.25</td><td>0.5</td></tr>"));
  CHECK_THAT(changed, Catch::Contains("<tr><td>git_commit</td><td>" + commit_before + "</td><td>" +
                                      commit_now + "</td></tr>"));
  CHECK_THAT(changed, Catch::Contains("<tr><td>suite_hash</td><td>" +
                                      before["suite_hash"].get<std::string>() + "</td><td>" +
                                      now["suite_hash"].get<std::string>() + "</td></tr>"));
  CHECK(changed.find("max_tokens") == std::string::npos); // the same in both runs: not listed
  // Per incident and per tag, the worst change first.
  auto incidents = between(page, "id=\"by-incident\"", "</table>");
  CHECK(count(incidents, "<tr>") == 3); // the header, INC-7, INC-9
  CHECK_THAT(incidents, Catch::Contains("<tbody><tr><td>INC-7</td><td>100% (2/2)</td>"
                                        "<td>0% (0/2)</td><td class=\"delta-down\">-100 pts</td>"
                                        "</tr><tr><td>INC-9</td><td>0% (0/1)</td>"
                                        "<td>100% (1/1)</td><td class=\"delta-up\">+100 pts</td>"
                                        "</tr></tbody>"));
  auto tags = between(page, "id=\"by-tag\"", "</table>");
  CHECK_THAT(tags, Catch::Contains("<tbody><tr><td>billing</td><td>100% (2/2)</td>"
                                   "<td>0% (0/2)</td><td class=\"delta-down\">-100 pts</td></tr>"
                                   "<tr><td>tone</td><td>50% (1/2)</td><td>50% (1/2)</td>"
                                   "<td class=\"\">+0 pts</td></tr>"
                                   "<tr><td>security</td><td>0% (0/1)</td><td>100% (1/1)</td>"
                                   "<td class=\"delta-up\">+100 pts</td></tr></tbody>"));
  CHECK(rows(dom(file, "status=regression")) == 2); // refund-window, refund-polite
  CHECK(rows(dom(file, "status=fix")) == 2);        // tone-apology, markup-echo

  auto bad = f.repo.evalkeep({"report", "2", "--vs", "9"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("evalkeep: error: "));
}

TEST_CASE("an exec run's report shows its command and program, and no HTTP settings or statuses",
          "[e2e][report][exec]") {
  Fixture f;
  write_file(f.repo.path() / "agent.sh", "#!/bin/sh\ncat > /dev/null\necho 'I can help.'\n");
  std::filesystem::permissions(f.repo.path() / "agent.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"./agent.sh\"]\n";
  f.commit("an agent");
  f.run_json({"--provider", "agent"});
  f.run({"report", "latest", "-o", "agent.html"});
  auto file = f.repo.path() / "agent.html";
  auto page = dom(file, "open=greeting");
  auto headline = between(page, "id=\"headline\"", "</section>");
  CHECK_THAT(headline, Catch::Contains("<dt>provider</dt><dd>agent (exec)</dd>"));
  CHECK_THAT(headline, Catch::Contains("<dt>ran</dt><dd>exec: ./agent.sh</dd>"));
  CHECK_THAT(headline, Catch::Contains("<dt>program</dt><dd>"));
  CHECK(headline.find("<dt>model</dt>") == std::string::npos);
  auto params = between(headline, "<dt>parameters</dt>", "</dd>");
  CHECK_THAT(params, Catch::Contains("timeout_s=120"));
  for (const char* http :
       {"anthropic_version", "api_key_env", "idempotency_header", "headers", "connect_timeout_s"})
    CHECK(params.find(http) == std::string::npos);
  CHECK_THAT(page, Catch::Contains("agent · exec: ./agent.sh · commit"));
  // Its attempt has no HTTP status, and the table no HTTP column.
  auto attempts = between(page, "<table class=\"attempts\">", "</table>");
  CHECK(attempts.find("HTTP") == std::string::npos);
  CHECK(attempts.find("200") == std::string::npos);
  CHECK_THAT(attempts, Catch::Contains("<td>answer</td>"));
}

TEST_CASE("the pass rate over the last runs is one chart per provider and model, and the page "
          "shows no timing",
          "[e2e][report]") {
  Fixture f;
  f.run_json({"--provider", "local"});
  f.run_json({"--provider", "local", "--no-cache"});
  StandIn plain; // the default answer for everything: another model's pass rate
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.plain]\ntype = \"openai\"\nbase_url = \"" << plain.openai_base()
      << "\"\nmodel = \"stand-in-plain\"\n";
  f.run_json({"--provider", "plain"});
  f.run({"report", "latest", "-o", "latest.html"});
  auto page = dom(f.repo.path() / "latest.html");
  // This run's series first: plain's one run, then local's two.
  CHECK(bars(page, "trend") == 1);
  CHECK(bars(page, "trend-2") == 2);
  auto trends = between(page, "class=\"trends\"", "</section>");
  auto plain_at = trends.find("<h3>plain · stand-in-plain</h3>");
  auto local_at = trends.find("<h3>local · stand-in</h3>");
  REQUIRE(plain_at != std::string::npos);
  REQUIRE(local_at != std::string::npos);
  CHECK(plain_at < local_at);
  CHECK_THAT(chart(page, "trend-2"), Catch::Contains("#1 ") && Catch::Contains("#2 "));
  CHECK(chart(page, "trend").find("#1 ") == std::string::npos);
  // Run 2's report: only its own model ran before it.
  f.run({"report", "2", "-o", "second.html"});
  auto second = dom(f.repo.path() / "second.html");
  CHECK(bars(second, "trend") == 2);
  CHECK(second.find("data-chart=\"trend-2\"") == std::string::npos);
  // The page says nothing about how fast it drew itself.
  CHECK(page.find("table ready") == std::string::npos);
  CHECK(page.find("id=\"render-ms\"") == std::string::npos);
  CHECK(page.find("data-ready-ms=\"") != std::string::npos); // kept for tests, not shown
}

TEST_CASE("the case table sorts from the URL and by header clicks, filters as the reader types, "
          "and expands a judged case to its rationale",
          "[e2e][report]") {
  Fixture f;
  f.run({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
         "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  f.run({"run", "--provider", "local", "--judge", "local"});
  f.run({"report", "-o", "report.html"});
  auto url = "file://" + (f.repo.path() / "report.html").string();
  Browser browser;

  // Sorted by the URL's fragment: the same code path as a link to a sorted table.
  browser.open(url);
  // By verdict (failures first), then id.
  CHECK(shown(browser) ==
        Ids{"markup-echo", "tone-apology", "greeting", "judged", "refund-polite", "refund-window"});
  browser.open(url + "#sort=id&dir=-1");
  CHECK(shown(browser) ==
        Ids{"tone-apology", "refund-window", "refund-polite", "markup-echo", "judged", "greeting"});
  // By incident, cases without one last.
  browser.open(url + "#sort=incident");
  CHECK(shown(browser) ==
        Ids{"refund-polite", "refund-window", "markup-echo", "greeting", "judged", "tone-apology"});
  browser.open(url + "#sort=incident&dir=-1");
  CHECK(shown(browser) ==
        Ids{"tone-apology", "judged", "greeting", "markup-echo", "refund-window", "refund-polite"});
  browser.open(url + "#sort=trials&dir=-1");
  CHECK(shown(browser) ==
        Ids{"refund-window", "refund-polite", "judged", "greeting", "tone-apology", "markup-echo"});
  browser.open(url + "#tag=tone&sort=id&dir=-1");
  CHECK(shown(browser) == Ids{"tone-apology", "refund-polite"});

  // Sorted by clicking the headers: once ascending, again descending; the URL follows.
  browser.open(url);
  browser.click("document.querySelector('th[data-sort=\"id\"]')");
  CHECK(shown(browser) ==
        Ids{"greeting", "judged", "markup-echo", "refund-polite", "refund-window", "tone-apology"});
  CHECK(browser.eval("location.hash") == "#sort=id");
  browser.click("document.querySelector('th[data-sort=\"id\"]')");
  CHECK(shown(browser) ==
        Ids{"tone-apology", "refund-window", "refund-polite", "markup-echo", "judged", "greeting"});
  CHECK(browser.eval("location.hash") == "#sort=id&dir=-1");
  browser.click("document.querySelector('th[data-sort=\"incident\"]')");
  CHECK(shown(browser) ==
        Ids{"refund-polite", "refund-window", "markup-echo", "greeting", "judged", "tone-apology"});

  // Filtered with the keyboard: the verdict menu, the search box (after its pause), the tag menu.
  browser.press(k_status, "ArrowDown");
  CHECK(browser.eval(k_status + ".value") == "not-pass");
  CHECK(shown(browser) == Ids{"markup-echo", "tone-apology"});
  CHECK(browser.eval("document.getElementById('shown').textContent") == "2 of 6 cases");
  CHECK(browser.eval("location.hash") == "#status=not-pass&sort=incident");
  browser.press(k_status, "ArrowUp");
  CHECK(shown(browser).size() == 6);
  browser.type(k_search, "refund");
  CHECK(browser.wait_until("document.getElementById('shown').textContent === '2 of 6 cases'"));
  CHECK(shown(browser) == Ids{"refund-polite", "refund-window"});
  CHECK(browser.eval("location.hash") == "#q=refund&sort=incident");
  for (int i = 0; i < 3; ++i) // every tag, billing, security, tone
    browser.press(k_tag, "ArrowDown");
  CHECK(browser.eval(k_tag + ".value") == "tone");
  CHECK(shown(browser) == Ids{"refund-polite"});

  // A click on a row expands it, a second click folds it again.
  browser.click(row_of("refund-polite"));
  CHECK(browser.eval("document.querySelectorAll('#case-rows tr.detail').length") == 1);
  CHECK(browser.eval("document.querySelector('#case-rows tr.detail pre.input').textContent") ==
        "Refund after 45 days, please?");
  CHECK(browser.eval("location.hash") == "#tag=tone&q=refund&sort=incident&open=refund-polite");
  browser.click(row_of("refund-polite"));
  CHECK(browser.eval("document.querySelectorAll('#case-rows tr.detail').length") == 0);

  // The judged case: its rubric in the input, the judge's rationale with the verdict, and the
  // judge's HTTP call beside the answer's.
  browser.open(url);
  browser.click(row_of("judged"));
  const std::string detail = "document.querySelector('#case-rows tr.detail')";
  CHECK(browser.eval("Array.prototype.map.call(" + detail +
                     ".querySelectorAll('div.note'), function (d) { return d.textContent; })"
                     ".filter(function (t) { return t.indexOf('expects: ') === 0; })") ==
        json{"expects: judge@0.8:greets the customer politely"});
  auto assertions = browser.eval(detail + ".querySelector('ul.assertions').textContent");
  CHECK_THAT(assertions.get<std::string>(),
             Catch::Contains("judge scored 0.90 (needs 0.80): " + k_rationale));
  auto attempts =
      browser.eval("Array.prototype.map.call(" + detail +
                   ".querySelectorAll('table.attempts tr'), function (tr) { return "
                   "Array.prototype.map.call(tr.cells, function (td) { return td.textContent; "
                   "}); })");
  REQUIRE(attempts.size() == 3); // the header, the answer, the judge call
  CHECK(attempts[1][1] == "answer");
  CHECK(attempts[2][1] == "judge:0");
  CHECK(attempts[2][3] == "200");
  CHECK(attempts[2][6] == "answer");
}

TEST_CASE("audit --format html shows retirements by reason and unguarded incidents",
          "[e2e][report][audit]") {
  Fixture f;
  // Both decided in December 2019, one to be looked at again in 2020: overdue by now.
  auto in_2019 = [&](const std::vector<std::string>& args) {
    auto r = f.repo.evalkeep(args, {}, {"EVALKEEP_NOW=2019-12-01T09:00:00Z"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  };
  in_2019({"retire", "markup-echo", "--reason", "out-of-scope", "--rationale",
           "we no longer render <b>markup</b>", "--revisit", "2020-01-01"});
  in_2019({"retire", "refund-polite", "--reason", "superseded", "--superseded-by", "refund-window",
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
  // The revisit date has passed: the decision is due for a look, the case named.
  CHECK_THAT(page,
             Catch::Contains("<ul id=\"overdue\"><li>markup-echo: revisit 2020-01-01</li></ul>"));
  CHECK_THAT(page, Catch::Contains("<b>1</b><span>revisits overdue</span>"));
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
