#include "core/time.hpp"
#include "suite/workspace.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;

namespace {

// Sets an environment variable for the scope, restoring the previous value afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name))
      m_old = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (m_old)
      ::setenv(m_name, m_old->c_str(), 1);
    else
      ::unsetenv(m_name);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

} // namespace

TEST_CASE("the config init writes reads back as the defaults", "[suite]") {
  test::TempDir dir;
  auto file = dir / "evalkeep.toml";
  test::write_file(file, default_config_text("evals/team.db"));
  auto config = load_config(file);
  REQUIRE(config);
  CHECK(config->suite == "evals/team.db");
  CHECK_FALSE(config->policy.require_incident);
  CHECK_FALSE(config->policy.require_approver);
}

TEST_CASE("the config sets policy flags", "[suite]") {
  test::TempDir dir;
  auto file = dir / "evalkeep.toml";
  test::write_file(file, "[policy]\nrequire_incident = true\nrequire_approver = true\n");
  auto config = load_config(file);
  REQUIRE(config);
  CHECK(config->suite == "evals/suite.db");
  CHECK(config->policy.require_incident);
  CHECK(config->policy.require_approver);
}

TEST_CASE("the config refuses unknown keys and wrong types, naming file and line", "[suite]") {
  test::TempDir dir;
  auto file = dir / "evalkeep.toml";
  auto error_for = [&](const std::string& text) {
    test::write_file(file, text);
    auto r = load_config(file);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    return r.error().message;
  };
  auto where = file.string();
  CHECK_THAT(error_for("suite = \"a.db\"\nsuit = \"b.db\"\n"),
             Catch::StartsWith(where + ":2: unknown key 'suit'"));
  CHECK_THAT(error_for("[policy]\nrequire_incidents = true\n"),
             Catch::StartsWith(where + ":2: unknown key 'policy.require_incidents'"));
  CHECK_THAT(error_for("\n[policy]\nrequire_incident = \"yes\"\n"),
             Catch::StartsWith(where + ":3: 'policy.require_incident' must be true or false"));
  CHECK_THAT(error_for("suite = 3\n"), Catch::StartsWith(where + ":1: 'suite'"));
  CHECK_THAT(error_for("suite = \"\"\n"), Catch::StartsWith(where + ":1: 'suite'"));
  CHECK_THAT(error_for("policy = true\n"), Catch::StartsWith(where + ":1: 'policy' must be"));
  CHECK_THAT(error_for("suite = \n"), Catch::StartsWith(where + ":1: "));
}

TEST_CASE("the workspace is found from a folder below evalkeep.toml", "[suite]") {
  test::TempDir dir;
  test::write_file(dir / "evalkeep.toml", "suite = \"evals/team.db\"\n");
  std::filesystem::create_directories(dir / "src/deep");
  auto ws = find_workspace(dir / "src/deep", std::nullopt);
  REQUIRE(ws);
  CHECK(ws->root == dir.path());
  REQUIRE(ws->config_file);
  CHECK(*ws->config_file == dir / "evalkeep.toml");
  CHECK(ws->suite_path == dir / "evals/team.db");
  CHECK(ws->suite_path.is_absolute());

  auto overridden = find_workspace(dir / "src", std::string("../other/s.db"));
  REQUIRE(overridden);
  CHECK(overridden->suite_path == dir / "other/s.db");
}

TEST_CASE("a broken config stops the workspace from being used", "[suite]") {
  test::TempDir dir;
  test::write_file(dir / "evalkeep.toml", "sweet = 1\n");
  auto ws = find_workspace(dir.path(), std::nullopt);
  REQUIRE_FALSE(ws);
  CHECK_THAT(ws.error().message, Catch::Contains("unknown key 'sweet'"));
}

TEST_CASE("EVALKEEP_ACTOR and EVALKEEP_NOW decide who and when", "[suite]") {
  test::TempDir dir;
  test::write_file(dir / "evalkeep.toml", "");
  auto ws = find_workspace(dir.path(), std::nullopt);
  REQUIRE(ws);
  REQUIRE_FALSE(ws->in_git);
  ScopedEnv actor("EVALKEEP_ACTOR", "Robot <robot@example.com>");
  ScopedEnv now("EVALKEEP_NOW", "2026-05-01T10:00:00Z");
  auto o = current_origin(*ws);
  REQUIRE(o);
  CHECK(o->actor == "Robot <robot@example.com>");
  CHECK(o->at == "2026-05-01T10:00:00Z");
  CHECK_FALSE(o->git_head);
}

TEST_CASE("the config reads every policy rule, an approver list included", "[suite]") {
  auto config = parse_config("[policy]\nrequire_approver_for_last_guard = true\n"
                             "allow_provider_changes = true\n"
                             "approvers = [\"erin@example.com\", \"Frank <frank@example.com>\"]\n",
                             "evalkeep.toml at abc123");
  REQUIRE(config);
  CHECK(config->policy.require_approver_for_last_guard);
  CHECK(config->policy.allow_provider_changes);
  REQUIRE(config->policy.approvers);
  CHECK(config->policy.approvers->size() == 2);
}

TEST_CASE("a config read from git names its source and line in errors", "[suite]") {
  auto bad = parse_config("[policy]\napprovers = [\"\"]\n", "evalkeep.toml at abc123");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::StartsWith("evalkeep.toml at abc123:2"));
  auto wrong = parse_config("[policy]\napprovers = \"erin\"\n", "evalkeep.toml at abc123");
  REQUIRE_FALSE(wrong);
  CHECK_THAT(wrong.error().message, Catch::Contains("must be an array"));
  auto syntax = parse_config("suite = \n", "evalkeep.toml at abc123");
  REQUIRE_FALSE(syntax);
  CHECK_THAT(syntax.error().message, Catch::StartsWith("evalkeep.toml at abc123:1"));
}
