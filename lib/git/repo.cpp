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

bool is_tracked(const fs::path& dir, const fs::path& path) {
  auto r = run_git(dir, {"ls-files", "--error-unmatch", "--", path.string()});
  return r && r->exit_code == 0;
}

Result<std::string> resolve(const fs::path& dir, const std::string& rev) {
  auto r = TRY(run_git(dir, {"rev-parse", "--verify", "-q", rev + "^{commit}"}));
  if (r.exit_code != 0 || r.out.size() < 40)
    return invalid("unknown git revision '{}'", rev);
  return r.out.substr(0, r.out.find('\n'));
}

Result<std::string> merge_base(const fs::path& dir, const std::string& a, const std::string& b) {
  // An unknown name is a typo or a missing fetch, not a lack of common history: say which.
  for (const auto& rev : {a, b})
    if (auto r = resolve(dir, rev); !r)
      return with_hint(std::unexpected(r.error()), rev == "HEAD"
                                                       ? "commit something first"
                                                       : "check the name, or fetch it (in CI: "
                                                         "fetch-depth: 0 fetches every branch)");
  auto r = TRY(run_git(dir, {"merge-base", a, b}));
  if (r.exit_code != 0 || r.out.size() < 40)
    return with_hint(invalid("no common ancestor of '{}' and '{}'", a, b),
                     "fetch the full history (in CI: fetch-depth: 0)");
  return r.out.substr(0, r.out.find('\n'));
}

Result<std::optional<std::string>> read_text_at(const fs::path& dir, const std::string& rev,
                                                const std::string& path) {
  // ls-tree tells what the entry is ("100644 blob SHA\tpath"); cat-file of a symbolic link
  // would give its target's name, and of a folder an error.
  auto entry = TRY(run_git(dir, {"ls-tree", "-z", rev, "--", path}));
  if (entry.exit_code != 0)
    return fail(ExitCode::environment, "git ls-tree {} {} failed: {}", rev, path, entry.err);
  if (entry.out.empty())
    return std::optional<std::string>();
  auto tab = entry.out.find('\t');
  auto fields = entry.out.substr(0, tab);
  if (tab == std::string::npos || fields.size() < 12)
    return fail(ExitCode::environment, "git ls-tree {} {}: unexpected output", rev, path);
  auto mode = fields.substr(0, fields.find(' '));
  if (mode == "120000")
    return invalid("'{}' at {} is a symbolic link, not a file", path, rev.substr(0, 12));
  if (mode != "100644" && mode != "100755")
    return invalid("'{}' at {} is not a file", path, rev.substr(0, 12));
  auto blob = fields.substr(fields.rfind(' ') + 1);
  auto r = TRY(run_git(dir, {"cat-file", "blob", blob}));
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git cat-file {}:{} failed: {}", rev, path, r.err);
  return std::optional(std::move(r.out));
}

Result<bool> read_file_at(const fs::path& dir, const std::string& rev, const std::string& path,
                          const fs::path& dest) {
  auto text = TRY(read_text_at(dir, rev, path));
  if (!text)
    return false;
  std::ofstream out(dest, std::ios::binary);
  out.write(text->data(), static_cast<std::streamsize>(text->size()));
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", dest.string());
  return true;
}

Result<std::vector<Commit>> file_history(const fs::path& dir, const std::string& path) {
  auto r = TRY(run_git(dir, {"log", "--reverse", "--format=%H%x09%cI%x09%s", "--", path}));
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git log failed: {}", r.err);
  std::vector<Commit> out;
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    auto end = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? r.out.size() : end + 1;
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos)
      continue;
    out.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)});
  }
  return out;
}

Result<std::optional<MergeStages>> merge_stages(const fs::path& dir, const fs::path& path) {
  auto r = TRY(run_git(dir, {"ls-files", "-u", "-z", "--", path.string()}));
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git ls-files -u {} failed: {}", path.string(), r.err);
  if (r.out.empty())
    return std::optional<MergeStages>();
  // One entry a stage: "MODE SHA STAGE\tPATH\0".
  MergeStages stages;
  for (std::size_t at = 0; at < r.out.size();) {
    auto end = r.out.find('\0', at);
    std::string_view entry(r.out.data() + at, (end == std::string::npos ? r.out.size() : end) - at);
    at = end == std::string::npos ? r.out.size() : end + 1;
    auto fields = entry.substr(0, entry.find('\t'));
    auto first = fields.find(' '), last = fields.rfind(' ');
    if (first == std::string_view::npos || last <= first)
      return fail(ExitCode::environment, "git ls-files -u {}: unexpected output", path.string());
    std::string id(fields.substr(first + 1, last - first - 1));
    auto stage = fields.substr(last + 1);
    (stage == "1" ? stages.base : stage == "2" ? stages.ours : stages.theirs) = std::move(id);
  }
  return std::optional(std::move(stages));
}

Status write_blob(const fs::path& dir, const std::string& id, const fs::path& dest) {
  auto r = TRY(run_git(dir, {"cat-file", "blob", id}));
  if (r.exit_code != 0)
    return fail(ExitCode::environment, "git cat-file blob {} failed: {}", id, r.err);
  std::ofstream out(dest, std::ios::binary);
  out.write(r.out.data(), static_cast<std::streamsize>(r.out.size()));
  out.close();
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", dest.string());
  return {};
}

Result<std::string> blob_id(const fs::path& dir, const fs::path& file) {
  auto r = TRY(run_git(dir, {"hash-object", "--", file.string()}));
  if (r.exit_code != 0 || r.out.size() < 40)
    return fail(ExitCode::environment, "git hash-object {} failed: {}", file.string(), r.err);
  return r.out.substr(0, r.out.find('\n'));
}

} // namespace evalkeep::git
