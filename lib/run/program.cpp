#include "run/program.hpp"

#include "core/process.hpp"
#include "git/repo.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sys/stat.h>

namespace evalkeep::run {

namespace fs = std::filesystem;

namespace {

// Files up to this size are identified by their content; larger ones (a model's weights left in
// the tree, a big binary) by size and modification time, so a run never reads gigabytes first.
constexpr std::uintmax_t k_max_hashed_bytes = 16u << 20;

// What identifies a file a command names: its content, or for a large one its size and
// modification time. Symlinks are followed: what runs is the file they point to.
std::string file_identity(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return "absent";
  if (static_cast<std::uintmax_t>(st.st_size) > k_max_hashed_bytes)
    return fmt::format("size {} mtime {}.{:09}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (!in && !in.eof())
    return "unreadable";
  return core::to_hex(core::sha256(bytes));
}

// `git hash-object --stdin-paths` in the repository: the ids git would give these files, one a
// line, written nowhere.
Result<core::ProcessResult> hash_objects(const fs::path& root, const std::string& paths) {
  core::ProcessOptions options;
  options.cwd = root;
  options.stdin_data = paths;
  return core::run_process({"git", "hash-object", "--stdin-paths"}, options);
}

// A path relative to the repository root, or nothing when it is outside it.
std::optional<std::string> inside(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  auto rel = fs::weakly_canonical(p, ec).lexically_relative(root);
  if (ec || rel.empty() || *rel.begin() == "..")
    return std::nullopt;
  return rel.generic_string();
}

// The repository-relative paths the digest leaves out.
struct Exclusions {
  std::set<std::string, std::less<>> files;
  std::vector<std::string> dirs;

  bool excludes(std::string_view path) const {
    if (files.contains(path))
      return true;
    return std::ranges::any_of(dirs, [&](const std::string& d) {
      return path == d || (path.starts_with(d) && path.size() > d.size() && path[d.size()] == '/');
    });
  }
};

Exclusions exclusions(const fs::path& root, const ProgramScope& scope) {
  Exclusions e;
  for (const auto& f : scope.excluded_files)
    if (auto rel = inside(root, f))
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) // SQLite's companion files
        e.files.insert(*rel + suffix);
  for (const auto& d : scope.excluded_dirs)
    if (auto rel = inside(root, d))
      e.dirs.push_back(*rel);
  return e;
}

// Splits git's -z output into its records.
std::vector<std::string_view> records(std::string_view out) {
  std::vector<std::string_view> r;
  while (!out.empty()) {
    auto end = out.find('\0');
    r.push_back(out.substr(0, end));
    out = end == std::string_view::npos ? std::string_view() : out.substr(end + 1);
  }
  return r;
}

// The working tree's files as git would store them, by path: HEAD's entries, then each file that
// differs from HEAD (staged, unstaged, untracked and not ignored) with the object id git would
// give its content now, or removed when it is gone. Committing a change leaves this as it was.
std::optional<std::map<std::string, std::string, std::less<>>> tree_on_disk(const fs::path& root,
                                                                            const Exclusions& ex) {
  // HEAD's listing and the changes at once; neither takes the index lock.
  auto tree = std::async(std::launch::async, [&] {
    return git::run_git(root, {"ls-tree", "-r", "-z", "--full-tree", "HEAD"});
  });
  auto status = git::run_git(root, {"--no-optional-locks", "status", "--porcelain=v1", "-z",
                                    "--untracked-files=all", "--no-renames"});
  auto listed = tree.get();
  if (!status || status->exit_code != 0 || !listed)
    return std::nullopt;
  // No listing: a repository without commits (every file shows as untracked), or git cannot tell.
  if (listed->exit_code != 0 && git::head(root))
    return std::nullopt;

  std::map<std::string, std::string, std::less<>> files;
  if (listed->exit_code == 0)
    for (auto entry : records(listed->out)) { // MODE TYPE ID\tPATH
      auto tab = entry.find('\t');
      auto id = entry.rfind(' ', tab);
      if (tab == std::string_view::npos || id == std::string_view::npos)
        return std::nullopt;
      if (!ex.excludes(entry.substr(tab + 1)))
        files.emplace(entry.substr(tab + 1), entry.substr(id + 1, tab - id - 1));
    }
  std::vector<std::string> changed;         // regular files, hashed by git below
  for (auto entry : records(status->out)) { // XY PATH
    if (entry.size() < 4 || ex.excludes(entry.substr(3)))
      continue;
    std::string path(entry.substr(3));
    struct stat st {};
    if (::lstat((root / path).c_str(), &st) != 0) {
      files.erase(path);
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      files[path] = "link " + fs::read_symlink(root / path, ec).string();
    } else if (S_ISDIR(st.st_mode)) {
      return std::nullopt; // a submodule checked out at another commit, or changed inside
    } else if (static_cast<std::uintmax_t>(st.st_size) > k_max_hashed_bytes) {
      files[path] =
          fmt::format("size {} mtime {}.{:09}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    } else {
      changed.push_back(std::move(path));
    }
  }
  if (changed.empty())
    return files;
  // The ids git would store, its filters applied (line endings, clean filters), written nowhere.
  std::string paths;
  for (const auto& c : changed)
    paths += c + "\n";
  auto ids = hash_objects(root, paths);
  if (!ids || ids->exit_code != 0)
    return std::nullopt;
  std::size_t pos = 0;
  for (const auto& c : changed) {
    auto end = ids->out.find('\n', pos);
    if (end == std::string::npos)
      return std::nullopt;
    files[c] = ids->out.substr(pos, end - pos);
    pos = end + 1;
  }
  return files;
}

} // namespace

std::optional<core::Digest> identify_program(const ProgramScope& scope) {
  auto found = git::find_root(scope.root);
  if (!found)
    return std::nullopt;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(*found, ec);
  if (ec)
    return std::nullopt;
  auto files = tree_on_disk(root, exclusions(root, scope));
  if (!files)
    return std::nullopt;
  std::string text = "evalkeep exec program 1\n";
  for (const auto& [path, id] : *files)
    text += fmt::format("{}\t{}\n", path, id);
  text += "commands\n";
  for (const auto& command : scope.commands)
    for (const auto& arg : command)
      if (arg.find('/') != std::string::npos && fs::is_regular_file(arg, ec))
        text += fmt::format("{}\t{}\n", arg, file_identity(arg));
  return core::sha256(text);
}

} // namespace evalkeep::run
