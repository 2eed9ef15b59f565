// promptfoo configurations whose prompts use Nunjucks control flow and filters, or come from CSV
// files and globs, imported whole with the real binary; the rendered inputs are checked exactly.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

std::filesystem::path config(const char* name) {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo" / name /
         "promptfooconfig.yaml";
}

std::string prompt_of(Repo& repo, const std::string& id) {
  auto shown = parse_json(must_succeed(repo, {"show", id, "--json"}).out);
  return shown["prompt"].get<std::string>();
}

} // namespace

TEST_CASE("a prompt with if, for, set and filters imports whole, rendered as Nunjucks renders it",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r =
      must_succeed(repo, {"import", "--from", "promptfoo", config("nunjucks-control").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 2 cases"));
  CHECK(r.err.empty());
  CHECK(prompt_of(repo, "gold-two-lines") == "Hello Ada Lovelace (gold member).\n"
                                             "Order NW-7, total 129.5.\n"
                                             "1/2 LAMP-2 x1\n"
                                             "2/2 DESK-9 x2\n"
                                             "Note: Leave the parcel at...");
  CHECK(prompt_of(repo, "empty-cart") == "Hello Bo.\n"
                                         "Order NW-8, total 0.\n"
                                         "Your cart is empty.\n"
                                         "Note: none");
  auto gold = parse_json(must_succeed(repo, {"show", "gold-two-lines", "--json"}).out);
  CHECK(gold["expect"][0]["value"] == "NW-7");
  CHECK(gold["expect"][1]["value"] == "ADA LOVELACE owes");
  auto empty = parse_json(must_succeed(repo, {"show", "empty-cart", "--json"}).out);
  CHECK(empty["expect"][0]["value"] == "empty");
}

TEST_CASE("prompts from a labelled CSV, a one-column CSV and a glob each become a case",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("prompt-csv").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 6 cases"));
  CHECK(prompt_of(repo, "tides-simple") == "Explain tides simply, in one paragraph");
  CHECK(prompt_of(repo, "tides-prompt-2-write-a-haiku-about-topic") == "Write a haiku about tides");
  CHECK(prompt_of(repo, "tides-prompt-1-summarize-topic-for-a-child") ==
        "Summarize tides for a child");
  CHECK(prompt_of(repo, "tides-prompt-2-name-three-facts-about-topic") ==
        "Name three facts about tides");
  CHECK(prompt_of(repo, "tides-p5") == "Define tides.");
  CHECK(prompt_of(repo, "tides-p6") == "Give one example of TIDES.");
}

TEST_CASE("a prompt with a tag or filter evalkeep does not render is refused naming it and its "
          "place",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  write_file(repo.path() / "promptfooconfig.yaml",
             "prompts:\n"
             "  - \"{% include 'header.njk' %}{{ q }}\"\n"
             "  - \"{{ q | shout }}\"\n"
             "  - \"Items: {% for x in items %}{{ x }}{% endfor %}: {{ q }}\"\n"
             "tests:\n"
             "  - vars: {q: Hello, items: '[1]'}\n"
             "    assert: [{type: contains, value: Hello}]\n");
  auto refused = must_fail(repo, 2, {"import", "--from", "promptfoo", "promptfooconfig.yaml"});
  CHECK_THAT(refused.err, Catch::Contains("promptfooconfig.yaml:2: line 1: the template tag "
                                          "'{% include 'header.njk' %}' is not supported"));
  CHECK_THAT(refused.err, Catch::Contains("promptfooconfig.yaml:3: line 1: '{{ q | shout }}': the "
                                          "template filter 'shout'"));
  auto kept = repo.evalkeep(
      {"import", "--from", "promptfoo", "promptfooconfig.yaml", "--skip-unsupported"});
  CHECK(kept.exit_code == 0);
  CHECK_THAT(kept.err, Catch::StartsWith("evalkeep: warning: left out: promptfooconfig.yaml:6:"));
  CHECK_THAT(kept.out, Catch::Contains("imported 0 incidents, 1 case"));
  CHECK(prompt_of(repo, "promptfooconfig-1-p3") == "Items: [1]: Hello");
}
