#include "suite/workspace.hpp"

#include "core/time.hpp"
#include "git/repo.hpp"

#include <algorithm>
#include <cstdlib>

#include <toml++/toml.h>

namespace evalkeep::suite {

namespace fs = std::filesystem;

namespace {

std::string where(const fs::path& file, const toml::source_region& r) {
  return fmt::format("{}:{}", file.string(), r.begin.line);
}

Status unknown_keys(const fs::path& file, const toml::table& t, std::string_view prefix,
                    std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return with_hint(
          invalid("{}: unknown key '{}{}'", where(file, node.source()), prefix, key.str()),
          fmt::format("known keys here: {}", fmt::join(known, ", ")));
  }
  return {};
}

} // namespace

Result<Config> load_config(const fs::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return invalid("{}:{}: {}", file.string(), e.source().begin.line, e.description());
  }
  Config config;
  if (auto s = unknown_keys(file, root, "", {"suite", "policy"}); !s)
    return std::unexpected(s.error());
  if (auto* node = root.get("suite")) {
    auto v = node->value<std::string>();
    if (!v || v->empty())
      return invalid("{}: 'suite' must be a non-empty string path", where(file, node->source()));
    config.suite = *v;
  }
  if (auto* node = root.get("policy")) {
    auto* policy = node->as_table();
    if (!policy)
      return invalid("{}: 'policy' must be a table", where(file, node->source()));
    if (auto s = unknown_keys(file, *policy, "policy.", {"require_incident", "require_approver"});
        !s)
      return std::unexpected(s.error());
    for (auto [key, field] : {std::pair{"require_incident", &config.policy.require_incident},
                              std::pair{"require_approver", &config.policy.require_approver}}) {
      if (auto* v = policy->get(key)) {
        if (!v->is_boolean())
          return invalid("{}: 'policy.{}' must be true or false", where(file, v->source()), key);
        *field = v->as_boolean()->get();
      }
    }
  }
  return config;
}

std::string default_config_text(const std::string& suite_path) {
  return fmt::format(R"(# evalkeep configuration. Unknown keys are an error.

# The suite: incidents, cases, retirement decisions and the ledger. Commit it.
suite = "{}"

[policy]
# Every new case must link an incident (--incident), not only another provenance.
require_incident = false
# Every retirement decision needs --approved-by, someone other than the decider.
require_approver = false
)",
                     suite_path);
}

Result<Workspace> find_workspace(const fs::path& cwd,
                                 const std::optional<std::string>& suite_override) {
  Workspace ws;
  std::error_code ec;
  fs::path start = fs::absolute(cwd, ec);
  ws.root = start;
  for (fs::path dir = start;; dir = dir.parent_path()) {
    bool has_config = fs::exists(dir / "evalkeep.toml", ec);
    bool has_git = fs::exists(dir / ".git", ec);
    if (has_config || has_git) {
      ws.root = dir;
      break;
    }
    if (dir == dir.root_path() || dir.empty())
      break;
  }
  ws.in_git = git::find_root(ws.root).has_value();
  if (fs::exists(ws.root / "evalkeep.toml", ec)) {
    ws.config_file = ws.root / "evalkeep.toml";
    auto config = load_config(*ws.config_file);
    if (!config)
      return std::unexpected(config.error());
    ws.config = *config;
  }
  if (suite_override && !suite_override->empty())
    ws.suite_path = fs::absolute(start / *suite_override, ec).lexically_normal();
  else
    ws.suite_path = (ws.root / ws.config.suite).lexically_normal();
  return ws;
}

Result<Origin> current_origin(const Workspace& ws) {
  Origin o;
  o.at = core::now_utc();
  if (ws.in_git)
    o.git_head = git::head(ws.root);
  if (const char* actor = std::getenv("EVALKEEP_ACTOR"); actor && *actor) {
    o.actor = actor;
    return o;
  }
  if (auto id = git::identity(ws.root)) {
    o.actor = *id;
    return o;
  }
  if (ws.in_git)
    return with_hint(fail(ExitCode::environment, "git does not know who you are (user.name and "
                                                 "user.email are not both set)"),
                     "git config user.name \"Your Name\" && git config user.email you@example.com "
                     "(or set EVALKEEP_ACTOR)");
  o.actor = "unknown";
  return o;
}

} // namespace evalkeep::suite
