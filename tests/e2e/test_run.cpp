// Running cases against the stand-in model server on 127.0.0.1.

#include "support/cli_runner.hpp"
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
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);

  auto stored = repo.run({"sqlite3", ".evalkeep/runs.db", "SELECT count(*) FROM results"});
  int before = std::stoi(stored.out);
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

TEST_CASE("cached answers move between machines with cache export and import", "[e2e][run]") {
  Fixture f;
  f.run({"run", "--provider", "local"});
  f.run({"cache", "export", "answers.jsonl"});
  auto other = f.repo.evalkeep({"--runs-db", "other.db", "cache", "import", "answers.jsonl"});
  CHECK(other.exit_code == 0);
  CHECK_THAT(other.out, Catch::Contains("imported 3 cached answers"));
  auto replay = f.repo.evalkeep({"--runs-db", "other.db", "run", "--provider", "local", "--json"});
  CHECK(json::parse(replay.out)["cached"] == 3);
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
