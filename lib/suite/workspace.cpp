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

// Azure's deployment, api_version and auth ("api-key", the default, or "entra-id").
Status read_azure(const fs::path& file, const toml::table& t, const std::string& prefix,
                  providers::ProviderConfig& p) {
  for (const char* key : {"deployment", "api_version", "auth"})
    if (auto* node = t.get(key); node && p.kind != providers::Kind::azure)
      return invalid("{}: '{}{}' is for azure providers", where(file, node->source()), prefix, key);
  TRY(read_value(file, t, "deployment", p.deployment, prefix));
  TRY(read_value(file, t, "api_version", p.api_version, prefix));
  std::string auth;
  TRY(read_value(file, t, "auth", auth, prefix));
  if (!auth.empty() && auth != "api-key" && auth != "entra-id")
    return invalid("{}: '{}auth' must be \"api-key\" (the api-key header) or \"entra-id\" (a "
                   "Microsoft Entra ID token as a bearer token), got '{}'",
                   where(file, t.get("auth")->source()), prefix, auth);
  p.entra_id = auth == "entra-id";
  return {};
}

// A provider's settings of one value each (model, timeouts, prices...).
Status read_scalars(const fs::path& file, const toml::table& t, const std::string& prefix,
                    providers::ProviderConfig& p) {
  std::optional<std::int64_t> max_tokens, max_concurrency, max_attempts;
  TRY(read_value(file, t, "base_url", p.base_url, prefix));
  TRY(read_value(file, t, "model", p.model, prefix));
  TRY(read_value(file, t, "temperature", p.temperature, prefix));
  TRY(read_value(file, t, "max_tokens", max_tokens, prefix));
  TRY(read_value(file, t, "seed", p.seed, prefix));
  TRY(read_value(file, t, "api_key_env", p.api_key_env, prefix));
  TRY(read_value(file, t, "max_concurrency", max_concurrency, prefix));
  TRY(read_value(file, t, "max_attempts", max_attempts, prefix));
  TRY(read_value(file, t, "connect_timeout_s", p.connect_timeout_s, prefix));
  TRY(read_value(file, t, "timeout_s", p.timeout_s, prefix));
  TRY(read_value(file, t, "max_retry_wait_s", p.max_retry_wait_s, prefix));
  TRY(read_value(file, t, "idempotency_header", p.idempotency_header, prefix));
  TRY(read_value(file, t, "input_price_per_mtok", p.input_price_per_mtok, prefix));
  TRY(read_value(file, t, "output_price_per_mtok", p.output_price_per_mtok, prefix));
  TRY(read_value(file, t, "cached_input_price_per_mtok", p.cached_input_price_per_mtok, prefix));
  TRY(read_value(file, t, "cache_write_price_per_mtok", p.cache_write_price_per_mtok, prefix));
  for (auto [key, price] : {std::pair{"input_price_per_mtok", p.input_price_per_mtok},
                            {"output_price_per_mtok", p.output_price_per_mtok},
                            {"cached_input_price_per_mtok", p.cached_input_price_per_mtok},
                            {"cache_write_price_per_mtok", p.cache_write_price_per_mtok}})
    if (price && !(*price >= 0))
      return invalid("{}: '{}{}' must not be negative, got {}", file.string(), prefix, key, *price);
  TRY(read_value(file, t, "batch_price_factor", p.batch_price_factor, prefix));
  if (p.batch_price_factor < 0 || p.batch_price_factor > 1)
    return invalid("{}: '{}batch_price_factor' must be between 0 and 1", file.string(), prefix);
  TRY(read_value(file, t, "anthropic_version", p.anthropic_version, prefix));
  TRY(read_azure(file, t, prefix, p));
  TRY(read_value(file, t, "region", p.region, prefix));
  if (max_tokens)
    p.max_tokens = static_cast<int>(*max_tokens);
  if (max_concurrency)
    p.max_concurrency = static_cast<int>(*max_concurrency);
  if (max_attempts)
    p.max_attempts = static_cast<int>(*max_attempts);
  return {};
}

// `headers`: a table of strings sent with every request.
Status read_headers(const fs::path& file, const toml::table& t, const std::string& prefix,
                    providers::ProviderConfig& p) {
  auto* headers = t.get("headers");
  if (!headers)
    return {};
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
  return {};
}

// An exec provider's `command` and the variables it may see (`pass_env`).
Status read_exec(const fs::path& file, const toml::table& t, const std::string& prefix,
                 providers::ProviderConfig& p) {
  if (auto* command = t.get("command")) {
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
  if (auto* output = t.get("output")) {
    auto* v = output->as_string();
    if (!v || (v->get() != "text" && v->get() != "agent"))
      return invalid("{}: '{}output' must be \"text\" (stdout is the answer) or \"agent\" (the "
                     "agent protocol's JSON)",
                     where(file, output->source()), prefix);
    if (p.kind != providers::Kind::exec)
      return invalid("{}: '{}output' is for exec providers", where(file, output->source()), prefix);
    p.agent_output = v->get() == "agent";
  }
  auto* pass = t.get("pass_env");
  if (!pass)
    return {};
  auto* arr = pass->as_array();
  if (!arr)
    return invalid("{}: '{}pass_env' must be an array of variable names",
                   where(file, pass->source()), prefix);
  for (const auto& variable : *arr) {
    if (!variable.is_string() || variable.as_string()->get().empty())
      return invalid("{}: '{}pass_env' must hold variable names", where(file, variable.source()),
                     prefix);
    p.pass_env.push_back(variable.as_string()->get());
  }
  if (p.kind != providers::Kind::exec)
    return invalid("{}: '{}pass_env' is for exec providers", where(file, pass->source()), prefix);
  return {};
}

Result<providers::ProviderConfig> parse_provider(const fs::path& file, const std::string& name,
                                                 const toml::node& node) {
  std::string prefix = "providers." + name + ".";
  auto* t = node.as_table();
  if (!t)
    return invalid("{}: 'providers.{}' must be a table", where(file, node.source()), name);
  TRY(unknown_keys(file, *t, prefix,
                   {"type",
                    "base_url",
                    "model",
                    "temperature",
                    "max_tokens",
                    "seed",
                    "headers",
                    "api_key_env",
                    "max_concurrency",
                    "max_attempts",
                    "connect_timeout_s",
                    "timeout_s",
                    "max_retry_wait_s",
                    "idempotency_header",
                    "input_price_per_mtok",
                    "output_price_per_mtok",
                    "cached_input_price_per_mtok",
                    "cache_write_price_per_mtok",
                    "batch_price_factor",
                    "command",
                    "anthropic_version",
                    "region",
                    "pass_env",
                    "output",
                    "deployment",
                    "api_version",
                    "auth"}));
  providers::ProviderConfig p;
  p.name = name;
  std::string type;
  TRY(read_value(file, *t, "type", type, prefix));
  auto kind = providers::parse_kind(type);
  if (!kind)
    return invalid(
        "{}: '{}type' must be openai, openai-responses, anthropic, azure, gemini, bedrock or exec, "
        "got '{}'",
        where(file, t->source()), prefix, type);
  p.kind = *kind;
  TRY(read_scalars(file, *t, prefix, p));
  TRY(read_headers(file, *t, prefix, p));
  TRY(read_exec(file, *t, prefix, p));
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
    return invalid("--model '{}' must be openai:MODEL, openai-responses:MODEL, anthropic:MODEL, "
                   "gemini:MODEL or bedrock:MODEL (an azure provider needs a [providers.NAME] "
                   "table for its endpoint)",
                   model_spec);
  providers::ProviderConfig p;
  p.name = model_spec;
  p.kind = *kind;
  p.model = model_spec.substr(colon + 1);
  TRY(providers::finish_config(p));
  return p;
}

namespace {

// [policy]: flags that refuse when true, and an optional list of approvers.
Status parse_policy(const fs::path& file, const toml::node& node, Policy& policy) {
  auto* t = node.as_table();
  if (!t)
    return invalid("{}: 'policy' must be a table", where(file, node.source()));
  TRY(unknown_keys(file, *t, "policy.",
                   {"require_incident", "require_approver", "require_approver_for_last_guard",
                    "approvers", "allow_provider_changes", "allow_gate_replay", "max_drop", "alpha",
                    "strict_deterministic"}));
  for (auto [key, field] :
       {std::pair{"require_incident", &policy.require_incident},
        std::pair{"require_approver", &policy.require_approver},
        std::pair{"require_approver_for_last_guard", &policy.require_approver_for_last_guard},
        std::pair{"allow_provider_changes", &policy.allow_provider_changes},
        std::pair{"allow_gate_replay", &policy.allow_gate_replay},
        std::pair{"strict_deterministic", &policy.strict_deterministic}})
    TRY(read_value(file, *t, key, *field, "policy."));
  TRY(read_value(file, *t, "max_drop", policy.max_drop, "policy."));
  TRY(read_value(file, *t, "alpha", policy.alpha, "policy."));
  if (!(policy.max_drop >= 0 && policy.max_drop < 1))
    return invalid("{}: 'policy.max_drop' must be a share from 0 to below 1 (0.02 is two points)",
                   where(file, t->get("max_drop")->source()));
  if (!(policy.alpha > 0 && policy.alpha <= 0.5))
    return invalid("{}: 'policy.alpha' must be above 0 and at most 0.5",
                   where(file, t->get("alpha")->source()));
  if (auto* v = t->get("approvers")) {
    auto* arr = v->as_array();
    if (!arr)
      return invalid("{}: 'policy.approvers' must be an array of names or email addresses",
                     where(file, v->source()));
    std::vector<std::string> names;
    for (const auto& name : *arr) {
      auto text = name.value<std::string>();
      if (!name.is_string() || !text || text->find_first_not_of(" \t") == std::string::npos)
        return invalid("{}: 'policy.approvers' must hold non-empty strings",
                       where(file, name.source()));
      names.push_back(*text);
    }
    policy.approvers = std::move(names);
  }
  return {};
}

Result<Config> read_config(const toml::table& root, const fs::path& file) {
  Config config;
  TRY(unknown_keys(file, root, "", {"suite", "judge", "policy", "providers"}));
  if (auto* node = root.get("suite")) {
    auto v = node->value<std::string>();
    if (!v || v->empty())
      return invalid("{}: 'suite' must be a non-empty string path", where(file, node->source()));
    config.suite = *v;
  }
  if (auto* node = root.get("policy"))
    TRY(parse_policy(file, *node, config.policy));
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
      auto p = TRY(parse_provider(file, std::string(name.str()), entry));
      config.providers.emplace(p.name, std::move(p));
    }
  }
  if (!config.judge.empty() && !config.providers.contains(config.judge))
    return invalid("{}: judge = \"{}\" names no [providers.{}] table", file.string(), config.judge,
                   config.judge);
  return config;
}

} // namespace

Result<Config> load_config(const fs::path& file) {
  try {
    return read_config(toml::parse_file(file.string()), file);
  } catch (const toml::parse_error& e) {
    return invalid("{}:{}: {}", file.string(), e.source().begin.line, e.description());
  }
}

Result<Config> parse_config(std::string_view text, const std::string& source) {
  try {
    return read_config(toml::parse(text, source), source);
  } catch (const toml::parse_error& e) {
    return invalid("{}:{}: {}", source, e.source().begin.line, e.description());
  }
}

std::string default_config_text(const std::string& suite_path) {
  return fmt::format(R"(# evalkeep configuration. Unknown keys are an error.

# The suite: incidents, cases, retirement decisions and the ledger. Commit it.
suite = "{}"

[policy]
# The gate applies the policy of a pull request's base: a change here counts once it is merged,
# and a pull request that loosens it fails the gate.
# Every new case must link an incident (--incident), not only another provenance.
require_incident = false
# Every decision (a retirement, or an edit that weakens a case) needs --approved-by, someone
# other than the decider.
require_approver = false
# Retiring the last live case that guards an incident needs --approved-by.
require_approver_for_last_guard = false
# Who may approve; when set, --approved-by must name one of them.
# approvers = ["alice@example.com", "Bob <bob@example.com>"]
# A pull request that changes [providers.*] or judge is reported; it fails the gate unless true.
allow_provider_changes = false
# gate --run-now calls the model for every trial; when true, --replay-from FILE may name a cache
# the workflow restored (never one from the pull request) to replay answers from.
allow_gate_replay = false
# With gate --baseline-run: fail when the suite's pass rate fell by more than max_drop (0.02 is
# two points) with significance alpha; a case is regressed only when its own drop is significant.
max_drop = 0.0
alpha = 0.05
# Runs at temperature 0 with one trial per case: any case that passed in the baseline and fails
# now is regressed, as without statistics. false: judge them by the statistics too.
strict_deterministic = true
)",
                     suite_path);
}

Result<Workspace> find_workspace(const fs::path& cwd,
                                 const std::optional<std::string>& suite_override,
                                 ConfigErrors errors) {
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
    if (config)
      ws.config = std::move(*config);
    else if (errors == ConfigErrors::keep)
      ws.config_error = config.error();
    else
      return std::unexpected(config.error());
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
