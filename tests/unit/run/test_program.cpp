#include "core/process.hpp"
#include "run/program.hpp"
#include "support/temp_dir.hpp"

#include <chrono>

#include <catch2/catch.hpp>

using namespace evalkeep;
namespace fs = std::filesystem;
using test::write_file;

namespace {

void git(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "git");
  auto r = core::run_process(args, {.cwd = dir, .stdin_data = {}, .env = {}, .timeout_ms = 0});
  REQUIRE(r);
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
}

// A repository holding an agent that imports a helper module, a suite and a runs store.
struct AgentRepo {
  test::TempDir dir;
  AgentRepo() {
    git(dir.path(), {"init", "-q"});
    git(dir.path(), {"config", "user.name", "Dana Kim"});
    git(dir.path(), {"config", "user.email", "dana@example.com"});
    write_file(dir / "agent.py", "import helper\nprint(helper.answer())\n");
    write_file(dir / "helper.py", "def answer():\n    return 'yes'\n");
    write_file(dir / ".gitignore", ".evalkeep/\nbuild/\n");
    write_file(dir / "evalkeep.toml", "[providers.agent]\n");
    write_file(dir / "evals" / "suite.db", "suite v1");
  }
  run::ProgramScope scope() const {
    run::ProgramScope s;
    s.root = dir.path();
    s.excluded_files = {dir / "evals/suite.db", dir / "evalkeep.toml", dir / "runs.db"};
    s.excluded_dirs = {dir / ".evalkeep"};
    s.commands = {{"python3", "agent.py"}};
    return s;
  }
  std::optional<core::Digest> id() const { return run::identify_program(scope()); }
};

} // namespace

TEST_CASE("an exec program's identity changes with its code and the modules it imports",
          "[run][program]") {
  AgentRepo repo;
  auto first = repo.id();
  REQUIRE(first);
  CHECK(repo.id() == first); // the same files: the same program

  write_file(repo.dir / "helper.py", "def answer():\n    return 'no'\n");
  auto helper = repo.id();
  REQUIRE(helper);
  CHECK(helper != first);

  write_file(repo.dir / "agent.py", "import helper\nprint(helper.answer().upper())\n");
  auto agent = repo.id();
  CHECK(agent != helper);

  write_file(repo.dir / "lib" / "new_module.py", "X = 1\n"); // untracked, not ignored
  auto added = repo.id();
  CHECK(added != agent);
  fs::remove(repo.dir / "lib" / "new_module.py");
  CHECK(repo.id() == agent);
}

TEST_CASE("an exec program's identity ignores the suite, the config, the runs store and ignored "
          "files, and survives a commit",
          "[run][program]") {
  AgentRepo repo;
  auto before = repo.id();
  REQUIRE(before);
  write_file(repo.dir / "evals" / "suite.db", "suite v2");
  write_file(repo.dir / "evals" / "suite.db-journal", "journal");
  write_file(repo.dir / "evalkeep.toml", "[providers.agent]\n# edited\n");
  write_file(repo.dir / "runs.db", "a store");
  write_file(repo.dir / "runs.db-wal", "its wal");
  write_file(repo.dir / ".evalkeep" / "report.html", "a report");
  write_file(repo.dir / "build" / "cache.o", "ignored");
  CHECK(repo.id() == before);

  git(repo.dir.path(), {"add", "-A"});
  git(repo.dir.path(), {"commit", "-q", "-m", "agent"});
  CHECK(repo.id() == before); // committed as it was: the same content
  fs::remove(repo.dir / "helper.py");
  CHECK(repo.id() != before); // a tracked file deleted
  git(repo.dir.path(), {"checkout", "-q", "--", "helper.py"});
  CHECK(repo.id() == before);
}

TEST_CASE("a file the command names by path counts, even outside the repository or ignored",
          "[run][program]") {
  AgentRepo repo;
  test::TempDir elsewhere;
  write_file(elsewhere / "bot", "#!/bin/sh\necho v1\n");
  write_file(repo.dir / "build" / "agent", "binary v1"); // ignored by git
  auto scope = repo.scope();
  scope.commands = {{(elsewhere / "bot").string(), (repo.dir / "build" / "agent").string()}};
  auto first = run::identify_program(scope);
  REQUIRE(first);
  write_file(elsewhere / "bot", "#!/bin/sh\necho v2\n");
  auto outside = run::identify_program(scope);
  CHECK(outside != first);
  write_file(repo.dir / "build" / "agent", "binary v2");
  CHECK(run::identify_program(scope) != outside);
}

TEST_CASE("outside a git repository an exec program has no identity", "[run][program]") {
  test::TempDir dir;
  write_file(dir / "agent.py", "print('yes')\n");
  run::ProgramScope scope;
  scope.root = dir.path();
  scope.commands = {{"python3", "agent.py"}};
  CHECK_FALSE(run::identify_program(scope));
}

TEST_CASE("identifying a program in a repository of 2,000 files takes a few milliseconds",
          "[.bench][program]") {
  AgentRepo repo;
  for (int i = 0; i < 2000; ++i)
    write_file(repo.dir / fmt::format("pkg{}", i % 20) / fmt::format("m{}.py", i),
               fmt::format("X = {}\n", i));
  git(repo.dir.path(), {"add", "-A"});
  git(repo.dir.path(), {"commit", "-q", "-m", "many"});
  write_file(repo.dir / "helper.py", "def answer():\n    return 'changed'\n");
  REQUIRE(repo.id());
  constexpr int k_rounds = 20;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < k_rounds; ++i)
    REQUIRE(repo.id());
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      k_rounds;
  WARN(fmt::format("identify_program, 2,002 tracked files, one changed: {:.1f} ms", ms));
  CHECK(ms < 200);
}
