// Item 11: hostile JSONL. tests/e2e/test_import.cpp already covers invalid JSON (a truncated
// line), duplicate ids (in the file and against the suite), a byte-order mark, CRLF and a NUL
// byte. This adds what it does not: wrong types, other malformed JSON, 10,000-deep nesting and
// invalid UTF-8. Each is refused whole, naming FILE:LINE, with the suite's bytes unchanged.

#include "reliability/reliability.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

const std::string k_good_incident = R"({"type":"incident","id":"INC-1","title":"Leaked a code"})";
const std::string k_good_case =
    R"({"type":"case","id":"good","prompt":"Hello","expect":[{"type":"contains","value":"Hi"}],)"
    R"("incident":"INC-1"})";

// A case line with `field` set to the raw JSON `value` (replacing or adding it).
std::string case_with(const std::string& field, const std::string& value) {
  std::string prompt = field == "prompt" ? value : R"("Hello")";
  std::string expect = field == "expect" ? value : R"([{"type":"contains","value":"Hi"}])";
  std::string out = R"({"type":"case","id":)" + (field == "id" ? value : R"("bad")") +
                    R"(,"prompt":)" + prompt + R"(,"expect":)" + expect + R"(,"incident":"INC-1")";
  if (field != "id" && field != "prompt" && field != "expect")
    out += ",\"" + field + "\":" + value;
  return out + "}";
}

struct Hostile {
  std::string what;
  std::string line; // line 3 of the file, after an incident and a good case
  std::vector<std::string> mentions;
};

std::vector<Hostile> hostile_lines() {
  std::string deep_array = std::string(10000, '[') + std::string(10000, ']');
  std::string deep_object;
  for (int i = 0; i < 10000; ++i)
    deep_object += R"({"a":)";
  deep_object += "1" + std::string(10000, '}');
  return {
      // Wrong types.
      {"a number as the prompt", case_with("prompt", "42"), {"field \"prompt\""}},
      {"a string as expect", case_with("expect", R"("contains:Hi")"), {"field \"expect\""}},
      {"a number as the id", case_with("id", "7"), {"field \"id\""}},
      {"a string as tags", case_with("tags", R"("billing")"), {"field \"tags\""}},
      {"a number inside tags", case_with("tags", R"(["billing", 3])"), {"field \"tags"}},
      {"a string as trials", case_with("trials", R"("3")"), {"field \"trials\""}},
      {"a fraction as trials", case_with("trials", "2.5"), {"field \"trials\""}},
      {"a string as min_pass_rate",
       case_with("min_pass_rate", R"("high")"),
       {"field \"min_pass_rate\""}},
      {"a boolean as status", case_with("status", "true"), {"field \"status\""}},
      {"null as the incident", case_with("incident", "null"), {"field \"incident\""}},
      {"an object as provenance note",
       case_with("provenance", R"({"kind":"spec","note":{}})"),
       {"bad.jsonl:3:"}},
      {"a string as an assertion value where a number is needed",
       case_with("expect", R"([{"type":"min-length","value":"ten"}])"),
       {"field \"expect"}},
      {"a number as an incident title",
       R"({"type":"incident","id":"INC-2","title":12})",
       {"field \"title\""}},
      {"an array as the record", R"([{"type":"incident","id":"INC-2","title":"x"}])", {}},
      {"a number as the type", R"({"type":1,"id":"INC-2","title":"x"})", {"field \"type\""}},
      // Other malformed JSON.
      {"a trailing comma", R"({"type":"incident","id":"INC-2","title":"x",})", {}},
      {"single quotes", R"({'type':'incident','id':'INC-2','title':'x'})", {}},
      {"NaN", case_with("min_pass_rate", "NaN"), {}},
      {"two records on one line",
       R"({"type":"incident","id":"INC-2","title":"x"}{"type":"incident","id":"INC-3","title":"y"})",
       {}},
      {"a bare null", "null", {}},
      {"a key given twice",
       R"({"type":"incident","id":"INC-2","id":"INC-3","title":"x"})",
       {"field \"id\": given twice"}},
      {"a key given twice, once written with an escape",
       R"({"type":"incident","i\u0064":"INC-2","id":"INC-3","title":"x"})",
       {"field \"id\": given twice"}},
      {"a key given twice inside an assertion",
       case_with("expect", R"([{"type":"contains","value":"Hi","value":"Bye"}])"),
       {"field \"value\": given twice"}},
      // 10,000-deep nesting, as a field and as the whole line.
      {"10,000-deep arrays in expect", case_with("expect", deep_array), {}},
      {"10,000-deep objects in tags", case_with("tags", deep_object), {}},
      {"10,000-deep arrays as the line", deep_array, {}},
      {"10,000-deep objects as the line", deep_object, {}},
      // Invalid UTF-8, inside a string and outside one.
      {"a lone continuation byte", case_with("prompt", "\"a\x80z\""), {}},
      {"a truncated two-byte sequence", case_with("prompt", "\"a\xC3(\""), {}},
      {"an overlong encoding of '/'", case_with("prompt", "\"a\xC0\xAF\""), {}},
      {"an encoded surrogate", case_with("prompt", "\"a\xED\xA0\x80\""), {}},
      {"a code point above U+10FFFF", case_with("prompt", "\"a\xF4\x90\x80\x80\""), {}},
      {"a 0xFF byte", case_with("prompt", "\"a\xFFz\""), {}},
      {"a sequence cut by the end of the line", case_with("prompt", "\"a\xE2\x82"), {}},
      {"invalid UTF-8 in a key", "{\"type\":\"incident\",\"id\":\"INC-2\",\"ti\xFFle\":\"x\"}", {}},
      {"invalid UTF-8 outside a string", "\xFE{\"type\":\"incident\",\"id\":\"INC-2\"}", {}},
      {"an escaped lone surrogate", case_with("prompt", R"("a\ud800z")"), {}},
  };
}

} // namespace

TEST_CASE("hostile JSONL is refused whole, naming the line, with the suite's bytes unchanged",
          "[reliability][import]") {
  Repo repo;
  seed_suite(repo);
  const auto log_before = must_succeed(repo, {"log", "--json"}).out;
  int refused = 0;
  const auto lines = hostile_lines();
  for (const auto& h : lines) {
    INFO(h.what);
    write_file(repo.path() / "bad.jsonl",
               k_good_incident + "\n" + k_good_case + "\n" + h.line + "\n");
    auto r = must_fail(repo, 2, {"import", "bad.jsonl"}); // the suite's hash is unchanged
    CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: bad.jsonl:3:"));
    for (const auto& m : h.mentions)
      CHECK_THAT(r.err, Catch::Contains(m));
    // The good lines before the bad one did not get in either.
    CHECK(listed_cases(repo) == 2);
    CHECK(must_succeed(repo, {"log", "--json"}).out == log_before);
    refused += r.exit_code == 2;
  }
  must_succeed(repo, {"verify"});
  CHECK(refused == static_cast<int>(lines.size()));
  FIGURE("hostile import: " << refused << " of " << lines.size() << " hostile files refused whole");
}
