// Running cases against the stand-in model server on 127.0.0.1.

#include "support/cli_runner.hpp"
#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "my order is late", "answer": "Unfortunately your order is late."},
    {"match": "busy", "fault": "429", "retry_after": "1", "times": 1, "answer": "Sorry for the wait."},
    {"match": "always down", "fault": "503"},
    {"match": "You grade an AI assistant", "answer": "{\"score\": 0.9, \"rationale\": \"polite\"}"}
  ]
})";

// A repository with a suite of three cases and the stand-in configured as provider "local".
struct Fixture {
  StandIn server{k_rules};
  Repo repo;
  Fixture() {
    run({"init", "-q"});
    run({"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    run({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
         "--expect", "icontains:30 days", "--incident", "INC-7", "--tag", "billing"});
    run({"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
         "not-contains:Unfortunately", "--provenance", "spec:style guide 2.1", "--tag", "tone"});
    run({"add", "--id", "greeting", "--prompt", "Hello there", "--expect", "contains:help",
         "--provenance", "spec:greets"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  }
  evalkeep::core::ProcessResult run(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env = {}) {
    auto r = repo.evalkeep(args, {}, env);
    INFO("evalkeep " << args.at(0) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    return r;
  }
};

} // namespace

TEST_CASE("a run prints a JSON summary, and a second run replays from the cache", "[e2e][run]") {
  Fixture f;
  auto first = f.run({"run", "--provider", "local", "-j", "32", "--json"});
  CHECK(first.exit_code == 1); // tone-apology fails on purpose
  auto s = json::parse(first.out);
  CHECK(s["run"] == 1);
  CHECK(s["total"] == 3);
  CHECK(s["passed"] == 2);
  CHECK(s["failed"] == 1);
  CHECK(s["errored"] == 0);
  REQUIRE(s["failures"].size() == 1);
  CHECK(s["failures"][0]["case"] == "tone-apology");
  CHECK_THAT(s["failures"][0]["reason"].get<std::string>(), Catch::Contains("Unfortunately"));
  CHECK(f.server.requests() == 3);

  auto second = f.run({"run", "--provider", "local", "-j", "32", "--json"});
  CHECK(json::parse(second.out)["cached"] == 3);
  CHECK(f.server.requests() == 3); // no HTTP request at all

  f.run({"run", "--provider", "local", "--no-cache", "--trials", "3"});
  CHECK(f.server.requests() == 3 + 9);

  auto story = json::parse(f.run({"why", "tone-apology", "--json"}).out);
  CHECK(story["last_run"] == 3);
  CHECK(story["last_results"].size() == 3);
  CHECK(story["last_results"][0]["verdict"] == "fail");
  CHECK(story["added_in_commit"].is_null()); // nothing committed in this repository

  auto diff = f.run({"runs", "diff", "1", "2", "--json"});
  auto d = json::parse(diff.out);
  CHECK(d["regressions"].empty());
  CHECK(d["fixes"].empty());
  CHECK(d["still_failing"].size() == 1);
}

TEST_CASE("runs diff lists regressions and fixes by case id", "[e2e][run]") {
  Fixture f;
  f.run({"run", "--provider", "local"});
  // A second provider whose answers differ: the default answer for everything.
  StandIn plain;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(plain, "plain");
  f.run({"run", "--provider", "plain"});
  auto d = json::parse(f.run({"runs", "diff", "1", "2", "--json"}).out);
  REQUIRE(d["regressions"].size() == 1);
  CHECK(d["regressions"][0]["case"] == "refund-window");
  CHECK(d["regressions"][0]["incident"] == "INC-7");
  REQUIRE(d["fixes"].size() == 1);
  CHECK(d["fixes"][0]["case"] == "tone-apology");
  CHECK(d["changed"]["provider"]["b"] == "plain");
  CHECK(d["by_incident"]["INC-7"]["a"]["rate"] == 1.0);
  CHECK(d["by_incident"]["INC-7"]["b"]["rate"] == 0.0);
}

TEST_CASE("runs show gives each pass rate a 95% interval, and runs diff the paired difference",
          "[e2e][run][stats]") {
  Fixture f;
  f.run({"run", "--provider", "local"}); // refund-window and greeting pass, tone-apology fails
  auto show = json::parse(f.run({"runs", "show", "--json"}).out);
  CHECK(show["pass_rate"]["value"] == Approx(2.0 / 3));
  CHECK(show["pass_rate"]["low"] == Approx(0.2077).margin(1e-4)); // Wilson, 2 of 3
  CHECK(show["pass_rate"]["high"] == Approx(0.9385).margin(1e-4));
  CHECK(show["pass_rate"]["method"] == "wilson");
  CHECK(show["pass_rate"]["cases"] == 3);
  CHECK(show["pass_rate_clustered"]["method"] == "clustered by incident");
  CHECK(show["pass_rate_clustered"]["clusters"] == 3); // INC-7, and two cases of their own
  CHECK(show["by_incident"]["INC-7"]["pass_rate"]["value"] == 1.0);
  CHECK(show["by_tag"]["tone"]["pass_rate"]["high"] < 1.0);
  CHECK_THAT(f.run({"runs", "show"}).out,
             Catch::Contains("pass rate 66.7% (95% CI 20.8–93.9%), wilson; clustered by incident"));

  StandIn plain; // refund-window now fails, tone-apology now passes
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(plain, "plain");
  f.run({"run", "--provider", "plain"});
  auto d = json::parse(f.run({"runs", "diff", "1", "2", "--json"}).out);
  CHECK(d["difference"]["pairs"] == 3);
  CHECK(d["difference"]["pass_to_fail"] == 1);
  CHECK(d["difference"]["fail_to_pass"] == 1);
  CHECK(d["difference"]["value"] == 0.0);
  CHECK(d["difference"]["p_value"] == 1.0);
  CHECK(d["difference"]["test"] == "mcnemar-exact");
  REQUIRE(d["regressions"].size() == 1);
  CHECK(d["regressions"][0]["drop_p_value"] == Approx(0.5)); // one trial each: chance explains it
  CHECK(d["regressions"][0]["within_noise"] == true);
  auto text = f.run({"runs", "diff", "1", "2"}).out;
  CHECK_THAT(text, Catch::Contains("pass rate B − A: +0.0 points"));
  CHECK_THAT(text, Catch::Contains("1 pass → fail, 1 fail → pass; p = 1 (mcnemar-exact)"));
  CHECK_THAT(text, Catch::Contains("pass → fail  within noise (p = 0.50)"));
}

TEST_CASE("plan says how many cases and trials see a drop, assumed or measured in a run",
          "[e2e][run][stats]") {
  Fixture f;
  auto assumed = json::parse(f.run({"plan", "--detect", "0.05", "--json"}).out);
  CHECK(assumed["variance"]["value"] == 0.25);
  CHECK(assumed["needed"][0] == json({{"trials", 1}, {"cases", 1237}}));
  CHECK(assumed["needed"][2] == json({{"trials", 3}, {"cases", 413}}));
  CHECK_FALSE(assumed.contains("baseline"));
  auto text = f.run({"plan", "--detect", "0.05"}).out;
  CHECK_THAT(text, Catch::Contains("To see a drop of 5.0 points in pass rate 80% of the time"));
  CHECK_THAT(text, Catch::Contains("assumed: the most a pass/fail can have"));

  f.run({"run", "--provider", "local", "--trials", "2"}); // 2 of 3 cases pass both trials
  auto measured = json::parse(
      f.run({"plan", "--detect", "0.5", "--power", "0.9", "--baseline-run", "latest", "--json"})
          .out);
  CHECK(measured["variance"]["value"] == 0.0); // no case both passed and failed
  CHECK_THAT(measured["variance"]["source"].get<std::string>(),
             Catch::Contains("within its cases' trials"));
  CHECK(measured["baseline"]["run"] == 1);
  CHECK(measured["baseline"]["cases"] == 3);
  CHECK(measured["baseline"]["trials"] == 2);
  // Without noise a drop shows once 5 cases flip (0.5^5 < 0.05): 3 cases see at most a drop of 1.
  CHECK(measured["baseline"]["detectable_drop"] == 1.0);
  CHECK(measured["baseline"]["trials_needed"].is_null());
  CHECK_THAT(f.run({"plan", "--detect", "0.5", "--baseline-run", "1"}).out,
             Catch::Contains("No number of trials sees 50.0: add cases."));

  for (auto bad : {"0", "1", "5", "-0.1"}) {
    auto r = f.repo.evalkeep({"plan", "--detect", bad});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--detect"));
  }
  auto r = f.repo.evalkeep({"plan", "--detect", "0.1", "--alpha", "0.7"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--alpha 0.7"));
  r = f.repo.evalkeep({"plan", "--detect", "0.1", "--baseline-run", "9"});
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("9"));
}

TEST_CASE("the API key is sent as a bearer token and never stored", "[e2e][run][secrets]") {
  Fixture f;
  const std::string key = "sk-CANARY-0123456789abcdef";
  f.run({"run", "--provider", "local", "--case", "greeting"}, {"OPENAI_API_KEY=" + key});
  auto stats = f.server.stats();
  CHECK(stats["headers_seen"]["authorization"] == 1);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(f.repo.path())) {
    if (!entry.is_regular_file() || entry.path().string().find("/.git/") != std::string::npos)
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    INFO(entry.path());
    CHECK(bytes.find("CANARY") == std::string::npos);
  }
}

TEST_CASE("a 429 with Retry-After: 1 is retried once, after about a second", "[e2e][run]") {
  Fixture f;
  f.run({"add", "--id", "busy-case", "--prompt", "Are you busy?", "--expect", "contains:Sorry",
         "--provenance", "spec:retry"});
  auto start = std::chrono::steady_clock::now();
  auto r = f.run({"run", "--provider", "local", "--case", "busy-case", "--json"});
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.exit_code == 0);
  CHECK(f.server.requests() == 2);
  CHECK(took >= std::chrono::milliseconds(950));
  CHECK(took < std::chrono::seconds(5));
  auto rows = f.repo.run({"sqlite3", ".evalkeep/runs.db",
                          "SELECT attempt, http_status, outcome FROM attempts ORDER BY attempt"});
  CHECK(rows.out == "1|429|retry\n2|200|answer\n");
}

TEST_CASE("a persistent 503 is an infrastructure error with exit code 3", "[e2e][run]") {
  Fixture f;
  f.run({"add", "--id", "down", "--prompt", "The service is always down", "--expect", "contains:x",
         "--provenance", "spec:down"});
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(f.server, "fast-retry", "openai", "max_attempts = 2\n");
  auto r = f.repo.evalkeep({"run", "--provider", "fast-retry", "--case", "down", "--json"});
  CHECK(r.exit_code == 3);
  auto s = json::parse(r.out);
  CHECK(s["errored"] == 1);
  CHECK(f.server.requests() == 2);
}

TEST_CASE("a missing key for a remote provider is an environment error naming the variable",
          "[e2e][run][secrets]") {
  Fixture f;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.remote]\ntype = \"openai\"\nbase_url = \"https://api.example.invalid/v1\"\n"
         "model = \"m\"\napi_key_env = \"EVALKEEP_TEST_MISSING_KEY\"\n";
  auto r = f.repo.evalkeep({"run", "--provider", "remote"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("EVALKEEP_TEST_MISSING_KEY is not set"));
  CHECK(r.out.empty());
}

TEST_CASE("an unauthorized key stops the run early instead of failing every case", "[e2e][run]") {
  StandIn denied(R"({"default": {"answer": "x"}, "rules": [{"match": "", "fault": "401"}]})");
  Fixture f;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(denied, "denied");
  auto r = f.repo.evalkeep({"run", "--provider", "denied", "-j", "1"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("stopped early"));
  CHECK(denied.requests() == 1);
}

TEST_CASE("an interrupted run resumes with exactly the missing requests", "[e2e][run]") {
  StandIn slow({}, 150);
  Repo repo;
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  for (int i = 0; i < 12; ++i)
    REQUIRE(repo.evalkeep({"add", "--id", "case-" + std::to_string(i), "--prompt",
                           "question " + std::to_string(i), "--expect", "contains:help",
                           "--provenance", "spec:resume"})
                .exit_code == 0);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(slow);

  // Start a run with one request at a time and kill it part-way.
  std::string bin = EVALKEEP_BIN;
  std::vector<std::string> args{bin, "run", "--provider", "local", "-j", "1", "-q"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, repo.path().c_str());
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  // Killed once the first results are stored, however long a loaded machine takes to get there:
  // the results so far, or -1 while there is no runs store to ask yet.
  auto stored = [&] {
    auto r = repo.run({"sqlite3", ".evalkeep/runs.db", "SELECT count(*) FROM results"});
    return r.exit_code == 0 && !r.out.empty() ? std::stoi(r.out) : -1;
  };
  int status = 0;
  bool exited = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stored() < 1 && std::chrono::steady_clock::now() < deadline &&
         !(exited = ::waitpid(pid, &status, WNOHANG) == pid))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE_FALSE(exited); // 12 answers of 150 ms each, one at a time: it cannot have finished
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);

  int before = stored();
  REQUIRE(before > 0);
  REQUIRE(before < 12);
  int requests_before = slow.requests();

  auto resumed = repo.evalkeep({"run", "--resume", "--json"});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(json::parse(resumed.out)["passed"] == 12);
  CHECK(slow.requests() - requests_before == 12 - before);
  auto total = repo.run(
      {"sqlite3", ".evalkeep/runs.db", "SELECT count(*), count(DISTINCT case_id) FROM results"});
  CHECK(total.out == "12|12\n");
  auto again = repo.evalkeep({"run", "--resume"});
  CHECK(again.exit_code == 1); // nothing left to resume
}

TEST_CASE("offline mode replays the cache and never calls the model", "[e2e][run]") {
  Fixture f;
  f.run({"run", "--provider", "local", "--case", "greeting"});
  auto offline = f.repo.evalkeep({"run", "--provider", "local", "--offline", "--json"});
  auto s = json::parse(offline.out);
  CHECK(s["passed"] == 1);  // greeting, from the cache
  CHECK(s["errored"] == 2); // the others had no cached answer
  CHECK(offline.exit_code == 3);
  CHECK(f.server.requests() == 1);
}

TEST_CASE("cached answers move between machines with cache export and import --trust",
          "[e2e][run]") {
  Fixture f;
  f.run({"run", "--provider", "local"});
  f.run({"cache", "export", "answers.jsonl"});
  auto other =
      f.repo.evalkeep({"--runs-db", "other.db", "cache", "import", "--trust", "answers.jsonl"});
  CHECK(other.exit_code == 0);
  CHECK_THAT(other.out, Catch::Contains("imported 3 cached answers"));
  auto replay = f.repo.evalkeep({"--runs-db", "other.db", "run", "--provider", "local", "--json"});
  auto s = json::parse(replay.out);
  CHECK(s["replayed"] == 3);
  CHECK(s["replayed_from"][0]["label"] == "imported from answers.jsonl");
  CHECK(f.server.requests() == 3);
}

TEST_CASE("an exec provider runs the user's command with the case on stdin", "[e2e][run]") {
  Fixture f;
  evalkeep::test::write_file(
      f.repo.path() / "agent.sh",
      "#!/bin/sh\ngrep -q refund && echo 'Within 30 days.' || echo 'help'\n");
  std::filesystem::permissions(f.repo.path() / "agent.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"./agent.sh\"]\n";
  auto r = f.run({"run", "--provider", "agent", "--json"});
  auto s = json::parse(r.out);
  CHECK(s["passed"] == 3); // tone-apology: "help" has no "Unfortunately"
  CHECK(s["requests"] == 3);
}

TEST_CASE("judge assertions are scored by the judge provider and its verdict is kept",
          "[e2e][run]") {
  Fixture f;
  f.run({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
         "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  auto r = f.run({"run", "--provider", "local", "--judge", "local", "--case", "judged", "--json"});
  CHECK(json::parse(r.out)["passed"] == 1);
  CHECK(f.server.requests() == 2); // the answer and the judge call
  auto rows = f.repo.run({"sqlite3", ".evalkeep/runs.db", "SELECT assertions FROM results"});
  CHECK_THAT(rows.out, Catch::Contains("judge scored 0.90"));
  CHECK_THAT(rows.out, Catch::Contains("polite"));
  auto unjudged = f.repo.evalkeep({"run", "--provider", "local", "--case", "judged", "--json"});
  CHECK(unjudged.exit_code == 1);
  CHECK_THAT(unjudged.out, Catch::Contains("no judge provider"));
}

TEST_CASE("a run records the commit, branch and dirty flag without touching git's index",
          "[e2e][run][git]") {
  Fixture f;
  f.repo.git({"add", "-A"});
  f.repo.git({"commit", "-q", "-m", "suite"});
  std::string head = f.repo.git({"rev-parse", "HEAD"});
  head = head.substr(0, head.find('\n'));
  std::string branch = f.repo.git({"symbolic-ref", "--short", "HEAD"});
  branch = branch.substr(0, branch.find('\n'));
  auto index_before = evalkeep::test::read_file(f.repo.path() / ".git" / "index");
  // A tracked file touched but not changed: `git status` would rewrite the index to note the
  // new time, taking .git/index.lock, and a user's git command at that moment would fail.
  std::filesystem::last_write_time(f.repo.path() / "evalkeep.toml",
                                   std::filesystem::file_time_type::clock::now() +
                                       std::chrono::seconds(5));
  f.run({"run", "--provider", "local"});
  CHECK(evalkeep::test::read_file(f.repo.path() / ".git" / "index") == index_before);
  auto facts = [&] {
    return f.repo
        .run({"sqlite3", ".evalkeep/runs.db",
              "SELECT git_commit, git_branch, git_dirty FROM runs ORDER BY id DESC LIMIT 1"})
        .out;
  };
  CHECK(facts() == head + "|" + branch + "|0\n");
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << "\n";
  f.run({"run", "--provider", "local"});
  CHECK(facts() == head + "|" + branch + "|1\n");
}

TEST_CASE("each request has its own Idempotency-Key, kept by its retries, new in a new store",
          "[e2e][run]") {
  Fixture f;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(f.server, "gateway", "openai", "idempotency_header = true\n");
  f.run({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
         "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  f.run({"add", "--id", "busy-once", "--prompt", "I am busy", "--expect", "contains:wait",
         "--provenance", "spec:retry"});
  auto keys = [&] {
    std::map<std::string, std::vector<std::string>> by_prompt;
    for (const auto& e : f.server.log()) {
      std::string key = e["key"];
      REQUIRE(e["idempotency_key"].is_string());
      by_prompt[key.starts_with("You grade") ? "judge" : key].push_back(e["idempotency_key"]);
    }
    return by_prompt;
  };
  auto cases = std::vector<std::string>{"--case", "judged", "--case", "busy-once"};
  auto args = std::vector<std::string>{"run", "--provider", "gateway", "--judge", "gateway"};
  args.insert(args.end(), cases.begin(), cases.end());
  f.run(args);
  auto first = keys();
  // The answer and its judge call are two requests: a gateway must not answer one with the other.
  REQUIRE(first["Hello again"].size() == 1);
  REQUIRE(first["judge"].size() == 1);
  CHECK(first["Hello again"][0] != first["judge"][0]);
  // A 429 and its retry are one request.
  REQUIRE(first["I am busy"].size() == 2);
  CHECK(first["I am busy"][0] == first["I am busy"][1]);
  // A new runs store numbers its runs from 1 again; the keys are new all the same.
  for (const char* file : {"runs.db", "runs.db-wal", "runs.db-shm"})
    std::filesystem::remove(f.repo.path() / ".evalkeep" / file);
  f.server.reset();
  f.run(args);
  auto second = keys();
  CHECK(second["Hello again"][0] != first["Hello again"][0]);
  CHECK(second["judge"][0] != first["judge"][0]);
}

TEST_CASE("the summary names the first failing assertion of a case", "[e2e][run]") {
  Fixture f;
  f.run({"add", "--id", "two-checks", "--prompt", "Hello there, twice", "--expect", "contains:help",
         "--expect", "min-length:500", "--expect", "contains:nowhere", "--provenance",
         "spec:order"});
  auto r = f.run({"run", "--provider", "local", "--case", "two-checks", "--json"});
  auto s = json::parse(r.out);
  REQUIRE(s["failures"].size() == 1);
  CHECK(s["failures"][0]["reason"] == "min-length:500: 21 characters (at least 500)");
}

TEST_CASE("cases waiting on a judge start first, and judge calls go ahead of queued answers",
          "[e2e][run]") {
  Fixture f;
  f.run({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
         "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  f.run({"add", "--id", "zz-judged", "--prompt", "Hello once more", "--expect",
         "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  auto r = f.run({"run", "--provider", "local", "--judge", "local", "-j", "1", "--json"});
  CHECK(json::parse(r.out)["passed"] == 4);
  // One request in flight: the log is the order evalkeep sent them in. The judged cases come
  // first, in id order. A slot freed by a successful answer takes the next queued call before
  // that answer is read; the judge calls the answers then ask for go ahead of the answers still
  // queued, so both are sent before any other case.
  std::vector<std::string> order;
  for (const auto& e : f.server.log()) {
    std::string key = e["key"];
    order.push_back(key.starts_with("You grade") ? "judge" : key);
  }
  CHECK(order == std::vector<std::string>{"Hello again", "Hello once more", "judge", "judge",
                                          "Hello there", "Can I get a refund after 45 days?",
                                          "My order is late."});
}

TEST_CASE("the Anthropic provider talks to the Messages API", "[e2e][run]") {
  Fixture f;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(f.server, "claude", "anthropic");
  auto r = f.run({"run", "--provider", "claude", "--json"}, {"ANTHROPIC_API_KEY=test-key"});
  auto s = json::parse(r.out);
  CHECK(s["passed"] == 2);
  CHECK(f.server.stats()["by_path"]["/v1/messages"] == 3);
}

TEST_CASE("shards run disjoint cases and merge into one run", "[e2e][run][shard]") {
  Fixture f;
  for (int i = 0; i < 20; ++i)
    f.run({"add", "--id", "extra-" + std::to_string(i), "--prompt", "Hello " + std::to_string(i),
           "--expect", "contains:help", "--provenance", "spec:shards"});
  auto s1 = json::parse(
      f.run({"run", "--provider", "local", "--shard", "1/2", "--runs-db", "s1.db", "--json"}).out);
  auto s2 = json::parse(
      f.run({"run", "--provider", "local", "--shard", "2/2", "--runs-db", "s2.db", "--json"}).out);
  CHECK(s1["total"].get<int>() + s2["total"].get<int>() == 23);
  CHECK(s1["total"].get<int>() > 0);
  CHECK(s2["total"].get<int>() > 0);
  CHECK(f.server.requests() == 23);
  // The split is stable: the same shard runs the same cases again.
  auto again = json::parse(
      f.run({"run", "--provider", "local", "--shard", "1/2", "--runs-db", "again.db", "--json"})
          .out);
  CHECK(again["total"] == s1["total"]);

  f.run({"runs", "merge", "s1.db", "s2.db", "-o", "merged.db"});
  auto merged =
      json::parse(f.run({"--runs-db", "merged.db", "runs", "show", "latest", "--json"}).out);
  CHECK(merged["total"] == 23);
  CHECK(merged["passed"] == 22);
  CHECK(merged["failed"] == 1);
  CHECK(merged["cases"].size() == 23);

  auto overlap = f.repo.evalkeep({"runs", "merge", "s1.db", "again.db", "-o", "bad.db"});
  CHECK(overlap.exit_code == 2);
  CHECK_THAT(overlap.err, Catch::Contains("shard 1/2 appears twice"));
  CHECK(f.repo.evalkeep({"run", "--provider", "local", "--shard", "3/2"}).exit_code == 2);
}

TEST_CASE("an exec program gets the conversation, not the assertions, and no key it was not "
          "given",
          "[e2e][run][exec]") {
  for (bool passed : {false, true}) {
    DYNAMIC_SECTION("pass_env " << passed) {
      Fixture f;
      evalkeep::test::write_file(
          f.repo.path() / "agent.sh",
          "#!/bin/sh\ncat > stdin.json\nenv > env.txt\necho 'Within 30 days.'\n");
      std::filesystem::permissions(f.repo.path() / "agent.sh", std::filesystem::perms::owner_all);
      std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
          << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"./agent.sh\"]\n"
          << (passed ? "pass_env = [\"MY_AGENT_API_KEY\"]\n" : "")
          << "\n[providers.other]\ntype = \"openai\"\nmodel = \"m\"\napi_key_env = "
             "\"TEAM_GATEWAY_TOKEN\"\n";
      auto r =
          f.repo.evalkeep({"run", "--provider", "agent", "--case", "refund-window", "-q"}, {},
                          {"OPENAI_API_KEY=sk-canary-openai", "MY_AGENT_API_KEY=sk-canary-mine",
                           "TEAM_GATEWAY_TOKEN=tok-canary", "EVALKEEP_HARMLESS=visible"});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      auto input = json::parse(evalkeep::test::read_file(f.repo.path() / "stdin.json"));
      CHECK(input["id"] == "refund-window");
      CHECK(input["trial"] == 0);
      CHECK(input["purpose"] == "answer");
      CHECK(input["messages"][0]["content"] == "Can I get a refund after 45 days?");
      CHECK_FALSE(input.contains("expect"));
      CHECK(evalkeep::test::read_file(f.repo.path() / "stdin.json").find("icontains") ==
            std::string::npos);
      auto env = evalkeep::test::read_file(f.repo.path() / "env.txt");
      CHECK(env.find("sk-canary-openai") == std::string::npos);
      CHECK(env.find("tok-canary") == std::string::npos);
      CHECK((env.find("sk-canary-mine") != std::string::npos) == passed);
      CHECK(env.find("EVALKEEP_HARMLESS=visible") != std::string::npos);
    }
  }
}

TEST_CASE("exec programs that exit without reading a large input never kill the run",
          "[e2e][run][exec]") {
  Fixture f;
  // 1 MB prompts, so writing stdin meets a closed pipe; eight at once.
  evalkeep::test::write_file(f.repo.path() / "long.txt", std::string(1 << 20, 'q'));
  for (int i = 0; i < 24; ++i)
    f.run({"add", "--id", fmt::format("long-{}", i), "--prompt-file", "long.txt", "--expect",
           "contains:x", "--provenance", "spec:long"});
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.quitter]\ntype = \"exec\"\ncommand = [\"true\"]\n";
  auto r = f.repo.evalkeep({"run", "--provider", "quitter", "-j", "8", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 1); // every case fails its assertion, and the run ends normally
  auto s = json::parse(r.out);
  CHECK(s["failed"].get<int>() + s["passed"].get<int>() >= 24);
}

namespace {

// A case record for `import` with `n` assertions of `type` (judge: a rubric each).
std::string case_with_assertions(const std::string& id, int n, const std::string& type) {
  json expect = json::array();
  for (int i = 0; i < n; ++i)
    expect.push_back(type == "judge" ? json{{"type", "judge"},
                                            {"rubric", "greets politely " + std::to_string(i)},
                                            {"threshold", 0.5}}
                                     : json{{"type", type}, {"value", "help"}});
  return json{{"type", "case"},
              {"id", id},
              {"prompt", "Hello from " + id},
              {"expect", expect},
              {"provenance", {{"kind", "spec"}, {"note", "limits"}}}}
             .dump() +
         "\n";
}

} // namespace

TEST_CASE("a case over the assertion limit is an error of that case, and one at the limit is "
          "judged in full",
          "[e2e][run][limits]") {
  Fixture f;
  evalkeep::test::write_file(f.repo.path() / "many.jsonl",
                             case_with_assertions("at-limit", 1000, "judge"));
  f.run({"import", "-q", "many.jsonl"});
  // A suite written by another tool (or an older evalkeep) can hold more than add and import
  // take: a case of 1,025 judge assertions, the 1,025th of which took another trial's call id.
  evalkeep::test::RawSqlite(f.repo.suite())
      .exec("INSERT INTO cases (id, prompt, expect, provenance_kind, provenance_note, status, "
            "content_hash) SELECT 'over-limit', 'Hello from over-limit', (SELECT "
            "json_group_array(json(value)) FROM (SELECT value FROM json_each(c.expect) UNION ALL "
            "SELECT value FROM json_each(c.expect) LIMIT 1025)), provenance_kind, "
            "provenance_note, status, content_hash FROM cases c WHERE id = 'at-limit'");
  // Each judge assertion is a judge call of its own, in flight with the others.
  auto r = f.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--case", "at-limit",
                            "--case", "over-limit", "--case", "greeting", "-j", "16", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 3); // an error, not a crash
  auto s = json::parse(r.out);
  CHECK(s["passed"] == 2);
  CHECK(s["errored"] == 1);
  REQUIRE(s["failures"].size() == 1);
  CHECK(s["failures"][0]["case"] == "over-limit");
  CHECK(s["failures"][0]["reason"] ==
        "case over-limit has 1025 assertions, more than the 1000 a case may hold");
  // 1 answer and 1,000 judge calls for at-limit, 1 answer for greeting, nothing for over-limit.
  CHECK(f.server.requests() == 1002);
  auto judged = f.repo.run({"sqlite3", ".evalkeep/runs.db",
                            "SELECT json_array_length(assertions) FROM results WHERE case_id = "
                            "'at-limit'; SELECT error_class FROM results WHERE case_id = "
                            "'over-limit'"});
  CHECK(judged.out == "1000\ntoo-many-assertions\n");
  auto scored = f.repo.run({"sqlite3", ".evalkeep/runs.db",
                            "SELECT count(*) FROM results, json_each(results.assertions) WHERE "
                            "case_id = 'at-limit' AND json_each.value ->> 'reason' LIKE 'judge "
                            "scored 0.90%'"});
  CHECK(scored.out == "1000\n");
}

TEST_CASE("an exec program's stderr and answer are cleared of the keys its pass_env gives it",
          "[e2e][run][exec][secrets]") {
  Fixture f;
  const std::string key = "sk-canary-passed-0123456789abcdef";
  // The key well inside the 300 bytes an error quotes, and again across the cut at byte 300.
  evalkeep::test::write_file(
      f.repo.path() / "leaky.sh",
      "#!/bin/sh\ncat > /dev/null\necho \"answer with $MY_AGENT_API_KEY\"\n"
      "printf 'failed with key %s ' \"$MY_AGENT_API_KEY\" >&2\n"
      "printf '%0250d' 0 >&2\nprintf '%s and more\\n' \"$MY_AGENT_API_KEY\" >&2\nexit 1\n");
  std::filesystem::permissions(f.repo.path() / "leaky.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.leaky]\ntype = \"exec\"\ncommand = [\"./leaky.sh\"]\n"
         "pass_env = [\"MY_AGENT_API_KEY\"]\n";
  auto r = f.repo.evalkeep({"run", "--provider", "leaky", "--case", "greeting"}, {},
                           {"MY_AGENT_API_KEY=" + key});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("exit code 1: failed with key [redacted] 0000"));
  auto json_out = f.repo.evalkeep({"runs", "show", "--json"});
  CHECK_THAT(json_out.out, Catch::Contains("[redacted]"));
  for (const auto& text : {r.out, r.err, json_out.out})
    CHECK(text.find("sk-canary") == std::string::npos);
  f.repo.run({"sqlite3", ".evalkeep/runs.db", "PRAGMA wal_checkpoint(TRUNCATE)"});
  auto stored = evalkeep::test::read_file(f.repo.path() / ".evalkeep" / "runs.db");
  CHECK(stored.find("sk-canary") == std::string::npos);
  // A key cut at the 300th byte leaves its start behind unless it is cleared before the cut.
  CHECK(stored.find("sk-c") == std::string::npos);
}

TEST_CASE("a failed exec call's control characters and broken UTF-8 leave the gate's JUnit "
          "well-formed",
          "[e2e][run][exec][gate]") {
  Fixture f;
  evalkeep::test::write_file(f.repo.path() / "noisy.sh",
                             "#!/bin/sh\ncat > /dev/null\nprintf 'bad \\033[31mred\\007 \\377\\376 "
                             "end' >&2\nexit 2\n");
  std::filesystem::permissions(f.repo.path() / "noisy.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.noisy]\ntype = \"exec\"\ncommand = [\"./noisy.sh\"]\n";
  f.repo.git({"add", "-A"});
  f.repo.git({"commit", "-q", "-m", "suite"});
  auto r = f.repo.evalkeep({"run", "--provider", "noisy"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("exit code 2: bad ^[[31mred^G \xEF\xBF\xBD\xEF\xBF\xBD end"));
  auto gate = f.repo.evalkeep({"gate", "--base", "HEAD", "--run", "latest", "--junit", "gate.xml"});
  INFO(gate.out << gate.err);
  REQUIRE(std::filesystem::exists(f.repo.path() / "gate.xml"));
  auto lint = f.repo.run({"xmllint", "--noout", "gate.xml"});
  INFO(lint.err);
  CHECK(lint.exit_code == 0);
  auto xml = evalkeep::test::read_file(f.repo.path() / "gate.xml");
  CHECK(xml.find('\x1b') == std::string::npos);
  CHECK_THAT(xml, Catch::Contains("bad ^[[31mred^G"));
}

TEST_CASE("run --quiet prints nothing but what went wrong, and --json still prints JSON",
          "[e2e][run]") {
  Fixture f;
  auto quiet = f.repo.evalkeep({"run", "--provider", "local", "--quiet"});
  CHECK(quiet.exit_code == 1); // tone-apology fails: the exit code says so
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
  auto json_out = f.repo.evalkeep({"run", "--provider", "local", "-q", "--json"});
  CHECK(json_out.exit_code == 1);
  CHECK(json::parse(json_out.out)["failed"] == 1);
  StandIn denied(R"({"default": {"answer": "x"}, "rules": [{"match": "", "fault": "401"}]})");
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(denied, "denied");
  auto stopped = f.repo.evalkeep({"run", "--provider", "denied", "-j", "1", "-q"});
  CHECK(stopped.exit_code == 3);
  CHECK(stopped.out.empty());
  CHECK_THAT(stopped.err, Catch::StartsWith("evalkeep: error: run 3 stopped early"));
}

TEST_CASE("shards 1/3 and 2/3 merge into a run marked incomplete that names shard 3/3",
          "[e2e][run][shard]") {
  Fixture f;
  for (int i = 0; i < 27; ++i)
    f.run({"add", "--id", "extra-" + std::to_string(i), "--prompt", "Hello " + std::to_string(i),
           "--expect", "contains:help", "--provenance", "spec:shards"});
  int ran = 0;
  for (const char* shard : {"1/3", "2/3"}) {
    auto s = json::parse(f.run({"run", "--provider", "local", "--shard", shard, "--runs-db",
                                fmt::format("s{}.db", shard[0]), "--json"})
                             .out);
    ran += s["total"].get<int>();
  }
  REQUIRE(ran < 30);
  auto merged = f.repo.evalkeep({"runs", "merge", "s1.db", "s2.db", "-o", "merged.db"});
  CHECK(merged.exit_code == 1);
  CHECK_THAT(merged.out, Catch::Contains("merged 2 shards into run 1 of merged.db"));
  CHECK_THAT(merged.err, Catch::Contains("evalkeep: error: run 1 is incomplete: shard 3/3 not "
                                         "merged"));
  auto show = json::parse(f.run({"--runs-db", "merged.db", "runs", "show", "--json"}).out);
  CHECK(show["state"] == "stopped");
  CHECK(show["stop_reason"] == "incomplete: shard 3/3 not merged");
  CHECK(show["total"] == ran);
  CHECK(show["exit_code"] == 3);
  CHECK_THAT(f.run({"--runs-db", "merged.db", "runs", "show"}).out,
             Catch::Contains("  incomplete: shard 3/3 not merged\n  run the missing shards"));
  // Resuming cannot finish what no shard planned.
  auto resume = f.repo.evalkeep({"--runs-db", "merged.db", "run", "--resume", "1"});
  CHECK(resume.exit_code == 1);
  CHECK_THAT(resume.err, Catch::Contains("run 1 is a merge that lacks shard 3/3"));
  CHECK(f.repo.evalkeep({"--runs-db", "merged.db", "run", "--resume"}).exit_code == 1);

  // With the third shard, the merge is whole.
  f.run({"run", "--provider", "local", "--shard", "3/3", "--runs-db", "s3.db"});
  f.run({"runs", "merge", "s1.db", "s2.db", "s3.db", "-o", "whole.db"});
  auto whole = json::parse(f.run({"--runs-db", "whole.db", "runs", "show", "--json"}).out);
  CHECK(whole["state"] == "finished");
  CHECK(whole["total"] == 30);
}

TEST_CASE("shards of different splits are refused and nothing is written", "[e2e][run][shard]") {
  Fixture f;
  for (int i = 0; i < 27; ++i)
    f.run({"add", "--id", "extra-" + std::to_string(i), "--prompt", "Hello " + std::to_string(i),
           "--expect", "contains:help", "--provenance", "spec:shards"});
  f.run({"run", "--provider", "local", "--shard", "1/2", "--runs-db", "half.db"});
  f.run({"run", "--provider", "local", "--shard", "2/3", "--runs-db", "third.db"});
  f.run({"run", "--provider", "local", "--runs-db", "plain.db"});
  auto r = f.repo.evalkeep({"runs", "merge", "half.db", "third.db", "-o", "merged.db"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("third.db: its run is shard 2/3, but half.db's is one of 2: "
                                    "shards of different splits cannot be merged"));
  CHECK_FALSE(std::filesystem::exists(f.repo.path() / "merged.db"));
  r = f.repo.evalkeep({"runs", "merge", "half.db", "plain.db", "-o", "merged.db"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("plain.db: its latest run (1) is not a shard"));
  CHECK_FALSE(std::filesystem::exists(f.repo.path() / "merged.db"));
}

TEST_CASE("a merge that fails part-way leaves no run behind", "[e2e][run][shard]") {
  Fixture f;
  f.run({"run", "--provider", "local", "--shard", "1/2", "--runs-db", "s1.db"});
  f.run({"run", "--provider", "local", "--shard", "2/2", "--runs-db", "s2.db"});
  f.run({"run", "--provider", "local", "--case", "greeting", "--runs-db", "merged.db"});
  // The store refuses the merge's last table; what came before it must not stay.
  f.repo.run({"sqlite3", "merged.db",
              "CREATE TRIGGER no_replays BEFORE INSERT ON attempts WHEN NEW.run_id > 1 BEGIN "
              "SELECT RAISE(ABORT, 'no room'); END"});
  auto r = f.repo.evalkeep({"runs", "merge", "s1.db", "s2.db", "-o", "merged.db"});
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("no room"));
  auto runs = f.repo.run({"sqlite3", "merged.db",
                          "SELECT count(*) FROM runs; SELECT count(*) FROM run_cases; SELECT "
                          "count(*) FROM results"});
  CHECK(runs.out == "1\n1\n1\n");
  CHECK(f.repo.run({"sqlite3", "merged.db", "PRAGMA integrity_check"}).out == "ok\n");
}

TEST_CASE("a flaky case reads '2 of 3 passed', and runs diff shows it flaky with the trials that "
          "changed",
          "[e2e][run]") {
  Fixture f;
  // The first trial's answer lacks the word the case wants; the others have it.
  evalkeep::test::write_file(
      f.repo.path() / "flip.sh",
      "#!/bin/sh\ngrep -q '\"trial\":0' && echo 'Hi.' || echo 'I can help.'\n");
  std::filesystem::permissions(f.repo.path() / "flip.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.flip]\ntype = \"exec\"\ncommand = [\"./flip.sh\"]\n";
  f.run({"run", "--provider", "local", "--case", "greeting"});
  auto text = f.run({"run", "--provider", "flip", "--case", "greeting", "--trials", "3"});
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.out,
             Catch::Contains("greeting      -         fail, 2 of 3 passed  contains:help"));
  CHECK_THAT(f.run({"runs", "show"}).out, Catch::Contains("fail     2 of 3 trials passed (flaky)"));

  auto d = json::parse(f.run({"runs", "diff", "1", "2", "--json"}).out);
  CHECK(d["regressions"].empty());
  REQUIRE(d["flaky"].size() == 1);
  CHECK(d["flaky"][0]["case"] == "greeting");
  CHECK(d["flaky"][0]["now_trials"]["text"] == "flaky (2 of 3 passed)");
  CHECK(d["changed"]["trials"]["a"] == "1");
  CHECK(d["changed"]["trials"]["b"] == "3");
  auto diff = f.run({"runs", "diff", "1", "2"}).out;
  CHECK_THAT(diff, Catch::Contains("  trials: 1 → 3\n"));
  CHECK_THAT(diff, Catch::Contains("regressions (0):"));
  CHECK_THAT(diff,
             Catch::Contains("flaky in B (passed in A) (1):\n  greeting      -         pass → "
                             "flaky (2 of 3 passed)"));
}

TEST_CASE("an exec run shows the command it ran and no HTTP status", "[e2e][run][exec]") {
  Fixture f;
  evalkeep::test::write_file(f.repo.path() / "agent.sh",
                             "#!/bin/sh\ncat > /dev/null\necho 'I can help.'\n");
  std::filesystem::permissions(f.repo.path() / "agent.sh", std::filesystem::perms::owner_all);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"./agent.sh\", \"--fast mode\"]\n";
  auto r = f.run({"run", "--provider", "agent", "--case", "greeting"});
  CHECK_THAT(r.out, Catch::StartsWith("run 1: 1 case against agent (exec: ./agent.sh '--fast "
                                      "mode')\n"));
  CHECK_THAT(f.run({"runs", "list"}).out, Catch::Contains("agent                exec: ./agent.sh"));
  auto statuses = f.repo.run(
      {"sqlite3", ".evalkeep/runs.db", "SELECT count(*), count(http_status) FROM attempts"});
  CHECK(statuses.out == "1|0\n");
  auto s = json::parse(f.run({"runs", "show", "--json"}).out);
  CHECK(s["command"] == json::array({"./agent.sh", "--fast mode"}));
  CHECK(s["exec_program"].is_string());
}
