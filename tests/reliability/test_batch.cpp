// Batch runs (`evalkeep run --batch`) against the stand-in's emulation of OpenAI's Batch API and
// Anthropic's Message Batches: the verdicts a synchronous run gives, at the batch price; lines
// that fail; a batch that expires; a run killed with SIGKILL while its batch is processing,
// resumed without submitting a second batch.

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

// Case 0001 gets a wrong answer (fails), the others the default (pass).
const std::string k_rules = R"({"rules": [{"match": "question 0001", "answer": "No."}]})";
const std::string k_prices = "input_price_per_mtok = 2.0\noutput_price_per_mtok = 8.0\n";

// "case-0000:pass,case-0001:fail,..." for a run.
std::string verdicts(const Repo& repo, const std::string& run) {
  return sql_text(runs_db_of(repo),
                  "SELECT group_concat(case_id || ':' || verdict || ':' || "
                  "coalesce(error_class, ''), ',') FROM (SELECT * FROM results WHERE run_id = " +
                      run + " ORDER BY case_id, trial)");
}

double cost_of_run(const Repo& repo, const std::string& run) {
  return std::stod(sql_text(runs_db_of(repo), "SELECT coalesce(sum(cost), 0) FROM results WHERE "
                                              "run_id = " +
                                                  run));
}

// Requests the stand-in received on a path (POST /v1/batches, POST /v1/files, ...).
int on_path(const StandIn& server, const std::string& path) {
  auto stats = server.stats();
  return stats["by_path"].value(path, 0);
}

void append_toml(const Repo& repo, const std::string& text) {
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << text;
}

} // namespace

TEST_CASE("a batch run gives the verdicts of the same run made synchronously, at half its cost",
          "[reliability][batch]") {
  StandIn server(k_rules, 0, 1, {"--batch-ms", "30"});
  Repo repo;
  init_with_cases(repo, 6);
  append_toml(repo, provider_table(server, "local", "openai", k_prices));

  auto sync = repo.evalkeep({"run", "--provider", "local", "--no-cache", "-q", "--json"});
  REQUIRE(sync.exit_code == 1); // case-0001 fails
  CHECK(on_path(server, "/v1/batches") == 0);

  auto batch = repo.evalkeep({"run", "--provider", "local", "--no-cache", "--batch",
                              "--poll-interval", "0.005", "--json"});
  INFO("stderr: " << batch.err);
  REQUIRE(batch.exit_code == 1);
  CHECK(parse_json(batch.out)["passed"] == 5);
  CHECK(parse_json(batch.out)["failed"] == 1);
  CHECK(verdicts(repo, "2") == verdicts(repo, "1"));
  CHECK(verdicts(repo, "2").find("case-0001:fail") != std::string::npos);
  // One file, one batch, and the progress on stderr.
  CHECK(on_path(server, "/v1/files") == 1);
  CHECK(on_path(server, "/v1/batches") == 1);
  CHECK(batch.err.find("submitted batch batch_standin") != std::string::npos);
  CHECK(batch.err.find(": completed 6/6") != std::string::npos);
  CHECK(sql_text(runs_db_of(repo), "SELECT state || ' ' || collected FROM batches") ==
        "completed 1");
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM batch_requests") == "6");

  double sync_cost = cost_of_run(repo, "1"), batch_cost = cost_of_run(repo, "2");
  REQUIRE(sync_cost > 0);
  CHECK(batch_cost == Approx(sync_cost * 0.5));
  FIGURE("6 cases against the stand-in: synchronous $" << sync_cost << ", batch $" << batch_cost);

  // The answers went into the same cache: a plain batch run replays them, and sends no batch.
  auto cached = repo.evalkeep(
      {"run", "--provider", "local", "--batch", "--poll-interval", "0.005", "-q", "--json"});
  CHECK(cached.exit_code == 1);
  CHECK(parse_json(cached.out)["replayed"] == 6);
  CHECK(on_path(server, "/v1/batches") == 1);
  CHECK(verdicts(repo, "3") == verdicts(repo, "1"));
}

TEST_CASE("a batch line that fails is that case's error, with its error class",
          "[reliability][batch]") {
  StandIn server(R"({"rules": [{"match": "question 0002", "fault": "400"},
                               {"match": "question 0003", "fault": "500"},
                               {"match": "question 0004", "fault": "reset"}]})",
                 0, 1, {"--batch-ms", "20"});
  Repo repo;
  init_with_cases(repo, 6);
  append_toml(repo, provider_table(server));
  auto r = repo.evalkeep(
      {"run", "--provider", "local", "--batch", "--poll-interval", "0.005", "-q", "--json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(verdicts(repo, "1") == "case-0000:pass:,case-0001:pass:,case-0002:error:bad-request,"
                               "case-0003:error:server,case-0004:error:server,case-0005:pass:");
  // No retries: each failed line was one request.
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM attempts WHERE run_id = 1") == "6");
  CHECK(on_path(server, "/v1/chat/completions") == 0); // nothing was sent synchronously
  CHECK(on_path(server, "batch:/v1/chat/completions") == 6);
}

TEST_CASE("a batch that expires leaves its unfinished requests as errors (expired)",
          "[reliability][batch]") {
  StandIn server({}, 0, 1, {"--batch-ms", "20", "--batch-expire-after", "2"});
  Repo repo;
  init_with_cases(repo, 5);
  append_toml(repo, provider_table(server));
  auto r = repo.evalkeep(
      {"run", "--provider", "local", "--batch", "--poll-interval", "0.005", "-q", "--json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(verdicts(repo, "1") == "case-0000:pass:,case-0001:pass:,case-0002:error:expired,"
                               "case-0003:error:expired,case-0004:error:expired");
  CHECK(sql_text(runs_db_of(repo), "SELECT state FROM batches") == "expired");
  // A later run sends only the expired ones, in a new batch.
  auto again = repo.evalkeep(
      {"run", "--provider", "local", "--batch", "--poll-interval", "0.005", "-q", "--json"});
  CHECK(parse_json(again.out)["replayed"] == 2);
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM batch_requests WHERE batch = 2") == "3");
}

TEST_CASE("a batch run killed with SIGKILL while its batch is processing resumes by collecting "
          "that batch, without submitting another",
          "[reliability][batch][kill]") {
  StandIn server(k_rules, 0, 1, {"--batch-ms", "1500"});
  Repo repo;
  init_with_cases(repo, 8);
  append_toml(repo, provider_table(server, "local", "openai", k_prices));
  const auto db = runs_db_of(repo);
  {
    Background run(repo.path(),
                   {"run", "--provider", "local", "--batch", "--poll-interval", "0.01", "-q"}, {},
                   "killed");
    // Kill it once the batch is recorded and while it is still in progress.
    bool recorded = false;
    for (int i = 0; i < 1000 && !recorded; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      try {
        recorded =
            std::filesystem::exists(db) && sql_text(db, "SELECT count(*) FROM batches") == "1";
      } catch (const std::exception&) {
      }
    }
    REQUIRE(recorded);
    REQUIRE(run.kill9());
  }
  CHECK(sql_text(db, "SELECT count(*) FROM results") == "0");
  CHECK(sql_text(db, "SELECT state FROM runs WHERE id = 1") == "running");
  CHECK(on_path(server, "/v1/batches") == 1);

  auto resumed = repo.evalkeep({"run", "--resume", "--poll-interval", "0.01", "--json"});
  INFO("stderr: " << resumed.err);
  CHECK(resumed.exit_code == 1);
  CHECK(resumed.err.find("resuming batch batch_standin") != std::string::npos);
  auto summary = parse_json(resumed.out);
  CHECK(summary["passed"] == 7);
  CHECK(summary["failed"] == 1);
  // The same batch, collected: no second file, no second batch, no synchronous call.
  CHECK(on_path(server, "/v1/files") == 1);
  CHECK(on_path(server, "/v1/batches") == 1);
  CHECK(on_path(server, "/v1/chat/completions") == 0);
  CHECK(on_path(server, "batch:/v1/chat/completions") == 8); // each case once, in the batch
  CHECK(sql_text(db, "SELECT count(*) FROM results WHERE run_id = 1") == "8");
  CHECK(sql_text(db, "SELECT collected FROM batches") == "1");
  CHECK(integrity(db) == "ok");
}

TEST_CASE("an Anthropic batch run (Message Batches) gives the synchronous run's verdicts",
          "[reliability][batch]") {
  StandIn server(R"({"rules": [{"match": "question 0001", "answer": "No."},
                               {"match": "question 0002", "fault": "429"}]})",
                 0, 1, {"--batch-ms", "20"});
  Repo repo;
  init_with_cases(repo, 4);
  append_toml(repo, provider_table(server, "claude", "anthropic", k_prices));
  const std::vector<std::string> env{"ANTHROPIC_API_KEY=sk-ant-test"};
  auto sync = repo.evalkeep({"run", "--provider", "claude", "--no-cache", "-q"}, {}, env);
  CHECK(sync.exit_code == 3);
  auto batch = repo.evalkeep({"run", "--provider", "claude", "--no-cache", "--batch",
                              "--poll-interval", "0.005", "-q", "--json"},
                             {}, env);
  INFO("stderr: " << batch.err);
  CHECK(batch.exit_code == 3);
  CHECK(verdicts(repo, "2") ==
        "case-0000:pass:,case-0001:fail:,case-0002:error:rate-limited,case-0003:pass:");
  // The synchronous run retried the 429s; a batch's errored result is final.
  CHECK(verdicts(repo, "1") == verdicts(repo, "2"));
  CHECK(on_path(server, "/v1/messages/batches") == 1);
  CHECK(sql_text(runs_db_of(repo), "SELECT provider_kind || ' ' || state FROM batches") ==
        "anthropic ended");
  CHECK(cost_of_run(repo, "2") == Approx(cost_of_run(repo, "1") * 0.5));
}

TEST_CASE("run --batch is refused for a provider without a batch API", "[reliability][batch]") {
  Repo repo;
  init_with_cases(repo, 1);
  append_toml(repo, "\n[providers.prog]\ntype = \"exec\"\ncommand = [\"cat\"]\n");
  auto r = repo.evalkeep({"run", "--provider", "prog", "--batch"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("has no batch API") != std::string::npos);
}

namespace {

std::string multipart(const std::string& purpose) {
  return "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose +
         "\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n"
         R"({"custom_id":"r0","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}})"
         "\n\r\n--b--\r\n";
}

} // namespace

TEST_CASE("the stand-in's batch endpoints refuse what the real APIs refuse",
          "[reliability][batch]") {
  StandIn server;
  auto wrong = server.post("/v1/files", "multipart/form-data; boundary=b", multipart("batches"));
  CHECK(wrong.first == 400);
  CHECK(json::parse(wrong.second)["error"]["param"] == "purpose");
  auto file = server.post("/v1/files", "multipart/form-data; boundary=b", multipart("batch"));
  REQUIRE(file.first == 200);
  std::string id = json::parse(file.second)["id"];
  auto missing =
      server.post("/v1/batches", "application/json",
                  json{{"input_file_id", id}, {"endpoint", "/v1/chat/completions"}}.dump());
  CHECK(missing.first == 400);
  CHECK(json::parse(missing.second)["error"]["message"] ==
        "Missing required parameter: 'completion_window'.");
  auto window = server.post(
      "/v1/batches", "application/json",
      json{{"input_file_id", id}, {"endpoint", "/v1/chat/completions"}, {"completion_window", "1h"}}
          .dump());
  CHECK(window.first == 400);
  auto created = server.post("/v1/batches", "application/json",
                             json{{"input_file_id", id},
                                  {"endpoint", "/v1/chat/completions"},
                                  {"completion_window", "24h"}}
                                 .dump());
  CHECK(created.first == 200);
  CHECK(json::parse(created.second)["status"] == "validating");
  // Anthropic: a custom_id outside [a-zA-Z0-9_-]{1,64} (and no key) is refused.
  auto anthropic = server.post("/v1/messages/batches", "application/json",
                               R"({"requests":[{"custom_id":"a b","params":{}}]})");
  CHECK(anthropic.first == 401);
}
