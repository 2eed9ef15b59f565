// The suite store's acceptance script, typed as a user would, in a fresh git repository.

#include "support/cli_runner.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::Repo;

TEST_CASE("the acceptance script works exactly as written", "[e2e][acceptance]") {
  Repo repo;
  auto ok = [&](const std::vector<std::string>& args) {
    auto r = repo.evalkeep(args);
    INFO("evalkeep " << args.at(0) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  ok({"init"});
  CHECK(std::filesystem::exists(repo.suite()));
  CHECK(std::filesystem::exists(repo.path() / "evalkeep.toml"));
  ok({"incident", "add", "INC-7", "--title", "Refund promised outside policy", "--date",
      "2026-03-02", "--severity", "high"});
  ok({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?", "--expect",
      "icontains:30 days", "--incident", "INC-7", "--tag", "billing"});
  ok({"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
      "not-contains:unfortunately", "--provenance", "spec:style guide 2.1"});

  auto list = ok({"list", "--json"});
  auto cases = nlohmann::json::parse(list.out);
  REQUIRE(cases.is_array());
  REQUIRE(cases.size() == 2);
  CHECK(cases[0]["id"] == "refund-window");
  CHECK(cases[0]["status"] == "active");
  CHECK(cases[0]["incident"] == "INC-7");
  CHECK(cases[0]["tags"] == nlohmann::json::array({"billing"}));
  CHECK(cases[1]["id"] == "tone-apology");
  CHECK(cases[1]["provenance"]["kind"] == "spec");

  auto refused = repo.evalkeep({"rm", "refund-window"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains("INC-7"));
  CHECK_THAT(refused.err, Catch::Contains("evalkeep retire refund-window"));

  auto raw = repo.run({"sqlite3", "evals/suite.db", "DELETE FROM cases"});
  CHECK(raw.exit_code != 0);
  CHECK_THAT(raw.err, Catch::Contains("retirement decision"));

  ok({"retire", "refund-window", "--reason", "superseded", "--superseded-by", "tone-apology",
      "--rationale", "covered by the tone case"});
  ok({"rm", "refund-window"});
  auto shown = ok({"show", "refund-window", "--json"});
  CHECK(nlohmann::json::parse(shown.out)["status"] == "removed");

  auto log = ok({"log", "refund-window", "--json"});
  auto events = nlohmann::json::parse(log.out);
  REQUIRE(events.size() == 3);
  CHECK(events[0]["action"] == "delete"); // newest first
  CHECK(events[1]["action"] == "retire");
  CHECK(events[1]["rationale"] == "covered by the tone case");
  CHECK(events[2]["action"] == "add");

  ok({"verify"});
  auto exported = ok({"export"});
  std::vector<std::string> types;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);)
    types.push_back(nlohmann::json::parse(line)["type"]);
  CHECK(types == std::vector<std::string>{"incident", "case", "case", "retirement"});
}
