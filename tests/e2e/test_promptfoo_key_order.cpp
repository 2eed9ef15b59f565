// promptfoo configurations whose prompts depend on the order of an object's keys (loops over an
// object, dump of chat messages and nested objects, dictsort ties, groupby, vars merged from
// defaultTest), imported with the real binary: the stored prompts are those promptfoo renders
// (test_promptfoo_peer.cpp checks that against promptfoo itself where it is installed).

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

std::string config(const char* file) {
  return (std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/key-order" / file).string();
}

std::string prompt_of(Repo& repo, const std::string& id) {
  auto shown = parse_json(must_succeed(repo, {"show", id, "--json"}).out);
  return shown["prompt"].get<std::string>();
}

} // namespace

TEST_CASE("prompts that loop over or dump objects import with the keys in promptfoo's order",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("promptfooconfig.yaml")});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 6 cases"));
  CHECK(r.err.empty());

  // Array-index keys first, ascending ("01" is not one), then the others as written.
  CHECK(prompt_of(repo, "rubric-criteria-in-the-order-written") ==
        "Grade the answer on each criterion, in this order:\n- 1 (weight one)\n- 2 (weight two)\n"
        "- 10 (weight ten)\n- tone (weight 4)\n- accuracy (weight 5)\n- brevity (weight 3)\n"
        "- 01 (weight leading zero)\n"
        R"(As JSON: {"1":"one","2":"two","10":"ten","tone":4,"accuracy":5,"brevity":3,)"
        R"("01":"leading zero"})"
        "\nNames: 1, 2, 10, tone, accuracy, brevity, 01");

  // A list of messages is one var (not a case per message), dumped as JSON.stringify prints it.
  CHECK(prompt_of(repo, "transcript-dumped-as-json") ==
        "Continue this conversation, given as JSON:\n"
        R"([{"role":"system","content":"You answer refund questions for Example Co."},)"
        R"({"role":"user","content":"Can I return \"used\" shoes?\nThey are 31 days old — é ✓"},)"
        R"({"content":"Only if they are unworn.","role":"assistant"}])"
        "\nThe last message, indented:\n"
        "{\n  \"content\": \"Only if they are unworn.\",\n  \"role\": \"assistant\"\n}");

  // Vars from a JSON and a YAML test file; a YAML var file becomes JSON.stringify's text.
  const std::string preferences =
      R"({"5":"five","channel":"email","language":"en","quiet_hours":{"start":22,"end":7}})";
  CHECK(prompt_of(repo, "profile-from-a-json-test-file") ==
        R"(Customer: {"3":"third","name":"Ada Lovelace","plan":"pro","address":{"1":"Flat 1",)"
        R"("street":"12 Analytical Way","city":"London","zip":"N1"},"since":2021,"credit":12.5})"
        "\nAddress lines: 1=Flat 1; street=12 Analytical Way; city=London; zip=N1; \n"
        "Preferences: " +
            preferences + "\nPreferences again: " + preferences);
  CHECK(
      prompt_of(repo, "profile-from-a-yaml-test-file") ==
      R"(Customer: {"12":"twelve","name":"Bo Smith","plan":"free","address":{"0":"c/o Front desk",)"
      R"("2":"Suite 2","zip":"90210","street":"1 Main St"},"since":2024,"credit":0.1})"
      "\nAddress lines: 0=c/o Front desk; 2=Suite 2; zip=90210; street=1 Main St; \n"
      "Preferences: " +
          preferences + "\nPreferences again: " + preferences);

  // dictsort keeps the object's order for ties; urlencode, groupby and an object literal (its
  // repeated key keeping its first place) keep theirs.
  CHECK(prompt_of(repo, "votes-sorted-with-ties-and-grouped-by-floor") ==
        "By count: apple=1 Kiwi=1 pear=2 fig=2 date=3 \nBy name: apple date fig Kiwi pear \n"
        "Query: pear=2&apple=1&fig=2&Kiwi=1&date=3\n"
        "Floor 2: Cy. Floor 10: Ada, Di. Floor B: Bo. \n"
        R"(Windows: {"7":"repair","14":"exchange","refund":45,"gift":90})");

  // A JSON line's objects, and load's.
  CHECK(prompt_of(repo, "ticket-from-a-json-line") ==
        "Ticket T-1 fields: 42: answer; subject: Late order; priority: high; customer: Ada; \n"
        R"(Raw: {"9":3,"b":1,"a":2})");
}

TEST_CASE("defaultTest's vars come first when a test's vars expand into cases", "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("merge.yaml")});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 6 cases"));
  // {...defaultTest.vars, ...test.vars}: size (defaultTest's) is the outer loop, colour the inner.
  CHECK(prompt_of(repo, "sizes-before-colours-v1") ==
        "Offer a small red box by chat. Ticket none: {}");
  CHECK(prompt_of(repo, "sizes-before-colours-v2") ==
        "Offer a small blue box by chat. Ticket none: {}");
  CHECK(prompt_of(repo, "sizes-before-colours-v3") ==
        "Offer a large red box by chat. Ticket none: {}");
  CHECK(prompt_of(repo, "sizes-before-colours-v4") ==
        "Offer a large blue box by chat. Ticket none: {}");
  // A CSV row's JSON cell, read with load.
  CHECK(prompt_of(repo, "ticket-from-a-csv-row-v2") ==
        R"(Offer a large  box by email. Ticket T-2: {"3":[1,{"y":0,"x":1}],"zeta":1,"alpha":2})");
}
