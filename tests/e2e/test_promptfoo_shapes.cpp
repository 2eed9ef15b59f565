// promptfoo configurations in the shapes teams write them (providers as a map, run and sharing
// settings, anchors and merge keys, thresholds, assert-sets, grading prompts, list filters),
// imported with the real binary; the cases' ids, inputs and assertions are checked.

#include "support/e2e.hpp"

#include <algorithm>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;

namespace {

std::filesystem::path config(const char* dir, const char* file = "promptfooconfig.yaml") {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo" / dir / file;
}

nlohmann::json shown(Repo& repo, const std::string& id) {
  return parse_json(must_succeed(repo, {"show", id, "--json"}).out);
}

} // namespace

TEST_CASE("run, output, sharing and provider settings change nothing and the cases import whole",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = repo.evalkeep({"import", "--from", "promptfoo", config("config-shapes").string()});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 4 cases"));
  // The grading provider (defaultTest's options.provider) is reported, once, and not kept.
  CHECK_THAT(r.err,
             Catch::StartsWith("evalkeep: warning: ") &&
                 Catch::Contains("yaml:54: grading provider openai:chat:gpt-4o is not kept"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  auto chat = shown(repo, "password-reset-can-i-do-it-myself-chat");
  CHECK(chat["system"] == "You are the helpdesk of Example Co. The customer is on the pro plan.");
  CHECK(chat["prompt"] == "How do I reset my password?");
  CHECK(chat["title"] == "Password reset — can I do it myself?");
  // defaultTest's assertion first, then the test's; metric and weight change nothing checked.
  CHECK(chat["expect"] == nlohmann::json::parse(R"([
    {"type": "not-icontains", "value": "as an ai language model"},
    {"type": "icontains", "value": "reset"}])"));
  auto plain = shown(repo, "refund-window-plain");
  // The '?' inside a flow mapping of the test file is part of the question.
  CHECK(plain["prompt"] == "Ticket from Bo (free): Can I get a refund after 40 days?");
  CHECK(plain["tags"] == nlohmann::json({"billing", "refunds"}));
  CHECK(plain["expect"][1] ==
        nlohmann::json::parse(R"({"type": "contains-any", "values": ["30 days", "thirty days"]})"));
}

TEST_CASE("anchors, aliases, merge keys, comments and unicode read as promptfoo reads them",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("yaml-features").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 3 cases"));
  auto pedido = shown(repo, "d-nde-est-mi-pedido");
  CHECK(pedido["prompt"] == "Responde en español, tono formal: ¿Dónde está mi pedido? 🙂");
  CHECK(pedido["expect"] ==
        nlohmann::json::parse(R"([{"type": "not-icontains", "value": "idiot"}])"));
  // The merged mapping's own assert replaces the anchor's.
  auto cancel = shown(repo, "cancel-an-order");
  CHECK(cancel["prompt"] == "Responde en English, tono friendly: Can I cancel? 🙂");
  CHECK(cancel["expect"] == nlohmann::json::parse(R"([{"type": "icontains", "value": "cancel"}])"));
  auto listed = parse_json(must_succeed(repo, {"list", "--json"}).out);
  REQUIRE(listed.size() == 3);
  bool japanese = false;
  for (const auto& c : listed)
    if (shown(repo, c["id"].get<std::string>())["prompt"] ==
        "Responde en 日本語, tono polite: 注文はいつ届きますか? 🙂")
      japanese = true;
  CHECK(japanese);
}

TEST_CASE("a threshold or assert-set that passes only when all pass, and an unused grading "
          "prompt, import whole",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("thresholds").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 0 incidents, 3 cases"));
  CHECK(shown(repo, "paris-landmarks")["expect"] == nlohmann::json::parse(R"([
    {"type": "icontains", "value": "eiffel"},
    {"type": "icontains", "value": "louvre"},
    {"type": "contains", "value": "Paris"}])"));
  CHECK(shown(repo, "rome-weighted")["expect"] == nlohmann::json::parse(R"([
    {"type": "icontains", "value": "colosseum"},
    {"type": "not-icontains", "value": "sorry"}])"));
  CHECK(shown(repo, "oslo-a-set-with-its-own-threshold")["expect"] == nlohmann::json::parse(R"j([
    {"type": "icontains", "value": "fjord"},
    {"type": "regex", "value": "(?i)norw(ay|egian)"}])j"));
}

TEST_CASE("a threshold, assert-set or grading prompt that changes the verdict is refused naming "
          "it and its line, --skip-unsupported keeps the rest",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto file = config("thresholds", "refused.yaml").string();
  auto refused = must_fail(repo, 2, {"import", "--from", "promptfoo", file});
  CHECK_THAT(refused.err,
             Catch::Contains("refused.yaml:11: test \"half is enough\": a pass threshold over "
                             "weighted assertions is not supported (with a threshold of 0.5 the "
                             "test passes with an assertion failing)"));
  CHECK_THAT(refused.err, Catch::Contains("refused.yaml:18: test \"a set that one passing "
                                          "assertion satisfies\": assert \"assert-set\": with a "
                                          "threshold of 0.5"));
  CHECK_THAT(refused.err,
             Catch::Contains("refused.yaml:26: test \"graded with its own prompt\": "
                             "options.rubricPrompt replaces the grading prompt of \"llm-rubric\""));
  CHECK_THAT(refused.err, Catch::Contains("refused.yaml:31: test \"a threshold over a graded "
                                          "score\": a pass threshold over weighted assertions is "
                                          "not supported (\"javascript\" scores between 0 and 1"));
  CHECK(listed_cases(repo) == 0);
  auto kept =
      evalkeep_in(repo.path(), {"import", "--from", "promptfoo", "--skip-unsupported", file});
  CHECK(kept.exit_code == 0);
  CHECK_THAT(kept.out, Catch::Contains("imported 0 incidents, 1 case"));
  CHECK_THAT(kept.err, Catch::Contains("left out: ") && Catch::Contains("refused.yaml:31: "));
  CHECK(shown(repo, "kept")["prompt"] == "Describe Lima.");
}

TEST_CASE("groupby, slice, select, reject, selectattr and rejectattr render as nunjucks does",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  must_succeed(repo, {"import", "--from", "promptfoo", config("nunjucks-lists").string()});
  CHECK(shown(repo, "grocery-list")["prompt"] == "Fruit: apple pear \n"
                                                 "Rows: [applecarrot][pear]\n"
                                                 "Ripe: 1, unripe: 2\n"
                                                 "Odd: 1,3,5; even: 2,4\n");
}

TEST_CASE("hostile or mistyped configurations are refused with their place, never run without "
          "end",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  // Six vars of ten texts each: a million cases from one test.
  std::string vars;
  for (char v = 'a'; v <= 'f'; ++v)
    vars += fmt::format("{}{}: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9]", v == 'a' ? "" : ", ", v);
  write_file(repo.path() / "many.yaml", "prompts: ['{{a}}{{b}}']\ntests:\n  - vars: {" + vars +
                                            "}\n    assert: [{type: contains, value: x}]\n");
  auto many = must_fail(repo, 2, {"import", "--from", "promptfoo", "many.yaml"});
  CHECK_THAT(many.err, Catch::Contains("many.yaml:3: test 1: its array vars and prompts make more "
                                       "than 10000 cases"));
  write_file(repo.path() / "typed.yaml", "prompts: [x]\ntests:\n  - options: {prefix: 5}\n"
                                         "    assert: [{type: contains, value: x}]\n");
  auto typed = must_fail(repo, 2, {"import", "--from", "promptfoo", "typed.yaml"});
  CHECK_THAT(typed.err, Catch::Contains("typed.yaml:3: options.prefix must be text"));
  write_file(repo.path() / "flag.yaml", "prompts: [x]\ntests:\n"
                                        "  - options: {disableVarExpansion: 'yes'}\n"
                                        "    assert: [{type: contains, value: x}]\n");
  auto flag = must_fail(repo, 2, {"import", "--from", "promptfoo", "flag.yaml"});
  CHECK_THAT(flag.err, Catch::Contains("options.disableVarExpansion must be true or false"));
  // promptfoo reads tests from files, not from a folder.
  std::filesystem::create_directories(repo.path() / "cases");
  write_file(repo.path() / "folder.yaml", "prompts: [x]\ntests: file://cases/\n");
  auto folder = must_fail(repo, 2, {"import", "--from", "promptfoo", "folder.yaml"});
  CHECK_THAT(folder.err,
             Catch::Contains("folder.yaml:2: '") && Catch::Contains("' is a folder, not a file"));
}
