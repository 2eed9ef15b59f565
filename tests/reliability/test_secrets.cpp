// Item 17: a canary API key through every path a test can reach -- runs that pass and fail, a
// 401 whose body echoes the request, a run killed mid-way and its resume, every report format
// (text, JSON, Markdown, JUnit, HTML), the gate's outputs and $GITHUB_STEP_SUMMARY, the run
// metadata -- appears in no output and no file, raw, base64 or URL-encoded, the stores'
// -wal/-shm/-journal companions included.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

std::string base64(const std::string& in) {
  static const char* k_abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                 static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out += k_abc[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size())
      v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += k_abc[(v >> 18) & 63];
    out += k_abc[(v >> 12) & 63];
    out += i + 1 < in.size() ? k_abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// 24 random hex digits: the part of a canary key no other text can hold by chance.
std::string random_hex() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 24; ++i)
    out += "0123456789abcdef"[rd() % 16];
  return out;
}

// Every form the key could take in bytes: raw, its random part alone, base64 at each of the
// three alignments it could have inside a longer text (the characters that depend on the key
// alone), percent-encoded (upper and lower case) and hex.
std::vector<std::string> forms_of(const std::string& key, const std::string& random_part) {
  std::vector<std::string> forms{key, random_part};
  for (int pad = 0; pad < 3; ++pad) {
    auto b = base64(std::string(static_cast<std::size_t>(pad), 'x') + key);
    forms.push_back(b.substr(4, b.size() - 8));
  }
  std::string upper, lower, hex;
  for (unsigned char c : key) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    upper += buf;
    std::snprintf(buf, sizeof buf, "%%%02x", c);
    lower += buf;
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  forms.push_back(upper);
  forms.push_back(lower);
  forms.push_back(hex);
  forms.push_back(base64("Bearer " + key).substr(0, 12)); // an Authorization header, encoded
  return forms;
}

struct Canary {
  std::vector<std::string> forms;
  int texts_searched = 0;
  int files_searched = 0;
  std::vector<std::string> leaks;

  void search(const std::string& where, const std::string& bytes) {
    for (const auto& f : forms)
      if (bytes.find(f) != std::string::npos)
        leaks.push_back(where + " holds '" + f + "'");
  }
  // Every file under the folder, hidden ones and .git included.
  void search_files(const fs::path& root) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file())
        continue;
      search(entry.path().string(), read_file(entry.path()));
      ++files_searched;
    }
  }
  // The runs store's tables as SQLite reads them back, beside the file's bytes.
  void search_runs_db(const Repo& repo) {
    for (const char* table : {"runs", "run_cases", "results", "attempts", "cache"}) {
      auto dump = repo.run({"sqlite3", ".evalkeep/runs.db", std::string(".dump ") + table});
      search(std::string("runs.db table ") + table, dump.out);
      ++texts_searched;
    }
  }
  void check_no_leaks() const {
    std::string all;
    for (const auto& l : leaks)
      all += l + "\n";
    INFO(all);
    CHECK(leaks.empty());
  }
};

// Runs every path; with `echo_401`, also the runs against a provider whose 401 echoes the key.
void canary_paths(bool echo_401) {
  const std::string random_part = random_hex();
  const std::string key = "sk-CANARY-" + random_part;
  Canary canary{forms_of(key, random_part), 0, 0, {}};

  StandIn server(R"({"default": {"answer": "I can help with that."},
    "rules": [{"match": "my order is late", "answer": "Unfortunately your order is late."}]})");
  StandIn echoing(R"({"rules": [{"match": "", "fault": "401-echo"}]})");
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "greeting", "--prompt", "Hello there", "--expect",
                      "contains:help", "--provenance", "spec:greets"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server) << provider_table(echoing, "echoing");
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "suite"});
  repo.git({"checkout", "-q", "-b", "pr"});
  must_succeed(repo, {"add", "--id", "late-order", "--prompt", "My order is late again.",
                      "--expect", "not-contains:Unfortunately", "--provenance", "spec:tone"});
  repo.git({"commit", "-q", "-am", "a failing case"});

  TempDir outside; // $GITHUB_STEP_SUMMARY lives outside the repository, as on a runner
  const auto summary = outside / "step-summary.md";
  const std::vector<std::string> env{"OPENAI_API_KEY=" + key, "GITHUB_ACTIONS=true",
                                     "GITHUB_STEP_SUMMARY=" + summary.string()};
  int commands = 0;
  auto run = [&](const std::vector<std::string>& args, std::vector<int> exits) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstdout: " << r.out
                            << "\nstderr: " << r.err);
    CHECK(std::find(exits.begin(), exits.end(), r.exit_code) != exits.end());
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
    canary.texts_searched += 2;
    ++commands;
    // The stores' companions exist only while a connection is open: look after each command.
    canary.search_files(repo.path() / ".evalkeep");
    return r;
  };

  // Runs that pass and fail, in text and JSON; the request carried the key.
  run({"run", "--provider", "local"}, {1});
  run({"run", "--provider", "local", "--no-cache", "--json", "--trials", "2"}, {1});
  CHECK(server.stats()["headers_seen"]["authorization"].get<int>() >= 1);
  if (echo_401) {
    // A 401 that echoes the key back: the run stops, and its error is stored and printed.
    auto denied = run({"run", "--provider", "echoing", "-j", "1", "--json"}, {3});
    CHECK(echoing.requests() >= 1);
    CHECK_THAT(denied.out + denied.err, Catch::Contains("401"));
    run({"run", "--provider", "echoing", "-j", "1"}, {3});
    run({"run", "--resume", "--json"}, {3});
  } else {
    run({"run", "--provider", "local", "--case", "greeting"}, {0});
    run({"run", "--provider", "local", "--case", "greeting", "--no-cache"}, {0});
  }
  // Every report of the runs.
  run({"runs", "list"}, {0});
  run({"runs", "list", "--json"}, {0});
  for (const char* r : {"1", "2", "3", "latest"}) {
    run({"runs", "show", r}, {0, 1});
    run({"runs", "show", r, "--json"}, {0, 1});
  }
  run({"runs", "diff", "1", "2"}, {0});
  run({"runs", "diff", "2", "latest", "--json"}, {0});
  run({"why", "late-order"}, {0});
  run({"why", "late-order", "--json"}, {0});
  for (const char* format : {"text", "json", "md"})
    run({"audit", "--format", format}, {0});
  run({"audit", "--format", "html", "-o", "audit.html"}, {0});
  run({"report", "latest", "-o", "report.html"}, {0});
  run({"report", "2", "--vs", "1", "-o", "report-vs.html"}, {0});
  CHECK(read_file(repo.path() / "report.html").find("<svg") != std::string::npos);
  run({"cache", "export", "answers.jsonl"}, {0});
  // The gate on those runs, in every format, with the step summary.
  run({"gate", "--base", "main", "--run", "2", "--json"}, {1});
  run({"gate", "--base", "main", "--run", "latest", "--markdown", "gate.md", "--junit", "gate.xml"},
      {1});
  run({"gate", "--base", "main", "--run-now", "--provider", "local", "--json"}, {1});
  if (echo_401)
    run({"gate", "--base", "main", "--run-now", "--provider", "echoing", "--markdown", "gate2.md"},
        {1, 3});
  CHECK(fs::exists(summary));

  // A crash: a run killed with SIGKILL mid-way leaves its -wal behind, and a resume reads it.
  StandIn slow(R"({"default": {"answer": "I can help with that."}})", 300);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(slow, "slow");
  {
    Background crashed(repo.path(), {"run", "--provider", "slow", "--no-cache", "-j", "1"}, env,
                       "crashed");
    for (int i = 0; i < 200 && slow.requests() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(crashed.kill9());
    canary.search("the killed run's stdout", crashed.out());
    canary.search("the killed run's stderr", crashed.err());
    canary.texts_searched += 2;
  }
  CHECK(slow.requests() >= 2);
  CHECK(fs::exists(repo.path() / ".evalkeep" / "runs.db-wal")); // not searched in vain
  canary.search_files(repo.path() / ".evalkeep");
  run({"run", "--resume"}, {1});

  canary.search_files(repo.path());
  canary.search_files(outside.path());
  // The run metadata as stored, read back through SQLite as well as from the bytes.
  canary.search_runs_db(repo);
  canary.check_no_leaks();
  CHECK(canary.files_searched > 10);
  FIGURE("canary" << (echo_401 ? " with a 401 echoing the key" : "") << ": " << commands
                  << " commands, " << canary.texts_searched << " outputs and dumps and "
                  << canary.files_searched << " file reads searched for " << canary.forms.size()
                  << " forms of the key; leaks: " << canary.leaks.size());
}

} // namespace

TEST_CASE("a canary API key appears in no output, no report and no file",
          "[reliability][secrets]") {
  canary_paths(false);
}

// The key is redacted from every response before it is read (providers::redact), so a body
// that quotes the Authorization header cannot carry it anywhere.
TEST_CASE("a canary API key echoed back in a 401 body appears in no output and no file",
          "[reliability][secrets]") {
  canary_paths(true);
}

namespace {

// The Azure api-key, an Entra ID token and the Gemini x-goog-api-key: a canary through passing
// and failing runs, a 401 that echoes the request (the header's value first, every header, the
// body), the reports and the stores; in no output, no file and no table.
void cloud_canary(const std::string& type, const std::string& variable, const std::string& extra) {
  const std::string random_part = random_hex();
  const std::string key = "CANARY" + random_part;
  Canary canary{forms_of(key, random_part), 0, 0, {}};

  StandIn server(R"({"rules": [{"match": "my order is late",
                                "answer": "Unfortunately your order is late."}]})");
  StandIn echoing(R"({"rules": [{"match": "", "fault": "401-echo"}]})");
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "greeting", "--prompt", "Hello there", "--expect",
                      "contains:help", "--provenance", "spec:greets"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "cloud", type, extra)
      << provider_table(echoing, "echoing", type, extra);
  const std::vector<std::string> env{variable + "=" + key};
  auto run = [&](const std::vector<std::string>& args, std::vector<int> exits) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstdout: " << r.out
                            << "\nstderr: " << r.err);
    CHECK(std::find(exits.begin(), exits.end(), r.exit_code) != exits.end());
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
    canary.texts_searched += 2;
    canary.search_files(repo.path() / ".evalkeep");
    return r;
  };
  run({"run", "--provider", "cloud"}, {0, 1});
  run({"run", "--provider", "cloud", "--no-cache", "--json"}, {0, 1});
  auto log = server.log();
  REQUIRE_FALSE(log.empty());
  CHECK(log[0]["status"] == 200); // the key went in the header the API reads
  auto denied = run({"run", "--provider", "echoing", "-j", "1", "--json"}, {3});
  CHECK(echoing.requests() >= 1);
  CHECK_THAT(denied.out + denied.err, Catch::Contains("401"));
  CHECK_THAT(denied.out + denied.err, Catch::Contains("[redacted]"));
  run({"run", "--resume", "--json"}, {3});
  for (const char* r : {"1", "2", "latest"}) {
    run({"runs", "show", r}, {0, 1});
    run({"runs", "show", r, "--json"}, {0, 1});
  }
  run({"why", "greeting", "--json"}, {0});
  run({"report", "latest", "-o", "report.html"}, {0});
  run({"report", "2", "--vs", "1", "-o", "report-vs.html"}, {0});
  run({"cache", "export", "answers.jsonl"}, {0});
  canary.search_files(repo.path());
  canary.search_runs_db(repo);
  canary.check_no_leaks();
  CHECK(canary.files_searched > 10);
}

} // namespace

TEST_CASE("a canary Azure api-key, echoed back in a 401 or not, appears in no output and no file",
          "[reliability][secrets]") {
  cloud_canary("azure", "AZURE_OPENAI_API_KEY", "");
}

TEST_CASE("a canary Entra ID token sent to Azure as a bearer token appears nowhere",
          "[reliability][secrets]") {
  cloud_canary("azure", "AZURE_OPENAI_AD_TOKEN", "auth = \"entra-id\"\n");
}

TEST_CASE("a canary Gemini x-goog-api-key, echoed back in a 401 or not, appears nowhere",
          "[reliability][secrets]") {
  cloud_canary("gemini", "GEMINI_API_KEY", "");
}

// Bedrock: the AWS secret access key and session token are secrets like an API key. libcurl signs
// with the secret (it never travels), the token travels as x-amz-security-token, and a refusal
// that echoes the request back quotes the token: neither may reach an output, a report or a file.
TEST_CASE("canary AWS credentials appear in no output, no report and no file",
          "[reliability][secrets][bedrock]") {
  const std::string secret_part = random_hex(), token_part = random_hex();
  const std::string secret = "aws/CANARY+secret" + secret_part;
  const std::string token = "FwoGZXIvCANARYtoken" + token_part;
  Canary canary{forms_of(secret, secret_part), 0, 0, {}};
  for (auto& f : forms_of(token, token_part))
    canary.forms.push_back(f);

  const nlohmann::json aws{
      {"access_key_id", "AKIDCANARY"}, {"secret_access_key", secret}, {"session_token", token}};
  auto rules = nlohmann::json::parse(R"({"default": {"answer": "I can help with that."},
    "rules": [{"match": "my order is late", "answer": "Unfortunately your order is late."}]})");
  rules["aws"] = aws;
  StandIn server(rules.dump());
  nlohmann::json echo_rules{{"aws", aws}};
  echo_rules["rules"] = nlohmann::json::parse(R"([{"match": "", "fault": "401-echo"}])");
  StandIn echoing(echo_rules.dump());
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "late-order", "--prompt", "My order is late again.",
                      "--expect", "not-contains:Unfortunately", "--provenance", "spec:tone"});
  const std::string region = "region = \"us-east-1\"\n";
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "aws", "bedrock", region)
      << provider_table(echoing, "echoing", "bedrock", region);
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "suite"});

  const std::vector<std::string> env{"AWS_ACCESS_KEY_ID=AKIDCANARY",
                                     "AWS_SECRET_ACCESS_KEY=" + secret,
                                     "AWS_SESSION_TOKEN=" + token};
  int commands = 0;
  auto run = [&](const std::vector<std::string>& args, std::vector<int> exits) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstdout: " << r.out
                            << "\nstderr: " << r.err);
    CHECK(std::find(exits.begin(), exits.end(), r.exit_code) != exits.end());
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
    canary.texts_searched += 2;
    ++commands;
    canary.search_files(repo.path() / ".evalkeep");
    return r;
  };
  run({"run", "--provider", "aws"}, {1});
  run({"run", "--provider", "aws", "--no-cache", "--json", "--trials", "2"}, {1});
  CHECK(server.log().size() >= 3); // the calls were signed and answered
  CHECK(server.stats()["headers_seen"]["x-amz-security-token"].get<int>() >= 1);
  // A refusal echoing the request, its security token included: the run stops on it.
  auto denied = run({"run", "--provider", "echoing", "-j", "1", "--json"}, {3});
  CHECK(echoing.requests() >= 1);
  CHECK_THAT(denied.out + denied.err, Catch::Contains("UnrecognizedClientException"));
  run({"run", "--resume", "--json"}, {3});
  run({"runs", "list", "--json"}, {0});
  for (const char* r : {"1", "2", "latest"}) {
    run({"runs", "show", r}, {0, 1});
    run({"runs", "show", r, "--json"}, {0, 1});
  }
  run({"why", "late-order", "--json"}, {0});
  run({"audit", "--format", "json"}, {0});
  run({"report", "latest", "-o", "report.html"}, {0});
  run({"cache", "export", "answers.jsonl"}, {0});

  canary.search_files(repo.path());
  canary.search_runs_db(repo);
  canary.check_no_leaks();
  CHECK(canary.files_searched > 10);
  FIGURE("bedrock canary: " << commands << " commands, " << canary.texts_searched
                            << " outputs and dumps and " << canary.files_searched
                            << " file reads searched for " << canary.forms.size()
                            << " forms of the secret key and session token; leaks: "
                            << canary.leaks.size());
}

// A batch run: the key authenticates the file upload, the batch and its polls, and a batch line
// whose error echoes the request's headers (the stand-in's 401-echo inside a batch) comes back in
// the error file. None of it reaches runs.db, the output or a report; OpenAI's and Anthropic's.
TEST_CASE("a canary API key used by a batch run appears in no output and no file",
          "[reliability][secrets][batch]") {
  const std::string random_part = random_hex();
  const std::string key = "sk-CANARY-" + random_part;
  Canary canary{forms_of(key, random_part), 0, 0, {}};
  StandIn server(R"({"rules": [{"match": "question 0001", "fault": "401-echo"},
                               {"match": "question 0002", "fault": "500"}]})",
                 0, 1, {"--batch-ms", "10", "--batch-expire-after", "3"});
  Repo repo;
  init_with_cases(repo, 4);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server) << provider_table(server, "claude", "anthropic");
  const std::vector<std::string> env{"OPENAI_API_KEY=" + key, "ANTHROPIC_API_KEY=" + key};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", "--provider", "local", "--batch", "--poll-interval", "0.005", "--json"},
           {"run", "--provider", "claude", "--batch", "--poll-interval", "0.005"},
           {"report", "latest", "-o", "report.html"},
           {"runs", "show", "latest", "--json"}}) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code != 2);
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
  }
  // The 401 echo reached the store as that case's error, without the key.
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM results WHERE error_class = 'auth'") !=
        "0");
  canary.search_files(repo.path());
  for (const auto& l : canary.leaks)
    UNSCOPED_INFO(l);
  CHECK(canary.leaks.empty());
  CHECK(canary.files_searched > 3);
}

// A batch run's judge calls go in a second batch with the judge's key (openai and anthropic
// judges): the upload, the batch, its polls, and a judge line whose error echoes the request's
// headers. The judge's key reaches no output, no report and no file.
TEST_CASE("a canary judge key used by a judge batch appears in no output and no file",
          "[reliability][secrets][batch]") {
  const std::string random_part = random_hex();
  const std::string key = "sk-CANARY-" + random_part;
  Canary canary{forms_of(key, random_part), 0, 0, {}};
  StandIn server(R"({"rules": [
    {"match": "criterion echo", "fault": "401-echo"},
    {"match": "You grade an AI assistant", "answer": "{\"score\": 0.9, \"rationale\": \"ok\"}"}
  ]})",
                 0, 1, {"--batch-ms", "10"});
  Repo repo;
  seed_suite(repo);
  for (const char* c : {"polite", "echo"})
    must_succeed(repo,
                 {"add", "--id", std::string("judged-") + c, "--prompt", "Hello there", "--expect",
                  std::string("judge@0.8:criterion ") + c, "--provenance", "spec:judge"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server) << provider_table(server, "grader", "openai")
      << "api_key_env = \"JUDGE_CANARY_KEY\"\n"
      << provider_table(server, "claude-grader", "anthropic")
      << "api_key_env = \"JUDGE_CANARY_KEY\"\n";
  const std::vector<std::string> env{"OPENAI_API_KEY=sk-answers-not-secret",
                                     "JUDGE_CANARY_KEY=" + key};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"run", "--provider", "local", "--judge", "grader", "--no-cache", "--batch",
            "--poll-interval", "0.005", "--json"},
           {"run", "--provider", "local", "--judge", "claude-grader", "--no-cache", "--batch",
            "--poll-interval", "0.005"},
           {"report", "latest", "-o", "report.html"},
           {"runs", "show", "latest", "--json"}}) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code != 2);
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
  }
  // Both judge batches ran, and the echoed 401 reached the store as a judge error, without the key.
  CHECK(sql_text(runs_db_of(repo), "SELECT count(*) FROM batch_requests WHERE slot > 0") == "4");
  CHECK(sql_text(runs_db_of(repo),
                 "SELECT count(*) FROM results WHERE error_class = 'judge-auth'") == "2");
  canary.search_files(repo.path());
  for (const auto& l : canary.leaks)
    UNSCOPED_INFO(l);
  CHECK(canary.leaks.empty());
  CHECK(canary.files_searched > 3);
}

// similar's embeddings go to the judge provider with its key: a canary through a passing call, a
// 401 that echoes the request (the run stops, and the similar check says why), the reports and
// the stores; in no output, no file and no table.
TEST_CASE("a canary API key sent for embeddings appears in no output and no file",
          "[reliability][secrets]") {
  const std::string random_part = random_hex();
  const std::string key = "sk-CANARY-" + random_part;
  Canary canary{forms_of(key, random_part), 0, 0, {}};

  StandIn server(
      R"({"rules": [{"match": "capital", "answer": "Paris is the capital of France."}]})");
  StandIn echoing(R"({"rules": [{"match": "", "fault": "401-echo"}]})");
  Repo repo;
  seed_suite(repo);
  must_succeed(repo,
               {"add", "--id", "capital", "--prompt", "What is the capital of France?", "--expect",
                "similar@0.8:The capital of France is Paris", "--provenance", "spec:geo"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server) << provider_table(echoing, "echoing");
  const std::vector<std::string> env{"OPENAI_API_KEY=" + key};
  auto run = [&](const std::vector<std::string>& args, std::vector<int> exits) {
    auto r = repo.evalkeep(args, {}, env);
    INFO(command_line(args) << "\nexit " << r.exit_code << "\nstdout: " << r.out
                            << "\nstderr: " << r.err);
    CHECK(std::find(exits.begin(), exits.end(), r.exit_code) != exits.end());
    canary.search(command_line(args) + " stdout", r.out);
    canary.search(command_line(args) + " stderr", r.err);
    canary.texts_searched += 2;
    canary.search_files(repo.path() / ".evalkeep");
    return r;
  };
  run({"run", "--provider", "local", "--judge", "local", "--case", "capital"}, {0});
  auto log = server.log();
  REQUIRE(log.size() == 2);
  CHECK(log[1]["path"] == "/v1/embeddings");
  CHECK(log[1]["authorization_present"] == true);
  auto denied = run({"run", "--provider", "local", "--judge", "echoing", "--case", "capital",
                     "--no-cache", "--json"},
                    {1, 3});
  CHECK(echoing.requests() >= 1);
  auto rows = repo.run({"sqlite3", ".evalkeep/runs.db", "SELECT assertions FROM results"});
  CHECK_THAT(rows.out, Catch::Contains("fetching embeddings from provider echoing failed (auth)"));
  CHECK_THAT(rows.out, Catch::Contains("[redacted]"));
  for (const char* r : {"1", "latest"}) {
    run({"runs", "show", r}, {0, 1});
    run({"runs", "show", r, "--json"}, {0, 1});
  }
  run({"why", "capital", "--json"}, {0});
  run({"report", "latest", "-o", "report.html"}, {0});
  canary.search_files(repo.path());
  canary.search_runs_db(repo);
  canary.check_no_leaks();
}
