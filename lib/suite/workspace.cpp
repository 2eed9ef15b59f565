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

template <typename T>
Status read_value(const fs::path& file, const toml::table& t, const char* key, T& out,
                  const std::string& prefix) {
  auto* node = t.get(key);
  if (!node)
    return {};
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::optional<double>>) {
    auto v = node->value<double>();
    if (!v)
      return invalid("{}: '{}{}' must be a number", where(file, node->source()), prefix, key);
    out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!node->is_boolean())
      return invalid("{}: '{}{}' must be true or false", where(file, node->source()), prefix, key);
    out = node->as_boolean()->get();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!node->is_string())
      return invalid("{}: '{}{}' must be a string", where(file, node->source()), prefix, key);
    out = node->as_string()->get();
  } else {
    if (!node->is_integer())
      return invalid("{}: '{}{}' must be a whole number", where(file, node->source()), prefix, key);
    out = static_cast<typename T::value_type>(node->as_integer()->get());
  }
  return {};
}

Result<providers::ProviderConfig> parse_provider(const fs::path& file, const std::string& name,
                                                 const toml::node& node) {
  std::string prefix = "providers." + name + ".";
  auto* t = node.as_table();
  if (!t)
    return invalid("{}: 'providers.{}' must be a table", where(file, node.source()), name);
  if (auto s = unknown_keys(file, *t, prefix,
                            {"type", "base_url", "model", "temperature", "max_tokens", "seed",
                             "headers", "api_key_env", "max_concurrency", "max_attempts",
                             "connect_timeout_s", "timeout_s", "max_retry_wait_s",
                             "idempotency_header", "input_price_per_mtok", "output_price_per_mtok",
                             "command", "anthropic_version"});
      !s)
    return std::unexpected(s.error());
  providers::ProviderConfig p;
  p.name = name;
  std::string type;
  if (auto s = read_value(file, *t, "type", type, prefix); !s)
    return std::unexpected(s.error());
  auto kind = providers::parse_kind(type);
  if (!kind)
    return invalid("{}: '{}type' must be openai, anthropic or exec, got '{}'",
                   where(file, t->source()), prefix, type);
  p.kind = *kind;
  std::optional<std::int64_t> max_tokens, max_concurrency, max_attempts;
  Status s;
  s = s ? read_value(file, *t, "base_url", p.base_url, prefix) : s;
  s = s ? read_value(file, *t, "model", p.model, prefix) : s;
  s = s ? read_value(file, *t, "temperature", p.temperature, prefix) : s;
  s = s ? read_value(file, *t, "max_tokens", max_tokens, prefix) : s;
  s = s ? read_value(file, *t, "seed", p.seed, prefix) : s;
  s = s ? read_value(file, *t, "api_key_env", p.api_key_env, prefix) : s;
  s = s ? read_value(file, *t, "max_concurrency", max_concurrency, prefix) : s;
  s = s ? read_value(file, *t, "max_attempts", max_attempts, prefix) : s;
  s = s ? read_value(file, *t, "connect_timeout_s", p.connect_timeout_s, prefix) : s;
  s = s ? read_value(file, *t, "timeout_s", p.timeout_s, prefix) : s;
  s = s ? read_value(file, *t, "max_retry_wait_s", p.max_retry_wait_s, prefix) : s;
  s = s ? read_value(file, *t, "idempotency_header", p.idempotency_header, prefix) : s;
  s = s ? read_value(file, *t, "input_price_per_mtok", p.input_price_per_mtok, prefix) : s;
  s = s ? read_value(file, *t, "output_price_per_mtok", p.output_price_per_mtok, prefix) : s;
  s = s ? read_value(file, *t, "anthropic_version", p.anthropic_version, prefix) : s;
  if (!s)
    return std::unexpected(s.error());
  if (max_tokens)
    p.max_tokens = static_cast<int>(*max_tokens);
  if (max_concurrency)
    p.max_concurrency = static_cast<int>(*max_concurrency);
  if (max_attempts)
    p.max_attempts = static_cast<int>(*max_attempts);
  if (auto* headers = t->get("headers")) {
    auto* ht = headers->as_table();
    if (!ht)
      return invalid("{}: '{}headers' must be a table of strings", where(file, headers->source()),
                     prefix);
    for (const auto& [k, v] : *ht) {
      if (!v.is_string())
        return invalid("{}: '{}headers.{}' must be a string", where(file, v.source()), prefix,
                       k.str());
      p.headers[std::string(k.str())] = v.as_string()->get();
    }
  }
  if (auto* command = t->get("command")) {
    auto* arr = command->as_array();
    if (!arr || arr->empty())
      return invalid("{}: '{}command' must be a non-empty array of strings",
                     where(file, command->source()), prefix);
    for (const auto& part : *arr) {
      if (!part.is_string())
        return invalid("{}: '{}command' must be an array of strings", where(file, part.source()),
                       prefix);
      p.command.push_back(part.as_string()->get());
    }
  }
  if (auto r = providers::finish_config(p); !r)
    return with_context(r.error(), file.string());
  return p;
}

} // namespace

Result<providers::ProviderConfig> find_provider(const Config& config, const std::string& name,
                                                const std::string& model_spec) {
  if (!name.empty() && !model_spec.empty())
    return invalid("give either --provider or --model, not both");
  if (!name.empty()) {
    auto it = config.providers.find(name);
    if (it == config.providers.end()) {
      std::string known;
      for (const auto& [n, _] : config.providers)
        known += (known.empty() ? "" : ", ") + n;
      return with_hint(invalid("no provider '{}' in evalkeep.toml", name),
                       known.empty() ? "add a [providers." + name + "] table to evalkeep.toml"
                                     : "configured providers: " + known);
    }
    return it->second;
  }
  if (model_spec.empty())
    return with_hint(
        invalid("which model? pass --provider NAME or --model KIND:MODEL"),
        "e.g. --model openai:gpt-4o-mini, or a [providers.NAME] table in evalkeep.toml");
  auto colon = model_spec.find(':');
  auto kind = providers::parse_kind(model_spec.substr(0, colon));
  if (colon == std::string::npos || !kind || *kind == providers::Kind::exec)
    return invalid("--model '{}' must be openai:MODEL or anthropic:MODEL", model_spec);
  providers::ProviderConfig p;
  p.name = model_spec;
  p.kind = *kind;
  p.model = model_spec.substr(colon + 1);
  if (auto r = providers::finish_config(p); !r)
    return std::unexpected(r.error());
  return p;
}

Result<Config> load_config(const fs::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return invalid("{}:{}: {}", file.string(), e.source().begin.line, e.description());
  }
  Config config;
  if (auto s = unknown_keys(file, root, "", {"suite", "judge", "policy", "providers"}); !s)
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
  if (auto* node = root.get("judge")) {
    auto v = node->value<std::string>();
    if (!v || v->empty())
      return invalid("{}: 'judge' must name a provider", where(file, node->source()));
    config.judge = *v;
  }
  if (auto* node = root.get("providers")) {
    auto* table = node->as_table();
    if (!table)
      return invalid("{}: 'providers' must be a table of [providers.NAME] tables",
                     where(file, node->source()));
    for (const auto& [name, entry] : *table) {
      auto p = parse_provider(file, std::string(name.str()), entry);
      if (!p)
        return std::unexpected(p.error());
      config.providers.emplace(p->name, std::move(*p));
    }
  }
  if (!config.judge.empty() && !config.providers.contains(config.judge))
    return invalid("{}: judge = \"{}\" names no [providers.{}] table", file.string(), config.judge,
                   config.judge);
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
