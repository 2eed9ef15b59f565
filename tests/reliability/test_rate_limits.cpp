// Item 4: a 429's Retry-After -- in seconds, as an HTTP date, as retry-after-ms -- is waited at
// least as long as it says, measured between the attempts in the stand-in's request log; one
// longer than max_retry_wait_s (an absurd Retry-After: 3600) ends the case as rate limited at
// once instead of hanging the run.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// "min-max" of a list of milliseconds, for the figures.
std::string span(std::vector<double> v) {
  if (v.empty())
    return "-";
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.1f}-{:.1f} ms", *lo, *hi);
}

} // namespace

TEST_CASE("a 429's Retry-After in seconds, as a date and in ms is waited out, and past the cap the "
          "case ends rate limited at once",
          "[reliability][rate-limit]") {
  const int n_rounds = rounds(1, 5);
  std::vector<double> over_seconds, over_date, over_ms, run_ms, capped_ms;
  for (int round = 0; round < n_rounds; ++round) {
    // A date 4 s ahead: the client reads it a fraction of a second later.
    const std::time_t date = std::time(nullptr) + 4;
    StandIn server(fmt::format(
        R"({{"rules": [
          {{"match": "question 0000", "fault": "429", "retry_after": "2", "times": 1}},
          {{"match": "question 0001", "fault": "429", "retry_after": "{}", "times": 1}},
          {{"match": "question 0002", "fault": "429", "retry_after_ms": 1500, "times": 1}},
          {{"match": "question 0003", "fault": "429", "retry_after": "3600", "times": 1}},
          {{"match": "question 0004", "fault": "429", "retry_after": "2", "times": 1}}]}})",
        http_date(date)));
    Repo repo;
    init_with_cases(repo, 5);
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server)
        << provider_table(server, "capped", "openai", "max_retry_wait_s = 1.5\n");
    const auto runs_db = runs_db_of(repo);

    auto start = Clock::now();
    auto r =
        repo.evalkeep({"run", "--provider", "local", "-j", "8", "--json", "--case", "case-0000",
                       "--case", "case-0001", "--case", "case-0002", "--case", "case-0003"});
    double took = ms_since(start);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3); // case-0003 ends in an error: an infrastructure failure
    auto summary = parse_json(r.out);
    CHECK(summary["passed"] == 3);
    CHECK(summary["errored"] == 1);

    auto log = log_by_key(server.log());
    auto gap = [&](const std::string& key) {
      const auto& entries = log[key];
      REQUIRE(entries.size() == 2);
      CHECK(entries[0]["status"] == 429);
      CHECK(entries[1]["status"] == 200);
      return entries[1]["time_ms"].get<double>() - entries[0]["time_ms"].get<double>();
    };
    // Seconds: at least 2 s between the 429 and the retry.
    double waited = gap("question 0000");
    CHECK(waited >= 2000);
    CHECK(waited <= 2000 + 2000);
    over_seconds.push_back(waited - 2000);
    // An HTTP date: the retry comes at that time or later (whole seconds, so up to 1 s later).
    gap("question 0001");
    double retried_at = log["question 0001"][1]["time_ms"].get<double>();
    double due = static_cast<double>(date) * 1000;
    CHECK(retried_at >= due);
    CHECK(retried_at <= due + 1000 + 2000);
    over_date.push_back(retried_at - due);
    // retry-after-ms: at least 1.5 s.
    waited = gap("question 0002");
    CHECK(waited >= 1500);
    CHECK(waited <= 1500 + 2000);
    over_ms.push_back(waited - 1500);
    // Retry-After: 3600 is past max_retry_wait_s (60): one request, rate limited, no hang.
    CHECK(log["question 0003"].size() == 1);
    CHECK(sql_text(runs_db, "SELECT verdict || '|' || error_class FROM results WHERE case_id = "
                            "'case-0003'") == "error|rate-limited");
    CHECK_THAT(sql_text(runs_db, "SELECT error FROM results WHERE case_id = 'case-0003'"),
               Catch::Contains("told to wait 3600 s, more than max_retry_wait_s"));
    CHECK(sql_rows(runs_db, "SELECT attempt || '|' || http_status || '|' || outcome || '|' || "
                            "error_class FROM attempts WHERE case_id = 'case-0003'") ==
          std::vector<std::string>{"1|429|error|rate-limited"});
    CHECK(sql_rows(runs_db, "SELECT attempt || '|' || http_status || '|' || outcome FROM "
                            "attempts WHERE case_id = 'case-0000' ORDER BY attempt") ==
          std::vector<std::string>{"1|429|retry", "2|200|answer"});
    // The run lasts as long as its longest wait, not an hour.
    CHECK(took < 4000 + 1000 + 5000);
    run_ms.push_back(took);

    // A provider capped at 1.5 s: a Retry-After of 2 s is not waited for either.
    start = Clock::now();
    auto capped = repo.evalkeep({"run", "--provider", "capped", "--case", "case-0004", "--json"});
    double capped_took = ms_since(start);
    INFO("stderr: " << capped.err);
    CHECK(capped.exit_code == 3);
    CHECK(parse_json(capped.out)["errored"] == 1);
    CHECK(server.log().back()["key"] == "question 0004");
    CHECK(log_by_key(server.log())["question 0004"].size() == 1);
    CHECK_THAT(sql_text(runs_db, "SELECT error_class || ': ' || error FROM results WHERE case_id "
                                 "= 'case-0004'"),
               Catch::StartsWith("rate-limited: HTTP 429") &&
                   Catch::Contains("told to wait 2 s, more than max_retry_wait_s"));
    CHECK(capped_took < 2000);
    capped_ms.push_back(capped_took);
  }
  FIGURE("rate limits: " << n_rounds << " rounds; waited beyond Retry-After: 2 by "
                         << span(over_seconds) << ", beyond the HTTP date by " << span(over_date)
                         << ", beyond retry-after-ms: 1500 by " << span(over_ms)
                         << "; Retry-After: 3600 one request each round, whole run " << span(run_ms)
                         << "; capped run (2 s > 1.5 s) " << span(capped_ms));
}

TEST_CASE("against an account's rate limit a run paces itself: no case errors, few 429s, and the "
          "progress line names the limit",
          "[reliability][rate-limit][pacing]") {
  for (std::string api : {"openai", "anthropic"}) {
    // 1,800 requests a minute in a bucket of one second (30 requests), 150 cases at -j 64: the
    // old fixed concurrency sent 64 at once and retried its way through hundreds of 429s.
    StandIn server({}, 20, 1, {"--rpm", "1800"});
    Repo repo;
    init_with_cases(repo, 150);
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server, "local", api);
    // script(1) gives the run a terminal, so it prints its progress line.
    auto r = repo.run(
        {"script", "-qefc", std::string(EVALKEEP_BIN) + " run --provider local -j 64", "/dev/null"},
        {"ANTHROPIC_API_KEY=sk-ant-test"});
    INFO(api << "\nexit: " << r.exit_code << "\noutput: " << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("[150/150] pass 150 fail 0 error 0") &&
                          Catch::Contains("limit 1800/min"));
    const auto runs_db = runs_db_of(repo);
    CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE verdict = 'error'") == "0");
    int limited = 0, answered = 0;
    for (const auto& entry : server.log())
      (entry["status"] == 429 ? limited : answered) += 1;
    CHECK(answered == 150);
    CHECK(limited <= 150 * 5 / 100);
    FIGURE("pacing, " << api << ": 150 cases at 1,800 requests a minute, -j 64: " << limited
                      << " requests answered 429");
  }
}
