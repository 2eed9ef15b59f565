// Export: the JSONL interchange format round-trips byte for byte through a fresh suite.

#include "support/e2e.hpp"

#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

// Imports `exported` into a fresh repository and exports it again; the new suite must verify.
std::string through_fresh_suite(const std::string& exported) {
  Repo b;
  must_succeed(b, {"init"});
  must_succeed(b, {"import", "-"}, exported);
  must_succeed(b, {"verify"});
  return must_succeed(b, {"export"}).out;
}

std::map<std::string, int> record_types(const std::string& jsonl) {
  std::map<std::string, int> counts;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);)
    ++counts[parse_json(line)["type"].get<std::string>()];
  return counts;
}

} // namespace

TEST_CASE("the example suite exports, imports into a fresh suite and exports the same bytes",
          "[e2e][export]") {
  Repo a;
  must_succeed(a, {"init"});
  must_succeed(a, {"import", example_suite().string()});
  auto first = must_succeed(a, {"export"}).out;
  CHECK(record_types(first) ==
        std::map<std::string, int>{{"incident", 7}, {"case", 36}, {"retirement", 4}});
  CHECK(through_fresh_suite(first) == first);

  // -o writes the same bytes to a file, and nothing to stdout.
  auto to_file = must_succeed(a, {"export", "-o", "out.jsonl"});
  CHECK(to_file.out.empty());
  CHECK(read_file(a.path() / "out.jsonl") == first);

  // Exporting is a read: the suite file is untouched.
  auto before = file_hash(a.suite());
  must_succeed(a, {"export"});
  CHECK(file_hash(a.suite()) == before);
}

TEST_CASE("after edits, retirements, removals and a purge the export still round-trips",
          "[e2e][export]") {
  Repo a;
  must_succeed(a, {"init"});
  must_succeed(a, {"import", example_suite().string()});
  a.git({"add", "-A"});
  a.git({"commit", "-q", "-m", "suite"}); // decisions from now on record a git head
  seed_suite(a); // init again (a no-op), INC-7, refund-window and tone-apology
  must_succeed(a,
               {"add",
                "--id",
                "convo-case",
                "--messages-file",
                "-",
                "--expect",
                "is-json",
                "--expect",
                "json-path:/status=\"shipped\"",
                "--provenance",
                "red-team:prompt injection drill",
                "--tag",
                "zeta",
                "--tag",
                "alpha",
                "--min-pass-rate",
                "0.8",
                "--trials",
                "5",
                "--xfail"},
               R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Status?"}])");
  must_succeed(a, {"edit", "tone-apology", "--add-expect", "max-length:400", "--rationale",
                   "replies got long"});
  must_succeed(a, {"incident", "edit", "INC-7", "--severity", "critical", "--rationale",
                   "refunds were paid out"});
  must_succeed(a, {"retire", "refund-window", "--reason", "superseded", "--superseded-by",
                   "tone-apology", "--rationale", "covered by the tone case", "--approved-by",
                   "Lee Okafor <lee@example.com>", "--revisit", "2099-12-01"});
  must_succeed(a, {"rm", "refund-window", "--purge"});
  must_succeed(a, {"retire", "convo-case", "--reason", "flaky-unfixable", "--rationale",
                   "the judge disagrees with itself"});
  must_succeed(a, {"rm", "convo-case"});
  must_succeed(a, {"verify"});

  auto first = must_succeed(a, {"export"}).out;
  CHECK(record_types(first) ==
        std::map<std::string, int>{{"incident", 8}, {"case", 39}, {"retirement", 6}});
  CHECK_THAT(first, Catch::Contains(R"("status":"removed")"));
  CHECK_THAT(first, Catch::Contains(R"("content_hash":")")); // the purged tombstone
  CHECK_THAT(first, Catch::Contains(R"("git_head":")"));     // decided after the commit
  CHECK_THAT(first, Catch::Contains(R"("severity":"critical")"));
  // The purged case kept its id, status and hash, not its input.
  std::istringstream lines(first);
  bool found_tombstone = false;
  for (std::string line; std::getline(lines, line);) {
    auto record = parse_json(line);
    if (record["type"] != "case" || record["id"] != "refund-window")
      continue;
    found_tombstone = true;
    CHECK(record["status"] == "removed");
    CHECK_FALSE(record.contains("prompt"));
    CHECK_FALSE(record.contains("expect"));
    CHECK(record["content_hash"].get<std::string>().size() == 64);
  }
  CHECK(found_tombstone);
  CHECK(through_fresh_suite(first) == first);
}

TEST_CASE("an empty suite exports nothing", "[e2e][export]") {
  Repo repo;
  must_succeed(repo, {"init"});
  CHECK(must_succeed(repo, {"export"}).out.empty());
}
