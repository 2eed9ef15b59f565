// What a run costs, shown honestly: input read from the provider's prompt cache at its own price,
// judge calls counted, replayed answers not spent again, and the change between two runs.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({"rules": [
  {"match": "You grade an AI assistant", "answer": "{\"score\": 0.9, \"rationale\": \"polite\"}"}
]})";

// Eight words, the same in every case: the stand-in's prompt cache (--prompt-cache) reports them
// as cached input from the second request that carries them on.
const char* k_system = "You are the support agent of Acme Corp.";

const char* k_prices = "input_price_per_mtok = 2.0\noutput_price_per_mtok = 8.0\n"
                       "cached_input_price_per_mtok = 0.5\n";

struct Fixture {
  StandIn server{k_rules, 0, 1, {"--prompt-cache"}};
  Repo repo;
  explicit Fixture(const std::string& type = "openai") {
    must_succeed(repo, {"init", "-q"});
    for (const char* id : {"refund", "shipping", "greeting"})
      must_succeed(repo, {"add", "--id", id, "--system", k_system, "--prompt",
                          std::string("A question about ") + id, "--expect", "contains:help",
                          "--provenance", "spec:cost"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server, "local", type, k_prices)
        << "api_key_env = \"EVALKEEP_COST_KEY\"\n";
  }
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args) const {
    return must_succeed(repo, args, {}, {"EVALKEEP_COST_KEY=sk-cost-test"});
  }
  std::string sql(const std::string& query) const {
    return repo.run({"sqlite3", ".evalkeep/runs.db", query}).out;
  }
};

} // namespace

TEST_CASE("cached input tokens are priced at the cached price and the run's cost is what it spent",
          "[e2e][cost]") {
  for (std::string type : {"openai", "anthropic"}) {
    DYNAMIC_SECTION(type) {
      Fixture f(type);
      auto r = f.ok({"run", "--provider", "local", "-j", "1", "-q", "--json"});
      auto s = parse_json(r.out);
      // The first request carries the system prompt fresh, the next two read it from the cache;
      // tokens_in counts every input token (Anthropic's input_tokens leaves the cached out).
      CHECK(f.sql("SELECT group_concat(tokens_cached, ' ') FROM (SELECT tokens_cached FROM "
                  "results ORDER BY finished_at, case_id)") == "0 8 8\n");
      CHECK(f.sql("SELECT min(tokens_in) FROM results") == "12\n");
      // Each answer: fresh input at $2, cached at $0.5, output at $8 per million tokens.
      CHECK(f.sql("SELECT count(*) FROM results WHERE abs(cost - ((tokens_in - tokens_cached) * "
                  "2.0 + tokens_cached * 0.5 + tokens_out * 8.0) / 1e6) < 1e-12") == "3\n");
      double spent = std::stod(f.sql("SELECT sum(cost) FROM results"));
      CHECK(s["cost"].get<double>() == Approx(spent));
      CHECK(s["answers_cost"].get<double>() == Approx(spent));
      // Without the cached price the same answers would have cost more.
      double full = std::stod(f.sql("SELECT sum((tokens_in * 2.0 + tokens_out * 8.0) / 1e6) FROM "
                                    "results"));
      CHECK(spent < full);

      auto show = f.ok({"runs", "show", "1"});
      CHECK_THAT(show.out, Catch::Contains(fmt::format("cost ${:.6f}", spent)));

      // A second run replays every answer: it spends nothing, and says what its answers cost.
      auto again = parse_json(f.ok({"run", "--provider", "local", "-q", "--json"}).out);
      CHECK(f.server.requests() == 3);
      CHECK(again["cost"].get<double>() == 0);
      CHECK(again["answers_cost"].get<double>() == Approx(spent));
      auto show2 = f.ok({"runs", "show", "2"});
      CHECK_THAT(show2.out,
                 Catch::Contains(fmt::format("cost $0.000000; its answers, the 3 replayed "
                                             "included, cost ${:.6f} when made",
                                             spent)));
      // The diff compares what the answers cost: the same answers, the same cost.
      auto diff = f.ok({"runs", "diff", "1", "2"});
      CHECK_THAT(diff.out, Catch::Contains(fmt::format("answers' cost: ${0:.6f} → ${0:.6f} "
                                                       "(+0.0%)",
                                                       spent)));
    }
  }
}

TEST_CASE("judge calls count in the run's cost at the judge's prices, and runs diff gives the "
          "change in cost",
          "[e2e][cost]") {
  Fixture f;
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(f.server, "grader", "openai",
                        "input_price_per_mtok = 1.0\noutput_price_per_mtok = 4.0\n")
      << provider_table(f.server, "dear", "openai",
                        "input_price_per_mtok = 20.0\noutput_price_per_mtok = 80.0\n");
  f.ok({"add", "--id", "judged", "--prompt", "Hello again", "--expect",
        "judge@0.8:greets the customer politely", "--provenance", "spec:judge"});
  auto s =
      parse_json(f.ok({"run", "--provider", "local", "--judge", "grader", "-q", "--json"}).out);
  double answers = std::stod(f.sql("SELECT sum(cost) FROM results"));
  double judge = std::stod(f.sql("SELECT sum(judge_cost) FROM results"));
  // The one judge call: its words in and the stand-in's verdict out, at $1 and $4.
  CHECK(f.sql("SELECT count(*) FROM results WHERE judge_cost IS NOT NULL") == "1\n");
  REQUIRE(judge > 0);
  CHECK(s["judge_cost"].get<double>() == Approx(judge));
  CHECK(s["cost"].get<double>() == Approx(answers + judge));
  auto show = f.ok({"runs", "show", "1"});
  CHECK_THAT(show.out, Catch::Contains(fmt::format("cost ${:.6f} (answers ${:.6f}, judge ${:.6f})",
                                                   answers + judge, answers, judge)));

  // The same cases on a provider ten times the price, without the cached price: the diff says so.
  auto dear = parse_json(
      f.ok({"run", "--provider", "dear", "--case", "refund", "--case", "shipping", "--case",
            "greeting", "--case", "judged", "--judge", "grader", "-q", "--json"})
          .out);
  double dear_answers = dear["answers_cost"].get<double>();
  CHECK(dear_answers >
        10 * std::stod(f.sql("SELECT sum(cost) FROM results WHERE run_id = 1")) - 1e-12);
  auto diff = f.ok({"runs", "diff", "1", "2"});
  CHECK_THAT(diff.out,
             Catch::Contains(fmt::format("answers' cost: ${:.6f} → ${:.6f} (+{:.1f}%)", answers,
                                         dear_answers, 100 * (dear_answers - answers) / answers)));
  auto diff_json = parse_json(f.ok({"runs", "diff", "1", "2", "--json"}).out);
  CHECK(diff_json["cost"]["a"].get<double>() == Approx(answers));
  CHECK(diff_json["cost"]["b"].get<double>() == Approx(dear_answers));
}

TEST_CASE("max-cost checks an answer at the cached price, the same when it is replayed",
          "[e2e][cost]") {
  Fixture f;
  // An answer costs (3 fresh words x $2 + 8 cached x $0.5 + 5 out x $8) / 1e6 = $0.00005 with
  // the cache, $0.000062 without: the bound passes only when the cached price is applied.
  for (std::string id : {"bounded-1", "bounded-2"})
    f.ok({"add", "--id", id, "--system", k_system, "--prompt", "Bounded question " + id, "--expect",
          "max-cost:0.000055", "--provenance", "spec:cost"});
  auto first = f.repo.evalkeep({"run", "--provider", "local", "-j", "1", "--case", "bounded-1",
                                "--case", "bounded-2", "-q", "--json"},
                               {}, {"EVALKEEP_COST_KEY=sk-cost-test"});
  INFO(f.sql("SELECT case_id, tokens_in, tokens_cached, tokens_out, cost FROM results"));
  // bounded-1 went first with the system prompt fresh: over the bound; bounded-2 read it cached.
  CHECK(f.sql("SELECT group_concat(case_id || ':' || verdict, ' ') FROM results") ==
        "bounded-1:fail bounded-2:pass\n");
  auto replay = f.repo.evalkeep(
      {"run", "--provider", "local", "--case", "bounded-1", "--case", "bounded-2", "-q", "--json"},
      {}, {"EVALKEEP_COST_KEY=sk-cost-test"});
  CHECK(replay.exit_code == 1);
  CHECK(f.sql("SELECT group_concat(case_id || ':' || verdict || ':' || cached, ' ') FROM results "
              "WHERE run_id = 2") == "bounded-1:fail:1 bounded-2:pass:1\n");
  CHECK(first.exit_code == 1);
}
