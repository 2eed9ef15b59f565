#include "git/repo.hpp"

#include "core/process.hpp"

#include <fstream>

namespace evalkeep::git {

namespace fs = std::filesystem;

Result<core::ProcessResult> run_git(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "git");
  core::ProcessOptions options;
  options.cwd = dir;
  return core::run_process(args, options);
}

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
  auto r = run_git(dir, {"config", "--get-regexp", "^user\\.(name|email)$"});
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
  auto r = run_git(dir, {"rev-parse", "--verify", "-q", "HEAD"});
  if (!r || r->exit_code != 0 || r->out.size() < 40)
    return std::nullopt;
  return r->out.substr(0, r->out.find('\n'));
}

std::optional<std::string> branch(const fs::path& dir) {
  auto r = run_git(dir, {"symbolic-ref", "--short", "-q", "HEAD"});
  if (!r || r->exit_code != 0 || r->out.empty())
    return std::nullopt;
  return r->out.substr(0, r->out.find('\n'));
}

bool is_dirty(const fs::path& dir) {
  // --no-optional-locks: status would otherwise refresh the index under .git/index.lock, and a
  // user's git command run at the same moment would fail on the lock.
  auto r = run_git(dir, {"--no-optional-locks", "status", "--porcelain", "--untracked-files=no"});
  return r && r->exit_code == 0 && !r->out.empty();
}

Result<std::string> resolve(const fs::path& dir, const std::string& rev) {
  auto r = run_git(dir, {"rev-parse", "--verify", "-q", rev + "^{commit}"});
  if (!r)
    return std::unexpected(r.error());
  if (r->exit_code != 0 || r->out.size() < 40)
    return invalid("unknown git revision '{}'", rev);
  return r->out.substr(0, r->out.find('\n'));
}

Result<std::string> merge_base(const fs::path& dir, const std::string& a, const std::string& b) {
  auto r = run_git(dir, {"merge-base", a, b});
  if (!r)
    return std::unexpected(r.error());
  if (r->exit_code != 0 || r->out.size() < 40)
    return with_hint(invalid("no common ancestor of '{}' and '{}'", a, b),
                     "fetch the full history (in CI: fetch-depth: 0)");
  return r->out.substr(0, r->out.find('\n'));
}

Result<bool> read_file_at(const fs::path& dir, const std::string& rev, const std::string& path,
                          const fs::path& dest) {
  auto exists = run_git(dir, {"cat-file", "-e", rev + ":" + path});
  if (!exists)
    return std::unexpected(exists.error());
  if (exists->exit_code != 0)
    return false;
  auto r = run_git(dir, {"cat-file", "blob", rev + ":" + path});
  if (!r)
    return std::unexpected(r.error());
  if (r->exit_code != 0)
    return fail(ExitCode::environment, "git cat-file {}:{} failed: {}", rev, path, r->err);
  std::ofstream out(dest, std::ios::binary);
  out.write(r->out.data(), static_cast<std::streamsize>(r->out.size()));
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", dest.string());
  return true;
}

Result<std::vector<Commit>> file_history(const fs::path& dir, const std::string& path) {
  auto r = run_git(dir, {"log", "--reverse", "--format=%H%x09%cI%x09%s", "--", path});
  if (!r)
    return std::unexpected(r.error());
  if (r->exit_code != 0)
    return fail(ExitCode::environment, "git log failed: {}", r->err);
  std::vector<Commit> out;
  std::size_t pos = 0;
  while (pos < r->out.size()) {
    auto end = r->out.find('\n', pos);
    std::string line = r->out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? r->out.size() : end + 1;
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos)
      continue;
    out.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)});
  }
  return out;
}

} // namespace evalkeep::git
