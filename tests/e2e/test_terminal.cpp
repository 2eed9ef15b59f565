// Terminal output: evalkeep prints no escape codes, on a terminal or into a pipe, with NO_COLOR
// set or not, and a model's answer cannot smuggle one onto the user's terminal.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "paint it red", "answer": "\u001b[31mred\u001b[0m and \u001b]0;pwned\u0007 done"}
  ]
})";

// A suite of two cases, one of which fails on an answer full of escape codes, and the stand-in
// as provider "local".
struct Fixture {
  StandIn server{k_rules};
  Repo repo;
  Fixture() {
    must_succeed(repo, {"init", "-q"});
    must_succeed(repo, {"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    must_succeed(repo,
                 {"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
                  "--expect", "icontains:30 days", "--incident", "INC-7"});
    must_succeed(repo, {"add", "--id", "paint", "--prompt", "Paint it red", "--expect",
                        "equals:red", "--provenance", "spec:colours"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  }
};

bool has_escape(const std::string& text) {
  return text.find('\x1b') != std::string::npos;
}

} // namespace

TEST_CASE("on a terminal the progress line shows without an escape code, NO_COLOR or not",
          "[e2e][terminal]") {
  Fixture f;
  for (const auto& env : std::vector<std::vector<std::string>>{
           {"TERM=xterm-256color", "NO_COLOR=1"}, {"TERM=xterm-256color"}, {"TERM=dumb"}}) {
    // script(1) gives the command a pseudo-terminal for stdout and stderr, as a shell would.
    auto r = f.repo.run(
        {"script", "-qefc", std::string(EVALKEEP_BIN) + " run --provider local", "/dev/null"}, env);
    INFO(env.back() << "\nexit: " << r.exit_code << "\noutput: " << r.out << r.err);
    CHECK(r.exit_code == 1); // the paint case fails
    CHECK_THAT(r.out, Catch::Contains("[2/2] pass 1 fail 1 error 0"));
    CHECK_FALSE(has_escape(r.out));
    CHECK_THAT(r.out, Catch::Contains("answer: ^[[31mred^[[0m and ^[]0;pwned^G done"));
  }
}

TEST_CASE("piped output has no escape code, and no progress line", "[e2e][terminal]") {
  Fixture f;
  must_succeed(f.repo,
               {"retire", "paint", "--reason", "out-of-scope", "--rationale", "no colours"});
  must_succeed(f.repo, {"reinstate", "paint", "--rationale", "colours are back"});
  for (const auto& env : std::vector<std::vector<std::string>>{
           {"TERM=xterm-256color", "NO_COLOR=1"}, {"TERM=xterm-256color"}}) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"run", "--provider", "local"},
                                               {"run", "--provider", "local", "--json"},
                                               {"runs", "list"},
                                               {"runs", "show"},
                                               {"runs", "diff", "1", "2"},
                                               {"list"},
                                               {"show", "paint"},
                                               {"log"},
                                               {"verify"},
                                               {"why", "paint"},
                                               {"audit"},
                                               {"dump"},
                                               {"incident", "list"},
                                               {"--help"},
                                               {"run", "--help"},
                                               {"stauts"},
                                               {"run", "--provder", "local"}}) {
      auto r = f.repo.evalkeep(args, {}, env);
      INFO(command_line(args) << " with " << env.back() << "\nstdout: " << r.out
                              << "\nstderr: " << r.err);
      CHECK(r.exit_code <= 2);
      CHECK_FALSE(has_escape(r.out));
      CHECK_FALSE(has_escape(r.err));
      CHECK_THAT(r.err, !Catch::Contains("req/s"));
    }
  }
}

TEST_CASE("a suite's own text cannot drive the terminal either", "[e2e][terminal]") {
  Fixture f;
  // Titles, prompts, an incident and a rationale written with escape codes, a carriage return
  // and a C1 control (U+009B, an 8-bit CSI), as an import from elsewhere might carry them.
  must_succeed(f.repo, {"incident", "add", "INC-8", "--title", "Bell\a and \x1b]0;pwned\a"});
  must_succeed(f.repo, {"add", "--id", "sly", "--title",
                        "over\rwritten \xc2\x9b"
                        "2J",
                        "--prompt", "clear \x1b[2J the screen", "--expect", "contains:x",
                        "--incident", "INC-8"});
  must_succeed(f.repo, {"retire", "sly", "--reason", "out-of-scope", "--rationale",
                        "gone \x1b[8mhidden\x1b[0m"});
  for (const auto& args : std::vector<std::vector<std::string>>{{"list", "--status", "retired"},
                                                                {"show", "sly"},
                                                                {"log", "sly"},
                                                                {"why", "sly"},
                                                                {"audit"},
                                                                {"incident", "list"},
                                                                {"incident", "show", "INC-8"}}) {
    auto r = f.repo.evalkeep(args);
    INFO(command_line(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    for (const auto* text : {&r.out, &r.err}) {
      CHECK_FALSE(has_escape(*text));
      CHECK(text->find('\r') == std::string::npos);
      CHECK(text->find('\a') == std::string::npos);
      CHECK(text->find("\xc2\x9b") == std::string::npos);
    }
    CHECK_THAT(r.out, Catch::Contains("^[") || Catch::Contains("^G") || Catch::Contains("M-^["));
  }
  auto show = f.repo.evalkeep({"show", "sly"});
  CHECK_THAT(show.out, Catch::Contains("Title:      over^Mwritten M-^[2J"));
  CHECK_THAT(show.out, Catch::Contains("[user] clear ^[[2J the screen"));
  CHECK_THAT(show.out, Catch::Contains("gone ^[[8mhidden^[[0m"));
  // Data keeps the text exactly: JSON escapes it.
  auto json = parse_json(must_succeed(f.repo, {"show", "sly", "--json"}).out);
  CHECK(json["prompt"] == "clear \x1b[2J the screen");
}
