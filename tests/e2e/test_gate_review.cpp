// What the gate shows the reviewer: every change, counts that tell active from xfail, active
// guards by incident, supersessions that hold, and the same facts in JSON, Markdown and JUnit.

#include "support/e2e.hpp"

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::must_succeed;
using evalkeep::test::Repo;
using json = nlohmann::json;

namespace {

// INC-7 guarded by refund-window and late-refund, INC-8 by stove, and an old case retired on
// main; then branch "pr".
struct ReviewRepo {
  Repo repo;
  ReviewRepo() {
    ok({"init", "-q"});
    ok({"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    ok({"incident", "add", "INC-8", "--title", "Recalled stove recommended"});
    for (auto [id, incident] : {std::pair{"refund-window", "INC-7"},
                                std::pair{"late-refund", "INC-7"}, std::pair{"stove", "INC-8"},
                                std::pair{"old-refund", "INC-7"}, std::pair{"older", "INC-8"}})
      ok({"add", "--id", id, "--prompt", std::string("Question for ") + id, "--expect",
          "icontains:30 days", "--incident", incident});
    for (const char* id : {"old-refund", "older"})
      ok({"retire", id, "--reason", "duplicate", "--rationale", "same as refund-window"});
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "pr"});
  }
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args) const {
    return must_succeed(repo, args);
  }
  json gate(int exit_code, std::vector<std::string> args = {}) const {
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "--allow-empty", "-m", "change"});
    args.insert(args.begin(), {"gate", "--base", "main", "--json"});
    auto r = repo.evalkeep(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == exit_code);
    return evalkeep::test::parse_json(r.out);
  }
};

std::set<std::string> rules(const json& report) {
  std::set<std::string> out;
  for (const auto& v : report["violations"])
    out.insert(v["rule"].get<std::string>() +
               (v["case"].is_string() ? " " + v["case"].get<std::string>() : ""));
  return out;
}

} // namespace

TEST_CASE("the gate counts xfail apart from active cases and shows active guards by incident",
          "[e2e][gate][review]") {
  ReviewRepo t;
  t.ok({"add", "--id", "known-bad", "--prompt", "Known bad", "--expect", "contains:x", "--incident",
        "INC-8", "--xfail"});
  t.ok({"retire", "stove", "--reason", "feature-removed", "--rationale",
        "we stopped selling "
        "stoves"});
  auto report = t.gate(0);
  CHECK(report["active_before"] == 3);
  CHECK(report["active_after"] == 2);
  CHECK(report["xfail_before"] == 0);
  CHECK(report["xfail_after"] == 1);
  REQUIRE(report["coverage"].size() == 1);
  CHECK(report["coverage"][0] == json{{"incident", "INC-8"}, {"before", 1}, {"after", 0}});
  // An xfail case guards nothing: INC-8 is left unguarded although known-bad links it.
  CHECK(report["unguarded_incidents"] == json::array({"INC-8"}));
  auto text = t.repo.evalkeep({"gate", "--base", "main"}).out;
  CHECK_THAT(text, Catch::Contains("active cases: 3 -> 2 (-1); xfail: 0 -> 1 (+1)"));
  CHECK_THAT(text, Catch::Contains("INC-8: 1 -> 0  (left with no active guard)"));
}

TEST_CASE("a retirement superseded by a case the same change retires fails the gate",
          "[e2e][gate][review]") {
  ReviewRepo t;
  t.ok({"retire", "refund-window", "--reason", "superseded", "--superseded-by", "late-refund",
        "--rationale", "late-refund covers it"});
  t.ok({"retire", "late-refund", "--reason", "feature-removed", "--rationale", "no more refunds"});
  auto report = t.gate(1);
  CHECK(rules(report) == std::set<std::string>{"supersession-broken refund-window"});
  CHECK_THAT(report["violations"][0]["message"].get<std::string>(),
             Catch::Contains("superseded by late-refund, which is retired"));
  for (const auto& r : report["retired"])
    CHECK(r["superseded_by"] ==
          (r["case"] == "refund-window" ? json::array({"late-refund"}) : json::array()));
  auto text = t.repo.evalkeep({"gate", "--base", "main"}).out;
  CHECK_THAT(text, Catch::Contains("superseded by late-refund"));
}

TEST_CASE("the gate lists reinstatements with their rationale and purges", "[e2e][gate][review]") {
  ReviewRepo t;
  t.ok({"reinstate", "old-refund", "--rationale", "the new model regressed on refunds"});
  t.ok({"rm", "older", "--purge"});
  auto report = t.gate(0);
  REQUIRE(report["reinstated"].size() == 1);
  CHECK(report["reinstated"][0]["case"] == "old-refund");
  CHECK(report["reinstated"][0]["rationales"] ==
        json::array({"the new model regressed on refunds"}));
  CHECK(report["purged"] == json::array({"older"}));
  CHECK(report["active_after"] == 4);
  t.ok({"gate", "--base", "main", "--markdown", "gate.md"});
  auto md = evalkeep::test::read_file(t.repo.path() / "gate.md");
  CHECK_THAT(md, Catch::Contains("### Reinstated\n\n- `old-refund` — why: the new model regressed "
                                 "on refunds\n"));
  CHECK_THAT(md, Catch::Contains("### Purged"));
}

TEST_CASE("the Markdown summary shows text as written, with no backslash escapes",
          "[e2e][gate][review]") {
  ReviewRepo t;
  t.ok({"edit", "stove", "--add-expect", "not-contains:a_b|c", "--rationale",
        "INC_8 *again*: see [the log] | <b>"});
  t.ok({"retire", "late-refund", "--reason", "duplicate", "--rationale",
        "dup_of refund-window | `same`"});
  t.gate(0, {"--markdown", "gate.md"});
  auto md = evalkeep::test::read_file(t.repo.path() / "gate.md");
  CHECK(md.find('\\') == std::string::npos);
  CHECK_THAT(md, Catch::Contains("why: INC&#95;8 &#42;again&#42;: see &#91;the log&#93; &#124; "
                                 "&#60;b&#62;"));
  CHECK_THAT(md, Catch::Contains("| dup&#95;of refund-window &#124; &#96;same&#96; |"));
}

TEST_CASE("JUnit stays well-formed when a violation quotes control characters",
          "[e2e][gate][review]") {
  ReviewRepo t;
  evalkeep::test::write_file(t.repo.path() / "evalkeep.toml",
                             "suite = \"evals/suite.db\"\n[policy]\nrequire_approver = true\n");
  t.repo.git({"add", "-A"});
  t.repo.git({"commit", "-q", "-m", "approvals"});
  t.repo.git({"checkout", "-q", "main"});
  t.repo.git({"merge", "-q", "pr"});
  t.repo.git({"checkout", "-q", "pr"});
  // The approver's name carries ESC, BEL and a form feed; it is the decider, which the policy
  // refuses, so the violation quotes it.
  auto actor = std::string("Mallory\x1b[31m\a\f <mallory@example.com>");
  auto r = t.repo.evalkeep({"retire", "stove", "--reason", "duplicate", "--rationale", "dup",
                            "--decided-by", actor, "--approved-by", actor});
  CHECK(r.exit_code == 1); // the policy refuses it at once, too
  evalkeep::test::write_file(t.repo.path() / "evalkeep.toml", "suite = \"evals/suite.db\"\n");
  t.ok({"retire", "stove", "--reason", "duplicate", "--rationale", "dup", "--decided-by", actor,
        "--approved-by", actor});
  t.gate(1, {"--junit", "gate.xml"});
  CHECK(t.repo.run({"xmllint", "--noout", "gate.xml"}).exit_code == 0);
  auto xml = evalkeep::test::read_file(t.repo.path() / "gate.xml");
  CHECK(xml.find('\x1b') == std::string::npos);
  CHECK_THAT(xml, Catch::Contains("Mallory^[[31m^G^L"));
}

TEST_CASE("audit --base and why --base show what a branch did against its base, silent deletions "
          "included",
          "[e2e][gate][review][audit][why]") {
  ReviewRepo t;
  auto sql = t.repo.run({"sqlite3", "evals/suite.db",
                         "DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id = "
                         "'stove'"});
  REQUIRE(sql.exit_code == 0);
  t.ok({"retire", "late-refund", "--reason", "duplicate", "--rationale", "same as refund-window"});
  t.repo.git({"commit", "-q", "-am", "cleanup"});

  auto text = t.ok({"audit", "--base", "main"}).out;
  CHECK_THAT(text, Catch::Contains("this branch against its base, as the gate sees it:"));
  CHECK_THAT(text, Catch::Contains("  [case-deleted] case stove (guarding INC-8) was deleted "
                                   "without a retirement decision"));
  auto json_report = evalkeep::test::parse_json(t.ok({"audit", "--base", "main", "--json"}).out);
  CHECK(json_report["against_base"]["passed"] == false);
  CHECK(rules(json_report["against_base"]).count("case-deleted stove") == 1);
  CHECK(evalkeep::test::parse_json(t.ok({"audit", "--json"}).out)["against_base"].is_null());
  auto html = t.ok({"audit", "--base", "main", "--format", "html"}).out;
  CHECK_THAT(html, Catch::Contains("<section id=\"branch\">"));
  auto md = t.ok({"audit", "--base", "main", "--format", "md"}).out;
  CHECK_THAT(md, Catch::Contains("### evalkeep gate: ❌ failed"));

  // The deleted case's story comes from the base.
  auto why = t.ok({"why", "stove", "--base", "main"}).out;
  CHECK_THAT(why, Catch::Contains("case stove (active)"));
  CHECK_THAT(why, Catch::Contains("where the case no longer exists"));
  CHECK_THAT(why, Catch::Contains("[case-deleted]"));
  auto why_json =
      evalkeep::test::parse_json(t.ok({"why", "stove", "--base", "main", "--json"}).out);
  CHECK(why_json["branch"]["at_head"] == false);
  CHECK_THAT(t.ok({"why", "late-refund", "--base", "main"}).out,
             Catch::Contains("retired with a decision (duplicate)"));
  CHECK_THAT(t.ok({"why", "refund-window", "--base", "main"}).out, Catch::Contains("  unchanged"));
  evalkeep::test::must_fail(t.repo, 2, {"why", "stove"}); // without --base: no such case
}
