// Import: the example suite comes in whole; a bad file is refused whole, with FILE:LINE and the
// field at fault, and leaves the suite file byte-for-byte unchanged.

#include "support/e2e.hpp"

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

const std::string k_incident =
    R"({"type":"incident","id":"INC-1","title":"Leaked a discount code","date":"2026-01-05"})";
const std::string k_case_incident =
    R"({"type":"case","id":"no-discount-leak","prompt":"Any discount codes?",)"
    R"("expect":[{"type":"not-contains","value":"SAVE20"}],"incident":"INC-1"})";
const std::string k_case_spec =
    R"({"type":"case","id":"polite-greeting","prompt":"Hello","expect":[{"type":"icontains",)"
    R"("value":"hello"}],"provenance":{"kind":"spec","note":"style guide 1.2"}})";
const std::string k_case_retired =
    R"({"type":"case","id":"old-greeting","prompt":"Hi","expect":[{"type":"contains",)"
    R"("value":"Hi"}],"provenance":{"kind":"spec","note":"style guide 1.0"},"status":"retired"})";
const std::string k_retirement =
    R"({"type":"retirement","case":"old-greeting","reason":"superseded","rationale":"replaced",)"
    R"("decided_by":"Dana Kim <dana@example.com>","decided_at":"2026-01-01T00:00:00Z",)"
    R"("superseded_by":["polite-greeting"]})";

std::string jsonl(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

struct BadFile {
  const char* what;
  std::string content;
  std::vector<std::string> mentions; // in the error message
};

std::vector<BadFile> bad_files() {
  using namespace std::string_literals;
  return {
      {"invalid JSON on line 3",
       jsonl({k_incident, k_case_incident, R"({"type":"case","id":"truncated",)"}),
       {"bad.jsonl:3:", "invalid JSON"}},
      {"an unknown field on a case",
       jsonl({k_incident,
              R"({"type":"case","id":"weighted","prompt":"Hi","expect":[{"type":"contains",)"
              R"("value":"Hi"}],"incident":"INC-1","weight":2})"}),
       {"bad.jsonl:2:", "field \"weight\"", "unknown field"}},
      {"an unknown incident reference",
       jsonl({k_incident,
              R"({"type":"case","id":"orphan","prompt":"Hi","expect":[{"type":"contains",)"
              R"("value":"Hi"}],"incident":"INC-404"})"}),
       {"bad.jsonl:2:", "field \"incident\"", "unknown incident INC-404"}},
      {"a duplicate case id on line 5",
       jsonl({k_incident, k_case_incident, k_case_spec,
              R"({"type":"case","id":"third","prompt":"Yo","expect":[{"type":"is-json"}],)"
              R"("provenance":{"kind":"exploratory","note":"poking"}})",
              k_case_incident}),
       {"bad.jsonl:5:", "field \"id\"", "duplicate case id no-discount-leak"}},
      {"a case id that already exists in the suite",
       jsonl({k_case_spec,
              R"({"type":"case","id":"refund-window","prompt":"Hi","expect":[{"type":)"
              R"("contains","value":"Hi"}],"provenance":{"kind":"spec","note":"x"}})"}),
       {"bad.jsonl:2:", "field \"id\"", "refund-window already exists"}},
      {"a retirement for an active case",
       jsonl({k_incident, k_case_incident, k_case_spec,
              R"({"type":"retirement","case":"polite-greeting","reason":"duplicate",)"
              R"("rationale":"dup","decided_by":"Dana Kim <dana@example.com>",)"
              R"("decided_at":"2026-01-01T00:00:00Z"})"}),
       {"bad.jsonl:4:", "field \"case\"", "status is active"}},
      {"a retirement for a case that is not in the file",
       jsonl({k_case_spec, R"({"type":"retirement","case":"refund-window","reason":"duplicate",)"
                           R"("rationale":"dup","decided_by":"Dana Kim <dana@example.com>",)"
                           R"("decided_at":"2026-01-01T00:00:00Z"})"}),
       {"bad.jsonl:2:", "field \"case\"", "refund-window"}},
      {"a retired case without a retirement record",
       jsonl({k_incident, k_case_incident, k_case_spec, k_case_retired}),
       {"bad.jsonl:4:", "field \"status\"", "old-greeting", "no retirement decision"}},
      {"an unknown assertion type in expect[1]",
       jsonl({k_incident, k_case_incident,
              R"({"type":"case","id":"two-checks","prompt":"Hi","expect":[{"type":"contains",)"
              R"("value":"Hi"},{"type":"sounds-polite","value":"yes"}],"incident":"INC-1"})"}),
       {"bad.jsonl:3:", "field \"expect[1]\"", "unknown assertion type 'sounds-polite'"}},
      {"a retirement with an unknown reason",
       jsonl(
           {k_case_spec, k_case_retired,
            R"({"type":"retirement","case":"old-greeting","reason":"cleanup","rationale":"x",)"
            R"("decided_by":"Dana Kim <dana@example.com>","decided_at":"2026-01-01T00:00:00Z"})"}),
       {"bad.jsonl:3:", "field \"reason\"", "cleanup"}},
      {"a record of an unknown type",
       jsonl({k_incident, R"({"type":"suite","id":"x"})"}),
       {"bad.jsonl:2:", "field \"type\"", "'suite'"}},
      {"a CRLF line ending on line 2",
       k_incident + "\n" + k_case_incident + "\r\n" + k_case_spec + "\n",
       {"bad.jsonl:2:", "CRLF"}},
      {"a byte-order mark",
       "\xEF\xBB\xBF" + jsonl({k_incident, k_case_incident}),
       {"bad.jsonl:1:", "byte-order mark"}},
      {"a NUL byte on line 3",
       jsonl({k_incident, k_case_incident}) + R"({"type":"case","id":"nul","prompt":"a)"s + '\0' +
           R"(b","expect":[{"type":"contains","value":"a"}],"incident":"INC-1"})" + "\n",
       {"bad.jsonl:3:", "NUL byte"}},
  };
}

} // namespace

TEST_CASE("the example suite imports whole and verifies", "[e2e][import]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", example_suite().string()});
  CHECK_THAT(r.out, Catch::Contains("imported 7 incidents, 36 cases, 4 retirement decisions from"));
  CHECK(listed_cases(repo) == 36);
  CHECK(parse_json(must_succeed(repo, {"incident", "list", "--json"}).out).size() == 7);
  auto retired = parse_json(must_succeed(repo, {"list", "--status", "retired", "--json"}).out);
  CHECK(retired.size() == 4);
  auto xfail = parse_json(must_succeed(repo, {"list", "--status", "xfail", "--json"}).out);
  CHECK(xfail.size() == 2);

  auto log = parse_json(must_succeed(repo, {"log", "--json"}).out);
  CHECK(log.size() == 43); // an event per incident and per case
  CHECK(log[0]["action"] == "import");
  CHECK_THAT(log[0]["rationale"].get<std::string>(), Catch::StartsWith("imported from "));

  auto verified = parse_json(must_succeed(repo, {"verify", "--json"}).out);
  CHECK(verified["ok"] == true);
  CHECK(verified["cases"] == 36);
  CHECK(verified["incidents"] == 7);
  CHECK(verified["events"] == 43);
}

TEST_CASE("import --dry-run checks everything and writes nothing", "[e2e][import]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto before = file_hash(repo.suite());
  auto r = must_succeed(repo, {"import", example_suite().string(), "--dry-run"});
  CHECK_THAT(r.out,
             Catch::Contains("would import 7 incidents, 36 cases, 4 retirement decisions from"));
  CHECK(file_hash(repo.suite()) == before);
  CHECK(listed_cases(repo) == 0);

  // A dry run of a bad file fails the same way a real import does.
  write_file(repo.path() / "bad.jsonl", jsonl({k_incident, k_case_spec, k_case_retired}));
  auto bad = must_fail(repo, 2, {"import", "bad.jsonl", "--dry-run"});
  CHECK_THAT(bad.err, Catch::Contains("bad.jsonl:3:"));
}

TEST_CASE("a malformed JSONL file is refused whole, naming the line and the field",
          "[e2e][import]") {
  for (const auto& bad : bad_files()) {
    DYNAMIC_SECTION(bad.what) {
      Repo repo;
      seed_suite(repo);
      write_file(repo.path() / "bad.jsonl", bad.content);
      auto r = must_fail(repo, 2, {"import", "bad.jsonl"});
      for (const auto& m : bad.mentions)
        CHECK_THAT(r.err, Catch::Contains(m));
      // Nothing from the good lines before the bad one got in.
      CHECK(listed_cases(repo) == 2);
      CHECK(parse_json(must_succeed(repo, {"incident", "list", "--json"}).out).size() == 1);
      CHECK(parse_json(must_succeed(repo, {"log", "--json"}).out).size() == 3);
    }
  }
}

TEST_CASE("a valid small file imports, from a path or from stdin", "[e2e][import]") {
  Repo repo;
  seed_suite(repo);
  auto text = jsonl({k_incident, k_case_incident, k_case_spec, k_case_retired, k_retirement});
  auto r = must_succeed(repo, {"import", "-"}, text);
  CHECK_THAT(r.out, Catch::Contains("imported 1 incident, 3 cases, 1 retirement decision from "
                                    "<stdin>"));
  auto shown = parse_json(must_succeed(repo, {"show", "old-greeting", "--json"}).out);
  CHECK(shown["status"] == "retired");
  CHECK(shown["retirement"]["superseded_by"] == nlohmann::json::array({"polite-greeting"}));
  // Imported cases are protected like any other.
  must_fail(repo, 1, {"rm", "no-discount-leak"});
  must_succeed(repo, {"rm", "old-greeting"});
  must_succeed(repo, {"verify"});
}

TEST_CASE("a bad line read from stdin is reported as <stdin>:LINE", "[e2e][import]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, {"import", "-"}, jsonl({k_incident, "not json"}));
  CHECK_THAT(r.err, Catch::Contains("<stdin>:2:"));
}

TEST_CASE("importing the same file twice fails the second time and changes nothing",
          "[e2e][import]") {
  Repo repo;
  must_succeed(repo, {"init"});
  must_succeed(repo, {"import", example_suite().string()});
  auto r = must_fail(repo, 2, {"import", example_suite().string()});
  CHECK_THAT(r.err, Catch::Contains("already exists in the suite"));
  CHECK_THAT(r.err, Catch::Contains("example-suite.jsonl:1:"));
  CHECK(listed_cases(repo) == 36);

  // The same with only the cases: the duplicate case ids are named.
  std::string cases_only;
  std::istringstream in(read_file(example_suite()));
  for (std::string line; std::getline(in, line);)
    if (line.find(R"("type":"case")") != std::string::npos)
      cases_only += line + "\n";
  write_file(repo.path() / "cases.jsonl", cases_only);
  auto again = must_fail(repo, 2, {"import", "cases.jsonl"});
  CHECK_THAT(again.err, Catch::Contains("cases.jsonl:1: field \"id\": case"));
  CHECK_THAT(again.err, Catch::Contains("already exists in the suite"));
}

TEST_CASE("import of a file that does not exist is an input error", "[e2e][import]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_fail(repo, 2, {"import", "nowhere.jsonl"});
  CHECK_THAT(r.err, Catch::Contains("cannot read 'nowhere.jsonl'"));
}
