#pragma once

#include "core/error.hpp"
#include "providers/provider.hpp"
#include "suite/ledger.hpp"
#include "suite/policy.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace evalkeep::suite {

/// evalkeep.toml at the project root.
struct Config {
  std::string suite = "evals/suite.db";
  Policy policy;
  std::map<std::string, providers::ProviderConfig> providers; // [providers.NAME]
  std::string judge; // the provider that scores judge assertions, if any
};

/// Reads a config file; unknown keys and wrong types are errors naming the key and line.
Result<Config> load_config(const std::filesystem::path& file);
/// The same for a config's text, as read from git at a revision; `source` names it in errors
/// ("evalkeep.toml at abc123").
Result<Config> parse_config(std::string_view text, const std::string& source);

/// The text `evalkeep init` writes, with comments.
std::string default_config_text(const std::string& suite_path);

/// Where evalkeep works: the project root (found like git finds .git), its config and the suite.
struct Workspace {
  std::filesystem::path root;
  bool in_git = false;
  std::optional<std::filesystem::path> config_file; // set when evalkeep.toml exists
  Config config;
  std::optional<Error> config_error; // with ConfigErrors::keep: why evalkeep.toml was not read
  std::filesystem::path suite_path;  // absolute
};

/// What find_workspace does with an evalkeep.toml it cannot read.
enum class ConfigErrors {
  fail, // an error: every command but the gate
  keep, // the defaults, with the error kept in `config_error`: the gate reports it
};

/// Walks up from `cwd` to the first folder holding evalkeep.toml or .git (else `cwd` itself).
/// The suite path is `suite_override` (--suite, EVALKEEP_SUITE; relative to cwd) when given,
/// else the config's `suite` relative to the root.
Result<Workspace> find_workspace(const std::filesystem::path& cwd,
                                 const std::optional<std::string>& suite_override,
                                 ConfigErrors errors = ConfigErrors::fail);

/// The provider for --provider NAME (from the config) or --model KIND:MODEL (ad hoc, default
/// endpoint of that kind).
Result<providers::ProviderConfig> find_provider(const Config& config, const std::string& name,
                                                const std::string& model_spec);

/// Who is acting, now, at which commit. EVALKEEP_ACTOR overrides git's identity. Inside a git
/// repository a missing identity is an error; outside one the actor is "unknown".
Result<Origin> current_origin(const Workspace& ws);

} // namespace evalkeep::suite
