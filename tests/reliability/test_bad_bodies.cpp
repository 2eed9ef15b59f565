// Item 8: bodies that are not an answer -- cut short, not JSON, an HTML error page, a 200 that
// carries an error object, no choices (Anthropic: no content blocks) -- are recorded as provider
// errors for their case, never scored as the model's output and never cached.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;

namespace {

struct BadBody {
  std::string fault;
  std::string error_class;
  bool retried; // worth another attempt: the body may be whole next time
};

const std::vector<BadBody> k_bad{
    {"truncated", "connection", true},
    {"invalid-json", "bad-response", false},
    {"html", "server", true},
    {"error-200", "bad-response", false},
    {"empty-choices", "bad-response", false},
};

} // namespace

TEST_CASE("truncated, invalid, HTML, error-carrying and empty bodies are provider errors, never "
          "scored",
          "[reliability][bodies]") {
  const int max_attempts = 2;
  const int n_rounds = rounds(1, 10);
  int results = 0;
  for (const std::string api : {"openai", "anthropic"}) {
    for (int round = 0; round < n_rounds; ++round) {
      INFO(api << ", round " << round);
      std::vector<std::string> faults;
      for (const auto& b : k_bad)
        faults.push_back(b.fault);
      StandIn server(fault_rules(faults, "bad body"));
      Repo repo;
      init_with_fault_cases(repo, faults, "bad body");
      std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
          << provider_table(server, "local", api, fmt::format("max_attempts = {}\n", max_attempts));
      const auto runs_db = runs_db_of(repo);

      auto r = repo.evalkeep({"run", "--provider", "local", "-j", "8", "--json"}, {},
                             {"ANTHROPIC_API_KEY=sk-ant-test"});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 3);
      auto summary = parse_json(r.out);
      CHECK(summary["errored"] == k_bad.size());
      CHECK(summary["passed"] == 0);
      for (const auto& f : summary["failures"])
        CHECK(f["answer"] == "");
      auto log = log_by_key(server.log());
      for (const auto& b : k_bad) {
        INFO(b.fault);
        CHECK(log["bad body " + b.fault].size() ==
              static_cast<std::size_t>(b.retried ? max_attempts : 1));
        CHECK(sql_text(runs_db, "SELECT verdict || '|' || error_class || '|' || coalesce(answer, "
                                "'NULL') || '|' || assertions FROM results WHERE case_id = '" +
                                    b.fault + "'") == "error|" + b.error_class + "|NULL|[]");
        ++results;
      }
      CHECK(sql_text(runs_db, "SELECT count(*) FROM cache") == "0");
    }
  }
  FIGURE("bad bodies: " << results << " cases (" << k_bad.size() << " kinds x 2 APIs x " << n_rounds
                        << " rounds), each an error with no answer, none cached");
}
