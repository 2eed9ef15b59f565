// Item 13: inputs far past any sensible size. A 50 MB prompt (from a file, from stdin, in an
// import) is refused with the limit named, before it is parsed; a 100 MB response is cut off at
// 16 MB and recorded as a provider error; `list` of a 1,000,000-case suite (100,000 in the short
// mode) streams. Each time evalkeep's peak RSS (measured by GNU time) stays bounded.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_mb = std::size_t{1} << 20;

// A file of `bytes` bytes of words.
void write_words(const fs::path& file, std::size_t bytes, const std::string& before = {},
                 const std::string& after = {}) {
  std::ofstream out(file, std::ios::binary);
  out << before;
  const std::string block = [] {
    std::string b;
    while (b.size() < 64 * 1024)
      b += "lorem ipsum ";
    return b.substr(0, 64 * 1024);
  }();
  for (std::size_t left = bytes; left > 0;) {
    std::size_t n = std::min(left, block.size());
    out.write(block.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  out << after;
}

// Lines in a file, read as a stream.
std::size_t count_lines(const fs::path& file, const std::string& prefix = {}) {
  std::ifstream in(file, std::ios::binary);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    n += line.starts_with(prefix) ? 1 : 0;
  return n;
}

struct Measured {
  int exit_code;
  double rss_mb;
  double ms;
  std::string err;
};

Measured measure(const Repo& repo, const std::vector<std::string>& args,
                 const fs::path& stdin_file = "/dev/null", const std::string& name = "measured") {
  auto start = Clock::now();
  Background p(repo.path(), args, {}, name, stdin_file, true);
  int code = p.wait();
  return {code, p.peak_rss_mb(),
          std::chrono::duration<double, std::milli>(Clock::now() - start).count(), p.err()};
}

} // namespace

TEST_CASE("a 50 MB prompt is refused by add and import, naming the limit, in bounded memory",
          "[reliability][oversized]") {
  Repo repo;
  init_with_cases(repo, 1);
  auto suite_before = file_hash(repo.suite());
  // What evalkeep takes to refuse a small bad input: the baseline of the bounds below.
  auto baseline = measure(
      repo, {"add", "--prompt", "hi", "--expect", "fuzzy:x", "--provenance", "spec:limits"});
  REQUIRE(baseline.exit_code == 2);

  write_words(repo.path() / "big.txt", 50 * k_mb);
  auto from_file = measure(repo, {"add", "--prompt-file", "big.txt", "--expect", "contains:a",
                                  "--provenance", "spec:limits"});
  CHECK(from_file.exit_code == 2);
  CHECK(from_file.err == "evalkeep: error: --prompt-file: 'big.txt' is 50 MB, more than the 8 MB "
                         "a case's input may hold\n");
  auto from_stdin = measure(
      repo, {"add", "--prompt-file", "-", "--expect", "contains:a", "--provenance", "spec:limits"},
      repo.path() / "big.txt");
  CHECK(from_stdin.exit_code == 2);
  CHECK(from_stdin.err ==
        "evalkeep: error: --prompt-file: stdin holds more than the 8 MB a case's input may hold\n");

  // A JSONL file of one case `id` whose prompt has `mb` MB of words.
  auto write_case_line = [&](const std::string& id, std::size_t mb) {
    write_words(repo.path() / (id + ".jsonl"), mb * k_mb,
                R"({"type":"case","id":")" + id +
                    R"(","expect":[{"type":"contains","value":"a"}],)"
                    R"("provenance":{"kind":"spec","note":"limits"},"prompt":")",
                "\"}\n");
  };
  write_case_line("big", 50);
  auto line = measure(repo, {"import", "big.jsonl"});
  CHECK(line.exit_code == 2);
  CHECK(line.err ==
        "evalkeep: error: big.jsonl:1: the line is 50.0 MB, more than the 32 MB a record may "
        "take\n");
  // Under the line limit, over the input limit: parsed, then refused, naming the field.
  write_case_line("nine", 9);
  auto nine = measure(repo, {"import", "nine.jsonl"});
  CHECK(nine.exit_code == 2);
  CHECK(nine.err == "evalkeep: error: nine.jsonl:1: field \"prompt\": the case's input is 9 MB, "
                    "more than the 8 MB a case may hold\n");
  CHECK(file_hash(repo.suite()) == suite_before);

  // Refusing reads no more than the limit, whatever the input's size; an import holds its file.
  FIGURE("oversized input: peak RSS refusing a small bad case "
         << baseline.rss_mb << " MB; a 50 MB --prompt-file " << from_file.rss_mb
         << " MB, from stdin " << from_stdin.rss_mb << " MB; a 50 MB import line " << line.rss_mb
         << " MB; a 9 MB prompt in an import " << nine.rss_mb << " MB");
  if (k_rss_bounds_hold) {
    CHECK(from_file.rss_mb < baseline.rss_mb + 4);
    // Stdin has no size: its string grows by doubling, and briefly holds two copies.
    CHECK(from_stdin.rss_mb < baseline.rss_mb + 2 * 8 + 4);
    CHECK(line.rss_mb < baseline.rss_mb + 50 + 4);
    CHECK(nine.rss_mb < baseline.rss_mb + 9 * 8);
  }

  // At the limit a case is accepted, and runs.
  write_words(repo.path() / "eight.txt", 8 * k_mb);
  must_succeed(repo, {"add", "--id", "eight", "--prompt-file", "eight.txt", "--expect",
                      "contains:help", "--provenance", "spec:limits"});
  StandIn server;
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto run = repo.evalkeep({"run", "--provider", "local", "--case", "eight", "--json"});
  INFO("stderr: " << run.err);
  CHECK(run.exit_code == 0);
  CHECK(server.requests() == 1);
}

TEST_CASE("a 100 MB response is cut off at 16 MB and recorded as a provider error, in bounded "
          "memory",
          "[reliability][oversized]") {
  StandIn server(fmt::format(R"({{"rules": [
    {{"match": "huge", "answer": "help ", "answer_bytes": {}}},
    {{"match": "large", "answer": "help ", "answer_bytes": {}}}]}})",
                             100 * k_mb, 10 * k_mb));
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  for (const std::string id : {"huge", "large", "small"})
    must_succeed(repo, {"add", "--id", id, "--prompt", id + " answer please", "--expect",
                        "contains:help", "--provenance", "spec:limits"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  const auto runs_db = runs_db_of(repo);

  auto small = measure(repo, {"run", "--provider", "local", "--case", "small", "--json"});
  CHECK(small.exit_code == 0);
  auto huge = measure(repo, {"run", "--provider", "local", "--case", "huge", "--json"});
  INFO("stderr: " << huge.err);
  CHECK(huge.exit_code == 3);
  CHECK(sql_text(runs_db, "SELECT verdict || '|' || error_class || '|' || error || '|' || "
                          "coalesce(answer, 'NULL') FROM results WHERE case_id = 'huge'") ==
        "error|bad-response|response larger than 16 MB|NULL");
  CHECK(sql_text(runs_db, "SELECT count(*) FROM attempts WHERE case_id = 'huge'") == "1");
  CHECK(server.requests() == 2);
  // An exec provider's command writing 100 MB is stopped the same way.
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.flood]\ntype = \"exec\"\ncommand = [\"sh\", \"-c\", \"yes help | head -c "
      << 100 * k_mb << "\"]\n";
  auto flood = measure(repo, {"run", "--provider", "flood", "--case", "huge", "--json"});
  CHECK(flood.exit_code == 3);
  CHECK(sql_text(runs_db, "SELECT verdict || '|' || error_class || '|' || error || '|' || "
                          "coalesce(answer, 'NULL') FROM results WHERE case_id = 'huge' AND "
                          "run_id = (SELECT max(id) FROM runs)") ==
        "error|bad-response|the command wrote more than 16 MB|NULL");
  // Under the limit, a long answer is an answer. (Last: SQLite reads a row this large whole
  // whenever a search in the runs store compares against it, which adds 10 MB to later runs.)
  auto large = measure(repo, {"run", "--provider", "local", "--case", "large", "--json"});
  CHECK(large.exit_code == 0);
  CHECK(sql_text(runs_db, "SELECT length(answer) FROM results WHERE case_id = 'large'") ==
        std::to_string(10 * k_mb));
  FIGURE("oversized response: peak RSS of a run with a short answer "
         << small.rss_mb << " MB, with a 100 MB response (cut at 16 MB) " << huge.rss_mb
         << " MB in " << huge.ms << " ms, with a 10 MB answer " << large.rss_mb
         << " MB; an exec command writing 100 MB " << flood.rss_mb << " MB");
  // The cut-off body is all it holds, nothing near the 100 MB sent (the body, or a command's
  // output, is allocated once, not by doubling).
  if (k_rss_bounds_hold) {
    CHECK(huge.rss_mb < small.rss_mb + 16 + 4);
    CHECK(flood.rss_mb < small.rss_mb + 16 + 4);
  }
}

TEST_CASE("list streams a suite of a million cases (short mode: 100,000) in bounded memory",
          "[reliability][oversized][list]") {
  const int n = stress_mode() ? 1'000'000 : 100'000;
  const int seed_cases = 1000;
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  // Realistic cases through the real import, then copied under new ids with plain SQL.
  auto gen = repo.run({"bash", std::string(EVALKEEP_SOURCE_DIR) + "/bench/gen_suite.sh",
                       std::to_string(seed_cases), "seed.jsonl"});
  REQUIRE(gen.exit_code == 0);
  must_succeed(repo, {"import", "-q", "seed.jsonl"});
  auto small_text = measure(repo, {"list"}, "/dev/null", "small");
  auto small_json = measure(repo, {"list", "--json"}, "/dev/null", "small-json");
  REQUIRE(small_text.exit_code == 0);
  REQUIRE(small_json.exit_code == 0);

  std::string columns;
  for (const auto& c : sql_rows(repo.suite(), "SELECT name FROM pragma_table_info('cases')"))
    if (c != "id")
      columns += ", " + c;
  sql_rows(repo.suite(), fmt::format("WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                                     "FROM k WHERE n < {}) INSERT INTO cases (id{}) SELECT id || "
                                     "'-' || n{} FROM (SELECT * FROM cases), k",
                                     n / seed_cases - 1, columns, columns));
  REQUIRE(sql_text(repo.suite(), "SELECT count(*) FROM cases") == std::to_string(n));

  auto text = measure(repo, {"list"}, "/dev/null", "list");
  CHECK(text.exit_code == 0);
  CHECK(count_lines(repo.path() / "list.out") == static_cast<std::size_t>(n));
  auto json = measure(repo, {"list", "--json"}, "/dev/null", "list-json");
  CHECK(json.exit_code == 0);
  CHECK(count_lines(repo.path() / "list-json.out", "  {") == static_cast<std::size_t>(n));
  std::ifstream json_out(repo.path() / "list-json.out", std::ios::binary);
  char head[4] = {};
  json_out.read(head, sizeof head);
  CHECK(std::string(head, sizeof head) == "[\n  ");
  FIGURE("list: " << n << " cases: text " << text.ms << " ms, peak RSS " << text.rss_mb
                  << " MB; --json " << json.ms << " ms, peak RSS " << json.rss_mb
                  << " MB; the same at " << seed_cases << " cases: " << small_text.rss_mb
                  << " MB and " << small_json.rss_mb << " MB");
  // The listing holds one case and an output chunk, however many cases there are.
  if (k_rss_bounds_hold) {
    CHECK(text.rss_mb < small_text.rss_mb + 16);
    CHECK(json.rss_mb < small_json.rss_mb + 16);
  }
  fs::remove(repo.path() / "list.out");
  fs::remove(repo.path() / "list-json.out");
}
