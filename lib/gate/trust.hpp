#pragma once

#include "core/error.hpp"
#include "providers/provider.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::gate {

/// What the gate judges by, read from the merge base through git: a pull request controls every
/// file in its tree, so where the suite is, the policy and the providers come from the base.
struct Base {
  std::string commit;                     // the merge base of the ref and HEAD
  std::filesystem::path repo_root;        // the top of the working tree
  suite::Config config;                   // the base's evalkeep.toml; the defaults without one
  std::optional<std::string> config_file; // its path in the repository, when the base has one
  std::string suite_path;                 // the base's suite, relative to the repository's top
  bool suite_overridden = false;          // --suite named the suite for both sides
  /// "evalkeep.toml at 0123456789ab", or "no evalkeep.toml at 0123456789ab (the defaults)".
  std::string describe() const;
};

/// Finds the merge base of `base_ref` and HEAD in the repository `ws` is in, and reads the base's
/// configuration through git: evalkeep.toml in the nearest folder, from `cwd` up to the top of
/// the repository, that has one at the base. `suite_override` (--suite, EVALKEEP_SUITE) names the
/// suite on both sides.
Result<Base> read_base(const suite::Workspace& ws, const std::filesystem::path& cwd,
                       const std::string& base_ref,
                       const std::optional<std::string>& suite_override);

/// The base's suite, read from git into a private temporary folder that goes with it.
class BaseSuite {
public:
  /// Reads the suite at the base's path and commit; holds no suite when the base has none.
  static Result<BaseSuite> read(const Base& base);
  BaseSuite(BaseSuite&& other) noexcept;
  BaseSuite& operator=(BaseSuite&&) = delete;
  ~BaseSuite();
  suite::Suite* get() { return m_suite ? &*m_suite : nullptr; }

private:
  BaseSuite() = default;
  std::filesystem::path m_dir;
  std::optional<suite::Suite> m_suite;
};

/// One setting that differs between two definitions of a provider.
struct ProviderChange {
  std::string provider;      // its name; "judge" for the judge key itself
  std::string field;         // "" when the provider was added or removed as a whole
  std::string before, after; // "(none)" on the side that lacks it
};

/// Every difference between the providers and judge of two configurations.
std::vector<ProviderChange> provider_changes(const suite::Config& before,
                                             const suite::Config& after);

/// The differences between a provider as `base` defines it (nothing when the base does not
/// define `name`) and the settings a stored run recorded for it (run::provider_to_json): the ones
/// that decide its answers and where its key goes.
std::vector<ProviderChange> run_provider_changes(const std::string& name,
                                                 const providers::ProviderConfig* base,
                                                 const nlohmann::json& stored);

/// The provider `name` as the base defines it: a gate run sends keys only to the base's URLs.
Result<providers::ProviderConfig> base_provider(const Base& base, const std::string& name);

/// The suite file at HEAD as the gate may open it: a regular file inside the working tree,
/// reached through no symbolic link.
struct HeadSuite {
  std::string path;                          // relative to the top of the repository
  std::optional<std::filesystem::path> file; // set when there is a file the gate may open
  std::optional<std::string> refused;        // why what is there cannot be the suite
};
HeadSuite head_suite(const std::filesystem::path& repo_root, const std::string& path);

/// HEAD's suite as the gate compares (and --run-now runs) it: where HEAD's evalkeep.toml puts it
/// (the base's path when HEAD's config cannot be read, or --suite when given), checked by
/// head_suite.
HeadSuite locate_head_suite(const suite::Workspace& ws, const Base& base);

} // namespace evalkeep::gate
