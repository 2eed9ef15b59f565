// Help and usage errors: every command explains itself with an example; bad flags are usage
// errors on stderr.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

const std::vector<std::vector<std::string>> k_commands = {{"init"},
                                                          {"incident", "add"},
                                                          {"incident", "list"},
                                                          {"incident", "show"},
                                                          {"incident", "edit"},
                                                          {"add"},
                                                          {"list"},
                                                          {"show"},
                                                          {"edit"},
                                                          {"retire"},
                                                          {"rm"},
                                                          {"reinstate"},
                                                          {"import"},
                                                          {"export"},
                                                          {"log"},
                                                          {"verify"},
                                                          {"run"},
                                                          {"runs", "list"},
                                                          {"runs", "show"},
                                                          {"runs", "diff"},
                                                          {"runs", "merge"},
                                                          {"cache", "export"},
                                                          {"cache", "import"},
                                                          {"dump"},
                                                          {"gate"},
                                                          {"why"},
                                                          {"audit"}};

} // namespace

TEST_CASE("evalkeep --help lists every command and the exit codes", "[e2e][help]") {
  Repo repo;
  auto r = must_succeed(repo, {"--help"});
  for (const char* name :
       {"init", "incident", "add", "list", "show", "edit", "retire", "rm", "run", "runs", "cache",
        "dump", "gate", "reinstate", "import", "export", "log", "verify"})
    CHECK_THAT(r.out, Catch::Contains(std::string("  ") + name + " "));
  CHECK_THAT(r.out, Catch::Contains("Exit codes"));
  CHECK_THAT(r.out, Catch::Contains("--suite"));

  auto incident = must_succeed(repo, {"incident", "--help"});
  for (const char* name : {"add", "list", "show", "edit"})
    CHECK_THAT(incident.out, Catch::Contains(std::string("  ") + name + " "));
  CHECK_FALSE(std::filesystem::exists(repo.suite()));
}

TEST_CASE("every command's --help shows an example", "[e2e][help]") {
  Repo repo;
  for (auto args : k_commands) {
    auto name = command_line(args);
    args.push_back("--help");
    DYNAMIC_SECTION(name) {
      auto r = must_succeed(repo, args);
      CHECK_THAT(r.out, Catch::Contains("Example"));
      CHECK_THAT(r.out, Catch::Contains(name));
    }
  }
  CHECK_FALSE(std::filesystem::exists(repo.suite()));
}

TEST_CASE("evalkeep --version prints the version", "[e2e][help]") {
  Repo repo;
  CHECK(must_succeed(repo, {"--version"}).out == "evalkeep 0.1.0\n");
  CHECK_THAT(must_succeed(repo, {"-q", "--version"}).out, Catch::Contains("evalkeep 0.1.0"));
}

TEST_CASE("an unknown flag or command is a usage error pointing at the right help", "[e2e][help]") {
  Repo repo;
  seed_suite(repo);
  struct Misuse {
    std::vector<std::string> args;
    std::string help; // the command whose help the hint names
  };
  for (const auto& [args, help] :
       std::vector<Misuse>{{{"--frobnicate"}, "evalkeep"},
                           {{"frobnicate"}, "evalkeep"},
                           {{}, "evalkeep"},
                           {{"list", "--frobnicate"}, "evalkeep list"},
                           {{"rm", "refund-window", "--force"}, "evalkeep rm"},
                           {{"incident"}, "evalkeep incident"},
                           {{"incident", "add", "INC-8"}, "evalkeep incident add"},
                           {{"show"}, "evalkeep show"},
                           {{"add", "--id", "x", "--prompt", "p", "--expect", "contains:x",
                             "--incident", "INC-7", "--trials", "0"},
                            "evalkeep add"}}) {
    auto r = must_fail(repo, 2, args);
    CHECK_THAT(r.err, Catch::Contains("hint: see '" + help + " --help'"));
  }
  CHECK(listed_cases(repo) == 2);
}
