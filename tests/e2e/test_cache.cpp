// A cached answer never stands in for what is under test: an exec agent's cache key covers its
// code, answers brought from elsewhere are replayed only when the user says so, and every run
// counts its requests and its replays by provenance, as the stand-in's request log saw them.

#include "support/cli_runner.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::provider_table;
using evalkeep::test::read_file;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using evalkeep::test::write_file;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "signed out", "fault": "401", "times": 1},
    {"match": "You grade an AI assistant", "answer": "{\"score\": 0.9, \"rationale\": \"polite\"}"}
  ]
})";

// A repository with three cases and the stand-in as provider "local" (and as the judge).
struct Project {
  StandIn server{k_rules};
  Repo repo;
  Project() {
    ok({"init", "-q"});
    ok({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?", "--expect",
        "icontains:30 days", "--provenance", "spec:refunds"});
    ok({"add", "--id", "greeting", "--prompt", "Hello there", "--expect", "contains:help",
        "--provenance", "spec:greets"});
    ok({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
        "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  }
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args) const {
    auto r = repo.evalkeep(args);
    INFO("evalkeep " << args.at(0) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  // A run, which may fail a case (exit 1) but not err.
  json run_json(std::vector<std::string> args) const {
    args.insert(args.begin(), "run");
    args.push_back("--json");
    auto r = repo.evalkeep(args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    return json::parse(r.out);
  }
  // Requests the stand-in saw for answers (the case's prompt) and for the judge.
  std::pair<int, int> logged() const {
    int answers = 0, judge = 0;
    for (const auto& e : server.log())
      ++(e["key"].get<std::string>().starts_with("You grade") ? judge : answers);
    return {answers, judge};
  }
};

// An exec agent in bash that asks the stand-in through a helper module it sources, so that each
// of its invocations is one request in the stand-in's log. Its answer names both files' versions.
void write_agent(const Repo& repo, const StandIn& server, int agent_version, int helper_version) {
  write_file(repo.path() / "helper.sh",
             "# asks the model server for an answer to $1\n"
             "HELPER=" +
                 std::to_string(helper_version) +
                 "\n"
                 "ask() {\n"
                 "  local body=\"{\\\"model\\\":\\\"agent\\\",\\\"messages\\\":[{\\\"role\\\":"
                 "\\\"user\\\",\\\"content\\\":\\\"$1\\\"}]}\"\n"
                 "  exec 3<>/dev/tcp/127.0.0.1/" +
                 std::to_string(server.port()) +
                 " || return 1\n"
                 "  printf 'POST /v1/chat/completions HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n"
                 "Content-Type: application/json\\r\\nContent-Length: %s\\r\\n"
                 "Connection: close\\r\\n\\r\\n%s' \"${#body}\" \"$body\" >&3\n"
                 "  local reply\n"
                 "  reply=$(cat <&3)\n"
                 "  exec 3<&-\n"
                 "  printf '%s' \"$reply\" | sed -n 's/.*\"content\":\"\\([^\"]*\\)\".*/\\1/p'\n"
                 "}\n");
  write_file(repo.path() / "agent.sh", "# the agent under test, version " +
                                           std::to_string(agent_version) +
                                           "\n"
                                           ". ./helper.sh\n"
                                           "id=$(sed -n 's/.*\"id\":\"\\([^\"]*\\)\".*/\\1/p')\n"
                                           "echo \"$(ask \"$id\") (agent " +
                                           std::to_string(agent_version) + ", helper $HELPER)\"\n");
}

struct AgentProject : Project {
  AgentProject() {
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"bash\", \"agent.sh\"]\n";
    write_agent(repo, server, 1, 1);
  }
};

} // namespace

TEST_CASE("an exec agent whose code or imported module changed is called again, an unchanged "
          "one is replayed",
          "[e2e][cache][exec]") {
  AgentProject p;
  auto first = p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(first["passed"] == 1); // greeting; the agent answers the case id, not the refund question
  CHECK(p.server.requests() == 2);
  CHECK(first["requests"] == 2);
  CHECK(first["replayed"] == 0);

  // The same agent: every answer replayed, no call made.
  auto same = p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(p.server.requests() == 2);
  CHECK(same["requests"] == 0);
  CHECK(same["replayed"] == 2);
  CHECK(same["replayed_from"][0]["label"] == "made here by run 1");

  // The agent's own file changed: called again.
  write_agent(p.repo, p.server, 2, 1);
  auto changed =
      p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(p.server.requests() == 4);
  CHECK(changed["requests"] == 2);
  CHECK(changed["replayed"] == 0);

  // Only the module it sources changed: called again too.
  write_agent(p.repo, p.server, 2, 2);
  auto helper =
      p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(p.server.requests() == 6);
  CHECK(helper["requests"] == 2);
  auto rows = p.repo.run({"sqlite3", ".evalkeep/runs.db",
                          "SELECT answer FROM results WHERE run_id = 4 AND case_id = 'greeting'"});
  CHECK(rows.out == "I can help with that. (agent 2, helper 2)\n");
  // runs diff names the program's change; runs 1 and 2 ran the same one.
  auto diff = json::parse(p.ok({"runs", "diff", "1", "4", "--json"}).out);
  CHECK(diff["changed"].contains("exec_program"));
  diff = json::parse(p.ok({"runs", "diff", "1", "2", "--json"}).out);
  CHECK_FALSE(diff["changed"].contains("exec_program"));

  // Committing the agent as it is changes nothing; nor does a new case in the suite, a
  // changed evalkeep.toml or a report written into .evalkeep/.
  p.repo.git({"add", "-A"});
  p.repo.git({"commit", "-q", "-m", "agent 2"});
  p.ok({"add", "--id", "extra", "--prompt", "One more", "--expect", "contains:help", "--provenance",
        "spec:more"});
  std::ofstream(p.repo.path() / "evalkeep.toml", std::ios::app) << "\n# a comment\n";
  p.ok({"report", "latest", "-o", ".evalkeep/report.html"});
  auto committed =
      p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(p.server.requests() == 6);
  CHECK(committed["replayed"] == 2);
  CHECK(committed["replayed_from"][0]["label"] == "made here by run 4");

  // Back to the first version: the answers made for it then are replayed.
  write_agent(p.repo, p.server, 1, 1);
  auto back = p.run_json({"--provider", "agent", "--case", "greeting", "--case", "refund-window"});
  CHECK(p.server.requests() == 6);
  CHECK(back["replayed_from"][0]["label"] == "made here by run 1");
}

TEST_CASE("outside a git repository an exec agent is called every time, and --offline says why",
          "[e2e][cache][exec]") {
  StandIn server(k_rules);
  Repo repo(false);
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  REQUIRE(repo.evalkeep({"add", "--id", "greeting", "--prompt", "Hello there", "--expect",
                         "contains:help", "--provenance", "spec:greets"})
              .exit_code == 0);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"bash\", \"agent.sh\"]\n";
  write_agent(repo, server, 1, 1);
  for (int i = 1; i <= 2; ++i) {
    auto r = repo.evalkeep({"run", "--provider", "agent"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("1 request made (exec invocations"));
    CHECK_THAT(r.out, Catch::Contains("exec answers were not cached"));
    CHECK(server.requests() == i);
  }
  auto offline = repo.evalkeep({"run", "--provider", "agent", "--offline", "--json"});
  CHECK(offline.exit_code == 3);
  CHECK_THAT(offline.out, Catch::Contains("not cached outside a git repository"));
  CHECK(server.requests() == 2);
}

TEST_CASE("imported answers are replayed only with --trust or --offline, and are labelled",
          "[e2e][cache]") {
  Project p;
  p.ok({"run", "--provider", "local", "--judge", "local"});
  CHECK(p.logged() == std::pair{3, 1});
  p.ok({"cache", "export", "ci-cache.jsonl"});

  // Another machine's store, with the answers imported untrusted: a plain run calls.
  auto imported = p.ok({"--runs-db", "other.db", "cache", "import", "ci-cache.jsonl"});
  CHECK_THAT(imported.out, Catch::Contains("imported 4 cached answers"));
  CHECK_THAT(imported.out, Catch::Contains("untrusted"));
  auto plain = p.run_json({"--runs-db", "other.db", "--provider", "local", "--judge", "local"});
  CHECK(p.logged() == std::pair{6, 2});
  CHECK(plain["requests"] == 4);
  CHECK(plain["answer_requests"] == 3);
  CHECK(plain["judge_requests"] == 1);
  CHECK(plain["replayed"] == 0);

  // A third store: --offline replays the untrusted answers, saying where they came from.
  p.ok({"--runs-db", "third.db", "cache", "import", "ci-cache.jsonl"});
  auto offline = p.repo.evalkeep(
      {"--runs-db", "third.db", "run", "--provider", "local", "--judge", "local", "--offline"});
  CHECK(offline.exit_code == 0);
  CHECK_THAT(offline.out, Catch::Contains("replayed 3 answers and 1 judge verdict: 4 imported from "
                                          "ci-cache.jsonl"));
  CHECK_THAT(offline.out, Catch::Contains("no requests made"));
  CHECK(p.logged() == std::pair{6, 2});

  // An untrusted import is not passed on by an export of the store that holds it.
  auto exported = p.ok({"--runs-db", "third.db", "cache", "export", "again.jsonl"});
  CHECK_THAT(exported.out, Catch::Contains("exported 0 cached answers"));
  CHECK_THAT(exported.out, Catch::Contains("left out 4 brought in without trust"));

  // Trusted, a plain run replays them, labelled; an answer made here is never replaced.
  auto trusted = p.ok({"--runs-db", "third.db", "cache", "import", "--trust", "ci-cache.jsonl"});
  CHECK_THAT(trusted.out, Catch::Contains("imported 4 cached answers"));
  auto replayed = p.run_json({"--runs-db", "third.db", "--provider", "local", "--judge", "local"});
  CHECK(p.logged() == std::pair{6, 2});
  CHECK(replayed["requests"] == 0);
  CHECK(replayed["replayed_answers"] == 3);
  CHECK(replayed["replayed_judge_verdicts"] == 1);
  REQUIRE(replayed["replayed_from"].size() == 1);
  CHECK(replayed["replayed_from"][0]["label"] == "imported from ci-cache.jsonl");
  CHECK(replayed["replayed_from"][0]["origin"] == "imported");
  auto again = p.ok({"--runs-db", "other.db", "cache", "import", "--trust", "ci-cache.jsonl"});
  CHECK_THAT(again.out, Catch::Contains("imported 0 cached answers"));
}

TEST_CASE("merging shards fills the project's cache only with --with-cache, labelled",
          "[e2e][cache][shard]") {
  Project p;
  for (int i = 0; i < 9; ++i)
    p.ok({"add", "--id", "extra-" + std::to_string(i), "--prompt", "Hi " + std::to_string(i),
          "--expect", "contains:help", "--provenance", "spec:shards"});
  auto s1 = p.run_json({"--provider", "local", "--shard", "1/2", "--runs-db", "s1.db"});
  auto s2 = p.run_json({"--provider", "local", "--shard", "2/2", "--runs-db", "s2.db"});
  CHECK(s1["requests"].get<int>() + s2["requests"].get<int>() == 12);
  CHECK(p.server.requests() == 12);
  // Merged, the shards' requests are the merged run's: what the stand-in saw.
  p.ok({"runs", "merge", "s1.db", "s2.db", "-o", "first.db"});
  auto first = json::parse(p.ok({"--runs-db", "first.db", "runs", "show", "--json"}).out);
  CHECK(first["requests"] == p.server.requests());
  CHECK(first["replayed"] == 0);
  // Shard 1 again in its own store: the answers it made there are replayed.
  auto s1_again = p.run_json({"--provider", "local", "--shard", "1/2", "--runs-db", "s1.db"});
  CHECK(s1_again["requests"] == 0);
  CHECK(s1_again["replayed"] == s1["requests"]);
  CHECK(p.server.requests() == 12);

  // The merged run (of each shard's latest run) counts the shards' requests and replays, the
  // replays labelled with the shard they were made in; the project's cache is left alone.
  p.ok({"runs", "merge", "s1.db", "s2.db", "-o", "merged.db"});
  auto merged = json::parse(p.ok({"--runs-db", "merged.db", "runs", "show", "--json"}).out);
  CHECK(merged["requests"] == s2["requests"]);
  CHECK(merged["replayed"] == s1["requests"]);
  REQUIRE(merged["replayed_from"].size() == 1);
  CHECK(merged["replayed_from"][0]["label"] == "made by run 1 in s1.db");
  auto rows = p.repo.run({"sqlite3", "merged.db", "SELECT count(*) FROM cache"});
  CHECK(rows.out == "0\n");
  auto plain = p.run_json({"--runs-db", "merged.db", "--provider", "local"});
  CHECK(plain["replayed"] == 0);
  CHECK(plain["requests"] == 12);
  CHECK(p.server.requests() == 24);

  // With --with-cache, later plain runs replay the shards' answers, saying so.
  p.ok({"runs", "merge", "s1.db", "s2.db", "-o", "with-cache.db", "--with-cache"});
  auto replayed = p.run_json({"--runs-db", "with-cache.db", "--provider", "local"});
  CHECK(p.server.requests() == 24);
  CHECK(replayed["replayed"] == 12);
  std::set<std::string> labels;
  for (const auto& r : replayed["replayed_from"])
    labels.insert(r["label"].get<std::string>());
  CHECK(labels ==
        std::set<std::string>{"merged from shard store s1.db", "merged from shard store s2.db"});
}

TEST_CASE("run --no-cache calls the model for every answer and the judge for every verdict",
          "[e2e][cache]") {
  Project p;
  p.run_json({"--provider", "local", "--judge", "local"});
  CHECK(p.logged() == std::pair{3, 1});
  auto fresh = p.run_json({"--provider", "local", "--judge", "local", "--no-cache"});
  CHECK(p.logged() == std::pair{6, 2});
  CHECK(fresh["answer_requests"] == 3);
  CHECK(fresh["judge_requests"] == 1);
  CHECK(fresh["replayed"] == 0);
}

TEST_CASE("runs show, runs list, the summary and the report count requests and replays as the "
          "stand-in saw them",
          "[e2e][cache]") {
  Project p;
  // Run 1: two cases, one judged. Run 2: all three, two of them replayed.
  auto first = p.repo.evalkeep(
      {"run", "--provider", "local", "--judge", "local", "--case", "greeting", "--case", "judged"});
  CHECK(first.exit_code == 0);
  CHECK_THAT(first.out, Catch::Contains("3 requests made (HTTP attempts, retries included): 2 "
                                        "for answers, 1 judge call\n  nothing replayed"));
  auto second = p.repo.evalkeep({"run", "--provider", "local", "--judge", "local"});
  CHECK(second.exit_code == 0);
  CHECK(p.logged() == std::pair{3, 1});
  const std::string counts = "1 request made (HTTP attempts, retries included): 1 for answers, 0 "
                             "judge calls\n  replayed 2 answers and 1 judge verdict: 3 made "
                             "here by run 1\n";
  CHECK_THAT(second.out, Catch::Contains(counts));

  // runs show counts what the run did, not zeros (and the same in --json).
  CHECK_THAT(p.ok({"runs", "show", "2"}).out, Catch::Contains(counts));
  auto shown = json::parse(p.ok({"runs", "show", "2", "--json"}).out);
  CHECK(shown["requests"] == 1);
  CHECK(shown["replayed"] == 3);
  CHECK(shown["cached"] == 3);
  CHECK(shown["replayed_answers"] == 2);
  CHECK(shown["replayed_judge_verdicts"] == 1);
  CHECK(shown["replayed_from"][0]["runs"] == json::array({1}));
  auto shown_first = json::parse(p.ok({"runs", "show", "1", "--json"}).out);
  CHECK(shown_first["requests"] == 3);
  CHECK(shown_first["judge_requests"] == 1);

  auto list = json::parse(p.ok({"runs", "list", "--json"}).out);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["requests"] == 3);
  CHECK(list[0]["replayed"] == 0);
  CHECK(list[1]["requests"] == 1);
  CHECK(list[1]["replayed"] == 3);
  CHECK_THAT(p.ok({"runs", "list"}).out, Catch::Contains("1 req, 3 replayed"));

  p.ok({"report", "2", "-o", "report.html"});
  auto page = read_file(p.repo.path() / "report.html");
  CHECK_THAT(page, Catch::Contains("replayed 2 answers and 1 judge verdict: 3 made here by run 1"));
  CHECK_THAT(page, Catch::Contains("requests made: answers / judge"));
}

TEST_CASE("a resumed run counts the requests of every invocation", "[e2e][cache]") {
  Project p;
  p.ok({"add", "--id", "a-signed-out", "--prompt", "You are signed out", "--expect",
        "contains:help", "--provenance", "spec:auth"});
  // One request at a time: the 401 stops the run after the cases before it.
  auto stopped = p.repo.evalkeep({"run", "--provider", "local", "-j", "1", "--json"});
  CHECK(stopped.exit_code == 3);
  auto s = json::parse(stopped.out);
  CHECK(s["state"] == "stopped");
  int before = p.server.requests();
  CHECK(s["requests"] == before);
  REQUIRE(before < 4);

  auto resumed = p.repo.evalkeep({"run", "--resume", "--json"});
  auto r = json::parse(resumed.out);
  CHECK(r["state"] == "finished");
  CHECK(p.server.requests() > before);
  CHECK(r["requests"] == p.server.requests());
  CHECK(r["answer_requests"] == p.server.requests());
}

TEST_CASE("a run told to replay from a trusted cache file replays only from it, labelled",
          "[e2e][cache]") {
  Project p;
  p.run_json({"--provider", "local", "--case", "greeting", "--case", "refund-window"});
  p.ok({"cache", "export", "ci-cache.jsonl"});
  CHECK(p.server.requests() == 2);

  for (const std::string file : {"ci-cache.jsonl", ".evalkeep/runs.db"}) {
    INFO(file);
    p.server.reset();
    auto other = p.run_json({"--runs-db", "fresh-" + std::to_string(file.size()) + ".db",
                             "--provider", "local", "--replay-from", file});
    CHECK(p.server.requests() == 1); // judged: in neither
    CHECK(other["requests"] == 1);
    CHECK(other["replayed"] == 2);
    REQUIRE(other["replayed_from"].size() == 1);
    CHECK(other["replayed_from"][0]["label"] == "trusted cache " + file);
    CHECK(other["replayed_from"][0]["origin"] == "trusted");
  }
  // The project's own cache is not read: a store whose cache has every answer still calls for
  // what the named file lacks.
  p.server.reset();
  p.run_json({"--provider", "local"});
  CHECK(p.server.requests() == 1);
  p.server.reset();
  auto named = p.run_json({"--provider", "local", "--replay-from", "ci-cache.jsonl"});
  CHECK(p.server.requests() == 1);
  CHECK(named["replayed"] == 2);

  auto bad = p.repo.evalkeep({"run", "--provider", "local", "--replay-from", "nowhere.jsonl"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("nowhere.jsonl"));
  auto both = p.repo.evalkeep(
      {"run", "--provider", "local", "--replay-from", "ci-cache.jsonl", "--no-cache"});
  CHECK(both.exit_code == 2);
}

TEST_CASE("an HTTP provider's answers are keyed by the headers it sends", "[e2e][cache]") {
  Project p;
  auto routed = [&](const std::string& route) {
    std::ofstream(p.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(
        p.server, "routed-" + route, "openai", "headers = { X-Route = \"" + route + "\" }\n");
    return p.run_json({"--provider", "routed-" + route, "--case", "greeting"});
  };
  CHECK(routed("a")["requests"] == 1);
  CHECK(p.server.requests() == 1);
  // Another route may answer otherwise: called again, not replayed.
  auto b = routed("b");
  CHECK(b["requests"] == 1);
  CHECK(b["replayed"] == 0);
  CHECK(p.server.requests() == 2);
  // The same settings under another provider name are the same request: replayed.
  std::ofstream(p.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(p.server, "again", "openai", "headers = { X-Route = \"b\" }\n");
  auto again = p.run_json({"--provider", "again", "--case", "greeting"});
  CHECK(again["replayed"] == 1);
  CHECK(p.server.requests() == 2);
}

TEST_CASE("an offline run never calls the judge: a verdict not in the cache is the case's error",
          "[e2e][cache]") {
  Project p;
  // The answers are cached; no judge verdict is (the judged case fails without a judge).
  CHECK(p.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 1);
  auto offline = p.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--offline",
                                  "--case", "judged", "--json"});
  INFO(offline.out << offline.err);
  CHECK(offline.exit_code == 3);
  CHECK_THAT(offline.out, Catch::Contains("no cached judge verdict, and --offline forbids calling "
                                          "the judge"));
  CHECK(p.logged() == std::pair{3, 0});
  // Once a verdict is cached, --offline replays it.
  p.ok({"run", "--provider", "local", "--judge", "local", "--case", "judged"});
  CHECK(p.logged() == std::pair{3, 1});
  p.ok({"run", "--provider", "local", "--judge", "local", "--offline", "--case", "judged"});
  CHECK(p.logged() == std::pair{3, 1});
}
