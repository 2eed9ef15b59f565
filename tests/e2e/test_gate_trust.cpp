// The gate trusts the base, never the pull request: where the suite is, the policy and the
// providers come from the merge base, and whatever the pull request changes in them is reported
// and judged there. Each attack comes with the legitimate change that must keep passing.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <chrono>
#include <fstream>
#include <set>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

// Every answer passes every case of the fixture.
const char* k_rules = R"({"default": {"answer": "Refunds are accepted within 30 days."}})";

// Three cases on main (two guarding INC-7, one from a spec), the given policy and a provider
// "local" on the stand-in; then branch "pr".
struct TrustRepo {
  StandIn server{k_rules};
  Repo repo;
  explicit TrustRepo(const std::string& policy = {}, const std::string& suite = "evals/suite.db") {
    write_config(suite, policy, provider_table(server));
    ok({"init", "-q"});
    ok({"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    ok({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?", "--expect",
        "icontains:30 days", "--incident", "INC-7"});
    ok({"add", "--id", "late-refund", "--prompt", "A refund after 40 days?", "--expect",
        "icontains:30 days", "--incident", "INC-7"});
    ok({"add", "--id", "tone", "--prompt", "My order is late.", "--expect",
        "not-contains:unfortunately", "--provenance", "spec:style guide 2.1"});
    commit("suite");
    repo.git({"checkout", "-q", "-b", "pr"});
  }
  void write_config(const std::string& suite, const std::string& policy,
                    const std::string& providers) const {
    evalkeep::test::write_file(repo.path() / "evalkeep.toml",
                               "suite = \"" + suite + "\"\n[policy]\n" + policy + providers);
  }
  void commit(const std::string& message) const {
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", message});
  }
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env = {}) const {
    return evalkeep::test::must_succeed(repo, args, {}, env);
  }
  // The gate's JSON report; it must exit 0 (passed) or 1 (failed) as `passes` says.
  json gate(bool passes, std::vector<std::string> args = {},
            const std::vector<std::string>& env = {}) const {
    args.insert(args.begin(), {"gate", "--base", "main", "--json"});
    auto r = repo.evalkeep(args, {}, env);
    INFO(evalkeep::test::command_line(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == (passes ? 0 : 1));
    auto report = evalkeep::test::parse_json(r.out);
    CHECK(report["passed"] == passes);
    return report;
  }
};

std::multiset<std::string> rules(const json& report) {
  std::multiset<std::string> out;
  for (const auto& v : report["violations"])
    out.insert(v["rule"].get<std::string>());
  return out;
}

std::set<std::string> deleted(const json& report) {
  std::set<std::string> out;
  for (const auto& v : report["violations"])
    if (v["rule"] == "case-deleted")
      out.insert(v["case"].get<std::string>());
  return out;
}

std::string message_of(const json& report, const std::string& rule) {
  for (const auto& v : report["violations"])
    if (v["rule"] == rule)
      return v["message"].get<std::string>();
  return {};
}

const std::set<std::string> k_all = {"refund-window", "late-refund", "tone"};

} // namespace

TEST_CASE("a pull request that points evalkeep.toml at a fresh suite is judged against the base's "
          "suite",
          "[e2e][gate][trust]") {
  TrustRepo t;
  // A new suite, valid on its own, with one of the three cases.
  t.ok({"--suite", "evals/fresh.db", "init", "-q"});
  t.ok({"--suite", "evals/fresh.db", "add", "--id", "tone", "--prompt", "My order is late.",
        "--expect", "not-contains:unfortunately", "--provenance", "spec:style guide 2.1"});
  t.write_config("evals/fresh.db", "", provider_table(t.server));
  t.commit("a smaller suite");
  auto report = t.gate(false);
  CHECK(rules(report).count("history-rewritten") == 1);
  CHECK(deleted(report) == std::set<std::string>{"refund-window", "late-refund"});
  CHECK(report["suite_moved"].is_null());
}

TEST_CASE("a suite moved with its whole history passes and the report says so",
          "[e2e][gate][trust]") {
  TrustRepo t;
  t.repo.git({"mv", "evals/suite.db", "evals/team.db"});
  t.write_config("evals/team.db", "", provider_table(t.server));
  t.commit("move the suite");
  auto report = t.gate(true);
  CHECK(report["suite_moved"]["from"] == "evals/suite.db");
  CHECK(report["suite_moved"]["to"] == "evals/team.db");
  CHECK(report["active_after"] == 3);
  auto text = t.repo.evalkeep({"gate", "--base", "main"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("suite moved from evals/suite.db to evals/team.db"));
}

TEST_CASE("a removed suite fails with every live case deleted", "[e2e][gate][trust]") {
  TrustRepo t;
  t.repo.git({"rm", "-q", "evals/suite.db"});
  t.commit("no more evals");
  auto report = t.gate(false);
  CHECK(rules(report).count("suite-removed") == 1);
  CHECK(deleted(report) == k_all);
  CHECK(report["active_after"] == 0);
}

TEST_CASE("deleting evalkeep.toml does not move where the gate looks for the base's suite",
          "[e2e][gate][trust]") {
  TrustRepo t("require_approver = true\n", "evals/team.db");
  // Without the config the default path applies at HEAD: a fresh suite waits there.
  std::filesystem::remove(t.repo.path() / "evalkeep.toml");
  t.ok({"init", "-q"});
  t.commit("simpler setup");
  auto report = t.gate(false);
  CHECK(deleted(report) == k_all);
  CHECK(rules(report).count("history-rewritten") == 1);
  CHECK(rules(report).count("policy-loosened") == 1);
  CHECK_THAT(report["trusted_config"].get<std::string>(), Catch::StartsWith("evalkeep.toml at "));
}

TEST_CASE("a suite replaced by a symbolic link is refused, never followed", "[e2e][gate][trust]") {
  TrustRepo t;
  for (std::string target : {"/dev/zero", "../outside.db", "other.db"}) {
    DYNAMIC_SECTION("a link to " << target) {
      if (target == "other.db")
        std::filesystem::copy_file(t.repo.suite(), t.repo.path() / "evals" / "other.db");
      std::filesystem::remove(t.repo.suite());
      std::filesystem::create_symlink(target, t.repo.suite());
      t.commit("link");
      auto report = t.gate(false);
      CHECK(rules(report).count("suite-refused") == 1);
      CHECK_THAT(message_of(report, "suite-refused"), Catch::Contains("is a symbolic link"));
      CHECK(deleted(report) == k_all);
    }
  }
}

TEST_CASE("a suite path that is a folder, a FIFO or outside the working tree is refused at once",
          "[e2e][gate][trust]") {
  TrustRepo t;
  std::filesystem::create_directories(t.repo.path() / "evals" / "folder.db");
  REQUIRE(::mkfifo((t.repo.path() / "evals" / "pipe.db").c_str(), 0600) == 0);
  for (std::string path : {"evals/folder.db", "evals/pipe.db", "../outside.db", "/tmp/any.db"}) {
    DYNAMIC_SECTION(path) {
      t.write_config(path, "", provider_table(t.server));
      auto started = std::chrono::steady_clock::now();
      auto report = t.gate(false);
      CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
      CHECK(rules(report).count("suite-refused") == 1);
      CHECK(deleted(report) == k_all);
    }
  }
}

TEST_CASE("an evalkeep.toml the gate cannot read is a violation, and the base's config still "
          "decides",
          "[e2e][gate][trust]") {
  TrustRepo t;
  t.ok({"retire", "tone", "--reason", "out-of-scope", "--rationale",
        "style is reviewed by people now"});
  evalkeep::test::write_file(t.repo.path() / "evalkeep.toml", "suite = [broken\n");
  t.commit("broken config");
  auto report = t.gate(false);
  CHECK(rules(report) == std::multiset<std::string>{"config-invalid"});
  CHECK_THAT(message_of(report, "config-invalid"), Catch::Contains("evalkeep.toml at HEAD"));
  CHECK(report["retired"].size() == 1);
}

TEST_CASE("a loosened policy fails the gate and the base's policy still applies",
          "[e2e][gate][trust]") {
  TrustRepo t("require_approver = true\n");
  t.write_config("evals/suite.db", "require_approver = false\n", provider_table(t.server));
  t.ok({"retire", "tone", "--reason", "out-of-scope", "--rationale", "reviewed by people now"});
  t.commit("no approvals needed");
  auto report = t.gate(false);
  CHECK(rules(report) == std::multiset<std::string>{"policy-loosened", "decision-needs-approver"});
  REQUIRE(report["policy_changes"].size() == 1);
  CHECK(report["policy_changes"][0]["rule"] == "require_approver");
  CHECK(report["policy_changes"][0]["loosened"] == true);
}

TEST_CASE("a tightened policy applies at once, and a change that meets it passes",
          "[e2e][gate][trust]") {
  TrustRepo t;
  t.write_config("evals/suite.db", "require_incident = true\n", provider_table(t.server));
  t.ok({"add", "--id", "partial-refund", "--prompt", "Half a refund?", "--expect",
        "icontains:30 days", "--incident", "INC-7"});
  t.commit("incidents required from now on");
  auto report = t.gate(true);
  REQUIRE(report["policy_changes"].size() == 1);
  CHECK(report["policy_changes"][0]["loosened"] == false);

  // In the same change, a case without an incident breaks the new rule.
  evalkeep::test::write_file(t.repo.path() / "evalkeep.toml",
                             "suite = \"evals/suite.db\"\n[policy]\n" + provider_table(t.server));
  t.ok({"add", "--id", "greeting", "--prompt", "Hello", "--expect", "contains:help", "--provenance",
        "spec:greets"});
  t.write_config("evals/suite.db", "require_incident = true\n", provider_table(t.server));
  t.commit("and a spec case");
  CHECK(rules(t.gate(false)) == std::multiset<std::string>{"needs-incident"});
}

TEST_CASE("an approver must be on the base's list, whatever the pull request's config says",
          "[e2e][gate][trust]") {
  TrustRepo t("approvers = [\"erin@example.com\"]\n");
  t.write_config("evals/suite.db", "approvers = [\"erin@example.com\", \"mallory@example.com\"]\n",
                 provider_table(t.server));
  t.ok({"retire", "tone", "--reason", "out-of-scope", "--rationale", "reviewed by people now",
        "--approved-by", "Mallory <mallory@example.com>"});
  t.commit("mallory approves");
  auto report = t.gate(false);
  CHECK(rules(report) == std::multiset<std::string>{"policy-loosened", "decision-needs-approver"});
  CHECK_THAT(message_of(report, "decision-needs-approver"),
             Catch::Contains("not on the policy's list of approvers"));

  // Erin, on the base's list, approves instead.
  t.repo.git({"reset", "-q", "--hard", "main"});
  t.ok({"retire", "tone", "--reason", "out-of-scope", "--rationale", "reviewed by people now",
        "--approved-by", "Erin <erin@example.com>"});
  t.commit("erin approves");
  t.gate(true);
}

TEST_CASE("a changed provider table fails the gate unless the base's policy allows it",
          "[e2e][gate][trust]") {
  for (bool allowed : {false, true}) {
    DYNAMIC_SECTION("allow_provider_changes = " << allowed) {
      TrustRepo t(allowed ? "allow_provider_changes = true\n" : "");
      StandIn elsewhere;
      t.write_config("evals/suite.db", allowed ? "allow_provider_changes = true\n" : "",
                     provider_table(elsewhere) + "temperature = 0.7\n");
      t.commit("another endpoint");
      auto report = t.gate(allowed);
      CHECK(rules(report).count("provider-changed") == (allowed ? 0 : 1));
      std::set<std::string> fields;
      for (const auto& c : report["provider_changes"])
        fields.insert(c["field"].get<std::string>());
      CHECK(fields == std::set<std::string>{"base_url", "temperature"});
    }
  }
}

TEST_CASE("gate --run-now sends requests and the key only to the base's provider",
          "[e2e][gate][trust]") {
  TrustRepo t;
  // The base names the key's variable; the pull request points the provider elsewhere.
  t.repo.git({"checkout", "-q", "main"});
  t.write_config("evals/suite.db", "",
                 provider_table(t.server) + "api_key_env = \"EVALKEEP_TRUST_KEY\"\n");
  t.commit("a key");
  t.repo.git({"checkout", "-q", "pr"});
  t.repo.git({"merge", "-q", "main"});
  StandIn attacker;
  t.write_config("evals/suite.db", "",
                 provider_table(attacker) + "api_key_env = \"EVALKEEP_TRUST_KEY\"\n");
  t.commit("redirect the provider");
  auto report =
      t.gate(false, {"--run-now", "--provider", "local"}, {"EVALKEEP_TRUST_KEY=sk-trust-canary"});
  CHECK(attacker.requests() == 0);
  CHECK(t.server.requests() == 3);
  for (const auto& entry : t.server.log())
    CHECK(entry["authorization_present"] == true);
  CHECK(rules(report) == std::multiset<std::string>{"provider-changed"});
  CHECK(report["run"]["passed"] == 3);
}

TEST_CASE("gate --run fails a run made with a provider the base does not define that way",
          "[e2e][gate][trust]") {
  TrustRepo t("allow_provider_changes = true\n");
  StandIn lenient{k_rules};
  t.write_config("evals/suite.db", "allow_provider_changes = true\n", provider_table(lenient));
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0);
  t.commit("run against my own endpoint");
  auto report = t.gate(false, {"--run", "latest"});
  CHECK(rules(report) == std::multiset<std::string>{"provider-changed"});
  auto message = message_of(report, "provider-changed");
  CHECK_THAT(message, Catch::Contains("the checked run 1 did not use the providers"));
  CHECK_THAT(message, Catch::Contains("local: base_url " + t.server.openai_base() + " -> " +
                                      lenient.openai_base()));

  // A run made with the base's definition passes.
  t.write_config("evals/suite.db", "allow_provider_changes = true\n", provider_table(t.server));
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0);
  t.gate(true, {"--run", "latest"});
}

TEST_CASE("gate --run-now refuses a provider only the pull request defines, and an unknown base",
          "[e2e][gate][trust]") {
  TrustRepo t;
  StandIn mine;
  t.write_config("evals/suite.db", "", provider_table(t.server) + provider_table(mine, "mine"));
  t.commit("my provider");
  auto r = evalkeep::test::must_fail(t.repo, 2,
                                     {"gate", "--base", "main", "--run-now", "--provider", "mine"});
  CHECK_THAT(r.err, Catch::Contains("provider 'mine' is not defined in evalkeep.toml at"));
  CHECK(mine.requests() == 0);

  auto bad = evalkeep::test::must_fail(t.repo, 2, {"gate", "--base", "nosuchref"});
  CHECK_THAT(bad.err, Catch::Contains("unknown git revision 'nosuchref'"));
  CHECK_THAT(bad.err, Catch::Contains("hint: check the name, or fetch it"));
}

TEST_CASE("the gate refuses run results the pull request commits itself", "[e2e][gate][trust]") {
  TrustRepo t;
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0);
  t.repo.git({"add", "-f", ".evalkeep/runs.db"});
  t.commit("results, trust me");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--run", "latest"},
        {"--run-now", "--provider", "local", "--baseline-run", "1"}}) {
    args.insert(args.begin(), {"gate", "--base", "main"});
    auto r = evalkeep::test::must_fail(t.repo, 1, args);
    CHECK_THAT(r.err, Catch::Contains("is committed in this change"));
  }
}

TEST_CASE("a gate on a stored run says how much of its verdict rests on replayed answers",
          "[e2e][gate][trust][cache]") {
  TrustRepo t;
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0);
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0); // replays
  auto fresh = t.gate(true, {"--run", "1"});
  CHECK(fresh["run"]["requests"] == 3);
  CHECK(fresh["run"]["replayed"] == 0);
  auto replayed = t.gate(true, {"--run", "2", "--junit", "gate.xml", "--markdown", "gate.md"});
  CHECK(replayed["run"]["requests"] == 0);
  CHECK(replayed["run"]["replayed"] == 3);
  REQUIRE(replayed["run"]["replayed_from"].size() == 1);
  CHECK(replayed["run"]["replayed_from"][0]["from"] == "made here by run 1");
  auto text = t.repo.evalkeep({"gate", "--base", "main", "--run", "2"}).out;
  CHECK_THAT(text, Catch::Contains("the verdict rests on 3 replayed answers and judge verdicts (3 "
                                   "made here by run 1); 0 requests made"));
  CHECK_THAT(evalkeep::test::read_file(t.repo.path() / "gate.md"),
             Catch::Contains("**Replayed:** the verdict rests on 3 replayed answers"));
  auto property = t.repo.run(
      {"xmllint", "--xpath", "string(//property[@name='evalkeep.replayed']/@value)", "gate.xml"});
  CHECK(property.out.substr(0, 1) == "3");
}

TEST_CASE("gate --run-now replays only from a cache the base's policy lets it name",
          "[e2e][gate][trust][cache]") {
  TrustRepo t("allow_gate_replay = true\n");
  REQUIRE(t.repo.evalkeep({"run", "--provider", "local", "-q"}).exit_code == 0);
  evalkeep::test::TempDir ci;
  auto cache = (ci / "ci-cache.jsonl").string();
  t.ok({"cache", "export", cache});
  auto requests = t.server.requests();
  auto report = t.gate(true, {"--run-now", "--provider", "local", "--replay-from", cache});
  CHECK(t.server.requests() == requests); // every answer came from the named cache
  CHECK(report["run"]["replayed"] == 3);
  CHECK_THAT(report["run"]["replayed_from"][0]["from"].get<std::string>(),
             Catch::Contains("trusted cache"));

  // A cache file the pull request commits is its own word about itself.
  std::filesystem::copy_file(cache, t.repo.path() / "ci-cache.jsonl");
  t.commit("a cache, trust me");
  auto committed = evalkeep::test::must_fail(t.repo, 1,
                                             {"gate", "--base", "main", "--run-now", "--provider",
                                              "local", "--replay-from", "ci-cache.jsonl"});
  CHECK_THAT(committed.err, Catch::Contains("is committed in this change"));
}

TEST_CASE("gate --replay-from is refused unless the base's policy allows it",
          "[e2e][gate][trust][cache]") {
  TrustRepo t;
  // The pull request switches the rule on for itself: the base's value decides.
  t.write_config("evals/suite.db", "allow_gate_replay = true\n", provider_table(t.server));
  t.commit("let me replay");
  evalkeep::test::TempDir ci;
  auto r = evalkeep::test::must_fail(t.repo, 2,
                                     {"gate", "--base", "main", "--run-now", "--provider", "local",
                                      "--replay-from", (ci / "x.jsonl").string()});
  CHECK_THAT(r.err, Catch::Contains("the base's policy does not let the gate replay answers"));
  CHECK(t.server.requests() == 0);
}

TEST_CASE("a suite at HEAD that is not a suite is refused with the whole report",
          "[e2e][gate][trust]") {
  TrustRepo t;
  evalkeep::test::write_file(t.repo.suite(), "not a database at all");
  t.commit("replace the suite with text");
  auto report = t.gate(false);
  CHECK(rules(report).count("suite-refused") == 1);
  CHECK_THAT(message_of(report, "suite-refused"), Catch::Contains("the suite at HEAD is refused"));
  CHECK(deleted(report) == k_all);
}
