// The gate: a pull request that deletes cases fails, the same change with decisions passes.

#include "support/cli_runner.hpp"

#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::Repo;
using json = nlohmann::json;

namespace {

// JSONL for 9 incidents and cases first..last-1, case i guarding INC-(100 + i % 9).
std::string suite_jsonl(int first, int last) {
  std::string jsonl;
  for (int i = 0; i < 9; ++i)
    jsonl +=
        fmt::format(R"({{"type":"incident","id":"INC-{}","title":"Incident {}"}})", 100 + i, i) +
        "\n";
  for (int i = first; i < last; ++i)
    jsonl += fmt::format(R"({{"type":"case","id":"case-{:02}","prompt":"Question {}",)"
                         R"("expect":[{{"type":"contains","value":"answer {}"}},)"
                         R"({{"type":"max-length","value":600}}],"incident":"INC-{}"}})",
                         i, i, i, 100 + i % 9) +
             "\n";
  return jsonl;
}

// 45 active cases guarding 9 incidents, committed on main.
struct GateRepo {
  Repo repo;
  GateRepo() {
    std::string jsonl = suite_jsonl(0, 45);
    evalkeep::test::write_file(repo.path() / "suite.jsonl", jsonl);
    ok({"init", "-q"});
    ok({"import", "-q", "suite.jsonl"});
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "cleanup"});
  }
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args) {
    auto r = repo.evalkeep(args);
    INFO("evalkeep " << args.at(0) << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  void sql(const std::string& statements) {
    auto r = repo.run({"sqlite3", "evals/suite.db", statements});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  std::string forty() const {
    std::string ids;
    for (int i = 0; i < 40; ++i)
      ids += fmt::format("{}'case-{:02}'", i ? "," : "", i);
    return ids;
  }
};

std::set<std::string> deleted_cases(const json& report) {
  std::set<std::string> out;
  for (const auto& v : report["violations"])
    if (v["rule"] == "case-deleted")
      out.insert(v["case"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("a cleanup that deletes 40 cases with raw SQL fails the gate, listing each with its "
          "incident",
          "[e2e][gate]") {
  GateRepo g;
  g.sql("DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id IN (" + g.forty() +
        ")");
  g.repo.git({"commit", "-q", "-am", "clean up stale eval cases"});
  auto r = g.repo.evalkeep({"gate", "--base", "main", "--json"});
  CHECK(r.exit_code == 1);
  auto report = json::parse(r.out);
  CHECK(report["passed"] == false);
  CHECK(deleted_cases(report).size() == 40);
  for (const auto& v : report["violations"])
    if (v["rule"] == "case-deleted") {
      CHECK(v["incident"].is_string());
      CHECK_THAT(v["message"].get<std::string>(), Catch::Contains("INC-1"));
    }
  CHECK(report["active_before"] == 45);
  CHECK(report["active_after"] == 5);

  auto text = g.repo.evalkeep({"gate", "--base", "main"});
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.out, Catch::Contains("case-39 (guarding INC-103) was deleted without a "
                                       "retirement decision"));
}

TEST_CASE("a suite file replaced wholesale fails the gate as rewritten history", "[e2e][gate]") {
  GateRepo g;
  // A hand-made suite with only the last five cases, consistent on its own.
  std::filesystem::remove(g.repo.suite());
  g.ok({"init", "-q"});
  std::string jsonl = suite_jsonl(40, 45);
  evalkeep::test::write_file(g.repo.path() / "small.jsonl", jsonl);
  g.ok({"import", "-q", "small.jsonl"});
  CHECK(g.repo.evalkeep({"verify"}).exit_code == 0); // valid on its own
  g.repo.git({"commit", "-q", "-am", "replace the suite"});
  auto r = g.repo.evalkeep({"gate", "--base", "main", "--json"});
  CHECK(r.exit_code == 1);
  auto report = json::parse(r.out);
  bool rewritten = false;
  for (const auto& v : report["violations"])
    rewritten = rewritten || v["rule"] == "history-rewritten";
  CHECK(rewritten);
  CHECK(deleted_cases(report).size() == 40);
}

TEST_CASE("a branch that merged main passes the gate: main's newer events follow the branch's",
          "[e2e][gate]") {
  GateRepo g;
  g.ok({"edit", "case-00", "--add-expect", "not-contains:guarantee", "--rationale",
        "promises can be implicit"});
  g.repo.git({"commit", "-q", "-am", "tighten case-00"});
  g.repo.git({"checkout", "-q", "main"});
  g.ok({"add", "--id", "main-case", "--prompt", "New on main", "--expect", "contains:ok",
        "--incident", "INC-100"});
  g.repo.git({"commit", "-q", "-am", "a case on main"});
  g.repo.git({"checkout", "-q", "cleanup"});
  auto merged = g.repo.run({"git", "merge", "--no-edit", "main"});
  INFO(merged.out << merged.err);
  REQUIRE(merged.exit_code == 0);

  auto r = g.repo.evalkeep({"gate", "--base", "main", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto report = json::parse(r.out);
  CHECK(report["violations"].empty());
  CHECK(report["added"].empty()); // main-case came from the base
  REQUIRE(report["edited"].size() == 1);
  CHECK(report["edited"][0]["rationales"] == json::array({"promises can be implicit"}));
}

TEST_CASE("the same cleanup with retirement decisions passes and shows what the team gives up",
          "[e2e][gate]") {
  GateRepo g;
  for (int i = 0; i < 40; ++i) {
    auto id = fmt::format("case-{:02}", i);
    g.ok({"retire", id, "--reason", "out-of-scope", "--rationale",
          "the feature was removed in 2026", "--approved-by", "Lee Okafor <lee@example.com>"});
    if (i % 2 == 0)
      g.ok({"rm", id});
  }
  g.repo.git({"commit", "-q", "-am", "retire stale cases with decisions"});
  auto r = g.repo.evalkeep({"gate", "--base", "main", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto report = json::parse(r.out);
  CHECK(report["passed"] == true);
  CHECK(report["violations"].empty());
  REQUIRE(report["retired"].size() == 40);
  CHECK(report["retired"][0]["reason"] == "out-of-scope");
  CHECK(report["retired"][0]["approved_by"] == "Lee Okafor <lee@example.com>");
  CHECK(report["active_after"] == 5);
  // Cases 40-44 still guard INC-104..108; INC-100..103 are left unguarded.
  CHECK(report["unguarded_incidents"] == json::array({"INC-100", "INC-101", "INC-102", "INC-103"}));
}

TEST_CASE("the gate lists removed and loosened assertions for reviewers", "[e2e][gate]") {
  GateRepo g;
  g.ok({"edit", "case-00", "--remove-expect", "contains:answer 0", "--rationale",
        "the wording changed", "--reason", "invalid-expectation"});
  g.ok({"edit", "case-01", "--remove-expect", "max-length:600", "--add-expect", "max-length:900",
        "--rationale", "answers got longer", "--reason", "invalid-expectation"});
  g.repo.git({"commit", "-q", "-am", "loosen"});
  auto r = g.repo.evalkeep({"gate", "--base", "main", "--json"});
  CHECK(r.exit_code == 0);
  auto report = json::parse(r.out);
  REQUIRE(report["edited"].size() == 2);
  CHECK(report["edited"][0]["weakened"] == true);
  CHECK(report["edited"][0]["changes"] == json::array({{{"field", "assertion"},
                                                        {"kind", "removed"},
                                                        {"before", "contains:answer 0"},
                                                        {"after", nullptr},
                                                        {"weakens", true}}}));
  CHECK(report["edited"][0]["rationales"] == json::array({"the wording changed"}));
  CHECK(report["edited"][0]["decisions"][0]["reason"] == "invalid-expectation");
  CHECK(report["edited"][1]["changes"][0]["before"] == "max-length:600");
  CHECK(report["edited"][1]["changes"][0]["after"] == "max-length:900");
  auto text = g.repo.evalkeep({"gate", "--base", "main"}).out;
  CHECK_THAT(text, Catch::Contains("case-01  (INC-101)  weakened\n    assertion: max-length:600 "
                                   "-> max-length:900  (weakens)\n    decision: "
                                   "invalid-expectation: answers got longer"));
}

TEST_CASE("gate writes JUnit XML a parser accepts and a Markdown summary", "[e2e][gate]") {
  GateRepo g;
  g.sql("DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id = 'case-00'");
  g.repo.git({"commit", "-q", "-am", "oops"});
  auto r =
      g.repo.evalkeep({"gate", "--base", "main", "--junit", "gate.xml", "--markdown", "gate.md"},
                      {}, {"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err,
             Catch::Contains("::error file=evals/suite.db,title=evalkeep gate: case-deleted::"));
  auto wellformed = g.repo.run({"xmllint", "--noout", "gate.xml"});
  CHECK(wellformed.exit_code == 0);
  auto failures = g.repo.run({"xmllint", "--xpath", "count(//testcase[failure])", "gate.xml"});
  // Failing: the verify rule (the dropped trigger), the case-deleted rule and case-00 itself.
  CHECK(failures.out.substr(0, failures.out.find('\n')) == "3");
  auto cases = g.repo.run({"xmllint", "--xpath", "string(//testsuites/@failures)", "gate.xml"});
  CHECK(cases.out.substr(0, cases.out.find('\n')) == "3");
  auto rule = g.repo.run({"xmllint", "--xpath",
                          "string(//testcase[@name='case-deleted'][failure]/failure/@message)",
                          "gate.xml"});
  CHECK_THAT(rule.out, Catch::StartsWith("case case-00 (guarding INC-100) was deleted"));
  auto md = evalkeep::test::read_file(g.repo.path() / "gate.md");
  CHECK_THAT(md, Catch::StartsWith("## evalkeep gate: ❌ failed"));
  CHECK_THAT(md, Catch::Contains("| case-deleted | case-00 | INC-100 |"));
}

TEST_CASE("a base suite that is not a suite fails the gate with a clear message", "[e2e][gate]") {
  Repo repo;
  evalkeep::test::write_file(repo.path() / "evals" / "suite.db", "this is not a database");
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "junk"});
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code != 0); // init refuses the junk file too
  repo.git({"checkout", "-q", "-b", "pr"});
  std::filesystem::remove(repo.suite());
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "a real suite"});
  auto r = repo.evalkeep({"gate", "--base", "main"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("the suite at the base"));
  CHECK_THAT(r.err, Catch::Contains("not an SQLite database"));
}

TEST_CASE("why tells a case's story: incident, commit, edits, retirement", "[e2e][gate][why]") {
  GateRepo g;
  g.ok({"edit", "case-03", "--add-expect", "not-contains:guarantee", "--rationale",
        "INC-103 showed promises can be implicit"});
  g.repo.git({"commit", "-q", "-am", "tighten case-03"});
  g.ok({"retire", "case-03", "--reason", "out-of-scope", "--rationale", "feature removed"});
  auto r = g.ok({"why", "case-03", "--json"});
  auto story = json::parse(r.out);
  CHECK(story["incident"] == "INC-103");
  CHECK(story["author"] == "Dana Kim <dana@example.com>");
  CHECK_THAT(story["added_in_commit"].get<std::string>(), Catch::Contains("suite"));
  REQUIRE(story["history"].size() == 3);
  CHECK(story["history"][1]["rationale"] == "INC-103 showed promises can be implicit");
  CHECK(story["retirement"]["reason"] == "out-of-scope");
  CHECK(story["last_run"].is_null());
  auto text = g.ok({"why", "case-03"});
  CHECK_THAT(text.out, Catch::Contains("guards INC-103 — Incident 3"));
  CHECK_THAT(text.out, Catch::Contains("retired: out-of-scope — feature removed"));
  auto missing = g.repo.evalkeep({"why", "no-such-case"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("no case no-such-case"));
}

TEST_CASE("audit lists every retirement with the commit that landed it", "[e2e][gate][audit]") {
  GateRepo g;
  // Decided on New Year's Day, to be looked at again in January: overdue by now.
  auto decided = g.repo.evalkeep({"retire", "case-00", "--reason", "duplicate", "--rationale",
                                  "same as case-09", "--approved-by",
                                  "Lee Okafor <lee@example.com>", "--revisit", "2026-01-15"},
                                 {}, {"EVALKEEP_NOW=2026-01-01T09:00:00Z"});
  REQUIRE(decided.exit_code == 0);
  g.ok({"retire", "case-09", "--reason", "superseded", "--superseded-by", "case-18", "--rationale",
        "moved"});
  g.ok({"retire", "case-18", "--reason", "out-of-scope", "--rationale", "gone"});
  g.repo.git({"commit", "-q", "-am", "retire three"});
  auto head = g.repo.git({"rev-parse", "HEAD"});
  head = head.substr(0, head.find('\n'));

  auto a = json::parse(g.ok({"audit", "--json"}).out);
  REQUIRE(a["retirements"].size() == 3);
  CHECK(a["retirements"][0]["case"] == "case-00");
  CHECK(a["retirements"][0]["reason"] == "duplicate");
  CHECK(a["retirements"][0]["rationale"] == "same as case-09");
  CHECK(a["retirements"][0]["decided_by"] == "Dana Kim <dana@example.com>");
  CHECK(a["retirements"][0]["approved_by"] == "Lee Okafor <lee@example.com>");
  CHECK(a["retirements"][0]["commit"] == head);
  CHECK(a["overdue_revisits"] == json::array({"case-00: revisit 2026-01-15"}));
  // case-09's guarantee moved to case-18, which was itself retired afterwards.
  REQUIRE(a["weak_supersessions"].size() == 1);
  CHECK_THAT(a["weak_supersessions"][0].get<std::string>(),
             Catch::Contains("case-18 itself is retired"));
  // INC-100 was guarded by case-00, -09, -18, -27 and -36; two remain.
  CHECK(a["unguarded_incidents"].empty());

  CHECK(json::parse(g.ok({"audit", "--since", "HEAD", "--json"}).out)["retirements"].empty());
  CHECK(json::parse(g.ok({"audit", "--since", "HEAD~1", "--json"}).out)["retirements"].size() == 3);
  CHECK_THAT(g.ok({"audit", "--format", "md"}).out, Catch::StartsWith("## evalkeep audit"));
  auto text = g.ok({"audit"});
  CHECK_THAT(text.out, Catch::Contains("reason:    duplicate"));
  CHECK(g.repo.evalkeep({"audit", "--format", "pdf"}).exit_code == 2);
}
