// Item 6: errors a retry cannot fix -- 400, 401, 403, 404, 413 and a 429 insufficient_quota
// (Anthropic: a 400 "credit balance is too low") -- get exactly one request per case. A bad key
// or an empty account stops the run after the requests already in flight, with a message saying
// why, instead of burning through every case.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;

namespace {

struct Scenario {
  std::string api; // openai or anthropic
  std::string fault;
  std::string error_class; // recorded for each case that got its answer
  bool stops;              // the run stops early
};

const std::vector<Scenario> k_scenarios{
    {"openai", "400", "bad-request", false},
    {"openai", "404", "bad-request", false},
    {"openai", "413", "bad-request", false},
    {"anthropic", "400", "bad-request", false},
    {"anthropic", "404", "bad-request", false},
    {"anthropic", "413", "bad-request", false},
    {"openai", "401", "auth", true},
    {"openai", "403", "auth", true},
    {"openai", "429-quota", "quota", true},
    {"anthropic", "401", "auth", true},
    {"anthropic", "403", "auth", true},
    {"anthropic", "429-quota", "quota", true},
};

} // namespace

TEST_CASE("non-retryable errors get one request per case, and a bad key or an empty account stops "
          "the run early",
          "[reliability][4xx]") {
  const int n_cases = stress_mode() ? 2000 : 200;
  const int jobs = 8;
  Repo repo;
  init_with_cases(repo, n_cases);
  const auto runs_db = runs_db_of(repo);
  const std::vector<std::string> env{"ANTHROPIC_API_KEY=sk-ant-test", "OPENAI_API_KEY=sk-test"};
  int run_id = 0;
  std::string figures;
  for (const auto& sc : k_scenarios) {
    DYNAMIC_SECTION(sc.api << " " << sc.fault) {
      StandIn server(fmt::format(
          R"({{"rules": [{{"match": "", "fault": "{}", "retry_after": "0"}}]}})", sc.fault));
      std::string name = sc.api + "-" + sc.fault;
      std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
          << provider_table(server, name, sc.api, "max_attempts = 4\n");
      auto r =
          repo.evalkeep({"run", "--provider", name, "-j", std::to_string(jobs), "--json"}, {}, env);
      ++run_id;
      INFO("stdout: " << r.out.substr(0, 2000) << "\nstderr: " << r.err);
      CHECK(r.exit_code == 3);
      auto log = log_by_key(server.log());
      // Never a second request for a case.
      int repeated = 0;
      for (const auto& [key, entries] : log)
        repeated += entries.size() > 1 ? 1 : 0;
      CHECK(repeated == 0);
      const std::string run = std::to_string(run_id);
      CHECK(sql_text(runs_db, "SELECT count(*) FROM attempts WHERE run_id = " + run +
                                  " AND outcome <> 'error'") == "0");
      CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run +
                                  " AND (verdict <> 'error' OR error_class <> '" + sc.error_class +
                                  "' OR answer IS NOT NULL)") == "0");
      int requests = server.requests();
      if (sc.stops) {
        // Stopped after the requests in flight: far fewer than the cases.
        CHECK(requests <= jobs);
        CHECK(requests * 10 < n_cases);
        CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run) == "stopped");
        auto reason = sql_text(runs_db, "SELECT stop_reason FROM runs WHERE id = " + run);
        CHECK_THAT(reason, Catch::Contains("stopping instead of failing every case"));
        CHECK_THAT(reason, Catch::Contains(sc.fault == "429-quota"
                                               ? (sc.api == "openai" ? "HTTP 429" : "HTTP 400")
                                               : "HTTP " + sc.fault));
        CHECK(parse_json(r.out)["state"] == "stopped");
        // The reason is also a diagnostic on stderr, with the way to finish the run later.
        CHECK_THAT(r.err, Catch::Contains("evalkeep: error: run " + run + " stopped early: HTTP"));
        CHECK_THAT(r.err,
                   Catch::Contains("hint: ") && Catch::Contains("evalkeep run --resume " + run));
      } else {
        // Every case asked once and recorded as an error; the run finished.
        CHECK(requests == n_cases);
        CHECK(static_cast<int>(log.size()) == n_cases);
        CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = " + run) ==
              std::to_string(n_cases));
        CHECK(sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run) == "finished");
        CHECK(parse_json(r.out)["errored"] == n_cases);
      }
      FIGURE("non-retryable: " << sc.api << " " << sc.fault << ": " << requests << " requests for "
                               << n_cases << " cases (-j " << jobs << "), "
                               << sql_text(runs_db, "SELECT state FROM runs WHERE id = " + run));
    }
  }
}
