// Item 5: 500, 502, 503, 504 and 529 in seeded random sequences, a sequence per case, are
// retried with capped, jittered backoff; each trial gets one stored result and every attempt is
// in the runs store, in the order the stand-in saw them. A 5xx that outlasts max_attempts ends as
// an infrastructure error, exit 3, never confused with a failed case, exit 1.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <cmath>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

constexpr int k_max_attempts = 4;
const std::vector<std::string> k_faults{"500", "502", "503", "504", "529"};

struct Planned {
  std::string id, key, tag;
  std::vector<std::string> faults; // the statuses before the answer (or instead of it)
};

std::string case_line(const Planned& p) {
  return fmt::format(R"({{"type":"case","id":"{}","prompt":"{}","expect":[{{"type":"contains",)"
                     R"("value":"help"}}],"provenance":{{"kind":"spec","note":"5xx"}},)"
                     R"("tags":["{}"]}})",
                     p.id, p.key, p.tag) +
         "\n";
}

// The attempts a case got, as "attempt|status|outcome" rows from the runs store.
std::vector<std::string> attempts_of(const std::filesystem::path& runs_db, const std::string& run,
                                     const std::string& id) {
  return sql_rows(runs_db, "SELECT attempt || '|' || http_status || '|' || outcome FROM attempts "
                           "WHERE run_id = " +
                               run + " AND case_id = '" + id + "' ORDER BY attempt");
}

std::vector<std::string> expected_attempts(const std::vector<std::string>& faults) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < faults.size(); ++i)
    out.push_back(
        fmt::format("{}|{}|{}", i + 1, faults[i],
                    i + 1 < static_cast<std::size_t>(k_max_attempts) ? "retry" : "error"));
  if (faults.size() < static_cast<std::size_t>(k_max_attempts))
    out.push_back(fmt::format("{}|200|answer", faults.size() + 1));
  return out;
}

} // namespace

TEST_CASE("5xx in seeded random sequences are retried with backoff, every attempt recorded, and a "
          "persistent 5xx is exit 3, a failed case exit 1",
          "[reliability][5xx]") {
  const int n_rounds = rounds(1, 5);
  const int n_recovering = stress_mode() ? 200 : 40;
  const int n_down = 3;
  const std::uint64_t seed = std::getenv("EVALKEEP_SEED")
                                 ? std::stoull(std::getenv("EVALKEEP_SEED"))
                                 : std::random_device{}();
  int retries = 0, requests = 0, down_requests = 0;
  double normalized_sum = 0, worst_over_ceiling = -1e9;
  std::map<std::string, int> by_status;
  for (int round = 0; round < n_rounds; ++round) {
    INFO("seed " << seed << ", round " << round);
    std::mt19937_64 rng(seed + static_cast<std::uint64_t>(round));
    std::vector<Planned> plan;
    for (int i = 0; i < n_recovering + n_down + 1; ++i) {
      Planned p;
      p.id = fmt::format("case-{:04d}", i);
      p.key = fmt::format("question {:04d}", i);
      p.tag = i < n_recovering ? "recovers" : i < n_recovering + n_down ? "down" : "fails";
      std::size_t length = p.tag == "recovers" ? rng() % k_max_attempts // 0..3, then the answer
                           : p.tag == "down"   ? k_max_attempts         // never answered
                                               : 0;
      for (std::size_t k = 0; k < length; ++k)
        p.faults.push_back(k_faults[rng() % k_faults.size()]);
      plan.push_back(std::move(p));
    }
    json rules = json::array();
    std::string jsonl;
    for (const auto& p : plan) {
      if (p.tag == "fails")
        rules.push_back({{"match", p.key}, {"answer", "Nothing to say."}});
      else
        rules.push_back({{"match", p.key}, {"sequence", p.faults}});
      jsonl += case_line(p);
    }
    StandIn server(json{{"rules", rules}}.dump());
    Repo repo;
    must_succeed(repo, {"init", "-q"});
    write_file(repo.path() / "cases.jsonl", jsonl);
    must_succeed(repo, {"import", "-q", "cases.jsonl"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(
        server, "local", "openai", fmt::format("max_attempts = {}\n", k_max_attempts));
    const auto runs_db = runs_db_of(repo);

    // Every 5xx sequence recovers; one case fails its assertion: exit 1, nothing errored.
    auto r = repo.evalkeep({"run", "--provider", "local", "--tag", "recovers", "--tag", "fails",
                            "-j", "64", "--json"});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);
    auto s = parse_json(r.out);
    CHECK(s["passed"] == n_recovering);
    CHECK(s["failed"] == 1);
    CHECK(s["errored"] == 0);
    auto log = log_by_key(server.log());
    int wrong = 0;
    for (const auto& p : plan) {
      if (p.tag == "down")
        continue;
      // The stand-in saw the planned statuses in order, then the answer.
      auto expected = expected_attempts(p.faults);
      const auto& seen = log[p.key];
      std::vector<std::string> seen_rows;
      for (std::size_t i = 0; i < seen.size(); ++i)
        seen_rows.push_back(fmt::format("{}|{}|{}", i + 1, seen[i]["status"].get<int>(),
                                        i + 1 == seen.size() ? "answer" : "retry"));
      // ... and the runs store holds the same attempts, with one result.
      auto stored = attempts_of(runs_db, "1", p.id);
      if (seen_rows != expected || stored != expected) {
        ++wrong;
        UNSCOPED_INFO(p.id << ": planned " << json(p.faults).dump() << ", stand-in saw "
                           << seen.size() << " requests, store has " << stored.size());
      }
      requests += static_cast<int>(seen.size());
      for (const auto& f : p.faults)
        ++by_status[f];
      // The wait before retry n is uniform in [0, min(20 s, 0.5 s * 2^(n-1))].
      for (std::size_t n = 1; n < seen.size(); ++n) {
        double gap = seen[n]["time_ms"].get<double>() - seen[n - 1]["time_ms"].get<double>();
        double ceiling = std::min(20000.0, 500.0 * std::pow(2.0, static_cast<double>(n - 1)));
        worst_over_ceiling = std::max(worst_over_ceiling, gap - ceiling);
        normalized_sum += std::min(gap / ceiling, 1.0);
        ++retries;
      }
    }
    CHECK(wrong == 0);
    CHECK(sql_text(runs_db, "SELECT count(*) FROM results WHERE run_id = 1") ==
          std::to_string(n_recovering + 1));
    CHECK(sql_text(runs_db, "SELECT count(*) FROM (SELECT case_id FROM results WHERE run_id = 1 "
                            "GROUP BY case_id, trial HAVING count(*) > 1)") == "0");
    CHECK(sql_text(runs_db, "SELECT count(*) FROM attempts WHERE run_id = 1") ==
          std::to_string(server.requests()));

    // A 5xx on every attempt: an infrastructure error, exit 3, with every attempt recorded.
    server.reset();
    auto down = repo.evalkeep({"run", "--provider", "local", "--tag", "down", "--json"});
    INFO("stderr: " << down.err);
    CHECK(down.exit_code == 3);
    auto d = parse_json(down.out);
    CHECK(d["errored"] == n_down);
    CHECK(d["failed"] == 0);
    CHECK(server.requests() == n_down * k_max_attempts);
    down_requests += server.requests();
    for (const auto& p : plan) {
      if (p.tag != "down")
        continue;
      INFO(p.id << " planned " << json(p.faults).dump());
      CHECK(attempts_of(runs_db, "2", p.id) == expected_attempts(p.faults));
      auto row = sql_text(runs_db, "SELECT verdict || '|' || error_class || '|' || "
                                   "coalesce(answer, 'NULL') FROM results WHERE run_id = 2 AND "
                                   "case_id = '" +
                                       p.id + "'");
      CHECK(row == (p.faults.back() == "529" ? "error|rate-limited|NULL" : "error|server|NULL"));
    }
  }
  double mean = retries ? normalized_sum / retries : 0;
  std::string statuses;
  for (const auto& [status, n] : by_status)
    statuses += fmt::format("{} x{} ", status, n);
  FIGURE("5xx: " << n_rounds << " rounds (seed " << seed << "), " << requests << " requests for "
                 << n_rounds * (n_recovering + 1) << " cases (" << statuses << "), " << retries
                 << " retries; wait / backoff ceiling: mean " << mean << ", at most "
                 << worst_over_ceiling << " ms over the ceiling; " << down_requests
                 << " requests for " << n_rounds * n_down << " persistently failing cases");
  CHECK(worst_over_ceiling <= 500);
  // Full jitter: the waits spread over [0, ceiling], so their mean sits near half of it.
  if (retries >= 30) {
    CHECK(mean > 0.2);
    CHECK(mean < 0.8);
  }
}
