// Refusals: a case never disappears, changes status or loses its history without a recorded
// decision, whether the user goes through evalkeep or through sqlite3; refused commands leave the
// suite file byte-for-byte unchanged.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

// Runs the sqlite3 shell on the suite; the statement must be refused and change nothing.
void raw_sql_refused(const Repo& repo, const std::string& sql, const std::string& mention) {
  auto before = file_hash(repo.suite());
  auto r = repo.run({"sqlite3", "evals/suite.db", sql});
  INFO("sqlite3 evals/suite.db \"" << sql << "\"\nexit: " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains(mention));
  CHECK(file_hash(repo.suite()) == before);
}

} // namespace

TEST_CASE("rm of an active case is refused, naming its incident and the retire command",
          "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 1, {"rm", "refund-window"});
  CHECK_THAT(r.err, Catch::Contains("INC-7"));
  CHECK_THAT(r.err, Catch::Contains("Refund promised outside policy"));
  CHECK_THAT(r.err, Catch::Contains("evalkeep retire refund-window"));
  CHECK_THAT(r.err, Catch::Contains("hint: "));
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["status"] == "active");
}

TEST_CASE("rm of a case from a spec is refused, naming the spec", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 1, {"rm", "tone-apology"});
  CHECK_THAT(r.err, Catch::Contains("style guide 2.1"));
  CHECK_THAT(r.err, Catch::Contains("evalkeep retire tone-apology"));
  CHECK(listed_cases(repo) == 2);
}

TEST_CASE("rm --purge of an active case is refused as well", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 1, {"rm", "refund-window", "--purge"});
  CHECK_THAT(r.err, Catch::Contains("evalkeep retire refund-window"));
}

TEST_CASE("rm and retire of a case that does not exist are input errors", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  CHECK_THAT(must_fail(repo, 2, {"rm", "no-such-case"}).err, Catch::Contains("no-such-case"));
  CHECK_THAT(
      must_fail(repo, 2, {"retire", "no-such-case", "--reason", "duplicate", "--rationale", "x"})
          .err,
      Catch::Contains("no-such-case"));
}

TEST_CASE("raw SQL through sqlite3 cannot delete, retire or replace cases, nor touch the ledger",
          "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  raw_sql_refused(repo, "DELETE FROM cases", "retirement decision");
  raw_sql_refused(repo, "DELETE FROM cases WHERE id = 'tone-apology'", "retirement decision");
  raw_sql_refused(repo, "UPDATE cases SET status = 'retired'", "retirement decision");
  raw_sql_refused(repo, "UPDATE cases SET status = 'removed' WHERE id = 'refund-window'",
                  "retirement decision");
  raw_sql_refused(repo, "DELETE FROM ledger", "append-only");
  raw_sql_refused(repo, "UPDATE ledger SET rationale = 'rewritten history'", "append-only");
  raw_sql_refused(repo,
                  "INSERT OR REPLACE INTO cases (id, prompt, expect, provenance_kind, "
                  "provenance_note, status, content_hash) SELECT id, 'hijacked', expect, "
                  "provenance_kind, provenance_note, 'active', content_hash FROM cases WHERE id = "
                  "'tone-apology'",
                  "never replaced");
  raw_sql_refused(repo, "UPDATE cases SET id = 'renamed' WHERE id = 'tone-apology'",
                  "never change");
  // Everything is still there and consistent.
  CHECK(listed_cases(repo) == 2);
  must_succeed(repo, {"verify"});
}

TEST_CASE("retire refuses an unknown reason and lists the reasons", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2,
                     {"retire", "refund-window", "--reason", "cleanup", "--rationale", "tidy up"});
  CHECK_THAT(r.err, Catch::Contains("cleanup"));
  for (const char* reason : {"feature-removed", "superseded", "duplicate", "invalid-expectation",
                             "out-of-scope", "flaky-unfixable"})
    CHECK_THAT(r.err, Catch::Contains(reason));
}

TEST_CASE("retire refuses an empty or blank rationale", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  for (const char* rationale : {"", "   ", "\t\n"}) {
    auto r = must_fail(
        repo, 2, {"retire", "refund-window", "--reason", "duplicate", "--rationale", rationale});
    CHECK_THAT(r.err, Catch::Contains("rationale"));
  }
  // Leaving --rationale out altogether is a usage error.
  auto missing = must_fail(repo, 2, {"retire", "refund-window", "--reason", "duplicate"});
  CHECK_THAT(missing.err, Catch::Contains("--rationale"));
}

TEST_CASE("text that is not UTF-8 is refused as input, naming the field", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  const std::string bad = "caf\xE9 \xFF";
  struct Attempt {
    std::vector<std::string> args;
    std::string mention;
  };
  for (const auto& [args, mention] : std::vector<Attempt>{
           {{"add", "--id", "latin1", "--prompt", bad, "--expect", "contains:x", "--provenance",
             "spec:s"},
            "--prompt: not valid UTF-8"},
           {{"add", "--id", "latin1", "--prompt", "ok", "--title", bad, "--expect", "contains:x",
             "--provenance", "spec:s"},
            "--title: not valid UTF-8"},
           {{"add", "--id", "latin1", "--prompt", "ok", "--expect", "contains:x", "--provenance",
             "spec:" + bad},
            "field \"provenance.note\": not valid UTF-8"},
           {{"incident", "add", "INC-900", "--title", bad}, "field \"title\": not valid UTF-8"},
           {{"retire", "refund-window", "--reason", "duplicate", "--rationale", bad},
            "field \"rationale\": not valid UTF-8"},
       }) {
    auto r = must_fail(repo, 2, args); // must_fail also checks the suite is unchanged
    CHECK_THAT(r.err, Catch::Contains(mention));
  }
}

TEST_CASE("retire --reason superseded needs an active case to take over the guarantee",
          "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);

  SECTION("without --superseded-by") {
    auto r = must_fail(repo, 2,
                       {"retire", "refund-window", "--reason", "superseded", "--rationale", "old"});
    CHECK_THAT(r.err, Catch::Contains("--superseded-by"));
  }
  SECTION("superseded by a case that does not exist") {
    auto r = must_fail(repo, 2,
                       {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                        "ghost-case", "--rationale", "old"});
    CHECK_THAT(r.err, Catch::Contains("ghost-case"));
    CHECK_THAT(r.err, Catch::Contains("no such case"));
  }
  SECTION("superseded by itself") {
    auto r = must_fail(repo, 2,
                       {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                        "refund-window", "--rationale", "old"});
    CHECK_THAT(r.err, Catch::Contains("itself"));
  }
  SECTION("superseded by a retired case") {
    must_succeed(repo, {"retire", "tone-apology", "--reason", "out-of-scope", "--rationale",
                        "the style guide was dropped"});
    auto r = must_fail(repo, 1,
                       {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                        "tone-apology", "--rationale", "old"});
    CHECK_THAT(r.err, Catch::Contains("tone-apology"));
    CHECK_THAT(r.err, Catch::Contains("retired"));
  }
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["status"] == "active");
  CHECK_FALSE(shown.contains("retirement"));
}

TEST_CASE("retire of a case that is already retired is refused", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"});
  auto r = must_fail(repo, 1,
                     {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "again"});
  CHECK_THAT(r.err, Catch::Contains("already retired"));
}

TEST_CASE("policy require_approver refuses a retirement without a distinct approver",
          "[e2e][refusal][policy]") {
  Repo repo;
  seed_suite(repo);
  write_file(repo.path() / "evalkeep.toml",
             "suite = \"evals/suite.db\"\n[policy]\nrequire_approver = true\n");

  auto none =
      must_fail(repo, 1, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"});
  CHECK_THAT(none.err, Catch::Contains("approver"));
  CHECK_THAT(none.err, Catch::Contains("--approved-by"));

  auto self = must_fail(repo, 1,
                        {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup",
                         "--approved-by", "Dana Kim <dana@example.com>"});
  CHECK_THAT(self.err, Catch::Contains("differ"));
  CHECK_THAT(self.err, Catch::Contains("Dana Kim <dana@example.com>"));

  auto explicit_self = must_fail(repo, 1,
                                 {"retire", "tone-apology", "--reason", "duplicate", "--rationale",
                                  "dup", "--decided-by", "Lee <lee@example.com>", "--approved-by",
                                  "Lee <lee@example.com>"});
  CHECK_THAT(explicit_self.err, Catch::Contains("differ"));

  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup",
                      "--approved-by", "Lee Okafor <lee@example.com>"});
  auto shown = parse_json(must_succeed(repo, {"show", "tone-apology", "--json"}).out);
  CHECK(shown["status"] == "retired");
  CHECK(shown["retirement"]["approved_by"] == "Lee Okafor <lee@example.com>");
  CHECK(shown["retirement"]["decided_by"] == "Dana Kim <dana@example.com>");
}

TEST_CASE("policy require_incident refuses a case that only cites a spec",
          "[e2e][refusal][policy]") {
  Repo repo;
  seed_suite(repo);
  write_file(repo.path() / "evalkeep.toml",
             "suite = \"evals/suite.db\"\n[policy]\nrequire_incident = true\n");
  auto r = must_fail(repo, 1,
                     {"add", "--id", "spec-only", "--prompt", "Hi", "--expect", "contains:hello",
                      "--provenance", "spec:greeting policy"});
  CHECK_THAT(r.err, Catch::Contains("incident"));
  CHECK_THAT(r.err, Catch::Contains("--incident"));
  must_succeed(repo, {"add", "--id", "linked", "--prompt", "Hi", "--expect", "contains:hello",
                      "--incident", "INC-7"});
  CHECK(listed_cases(repo) == 3);
}

TEST_CASE("edit needs a rationale", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  auto missing = must_fail(repo, 2, {"edit", "refund-window", "--add-tag", "refunds"});
  CHECK_THAT(missing.err, Catch::Contains("--rationale"));
  auto blank =
      must_fail(repo, 2, {"edit", "refund-window", "--add-tag", "refunds", "--rationale", "  "});
  CHECK_THAT(blank.err, Catch::Contains("rationale"));

  must_succeed(repo,
               {"edit", "refund-window", "--add-tag", "refunds", "--rationale", "INC-9 follow-up"});
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["tags"] == nlohmann::json::array({"billing", "refunds"}));
  auto log = parse_json(must_succeed(repo, {"log", "refund-window", "--json"}).out);
  REQUIRE(log.size() == 2);
  CHECK(log[0]["action"] == "edit");
  CHECK(log[0]["rationale"] == "INC-9 follow-up");
}

TEST_CASE("edit of a retired case is refused until it is reinstated", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                      "tone-apology", "--rationale", "covered by the tone case"});
  auto r = must_fail(repo, 1,
                     {"edit", "refund-window", "--prompt", "new text", "--rationale", "why not"});
  CHECK_THAT(r.err, Catch::Contains("retired"));
  CHECK_THAT(r.err, Catch::Contains("evalkeep reinstate refund-window"));

  // Setting a retired status through edit is refused too.
  auto status =
      must_fail(repo, 2, {"edit", "tone-apology", "--status", "retired", "--rationale", "done"});
  CHECK_THAT(status.err, Catch::Contains("evalkeep retire tone-apology"));
}

TEST_CASE("reinstate brings a retired case back, and the log shows it", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                      "tone-apology", "--rationale", "covered by the tone case"});
  CHECK(parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out)["status"] ==
        "retired");

  // Reinstating needs a rationale, and an active case cannot be reinstated.
  must_fail(repo, 2, {"reinstate", "refund-window"});
  must_fail(repo, 2, {"reinstate", "refund-window", "--rationale", " "});
  CHECK_THAT(must_fail(repo, 1, {"reinstate", "tone-apology", "--rationale", "x"}).err,
             Catch::Contains("not retired"));

  must_succeed(repo,
               {"reinstate", "refund-window", "--rationale", "the new model regressed on refunds"});
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["status"] == "active");
  CHECK_FALSE(shown.contains("retirement"));

  auto log = parse_json(must_succeed(repo, {"log", "refund-window", "--json"}).out);
  REQUIRE(log.size() == 3);
  CHECK(log[0]["action"] == "reinstate");
  CHECK(log[0]["rationale"] == "the new model regressed on refunds");
  CHECK(log[1]["action"] == "retire");
  CHECK(log[2]["action"] == "add");

  // Active again, it is protected again.
  must_fail(repo, 1, {"rm", "refund-window"});
  must_succeed(repo, {"verify"});
}

TEST_CASE("rm --purge drops the input but keeps a tombstone that verifies", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "refund-window", "--reason", "feature-removed", "--rationale",
                      "refunds are handled by a human now"});
  auto removed = must_succeed(repo, {"rm", "refund-window", "--purge"});
  CHECK_THAT(removed.out, Catch::Contains("purged"));

  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["status"] == "removed");
  CHECK_FALSE(shown.contains("prompt"));
  CHECK_FALSE(shown.contains("expect"));
  CHECK(shown["retirement"]["reason"] == "feature-removed");
  CHECK(shown["content_hash"].get<std::string>().size() == 64);

  // The text form says so and prints no input.
  auto text = must_succeed(repo, {"show", "refund-window"});
  CHECK_THAT(text.out, Catch::Contains("purged"));
  CHECK_THAT(text.out, !Catch::Contains("45 days"));
  CHECK(read_file(repo.suite()).find("Can I get a refund after 45 days?") == std::string::npos);

  // A purged case cannot be reinstated or removed again.
  CHECK_THAT(must_fail(repo, 1, {"reinstate", "refund-window", "--rationale", "x"}).err,
             Catch::Contains("purged"));
  CHECK_THAT(must_fail(repo, 1, {"rm", "refund-window"}).err, Catch::Contains("already removed"));
  CHECK_THAT(must_fail(repo, 1, {"rm", "refund-window", "--purge"}).err,
             Catch::Contains("already removed"));

  auto log = parse_json(must_succeed(repo, {"log", "refund-window", "--json"}).out);
  REQUIRE(log.size() == 3);
  CHECK(log[0]["action"] == "delete");
  CHECK(log[0]["detail"]["purged"] == true);
  must_succeed(repo, {"verify"});
}

TEST_CASE("a removed case is listed only when asked for by status", "[e2e][refusal]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"});
  must_succeed(repo, {"rm", "tone-apology"});
  CHECK(listed_cases(repo) == 1);
  auto removed = parse_json(must_succeed(repo, {"list", "--status", "removed", "--json"}).out);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0]["id"] == "tone-apology");
  // Removed but not purged: it still has its input and can be reinstated.
  CHECK(removed[0]["prompt"] == "My order is late.");
  must_succeed(repo, {"reinstate", "tone-apology", "--rationale", "needed after all"});
  CHECK(listed_cases(repo) == 2);
  must_succeed(repo, {"verify"});
}
