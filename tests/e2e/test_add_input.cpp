// Bad input to `add` and `incident add`: a clear message on stderr, a non-zero exit, nothing on
// stdout, and the suite file exactly as it was.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

// A well-formed add, to be spoiled one flag at a time.
std::vector<std::string> add_args(std::vector<std::string> extra) {
  std::vector<std::string> args{"add", "--id", "late-delivery", "--prompt", "Where is my parcel?"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

} // namespace

TEST_CASE("add with an unknown incident is refused with a hint to record it", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, add_args({"--expect", "contains:tracking", "--incident", "INC-99"}));
  CHECK_THAT(r.err, Catch::Contains("unknown incident INC-99"));
  CHECK_THAT(r.err, Catch::Contains("hint: "));
  CHECK_THAT(r.err, Catch::Contains("evalkeep incident add INC-99"));
  CHECK(listed_cases(repo) == 2);
}

TEST_CASE("add with an id that already exists is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2,
                     {"add", "--id", "refund-window", "--prompt", "Another prompt", "--expect",
                      "contains:x", "--provenance", "exploratory:poking around"});
  CHECK_THAT(r.err, Catch::Contains("refund-window"));
  CHECK_THAT(r.err, Catch::Contains("already exists"));
  auto shown = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(shown["prompt"] == "Can I get a refund after 45 days?");
}

TEST_CASE("add with an id reused from a removed case is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"});
  must_succeed(repo, {"rm", "tone-apology", "--purge"});
  auto r = must_fail(repo, 2,
                     {"add", "--id", "tone-apology", "--prompt", "Reused", "--expect", "contains:x",
                      "--provenance", "spec:style guide 3"});
  CHECK_THAT(r.err, Catch::Contains("already exists"));
}

TEST_CASE("add with an unknown assertion type names it and lists the known types",
          "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, add_args({"--expect", "sounds-polite:yes", "--incident", "INC-7"}));
  CHECK_THAT(r.err, Catch::Contains("unknown assertion type 'sounds-polite'"));
  for (const char* known : {"contains", "icontains", "not-contains", "regex", "is-json",
                            "json-path", "number-close", "judge"})
    CHECK_THAT(r.err, Catch::Contains(known));
}

TEST_CASE("add with an invalid regex is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, add_args({"--expect", "regex:(unclosed", "--incident", "INC-7"}));
  CHECK_THAT(r.err, Catch::Contains("invalid regex"));
  CHECK_THAT(r.err, Catch::Contains("(unclosed"));
}

TEST_CASE("add with a malformed assertion value is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  CHECK_THAT(must_fail(repo, 2, add_args({"--expect", "contains", "--incident", "INC-7"})).err,
             Catch::Contains("needs a value"));
  CHECK_THAT(
      must_fail(repo, 2, add_args({"--expect", "max-length:many", "--incident", "INC-7"})).err,
      Catch::Contains("needs a number"));
  CHECK_THAT(
      must_fail(repo, 2, add_args({"--expect", "json-path:status", "--incident", "INC-7"})).err,
      Catch::Contains("json-path"));
}

TEST_CASE("add without a provenance asks where the case came from", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, add_args({"--expect", "contains:tracking"}));
  CHECK_THAT(r.err, Catch::Contains("provenance"));
  CHECK_THAT(r.err, Catch::Contains("--incident"));
}

TEST_CASE("add with both --incident and --provenance is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2,
                     add_args({"--expect", "contains:tracking", "--incident", "INC-7",
                               "--provenance", "spec:shipping policy"}));
  CHECK_THAT(r.err, Catch::Contains("not both"));
}

TEST_CASE("add with a provenance of the wrong form is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  CHECK_THAT(
      must_fail(repo, 2, add_args({"--expect", "contains:x", "--provenance", "rumour:heard it"}))
          .err,
      Catch::Contains("spec, red-team, exploratory or imported"));
  CHECK_THAT(must_fail(repo, 2, add_args({"--expect", "contains:x", "--provenance", "spec"})).err,
             Catch::Contains("needs a note"));
}

TEST_CASE("add without --expect asks for an assertion", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, add_args({"--incident", "INC-7"}));
  CHECK_THAT(r.err, Catch::Contains("assertion"));
  CHECK_THAT(r.err, Catch::Contains("--expect"));
}

TEST_CASE("add without any input asks for a prompt", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2,
                     {"add", "--id", "no-input", "--expect", "contains:x", "--incident", "INC-7"});
  CHECK_THAT(r.err, Catch::Contains("--prompt"));
}

TEST_CASE("add with an invalid id is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  for (const char* id : {"bad id!", "_leading-underscore", "a/b"}) {
    auto r = must_fail(
        repo, 2,
        {"add", "--id", id, "--prompt", "Hi", "--expect", "contains:x", "--incident", "INC-7"});
    CHECK_THAT(r.err, Catch::Contains(id));
    CHECK_THAT(r.err, Catch::Contains("not a valid case id"));
  }
  CHECK(listed_cases(repo) == 2);
}

TEST_CASE("add with an empty --id (an unset variable) is refused, not given a generated id",
          "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(
      repo, 2,
      {"add", "--id", "", "--prompt", "Hi", "--expect", "contains:x", "--incident", "INC-7"});
  CHECK_THAT(r.err, Catch::Contains("--id"));
  CHECK_THAT(r.err, Catch::Contains("empty"));
  CHECK(listed_cases(repo) == 2);
}

TEST_CASE("add with a bad messages file is refused", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  write_file(repo.path() / "convo.json", R"([{"role":"user"}])");
  CHECK_THAT(must_fail(repo, 2,
                       {"add", "--id", "convo", "--messages-file", "convo.json", "--expect",
                        "contains:x", "--incident", "INC-7"})
                 .err,
             Catch::Contains("--messages-file convo.json: messages[0]: field \"content\": "
                             "required"));
  CHECK_THAT(must_fail(repo, 2,
                       {"add", "--id", "convo", "--messages-file", "missing.json", "--expect",
                        "contains:x", "--incident", "INC-7"})
                 .err,
             Catch::Contains("missing.json"));
}

TEST_CASE("add reads a prompt from stdin and prints the generated id", "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_succeed(
      repo, {"add", "--prompt-file", "-", "--expect", "contains:x", "--incident", "INC-7"},
      "What is the return window?\n\n");
  std::string id = r.out.substr(0, r.out.find('\n'));
  CHECK(r.out == id + "\n");
  CHECK(id.size() == 17);
  auto shown = parse_json(must_succeed(repo, {"show", id, "--json"}).out);
  CHECK(shown["prompt"] == "What is the return window?");
}

TEST_CASE("incident add refuses an impossible date, a bad severity and a duplicate id",
          "[e2e][add-input]") {
  Repo repo;
  seed_suite(repo);
  auto date = must_fail(
      repo, 2, {"incident", "add", "INC-8", "--title", "Wrong date", "--date", "2026-02-30"});
  CHECK_THAT(date.err, Catch::Contains("2026-02-30"));
  CHECK_THAT(date.err, Catch::Contains("not a date"));

  auto severity = must_fail(
      repo, 2,
      {"incident", "add", "INC-8", "--title", "Bad severity", "--severity", "apocalyptic"});
  CHECK_THAT(severity.err, Catch::Contains("apocalyptic"));

  auto dup = must_fail(repo, 2, {"incident", "add", "INC-7", "--title", "Again"});
  CHECK_THAT(dup.err, Catch::Contains("INC-7"));

  must_fail(repo, 2, {"incident", "add", "INC-8"}); // --title is required
  auto incidents = parse_json(must_succeed(repo, {"incident", "list", "--json"}).out);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0]["id"] == "INC-7");
  CHECK(incidents[0]["title"] == "Refund promised outside policy");
}

TEST_CASE("add, edit and import refuse a case of more than 1,000 assertions and change nothing",
          "[e2e][add-input][limits]") {
  Repo repo;
  seed_suite(repo);
  std::vector<std::string> args = add_args({"--incident", "INC-7"});
  for (int i = 0; i < 1000; ++i)
    args.insert(args.end(), {"--expect", fmt::format("not-contains:word{}", i)});
  must_succeed(repo, args);

  auto edited = must_fail(repo, 2,
                          {"edit", "late-delivery", "--add-expect", "contains:parcel",
                           "--rationale", "one more check"});
  CHECK_THAT(edited.err, Catch::Contains("case late-delivery: field \"expect\": 1001 assertions, "
                                         "more than the 1000 a case may hold"));

  args[2] = "late-delivery-2";
  args.insert(args.end(), {"--expect", "contains:parcel"});
  auto added = must_fail(repo, 2, args);
  CHECK_THAT(added.err, Catch::Contains("field \"expect\": 1001 assertions"));

  nlohmann::json expect = nlohmann::json::array();
  for (int i = 0; i < 1001; ++i)
    expect.push_back({{"type", "contains"}, {"value", fmt::format("w{}", i)}});
  write_file(repo.path() / "many.jsonl",
             nlohmann::json{{"type", "case"},
                            {"id", "imported"},
                            {"prompt", "Hello"},
                            {"expect", expect},
                            {"provenance", {{"kind", "spec"}, {"note", "limits"}}}}
                     .dump() +
                 "\n");
  auto imported = must_fail(repo, 2, {"import", "many.jsonl"});
  CHECK_THAT(imported.err, Catch::Contains("case imported: field \"expect\": 1001 assertions"));
}
