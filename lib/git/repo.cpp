#include "git/repo.hpp"

#include "core/process.hpp"

namespace evalkeep::git {

namespace fs = std::filesystem;

namespace {

Result<core::ProcessResult> git(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "git");
  core::ProcessOptions options;
  options.cwd = dir;
  return core::run_process(args, options);
}

} // namespace

std::optional<fs::path> find_root(const fs::path& start) {
  std::error_code ec;
  for (fs::path dir = fs::absolute(start, ec); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec))
      return dir;
    if (dir == dir.root_path())
      break;
  }
  return std::nullopt;
}

std::optional<std::string> identity(const fs::path& dir) {
  auto r = git(dir, {"config", "--get-regexp", "^user\\.(name|email)$"});
  if (!r || r->exit_code != 0)
    return std::nullopt;
  std::string name, email;
  std::size_t pos = 0;
  while (pos < r->out.size()) {
    auto end = r->out.find('\n', pos);
    std::string_view line(r->out.data() + pos,
                          (end == std::string::npos ? r->out.size() : end) - pos);
    pos = end == std::string::npos ? r->out.size() : end + 1;
    // Later lines win, as in git's own lookup order (system, global, local).
    if (line.starts_with("user.name "))
      name = line.substr(10);
    else if (line.starts_with("user.email "))
      email = line.substr(11);
  }
  if (name.empty() || email.empty())
    return std::nullopt;
  return fmt::format("{} <{}>", name, email);
}

std::optional<std::string> head(const fs::path& dir) {
  auto r = git(dir, {"rev-parse", "--verify", "-q", "HEAD"});
  if (!r || r->exit_code != 0 || r->out.size() < 40)
    return std::nullopt;
  return r->out.substr(0, r->out.find('\n'));
}

std::optional<std::string> branch(const fs::path& dir) {
  auto r = git(dir, {"symbolic-ref", "--short", "-q", "HEAD"});
  if (!r || r->exit_code != 0 || r->out.empty())
    return std::nullopt;
  return r->out.substr(0, r->out.find('\n'));
}

bool is_dirty(const fs::path& dir) {
  auto r = git(dir, {"status", "--porcelain", "--untracked-files=no"});
  return r && r->exit_code == 0 && !r->out.empty();
}

} // namespace evalkeep::git
