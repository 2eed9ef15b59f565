#include "support/cli_runner.hpp"

#include <stdexcept>

namespace evalkeep::test {

Repo::Repo(bool with_git) {
  if (with_git) {
    git({"init", "-q", "-b", "main"});
    git({"config", "user.name", "Dana Kim"});
    git({"config", "user.email", "dana@example.com"});
  }
}

core::ProcessResult Repo::run(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env) const {
  auto r = core::run_process(argv, {.cwd = path(), .stdin_data = {}, .env = env, .timeout_ms = 0});
  if (!r)
    throw std::runtime_error("cannot run " + argv.at(0) + ": " + r.error().message);
  return *r;
}

core::ProcessResult Repo::evalkeep(const std::vector<std::string>& args,
                                   const std::string& stdin_data,
                                   const std::vector<std::string>& env) const {
  std::vector<std::string> argv{EVALKEEP_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = core::run_process(
      argv, {.cwd = path(), .stdin_data = stdin_data, .env = env, .timeout_ms = 0});
  if (!r)
    throw std::runtime_error("cannot run evalkeep: " + r.error().message);
  return *r;
}

std::string Repo::git(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("git failed: " + r.err);
  return r.out;
}

std::filesystem::path example_suite() {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "evals" / "example-suite.jsonl";
}

} // namespace evalkeep::test
