#include "git/config.hpp"

#include "core/process.hpp"
#include "git/repo.hpp"

#include <vector>

namespace evalkeep::git {

namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

} // namespace

Result<std::optional<std::string>> local_config(const fs::path& dir, const std::string& key) {
  auto r = TRY(run_git(dir, {"config", "--local", "--get", key}));
  // git config --get exits 1 when the key is not set.
  if (r.exit_code == 1)
    return std::optional<std::string>();
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git config --get {} failed: {}", key, first_line(r.err));
  auto value = r.out;
  if (value.ends_with('\n'))
    value.pop_back();
  return std::optional<std::string>(std::move(value));
}

Result<bool> ensure_local_config(const fs::path& dir, const std::string& key,
                                 const std::string& value) {
  auto current = TRY(local_config(dir, key));
  if (current == value)
    return false;
  auto r = TRY(run_git(dir, {"config", "--local", key, value}));
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git config {} failed: {}", key, first_line(r.err));
  return true;
}

} // namespace evalkeep::git
