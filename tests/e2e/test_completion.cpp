// Shell completions: `evalkeep completion bash|zsh|fish` is loaded into the real shell and asked
// what follows a command line, for every command the help lists.

#include "support/e2e.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

/// A command line being completed: the words typed so far, the last one the word under the cursor.
struct Query {
  std::vector<std::string> words;
  std::vector<std::string> offered; // each must be among the completions
  std::vector<std::string> not_offered = {};
};

// What the help tree says must complete: each command's name after its parent, plus flags, a
// flag's choices, global flags after a subcommand, and flag values skipped while walking.
std::vector<Query> queries(const Repo& repo) {
  std::vector<Query> out;
  for (const auto& h : walk_help(repo)) {
    if (h.path.empty())
      continue;
    Query q{{"evalkeep"}, {h.path.back()}};
    q.words.insert(q.words.end(), h.path.begin(), h.path.end() - 1);
    q.words.push_back("");
    out.push_back(q);
  }
  out.push_back({{"evalkeep", "re"}, {"retire", "reinstate", "report"}, {"run"}});
  out.push_back({{"evalkeep", "run", "--prov"}, {"--provider"}});
  out.push_back({{"evalkeep", "audit", "--format", ""}, {"text", "md", "json", "html"}});
  out.push_back({{"evalkeep", "completion", ""}, {"bash", "zsh", "fish"}});
  out.push_back({{"evalkeep", "--suite", "runs", "runs", ""}, {"list", "diff"}});
  out.push_back({{"evalkeep", "-q", "runs", "diff", "--"}, {"--json", "--quiet", "--suite"}});
  out.push_back({{"evalkeep", "incident", "add", "INC-9", "--sev"}, {"--severity"}});
  return out;
}

std::string sh_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string words_of(const Query& q) {
  std::string out;
  for (const auto& w : q.words)
    out += " " + sh_quoted(w);
  return out;
}

// Runs the shell on `prelude` (which defines `c WORD...`, printing one line of completions) and
// one `c` line per query, and checks every query's line.
void check(const Repo& repo, const std::vector<std::string>& shell, std::string prelude) {
  auto qs = queries(repo);
  std::string script = std::move(prelude);
  for (const auto& q : qs)
    script += "c" + words_of(q) + "\n";
  std::ofstream(repo.path() / "complete.sh") << script;
  auto argv = shell;
  argv.push_back((repo.path() / "complete.sh").string());
  auto r = repo.run(argv);
  INFO(script << "\nexit: " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  std::istringstream lines(r.out);
  for (const auto& q : qs) {
    std::string line;
    REQUIRE(std::getline(lines, line));
    std::set<std::string> got;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      got.insert(w);
    INFO("completing:" << words_of(q) << "\noffered: " << line);
    for (const auto& w : q.offered)
      CHECK(got.count(w) == 1);
    for (const auto& w : q.not_offered)
      CHECK(got.count(w) == 0);
  }
}

std::string completion_file(const Repo& repo, const std::string& shell) {
  auto path = repo.path() / ("evalkeep." + shell);
  std::ofstream(path) << must_succeed(repo, {"completion", shell}).out;
  return path.string();
}

} // namespace

TEST_CASE("bash completes every command, flag and choice the help lists", "[e2e][completion]") {
  Repo repo;
  check(repo, {"bash", "--norc"},
        "source " + sh_quoted(completion_file(repo, "bash")) +
            "\nc() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _evalkeep; "
            "echo \"${COMPREPLY[*]}\"; }\n");
}

TEST_CASE("zsh completes every command, flag and choice the help lists", "[e2e][completion]") {
  Repo repo;
  // zsh's completion widgets only run inside a line editor; these stand-ins print what the
  // script hands them, filtered by the word being completed as zsh would.
  check(repo, {"zsh", "-f"},
        R"(compdef() { : }
_describe() { local a=${@[-1]}; print -r -- ${(M)${${(P)a}%%:*}:#${PREFIX}*} }
compadd() { local a=${@[-1]}; print -r -- ${(M)${(P)a}:#${PREFIX}*} }
_files() { print -r -- '<files>' }
c() { words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}; _evalkeep }
source )" + sh_quoted(completion_file(repo, "zsh")) +
            "\n");
}

TEST_CASE("fish completes every command, flag and choice the help lists", "[e2e][completion]") {
  Repo repo;
  check(repo, {"fish", "--no-config"},
        "source " + sh_quoted(completion_file(repo, "fish")) +
            "\nfunction c; echo (complete -C (string join ' ' -- $argv) | cut -f1 | string join "
            "' '); end\n");
}

TEST_CASE("completion names its shells and refuses others", "[e2e][completion]") {
  Repo repo;
  auto r = must_fail(repo, 2, {"completion", "tcsh"});
  CHECK_THAT(r.err, Catch::Contains("tcsh not in {bash,zsh,fish}"));
  CHECK_FALSE(std::filesystem::exists(repo.suite()));
}
