// Decisions: a weakening edit is recorded only as a decision, and `log` and `show` present it;
// retiring many cases at once takes one decision for all of them, or none.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

// The policy block of evalkeep.toml with the given rules switched on.
void set_policy(const Repo& repo, const std::string& rules) {
  write_file(repo.path() / "evalkeep.toml", "suite = \"evals/suite.db\"\n\n[policy]\n" + rules);
}

// seed_suite plus refund-late (INC-7, tag billing) and promo-code (INC-9, tags billing, promo).
void seed_more(const Repo& repo) {
  seed_suite(repo);
  must_succeed(repo, {"incident", "add", "INC-9", "--title", "Promo code accepted twice"});
  must_succeed(repo, {"add", "--id", "refund-late", "--prompt", "Refund after 90 days?", "--expect",
                      "icontains:30 days", "--incident", "INC-7", "--tag", "billing"});
  must_succeed(repo,
               {"add", "--id", "promo-code", "--prompt", "Can I use SAVE10 twice?", "--expect",
                "icontains:once", "--incident", "INC-9", "--tag", "billing", "--tag", "promo"});
}

std::string status_of(const Repo& repo, const std::string& id) {
  return parse_json(must_succeed(repo, {"show", id, "--json"}).out)["status"];
}

} // namespace

TEST_CASE("edit refuses a weakening without a decision, listing each one old -> new",
          "[e2e][decision]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"edit", "refund-window", "--add-expect", "max-length:600", "--rationale",
                      "keep it short"});
  auto r = must_fail(repo, 1,
                     {"edit", "refund-window", "--remove-expect", "max-length:600", "--add-expect",
                      "max-length:900", "--status", "xfail", "--rationale", "answers got longer"});
  CHECK_THAT(r.err, Catch::Contains("this edit weakens case refund-window"));
  CHECK_THAT(r.err, Catch::Contains("\n  status: active -> xfail\n"));
  CHECK_THAT(r.err, Catch::Contains("\n  assertion: max-length:600 -> max-length:900\n"));
  CHECK_THAT(r.err, Catch::Contains("hint: if it is meant, record the decision: add --reason"));

  auto reworded = must_fail(
      repo, 1,
      {"edit", "tone-apology", "--prompt", "My order is very late.", "--rationale", "sharper"});
  CHECK_THAT(reworded.err, Catch::Contains("input: My order is late. -> My order is very late."));
  CHECK(parse_json(must_succeed(repo, {"log", "--json"}).out).size() == 4); // nothing recorded
}

TEST_CASE("a decided weakening is recorded, and log and show present the decision",
          "[e2e][decision]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"edit", "refund-window", "--add-expect", "max-length:600", "--rationale",
                      "keep it short"});
  auto r = must_succeed(repo, {"edit", "refund-window", "--remove-expect", "max-length:600",
                               "--add-expect", "max-length:900", "--reason", "invalid-expectation",
                               "--rationale", "answers got longer", "--approved-by",
                               "Lee Okafor <lee@example.com>"});
  CHECK(r.out == "edited refund-window\n");

  auto log = must_succeed(repo, {"log", "refund-window", "-n", "1"}).out;
  CHECK_THAT(log, Catch::Contains("event 5 edit refund-window\n"));
  CHECK_THAT(log, Catch::Contains("    answers got longer\n"
                                  "    decision: invalid-expectation, decided by Dana Kim "
                                  "<dana@example.com>, approved by Lee Okafor <lee@example.com>\n"
                                  "    weakens: assertion: max-length:600 -> max-length:900\n"));
  auto earlier = must_succeed(repo, {"log", "refund-window", "-n", "2"}).out;
  CHECK_THAT(earlier, Catch::Contains("    changes: assertion added: max-length:600\n"));

  auto event = parse_json(must_succeed(repo, {"log", "refund-window", "-n", "1", "--json"}).out)[0];
  CHECK(event["detail"]["decision"] == json{{"reason", "invalid-expectation"},
                                            {"decided_by", "Dana Kim <dana@example.com>"},
                                            {"approved_by", "Lee Okafor <lee@example.com>"}});
  CHECK(event["detail"]["set"] ==
        json::parse(R"({"expect":[{"type":"icontains","value":"30 days"},)"
                    R"({"type":"max-length","value":900.0}]})"));
  CHECK(event["detail"]["changes"][0]["weakens"] == true);

  auto show = must_succeed(repo, {"show", "refund-window"}).out;
  CHECK_THAT(show,
             Catch::Contains("Weakened:   invalid-expectation — answers got longer (event 5,"));
  CHECK_THAT(show, Catch::Contains("  assertion: max-length:600 -> max-length:900\n"
                                   "Decided:    by Dana Kim <dana@example.com>, approved by Lee "
                                   "Okafor <lee@example.com>\n"));
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  REQUIRE(shown["weakened"].size() == 1);
  CHECK(shown["weakened"][0]["reason"] == "invalid-expectation");
  CHECK(shown["weakened"][0]["seq"] == 5);
  CHECK(shown["weakened"][0]["weakenings"][0]["before"] == "max-length:600");
  CHECK(parse_json(must_succeed(repo, {"show", "tone-apology", "--json"}).out)["weakened"] ==
        json::array());
  must_succeed(repo, {"verify"});
}

TEST_CASE("edit refuses a reason when it weakens nothing, and reworded without a new input",
          "[e2e][decision]") {
  Repo repo;
  seed_suite(repo);
  auto nothing = must_fail(repo, 2,
                           {"edit", "refund-window", "--add-expect", "not-contains:guarantee",
                            "--reason", "invalid-expectation", "--rationale", "stricter"});
  CHECK_THAT(nothing.err, Catch::Contains("weakens nothing"));
  CHECK_THAT(nothing.err, Catch::Contains("assertion added: not-contains:guarantee"));
  auto reworded = must_fail(repo, 2,
                            {"edit", "refund-window", "--status", "xfail", "--reason", "reworded",
                             "--rationale", "known failure"});
  CHECK_THAT(reworded.err, Catch::Contains("reworded is for a changed input"));
  auto unknown = must_fail(repo, 2,
                           {"edit", "refund-window", "--status", "xfail", "--reason", "because",
                            "--rationale", "known failure"});
  CHECK_THAT(unknown.err, Catch::Contains("unknown reason 'because'"));
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "My order is very late.", "--reason",
                      "reworded", "--rationale", "sharper"});
}

TEST_CASE("a weakening decision needs the approver the policy asks for", "[e2e][decision]") {
  Repo repo;
  seed_suite(repo);
  set_policy(repo, "require_approver = true\napprovers = [\"lee@example.com\"]\n");
  std::vector<std::string> xfail{
      "edit",     "refund-window",   "--status",    "xfail",
      "--reason", "flaky-unfixable", "--rationale", "fails until the fix ships"};
  CHECK_THAT(must_fail(repo, 1, xfail).err, Catch::Contains("requires an approver"));
  auto stranger = xfail;
  stranger.insert(stranger.end(), {"--approved-by", "Eve <eve@example.com>"});
  CHECK_THAT(must_fail(repo, 1, stranger).err, Catch::Contains("not on the policy's list"));
  auto lee = xfail;
  lee.insert(lee.end(), {"--approved-by", "Lee Okafor <lee@example.com>"});
  must_succeed(repo, lee);
  CHECK(status_of(repo, "refund-window") == "xfail");
}

TEST_CASE("retire takes several ids and retires them all with one decision, or none",
          "[e2e][decision]") {
  Repo repo;
  seed_more(repo);
  auto bad = must_fail(repo, 2,
                       {"retire", "refund-late", "no-such-case", "promo-code", "--reason",
                        "duplicate", "--rationale", "cleanup"});
  CHECK_THAT(bad.err, Catch::Contains("no case no-such-case"));
  CHECK_THAT(bad.err, Catch::Contains("nothing was retired"));
  CHECK(status_of(repo, "refund-late") == "active");

  auto r = must_succeed(repo, {"retire", "refund-late", "promo-code", "--reason", "duplicate",
                               "--rationale", "covered elsewhere"});
  CHECK(r.out == "retired promo-code\nretired refund-late\n"
                 "retired 2 cases (duplicate); they stay in the suite, excluded from runs\n"
                 "INC-9 is left with no active guarding case\n");
  CHECK(status_of(repo, "refund-late") == "retired");
  CHECK(status_of(repo, "promo-code") == "retired");
  auto log = parse_json(must_succeed(repo, {"log", "-n", "2", "--json"}).out);
  CHECK(log[0]["action"] == "retire");
  CHECK(log[1]["action"] == "retire");
  CHECK(log[0]["rationale"] == "covered elsewhere");

  auto again = must_fail(
      repo, 1,
      {"retire", "refund-window", "refund-late", "--reason", "duplicate", "--rationale", "x"});
  CHECK_THAT(again.err, Catch::Contains("case refund-late is already retired"));
  CHECK(status_of(repo, "refund-window") == "active");
  must_succeed(repo, {"verify"});
}

TEST_CASE("retire --dry-run previews the cases and the incidents left unguarded",
          "[e2e][decision]") {
  Repo repo;
  seed_more(repo);
  auto before = file_hash(repo.suite());
  auto r = must_succeed(repo, {"retire", "--tag", "billing", "--reason", "feature-removed",
                               "--rationale", "billing moved to the portal", "--dry-run"});
  CHECK(r.out == "would retire 3 cases (feature-removed):\n"
                 "  promo-code     INC-9\n"
                 "  refund-late    INC-7\n"
                 "  refund-window  INC-7\n"
                 "INC-7 would be left with no active guarding case\n"
                 "INC-9 would be left with no active guarding case\n"
                 "nothing was changed (dry run)\n");
  CHECK(file_hash(repo.suite()) == before);
  CHECK(parse_json(must_succeed(repo, {"log", "--json"}).out).size() == 6);

  auto incident = must_succeed(repo, {"retire", "--incident", "INC-7", "--tag", "billing",
                                      "--reason", "duplicate", "--rationale", "x", "--dry-run"});
  CHECK_THAT(incident.out, Catch::StartsWith("would retire 2 cases (duplicate):\n"
                                             "  refund-late    INC-7\n"
                                             "  refund-window  INC-7\n"));
  auto none = must_fail(
      repo, 2,
      {"retire", "--tag", "no-such-tag", "--reason", "duplicate", "--rationale", "x", "--dry-run"});
  CHECK_THAT(none.err, Catch::Contains("no live case has tag no-such-tag"));
  auto unnamed = must_fail(repo, 2, {"retire", "--reason", "duplicate", "--rationale", "x"});
  CHECK_THAT(unnamed.err, Catch::Contains("name the cases to retire"));
}

TEST_CASE("retire --from reads ids from a file or stdin, with comments", "[e2e][decision]") {
  Repo repo;
  seed_more(repo);
  write_file(repo.path() / "stale.txt", "# stale cases, found in review\nrefund-late\n\n"
                                        "promo-code   # INC-9 is fixed upstream\n");
  must_succeed(
      repo, {"retire", "--from", "stale.txt", "--reason", "out-of-scope", "--rationale", "stale"});
  CHECK(status_of(repo, "refund-late") == "retired");
  CHECK(status_of(repo, "promo-code") == "retired");

  must_succeed(repo,
               {"retire", "--from", "-", "--reason", "out-of-scope", "--rationale", "stale",
                "--superseded-by", "refund-window"},
               "tone-apology\n");
  CHECK(status_of(repo, "tone-apology") == "retired");

  write_file(repo.path() / "bad.txt", "refund-window\nnot an id\n");
  auto bad = must_fail(
      repo, 2, {"retire", "--from", "bad.txt", "--reason", "out-of-scope", "--rationale", "stale"});
  CHECK_THAT(bad.err, Catch::Contains("bad.txt:2: 'not an id' is not a case id"));
  write_file(repo.path() / "empty.txt", "# nothing yet\n");
  CHECK_THAT(must_fail(repo, 2,
                       {"retire", "--from", "empty.txt", "--reason", "out-of-scope", "--rationale",
                        "stale"})
                 .err,
             Catch::Contains("names no case"));
  CHECK(status_of(repo, "refund-window") == "active");
}

TEST_CASE("retiring the last guard of an incident says so and may need an approver",
          "[e2e][decision]") {
  Repo repo;
  seed_more(repo);
  set_policy(repo, "require_approver_for_last_guard = true\n");
  // INC-7 keeps refund-window: no approver needed, nothing said.
  auto kept = must_succeed(repo, {"retire", "refund-late", "--reason", "duplicate", "--rationale",
                                  "same as refund-window"});
  CHECK_THAT(kept.out, !Catch::Contains("left with no active guarding case"));

  auto last = must_fail(repo, 1,
                        {"retire", "refund-window", "--reason", "out-of-scope", "--rationale",
                         "refunds moved to a human"});
  CHECK_THAT(last.err, Catch::Contains("last live case guarding an incident"));
  CHECK_THAT(last.err, Catch::Contains("INC-7 left with no active guarding case"));
  auto r = must_succeed(repo, {"retire", "refund-window", "--reason", "out-of-scope", "--rationale",
                               "refunds moved to a human", "--approved-by",
                               "Lee Okafor <lee@example.com>"});
  CHECK_THAT(r.out, Catch::Contains("INC-7 is left with no active guarding case\n"));
}

TEST_CASE("retire refuses a revisit date in the past and a successor retired with it",
          "[e2e][decision]") {
  Repo repo;
  seed_more(repo);
  std::vector<std::string> env{"EVALKEEP_NOW=2026-05-01T10:00:00Z"};
  auto past = must_fail(repo, 2,
                        {"retire", "refund-late", "--reason", "duplicate", "--rationale", "x",
                         "--revisit", "2026-04-30"},
                        {}, env);
  CHECK_THAT(past.err, Catch::Contains("--revisit 2026-04-30 is in the past (today is "
                                       "2026-05-01)"));
  auto superseded = must_fail(repo, 2,
                              {"retire", "refund-late", "refund-window", "--reason", "superseded",
                               "--superseded-by", "refund-window", "--rationale", "merged"});
  CHECK_THAT(superseded.err, Catch::Contains("--superseded-by refund-window: the case is retired "
                                             "by this same decision"));
  must_succeed(repo,
               {"retire", "refund-late", "--reason", "duplicate", "--rationale", "x", "--revisit",
                "2026-05-01"},
               {}, env);
}
