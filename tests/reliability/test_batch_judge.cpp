// Judge calls of a batch run (`evalkeep run --batch` with judge assertions) go in a second batch,
// through the judge provider's batch API, against the stand-in's emulation of the batch APIs: the
// synchronous run's verdicts at the judge's batch price; judge lines that fail; a judge batch
// that expires; a judge without a batch API (exec) called synchronously; a run killed with
// SIGKILL while its judge batch is processing, resumed without asking anything again.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

// The judge's replies by criterion: "strict" scores low (fails), "broken" is refused (400),
// "garbled" is no JSON at all; any other criterion scores 0.9 (passes).
const std::string k_rules = R"({"rules": [
  {"match": "criterion strict", "answer": "{\"score\": 0.2, \"rationale\": \"too curt\"}"},
  {"match": "criterion broken", "fault": "400"},
  {"match": "criterion garbled", "answer": "I would rather not say."},
  {"match": "You grade an AI assistant", "answer": "{\"score\": 0.9, \"rationale\": \"polite\"}"}
]})";
const std::string k_prices = "input_price_per_mtok = 2.0\noutput_price_per_mtok = 8.0\n";

void append_toml(const Repo& repo, const std::string& text) {
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << text;
}

// `init`, then a case per entry: its id and its judge criteria (none: a contains assertion only).
void init_judged(const Repo& repo,
                 const std::vector<std::pair<std::string, std::vector<std::string>>>& cases) {
  must_succeed(repo, {"init", "-q"});
  for (const auto& [id, criteria] : cases) {
    std::vector<std::string> args{
        "add", "-q", "--id", id, "--prompt", "question " + id, "--expect", "contains:help"};
    for (const auto& c : criteria) {
      args.push_back("--expect");
      args.push_back("judge@0.8:criterion " + c);
    }
    args.insert(args.end(), {"--provenance", "spec:batch"});
    must_succeed(repo, args);
  }
}

// "a:pass:,b:error:judge-expired,..." for a run.
std::string verdicts(const Repo& repo, const std::string& run) {
  return sql_text(runs_db_of(repo),
                  "SELECT group_concat(case_id || ':' || verdict || ':' || "
                  "coalesce(error_class, ''), ',') FROM (SELECT * FROM results WHERE run_id = " +
                      run + " ORDER BY case_id, trial)");
}

// Each result's assertion outcomes, for comparing two runs' verdicts assertion by assertion.
std::string outcomes(const Repo& repo, const std::string& run) {
  return sql_text(runs_db_of(repo), "SELECT group_concat(case_id || '=' || coalesce(assertions, "
                                    "''), ' | ') FROM (SELECT * FROM results WHERE run_id = " +
                                        run + " ORDER BY case_id, trial)");
}

double judge_cost_of(const Repo& repo, const std::string& run) {
  return std::stod(sql_text(
      runs_db_of(repo), "SELECT coalesce(sum(judge_cost), 0) FROM results WHERE run_id = " + run));
}

int on_path(const StandIn& server, const std::string& path) {
  return server.stats()["by_path"].value(path, 0);
}

const std::vector<std::pair<std::string, std::vector<std::string>>> k_cases{
    {"a-plain", {}},
    {"b-polite", {"polite"}},
    {"c-strict", {"strict"}},
    {"d-two", {"polite", "kind"}},
};

} // namespace

TEST_CASE("a batch run sends its judge calls in a second batch, with the synchronous run's "
          "verdicts at the judge's batch price",
          "[reliability][batch][judge]") {
  for (std::string judge_type : {"openai", "anthropic"}) {
    DYNAMIC_SECTION("judge " << judge_type) {
      StandIn server(k_rules, 0, 1, {"--batch-ms", "20"});
      Repo repo;
      init_judged(repo, k_cases);
      append_toml(repo, provider_table(server, "local", "openai", k_prices));
      append_toml(repo, provider_table(server, "grader", judge_type, k_prices));
      const std::vector<std::string> env{"ANTHROPIC_API_KEY=sk-ant-test"};

      auto sync = repo.evalkeep(
          {"run", "--provider", "local", "--judge", "grader", "--no-cache", "-q", "--json"}, {},
          env);
      INFO("sync stderr: " << sync.err);
      REQUIRE(sync.exit_code == 1); // c-strict fails its judge
      auto sync_summary = parse_json(sync.out);
      CHECK(sync_summary["judge_requests"] == 4);

      auto batch = repo.evalkeep({"run", "--provider", "local", "--judge", "grader", "--no-cache",
                                  "--batch", "--poll-interval", "0.005", "--json"},
                                 {}, env);
      INFO("batch stderr: " << batch.err);
      REQUIRE(batch.exit_code == 1);
      auto summary = parse_json(batch.out);
      CHECK(summary["passed"] == 3);
      CHECK(summary["failed"] == 1);
      CHECK(summary["judge_requests"] == 4);
      CHECK(verdicts(repo, "2") == verdicts(repo, "1"));
      CHECK(verdicts(repo, "2").find("c-strict:fail:") != std::string::npos);
      CHECK(outcomes(repo, "2") == outcomes(repo, "1"));

      // Two batches, answers then judges, and nothing sent synchronously (the synchronous
      // run's calls are the only ones on the synchronous paths).
      if (judge_type == "openai") {
        CHECK(on_path(server, "/v1/batches") == 2);
        CHECK(on_path(server, "/v1/files") == 2);
        CHECK(on_path(server, "batch:/v1/chat/completions") == 4 + 4);
      } else {
        CHECK(on_path(server, "/v1/batches") == 1);
        CHECK(on_path(server, "/v1/files") == 1);
        CHECK(on_path(server, "/v1/messages/batches") == 1);
        CHECK(on_path(server, "batch:/v1/chat/completions") == 4);
        CHECK(on_path(server, "batch:/v1/messages") == 4);
      }
      CHECK(on_path(server, "/v1/chat/completions") == 4 + (judge_type == "openai" ? 4 : 0));
      CHECK(on_path(server, "/v1/messages") == (judge_type == "openai" ? 0 : 4));
      const auto db = runs_db_of(repo);
      CHECK(sql_text(db, "SELECT group_concat(provider_kind || ' ' || collected, ',') FROM "
                         "(SELECT * FROM batches ORDER BY id)") == "openai 1," + judge_type + " 1");
      CHECK(sql_text(db, "SELECT group_concat(n, ',') FROM (SELECT count(*) AS n FROM "
                         "batch_requests GROUP BY batch ORDER BY batch)") == "4,4");
      // The contains assertion is the first: the judges are assertions 1 and 2 (slots 2, 3).
      CHECK(sql_text(db, "SELECT group_concat(slot) FROM (SELECT DISTINCT slot FROM "
                         "batch_requests WHERE batch = 2 ORDER BY slot)") == "2,3");
      CHECK(sql_text(db, "SELECT count(*) FROM attempts WHERE run_id = 2 AND purpose LIKE "
                         "'judge:%' AND outcome = 'answer'") == "4");

      // The judge's replies cost half as much through the batch.
      double sync_judge = judge_cost_of(repo, "1"), batch_judge = judge_cost_of(repo, "2");
      REQUIRE(sync_judge > 0);
      CHECK(batch_judge == Approx(sync_judge * 0.5));
      CHECK(summary["judge_cost"].get<double>() == Approx(batch_judge));
      CHECK(summary["cost"].get<double>() == Approx(sync_summary["cost"].get<double>() * 0.5));
      FIGURE("4 cases, 4 judge calls (judge "
             << judge_type << "): synchronous " << sync_summary["requests"] << " requests $"
             << sync_summary["cost"].get<double>() << " (judge $" << sync_judge << "); batch "
             << summary["requests"] << " requests in 2 batches $" << summary["cost"].get<double>()
             << " (judge $" << batch_judge << ")");

      auto show = repo.evalkeep({"runs", "show", "2"});
      CHECK(show.out.find("answers and judge calls at the batch price") != std::string::npos);

      // The verdicts went into the cache: a later batch run replays them and sends no batch.
      auto cached = repo.evalkeep({"run", "--provider", "local", "--judge", "grader", "--batch",
                                   "--poll-interval", "0.005", "-q", "--json"},
                                  {}, env);
      CHECK(cached.exit_code == 1);
      CHECK(parse_json(cached.out)["replayed"] == 8);
      CHECK(sql_text(db, "SELECT count(*) FROM batches") == "2");
      CHECK(verdicts(repo, "3") == verdicts(repo, "1"));
    }
  }
}

TEST_CASE("judge lines that fail in the batch fail or error their assertions as synchronous "
          "replies do",
          "[reliability][batch][judge]") {
  StandIn server(k_rules, 0, 1, {"--batch-ms", "20"});
  Repo repo;
  init_judged(repo,
              {{"a-broken", {"broken"}}, {"b-garbled", {"garbled"}}, {"c-polite", {"polite"}}});
  append_toml(repo, provider_table(server));
  auto r = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--batch",
                          "--poll-interval", "0.005", "-q", "--json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(verdicts(repo, "1") == "a-broken:error:judge-bad-request,b-garbled:fail:,c-polite:pass:");
  CHECK(outcomes(repo, "1").find("the judge's reply was not the JSON asked for") !=
        std::string::npos);
  CHECK(on_path(server, "/v1/chat/completions") == 0); // no retry, nothing synchronous
  CHECK(on_path(server, "/v1/batches") == 2);
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM attempts WHERE purpose = 'judge:1'") ==
        "3");
  CHECK(sql_text(runs_db_of(repo), "SELECT error_class FROM attempts WHERE case_id = 'a-broken' "
                                   "AND purpose = 'judge:1'") == "bad-request");
}

TEST_CASE("a judge batch that expires leaves its unfinished judge calls as errors "
          "(judge-expired), and a later run sends only those",
          "[reliability][batch][judge]") {
  // Three answers, then six judge calls: every batch gets to its first three requests only.
  StandIn server(k_rules, 0, 1, {"--batch-ms", "20", "--batch-expire-after", "3"});
  Repo repo;
  init_judged(repo,
              {{"a", {"polite", "kind"}}, {"b", {"polite", "kind"}}, {"c", {"polite", "kind"}}});
  append_toml(repo, provider_table(server));
  auto r = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--batch",
                          "--poll-interval", "0.005", "-q", "--json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  const auto db = runs_db_of(repo);
  CHECK(sql_text(db, "SELECT group_concat(state, ',') FROM (SELECT state FROM batches ORDER BY "
                     "id)") == "completed,expired");
  int expired = std::stoi(
      sql_text(db, "SELECT count(*) FROM attempts WHERE error_class = 'expired' AND purpose LIKE "
                   "'judge:%'"));
  CHECK(expired == 3);
  int errored = std::stoi(sql_text(db, "SELECT count(*) FROM results WHERE error_class = "
                                       "'judge-expired'"));
  CHECK(errored >= 2);
  CHECK(sql_text(db, "SELECT count(*) FROM results WHERE verdict = 'error'") ==
        std::to_string(errored));
  CHECK(on_path(server, "/v1/chat/completions") == 0);

  // A later run replays the answers and the three verdicts, and batches only the expired calls.
  auto again = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--batch",
                              "--poll-interval", "0.005", "-q", "--json"});
  INFO("again stderr: " << again.err);
  CHECK(again.exit_code == 0);
  CHECK(parse_json(again.out)["replayed"] == 3 + 3);
  CHECK(sql_text(db, "SELECT count(*) FROM batch_requests WHERE batch = 3") == "3");
  CHECK(sql_text(db, "SELECT min(slot) > 0 FROM batch_requests WHERE batch = 3") == "1");
  CHECK(verdicts(repo, "2") == "a:pass:,b:pass:,c:pass:");
}

TEST_CASE("a batch run with a judge without a batch API (exec) calls it synchronously",
          "[reliability][batch][judge]") {
  StandIn server(k_rules, 0, 1, {"--batch-ms", "20"});
  Repo repo;
  init_judged(repo, {{"a", {"polite"}}, {"b", {"polite"}}});
  append_toml(repo, provider_table(server));
  append_toml(repo, "\n[providers.prog]\ntype = \"exec\"\ncommand = [\"sh\", \"-c\", "
                    "\"cat >/dev/null; echo '{\\\"score\\\": 0.95, \\\"rationale\\\": "
                    "\\\"fine\\\"}'\"]\n");
  auto r = repo.evalkeep({"run", "--provider", "local", "--judge", "prog", "--batch",
                          "--poll-interval", "0.005", "--json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(parse_json(r.out)["judge_requests"] == 2);
  CHECK(verdicts(repo, "1") == "a:pass:,b:pass:");
  CHECK(on_path(server, "/v1/batches") == 1); // the answers' only
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM batch_requests WHERE slot > 0") == "0");
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM attempts WHERE purpose = 'judge:1' AND "
                                   "outcome = 'answer'") == "2");
}

TEST_CASE("a batch run killed with SIGKILL while its judge batch is processing resumes by "
          "collecting both batches, asking nothing again",
          "[reliability][batch][judge][kill]") {
  StandIn server(k_rules, 0, 1, {"--batch-ms", "1500"});
  Repo repo;
  init_judged(repo, k_cases);
  append_toml(repo, provider_table(server, "local", "openai", k_prices));
  const auto db = runs_db_of(repo);
  {
    Background run(repo.path(),
                   {"run", "--provider", "local", "--judge", "local", "--batch", "--poll-interval",
                    "0.01", "-q"},
                   {}, "killed");
    // Kill it once the judge batch is recorded and while it is still in progress.
    bool recorded = false;
    for (int i = 0; i < 2000 && !recorded; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      try {
        recorded =
            std::filesystem::exists(db) && sql_text(db, "SELECT count(*) FROM batches") == "2";
      } catch (const std::exception&) {
      }
    }
    REQUIRE(recorded);
    REQUIRE(run.kill9());
  }
  // a-plain needs no judge: it was stored when the answers were collected. The others wait.
  CHECK(sql_text(db, "SELECT group_concat(case_id) FROM results") == "a-plain");
  CHECK(sql_text(db, "SELECT group_concat(collected) FROM batches") == "0,0");
  CHECK(on_path(server, "/v1/batches") == 2);

  auto resumed = repo.evalkeep({"run", "--resume", "--poll-interval", "0.01", "--json"});
  INFO("stderr: " << resumed.err);
  CHECK(resumed.exit_code == 1);
  CHECK(resumed.err.find("resuming batch batch_standin") != std::string::npos);
  auto summary = parse_json(resumed.out);
  CHECK(summary["passed"] == 3);
  CHECK(summary["failed"] == 1);
  // The same two batches, collected: no third file or batch, nothing synchronous, and each
  // answer and each judge call made once.
  CHECK(on_path(server, "/v1/files") == 2);
  CHECK(on_path(server, "/v1/batches") == 2);
  CHECK(on_path(server, "/v1/chat/completions") == 0);
  CHECK(on_path(server, "batch:/v1/chat/completions") == 4 + 4);
  CHECK(verdicts(repo, "1") == "a-plain:pass:,b-polite:pass:,c-strict:fail:,d-two:pass:");
  CHECK(sql_text(db, "SELECT group_concat(collected) FROM batches") == "1,1");
  // The judge replies came through the batch: priced at its price.
  CHECK(sql_text(db, "SELECT count(*) FROM results WHERE judge_cost > 0") == "3");
  CHECK(integrity(db) == "ok");
}

TEST_CASE("a batch run sends g-eval's first calls in the judge batch and its second calls "
          "synchronously, with the synchronous run's verdicts",
          "[reliability][batch][judge]") {
  StandIn server(R"({"rules": [
    {"match": "<reply>\nI can help", "answer": "{\"score\": 9, \"reason\": \"clear\"}"},
    {"match": "short evaluation steps", "answer": "{\"steps\": [\"Check it is clear\"]}"},
    {"match": "", "answer": "I can help with that."}]})",
                 0, 1, {"--batch-ms", "20"});
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  for (std::string id : {"a", "b", "c"})
    must_succeed(repo, {"add", "-q", "--id", id, "--prompt", "question " + id, "--expect",
                        "judge/g-eval:criterion clear " + id, "--provenance", "spec:batch"});
  append_toml(repo, provider_table(server, "local", "openai", k_prices));
  auto sync = repo.evalkeep(
      {"run", "--provider", "local", "--judge", "local", "--no-cache", "-q", "--json"});
  INFO("sync stderr: " << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(parse_json(sync.out)["judge_requests"] == 6);
  server.reset();
  auto batch = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--no-cache",
                              "--batch", "--poll-interval", "0.005", "--json"});
  INFO("batch stderr: " << batch.err);
  REQUIRE(batch.exit_code == 0);
  CHECK(parse_json(batch.out)["passed"] == 3);
  CHECK(outcomes(repo, "2") == outcomes(repo, "1"));
  CHECK(outcomes(repo, "2").find("g-eval scored 0.90 (needs 0.70): clear") != std::string::npos);
  // Answers, then the steps in a second batch; the scores synchronously.
  CHECK(on_path(server, "/v1/batches") == 2);
  CHECK(on_path(server, "batch:/v1/chat/completions") == 3 + 3);
  CHECK(on_path(server, "/v1/chat/completions") == 3);
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM attempts WHERE run_id = 2 AND purpose "
                                   "LIKE 'judge:0%' AND outcome = 'answer'") == "6");
}
