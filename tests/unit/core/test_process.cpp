#include "core/process.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

using namespace evalkeep;
using core::ProcessOptions;
using core::run_process;

TEST_CASE("run_process captures stdout, stderr and the exit code separately", "[core]") {
  auto r = run_process({"sh", "-c", "echo to-out; echo to-err >&2; exit 3"});
  REQUIRE(r);
  CHECK(r->out == "to-out\n");
  CHECK(r->err == "to-err\n");
  CHECK(r->exit_code == 3);

  auto ok = run_process({"true"});
  REQUIRE(ok);
  CHECK(ok->exit_code == 0);
  CHECK(ok->out.empty());
  CHECK(ok->err.empty());
}

TEST_CASE("run_process reports a child killed by a signal as 128 + signal", "[core]") {
  auto r = run_process({"sh", "-c", "kill -TERM $$"});
  REQUIRE(r);
  CHECK(r->exit_code == 128 + 15);
}

TEST_CASE("run_process passes stdin to the child and closes it", "[core]") {
  ProcessOptions opts;
  opts.stdin_data = "line one\nline two\n";
  auto r = run_process({"cat"}, opts);
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "line one\nline two\n");
}

TEST_CASE("run_process moves more data than a pipe holds in both directions", "[core]") {
  ProcessOptions opts;
  opts.stdin_data.reserve(1 << 20);
  for (int i = 0; opts.stdin_data.size() < (1u << 20); ++i)
    opts.stdin_data += std::to_string(i) + "\n";
  auto r = run_process({"cat"}, opts);
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out.size() == opts.stdin_data.size());
  CHECK(r->out == opts.stdin_data);
}

TEST_CASE("run_process survives a child that exits without reading its stdin", "[core]") {
  ProcessOptions opts;
  opts.stdin_data = std::string(1 << 20, 'x');
  auto r = run_process({"sh", "-c", "exit 4"}, opts);
  REQUIRE(r);
  CHECK(r->exit_code == 4);
}

TEST_CASE("run_process env entries replace inherited variables of the same name", "[core]") {
  ::setenv("EVALKEEP_TEST_INHERITED", "inherited", 1);
  ::setenv("EVALKEEP_TEST_KEPT", "kept", 1);
  ProcessOptions opts;
  opts.env = {"EVALKEEP_TEST_INHERITED=override", "EVALKEEP_TEST_NEW=new"};
  auto r = run_process({"sh", "-c",
                        "printf '%s|%s|%s|' \"$EVALKEEP_TEST_INHERITED\" \"$EVALKEEP_TEST_KEPT\" "
                        "\"$EVALKEEP_TEST_NEW\"; env | grep -c '^EVALKEEP_TEST_INHERITED='"},
                       opts);
  ::unsetenv("EVALKEEP_TEST_INHERITED");
  ::unsetenv("EVALKEEP_TEST_KEPT");
  REQUIRE(r);
  CHECK(r->out == "override|kept|new|1\n");
}

TEST_CASE("run_process runs the child in the requested working directory", "[core]") {
  test::TempDir dir;
  ProcessOptions opts;
  opts.cwd = dir.path();
  auto r = run_process({"pwd", "-P"}, opts);
  REQUIRE(r);
  CHECK(r->out == std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST_CASE("run_process fails with an environment error when the program does not exist", "[core]") {
  auto r = run_process({"evalkeep-no-such-program-4711"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::environment);
  CHECK_THAT(r.error().message, Catch::Contains("evalkeep-no-such-program-4711"));

  auto empty = run_process({});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == ExitCode::usage);
}
