// runs push and runs fetch through a real bare repository, with two clones standing in for two
// CI jobs that share no disk: main's job runs the suite and pushes its run; the pull request's job
// fetches it and gates against it.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({"rules": [
  {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."}
]})";

// A bare "remote", main's job (which commits the suite and pushes main) and a pull request's job
// (a clone of main on branch "change").
struct Jobs {
  TempDir remote_dir;
  StandIn server{k_rules};
  Repo main_job, pr_job;
  std::string remote = (remote_dir / "remote.git").string();

  Jobs() {
    main_job.run({"git", "init", "-q", "--bare", remote});
    must_succeed(main_job, {"init", "-q"});
    must_succeed(main_job,
                 {"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
                  "--expect", "icontains:30 days", "--provenance", "spec:refunds"});
    must_succeed(main_job, {"add", "--id", "greeting", "--prompt", "Hello there", "--expect",
                            "contains:Welcome", "--provenance", "spec:greets"});
    std::ofstream(main_job.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server, "local", "openai", "api_key_env = \"SHARE_TEST_KEY\"\n");
    main_job.git({"add", "-A"});
    main_job.git({"commit", "-q", "-m", "suite"});
    main_job.git({"remote", "add", "origin", remote});
    main_job.git({"push", "-q", "origin", "main"});
    pr_job.git({"remote", "add", "origin", remote});
    pr_job.git({"fetch", "-q", "origin"});
    pr_job.git({"reset", "-q", "--hard", "origin/main"});
    pr_job.git({"checkout", "-q", "-b", "change"});
  }

  std::string refs() const {
    return main_job.git({"--git-dir=" + remote, "for-each-ref",
                         "--format=%(objectname)\t%(refname)", "refs/evalkeep/"});
  }
};

const std::vector<std::string> k_key{"SHARE_TEST_KEY=canary-share-7f3a"};

} // namespace

TEST_CASE("runs push stores main's run in the remote, runs fetch brings it to another clone",
          "[e2e][runs][share]") {
  Jobs j;
  auto run = j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key);
  REQUIRE(run.exit_code == 1); // greeting fails: the default answer has no "Welcome"
  auto pushed = must_succeed(j.main_job, {"runs", "push"});
  auto head = j.main_job.git({"rev-parse", "HEAD"});
  head.pop_back();
  CHECK_THAT(pushed.out, Catch::StartsWith("pushed run 1 to origin as refs/evalkeep/runs/" + head));
  auto refs = j.refs();
  REQUIRE(std::count(refs.begin(), refs.end(), '\n') == 1);
  CHECK(refs.find("refs/evalkeep/runs/" + head + "/") != std::string::npos);

  // The object is compact (verdicts, no answers) and holds no key.
  auto object = refs.substr(0, refs.find('\t'));
  auto blob = j.main_job.git({"cat-file", "blob", object});
  CHECK(blob.find("canary-share") == std::string::npos);
  CHECK(blob.find("Refunds are accepted") == std::string::npos);
  auto doc = parse_json(blob);
  CHECK(doc["format"] == "evalkeep-run/1");
  CHECK(doc["run"]["git_commit"] == head);
  REQUIRE(doc["cases"].size() == 2);
  CHECK(doc["cases"][0]["id"] == "greeting");
  CHECK(doc["cases"][0]["trials_run"][0]["verdict"] == "fail");
  CHECK(doc["cases"][1]["trials_run"][0]["verdict"] == "pass");

  // The pull request's job: fetch, then the fetched run is a run like any other.
  auto fetched = must_succeed(j.pr_job, {"runs", "fetch"});
  CHECK(fetched.out.find("1 run fetched from origin, 0 already here") != std::string::npos);
  auto shown = parse_json(must_succeed(j.pr_job, {"runs", "show", "1", "--json"}).out);
  auto original = parse_json(must_succeed(j.main_job, {"runs", "show", "1", "--json"}).out);
  CHECK(shown["pass_rate"] == original["pass_rate"]);
  CHECK(shown["suite_hash"] == original["suite_hash"]);
  CHECK(shown["git_commit"] == head);
  CHECK(original["fetched_from"].is_null());
  CHECK(shown["fetched_from"].get<std::string>().starts_with("refs/evalkeep/runs/" + head));
  // Once is enough: a second fetch adds nothing.
  CHECK(must_succeed(j.pr_job, {"runs", "fetch"})
            .out.find("0 runs fetched from origin, 1 "
                      "already here") != std::string::npos);
  auto listed = parse_json(must_succeed(j.pr_job, {"runs", "list", "--json"}).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["fetched"] == true);
  CHECK(must_succeed(j.pr_job, {"runs", "list"}).out.find("req, 0 replayed, fetched\n") !=
        std::string::npos);

  // The gate compares the pull request's own run with main's fetched run, which --baseline-run
  // base finds: the run of the merge base with the same provider settings.
  REQUIRE(j.pr_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  auto gate = j.pr_job.evalkeep(
      {"gate", "--base", "main", "--json", "--run", "latest", "--baseline-run", "base"}, {}, k_key);
  INFO(gate.err);
  REQUIRE(gate.exit_code == 1); // greeting fails in the pull request's run too
  auto report = parse_json(gate.out);
  CHECK(report["run"]["baseline"] == 1);
  CHECK(report["run"]["id"] == 2);
  for (const auto& v : report["violations"])
    CHECK(v["rule"] != "regressed");
  // "latest" is the latest run made here, never one fetched: fetching after a run keeps it so.
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q", "--trials", "2"}, {}, k_key)
              .exit_code == 1);
  j.main_job.git({"commit", "-q", "--allow-empty", "-m", "later"});
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  must_succeed(j.main_job, {"runs", "push"});
  CHECK(must_succeed(j.pr_job, {"runs", "fetch"}).out.find("1 run fetched") != std::string::npos);
  auto latest = parse_json(must_succeed(j.pr_job, {"runs", "show", "latest", "--json"}).out);
  CHECK(latest["fetched_from"].is_null());
  CHECK(latest["run"] == 2);
}

TEST_CASE("gate --baseline-run base takes the nearest ancestor's run with the same settings, and "
          "says what to do when there is none",
          "[e2e][runs][share][gate]") {
  Jobs j;
  // Nothing fetched yet: an input error with the way out.
  REQUIRE(j.pr_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  auto none =
      must_fail(j.pr_job, 2, {"gate", "--base", "main", "--run", "1", "--baseline-run", "base"});
  CHECK(none.err.find("no run of the base") != std::string::npos);
  CHECK(none.err.find("evalkeep runs fetch") != std::string::npos);

  // Main's job runs at the base, then at a later commit the pull request does not have: the
  // base's run is the one taken, and a run with other settings never is.
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  must_succeed(j.main_job, {"runs", "push"});
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q", "--trials", "2"}, {}, k_key)
              .exit_code == 1);
  must_succeed(j.main_job, {"runs", "push", "--run", "2"});
  j.main_job.git({"commit", "-q", "--allow-empty", "-m", "later"});
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  must_succeed(j.main_job, {"runs", "push"});
  j.main_job.git({"push", "-q", "origin", "main"});

  // Main's run 2 replaced run 1 under the base's ref (one run per commit and settings; trials
  // are a setting of the run, not of the provider), so two runs come: the base's and the later.
  auto fetched = must_succeed(j.pr_job, {"runs", "fetch"});
  CHECK(fetched.out.find("2 runs fetched") != std::string::npos);
  auto list = parse_json(must_succeed(j.pr_job, {"runs", "list", "--json"}).out);
  REQUIRE(list.size() == 3);
  auto head = j.pr_job.git({"rev-parse", "HEAD"});
  head.pop_back();
  std::int64_t expected = 0;
  for (const auto& r : list)
    if (r["git_commit"] == head && r["run"].get<std::int64_t>() > 1)
      expected = std::max(expected, r["run"].get<std::int64_t>());
  REQUIRE(expected > 1);
  auto report = parse_json(
      j.pr_job
          .evalkeep({"gate", "--base", "main", "--json", "--run", "1", "--baseline-run", "base"},
                    {}, k_key)
          .out);
  CHECK(report["run"]["baseline"] == expected);
}

TEST_CASE("runs push --full carries the answers, --local pushes nothing", "[e2e][runs][share]") {
  Jobs j;
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  auto stored = must_succeed(j.main_job, {"runs", "push", "--full", "--local"});
  CHECK_THAT(stored.out, Catch::StartsWith("stored run 1 as refs/evalkeep/runs/"));
  CHECK(j.refs().empty());
  auto ref = j.main_job.git({"for-each-ref", "--format=%(refname)", "refs/evalkeep/runs/"});
  ref.pop_back();
  CHECK(stored.out == "stored run 1 as " + ref + "\n");
  auto blob = j.main_job.git({"cat-file", "blob", ref});
  CHECK(blob.find("Refunds are accepted within 30 days") != std::string::npos);
  CHECK(blob.find("canary-share") == std::string::npos);
}

TEST_CASE("runs push refuses a run made with uncommitted changes and outside git",
          "[e2e][runs][share]") {
  Jobs j;
  std::ofstream(j.main_job.path() / "evalkeep.toml", std::ios::app) << "\n# local edit\n";
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  auto r = must_fail(j.main_job, 1, {"runs", "push"});
  CHECK(r.err.find("uncommitted changes") != std::string::npos);
  CHECK(j.refs().empty());

  Repo plain(false);
  must_succeed(plain, {"init", "-q"});
  CHECK(must_fail(plain, 2, {"runs", "push"}).err.find("not in a git repository") !=
        std::string::npos);
}

TEST_CASE("runs fetch refuses a ref that holds no shared run, naming it, and stores nothing",
          "[e2e][runs][share]") {
  Jobs j;
  REQUIRE(j.main_job.evalkeep({"run", "--provider", "local", "-q"}, {}, k_key).exit_code == 1);
  must_succeed(j.main_job, {"runs", "push"});
  // Someone with push access stores something else under the same namespace.
  auto forged = j.main_job.run({"sh", "-c",
                                "printf '{\"format\":\"evalkeep-run/1\",\"run\":{}}' | git "
                                "hash-object -w --stdin"});
  REQUIRE(forged.exit_code == 0);
  forged.out.pop_back();
  j.main_job.git({"update-ref", "refs/evalkeep/runs/0000/forged", forged.out});
  j.main_job.git({"push", "-q", "origin", "refs/evalkeep/runs/0000/forged"});

  auto r = must_fail(j.pr_job, 2, {"runs", "fetch"});
  CHECK(r.err.find("refs/evalkeep/runs/0000/forged") != std::string::npos);
  CHECK(r.err.find("field 'started_at'") != std::string::npos);
  CHECK(r.err.find("nothing was stored") != std::string::npos);
  CHECK(r.err.find("git push origin :REF") != std::string::npos);
  // Nothing is stored, not even main's good run beside it: no runs store was made.
  CHECK_FALSE(std::filesystem::exists(j.pr_job.path() / ".evalkeep" / "runs.db"));
}
