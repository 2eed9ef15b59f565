// Item 7: a connection reset before the response, after its headers and halfway through its
// body, a server that never answers and one that drips a byte a second. Each attempt ends
// within the provider's timeout (±10 %), and nothing cut off is ever stored as an answer.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;
using Clock = std::chrono::steady_clock;

namespace {

struct Broken {
  std::string fault;
  std::string error_class;
  bool times_out; // the attempt lasts the whole timeout
};

const std::vector<Broken> k_broken{
    {"reset", "connection", false},
    {"reset-after-headers", "connection", false},
    {"reset-mid-body", "connection", false},
    {"hang", "timeout", true},
    {"drip", "timeout", true},
};

} // namespace

TEST_CASE("resets, a hang and a 1 byte/s drip end within the timeout and store no answer",
          "[reliability][connections]") {
  const int n_rounds = rounds(1, 4);
  const double timeout_ms = stress_mode() ? 5000 : 2000;
  const int max_attempts = 2;
  std::vector<double> timed_out; // latency of every attempt that timed out
  double longest_reset = 0, longest_run = 0;
  for (int round = 0; round < n_rounds; ++round) {
    std::vector<std::string> faults;
    for (const auto& b : k_broken)
      faults.push_back(b.fault);
    StandIn server(fault_rules(faults, "broken", R"("drip_ms": 1000)"));
    Repo repo;
    init_with_fault_cases(repo, faults, "broken");
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(
        server, "local", "openai",
        fmt::format("timeout_s = {}\nmax_attempts = {}\n", timeout_ms / 1000, max_attempts));
    const auto runs_db = runs_db_of(repo);

    auto start = Clock::now();
    auto r = repo.evalkeep({"run", "--provider", "local", "-j", "8", "--json"});
    double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    longest_run = std::max(longest_run, took);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(parse_json(r.out)["errored"] == k_broken.size());
    auto log = log_by_key(server.log());
    for (const auto& b : k_broken) {
      INFO(b.fault);
      CHECK(log["broken " + b.fault].size() == static_cast<std::size_t>(max_attempts));
      CHECK(sql_text(runs_db, "SELECT verdict || '|' || error_class || '|' || coalesce(answer, "
                              "'NULL') || '|' || assertions FROM results WHERE case_id = '" +
                                  b.fault + "'") == "error|" + b.error_class + "|NULL|[]");
      auto latencies = sql_rows(runs_db, "SELECT latency_ms FROM attempts WHERE case_id = '" +
                                             b.fault + "' ORDER BY attempt");
      CHECK(latencies.size() == static_cast<std::size_t>(max_attempts));
      for (const auto& text : latencies) {
        double ms = std::stod(text);
        if (b.times_out) {
          CHECK(ms >= timeout_ms * 0.9);
          CHECK(ms <= timeout_ms * 1.1);
          timed_out.push_back(ms);
        } else {
          CHECK(ms < timeout_ms * 0.5);
          longest_reset = std::max(longest_reset, ms);
        }
      }
    }
    // Nothing cut off went into the cache either.
    CHECK(sql_text(runs_db, "SELECT count(*) FROM cache") == "0");
    // Two timed-out attempts and a backoff of at most 0.5 s, plus starting up.
    CHECK(took <= max_attempts * timeout_ms * 1.1 + 500 + 2000);
  }
  REQUIRE_FALSE(timed_out.empty());
  auto [lo, hi] = std::minmax_element(timed_out.begin(), timed_out.end());
  FIGURE("broken connections: " << n_rounds << " rounds, timeout " << timeout_ms << " ms, "
                                << timed_out.size() << " timed-out attempts lasted " << *lo << "-"
                                << *hi << " ms; resets ended within " << longest_reset
                                << " ms; longest run " << longest_run << " ms");
}
