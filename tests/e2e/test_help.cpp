// Help and usage errors: every command explains itself with an example; bad flags are usage
// errors on stderr.

#include "support/e2e.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

// An "Example:" or "Examples:" line, then an indented example that runs this very command.
bool has_example(const Help& h) {
  std::istringstream in(h.text);
  std::string want = "  " + command_line(h.path);
  bool examples = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Example") && line.ends_with(":"))
      examples = true;
    else if (examples && line.starts_with(want) &&
             (line.size() == want.size() || line[want.size()] == ' '))
      return true;
  }
  return false;
}

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

TEST_CASE("every command's --help ends with an example of that command", "[e2e][help]") {
  Repo repo;
  auto commands = walk_help(repo);
  std::set<std::string> found;
  for (const auto& h : commands)
    found.insert(joined(h.path));
  // The walk reaches the nested commands, and only the listed ones.
  for (const char* name : {"", "init", "incident add", "incident show", "runs list", "runs merge",
                           "cache import", "merge-driver", "gate", "report", "completion"})
    CHECK(found.count(name) == 1);
  CHECK(found.count("help-man") == 0);
  CHECK(found.count("help-markdown") == 0);
  CHECK(commands.size() >= 33);
  for (const auto& h : commands) {
    INFO(command_line(h.path) << " --help:\n" << h.text);
    CHECK(has_example(h));
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

TEST_CASE("a mistyped command or flag is named, with the nearest one as a hint", "[e2e][help]") {
  Repo repo;
  seed_suite(repo);
  struct Typo {
    std::vector<std::string> args;
    std::string error, hint;
  };
  for (const auto& [args, error, hint] : std::vector<Typo>{
           {{"verfy"}, "unknown command 'verfy'", "did you mean 'verify'?"},
           {{"-q", "lsit", "--json"}, "unknown command 'lsit'", "did you mean 'list'?"},
           {{"runs", "lst"}, "unknown command 'runs lst'", "did you mean 'runs list'?"},
           {{"incident", "ad", "INC-8", "--title", "x"},
            "unknown command 'incident ad'",
            "did you mean 'incident add'?"},
           {{"run", "--provder", "local"},
            "unknown option '--provder' for 'evalkeep run'",
            "did you mean '--provider'?"},
           {{"run", "--provder=local"},
            "unknown option '--provder' for 'evalkeep run'",
            "did you mean '--provider'?"},
           {{"list", "--jsno"},
            "unknown option '--jsno' for 'evalkeep list'",
            "did you mean '--json'?"},
           {{"runs", "diff", "1", "2", "--jsn"},
            "unknown option '--jsn' for 'evalkeep runs diff'",
            "did you mean '--json'?"},
           // A global flag typed after a command is still one of its flags.
           {{"list", "--sutie", "other.db"},
            "unknown option '--sutie' for 'evalkeep list'",
            "did you mean '--suite'?"},
           {{"retire", "refund-window", "--reasn", "duplicate", "--rationale", "r"},
            "unknown option '--reasn' for 'evalkeep retire'",
            "did you mean '--reason'?"},
       }) {
    auto r = must_fail(repo, 2, args);
    CHECK(r.err == "evalkeep: error: " + error + "\nhint: " + hint + "\n");
  }
  // Nothing near enough: the hint points at the help instead of guessing.
  CHECK(must_fail(repo, 2, {"frobnicate"}).err ==
        "evalkeep: error: unknown command 'frobnicate'\nhint: see 'evalkeep --help'\n");
  CHECK(must_fail(repo, 2, {"rm", "refund-window", "--force"}).err ==
        "evalkeep: error: unknown option '--force' for 'evalkeep rm'\nhint: see 'evalkeep rm "
        "--help'\n");
  CHECK(listed_cases(repo) == 2);
}

TEST_CASE("the man page is the help tree in roff, and groff reads it without a warning",
          "[e2e][help]") {
  Repo repo;
  auto man = must_succeed(repo, {"help-man"}).out;
  CHECK_THAT(man, Catch::StartsWith(".\\\" Generated by 'evalkeep help-man'"));
  CHECK_THAT(man, Catch::Contains(".TH EVALKEEP 1 \"\" \"evalkeep " EVALKEEP_VERSION "\""));
  for (const auto& h : walk_help(repo)) {
    if (h.path.empty())
      continue;
    std::string title;
    for (char c : command_line(h.path))
      title += c == '-' ? std::string("\\-") : std::string(1, c);
    CHECK_THAT(man, Catch::Contains(".SS \"" + title + "\""));
  }
  std::ofstream(repo.path() / "evalkeep.1") << man;
  auto groff = repo.run({"groff", "-mandoc", "-Tutf8", "-ww", "-z", "evalkeep.1"});
  INFO(groff.err);
  CHECK(groff.exit_code == 0);
  CHECK(groff.err.empty());
  auto text = repo.run({"man", "-l", "evalkeep.1"}, {"MANPAGER=cat", "MANWIDTH=100"});
  CHECK_THAT(text.out, Catch::Contains("evalkeep runs diff [OPTIONS] a b"));
  CHECK_THAT(text.out, Catch::Contains("--provider TEXT"));
}

TEST_CASE("the build writes the man page and completions the binary prints", "[e2e][help]") {
  Repo repo;
  auto share = std::filesystem::path(EVALKEEP_BIN).parent_path() / "share";
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  auto man = repo.run({"gzip", "-dc", (share / "man/man1/evalkeep.1.gz").string()});
  REQUIRE(man.exit_code == 0);
  CHECK(man.out == must_succeed(repo, {"help-man"}).out);
  CHECK(read(share / "bash-completion/completions/evalkeep") ==
        must_succeed(repo, {"completion", "bash"}).out);
  CHECK(read(share / "zsh/vendor-completions/_evalkeep") ==
        must_succeed(repo, {"completion", "zsh"}).out);
  CHECK(read(share / "fish/vendor_completions.d/evalkeep.fish") ==
        must_succeed(repo, {"completion", "fish"}).out);
}

TEST_CASE("docs/COMMANDS.md is what evalkeep help-markdown prints", "[e2e][help]") {
  Repo repo;
  auto markdown = must_succeed(repo, {"help-markdown"}).out;
  for (const auto& h : walk_help(repo))
    CHECK_THAT(markdown, Catch::Contains("\n## " + command_line(h.path) + "\n"));
  std::ifstream in(std::filesystem::path(EVALKEEP_SOURCE_DIR) / "docs" / "COMMANDS.md",
                   std::ios::binary);
  REQUIRE(in);
  std::string committed(std::istreambuf_iterator<char>(in), {});
  INFO("regenerate it: build/evalkeep help-markdown > docs/COMMANDS.md");
  CHECK(committed == markdown);
}
