#include "cli/context.hpp"
#include "git/attributes.hpp"
#include "git/repo.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace fs = std::filesystem;

namespace {

struct InitOptions {
  std::string suite_path = "evals/suite.db";
  bool git_only = false;
};

// `word` as one shell word: git runs textconv and merge drivers through the shell.
std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789/._+-") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// How git should call this evalkeep. A bare `evalkeep` survives upgrades and reinstalls, but only
// when PATH finds this very binary; otherwise (a build tree, a copy outside PATH, an older
// install earlier on PATH) the absolute path of the running executable, from /proc/self/exe, so
// that `git diff` runs the evalkeep that set it up. The config is local to this clone, so an
// absolute path never reaches anyone else; re-running `evalkeep init --git-only` updates it.
std::string evalkeep_command() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec || self.empty())
    return "evalkeep";
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      auto dir = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (dir.empty() || dir.front() != '/')
        continue; // a relative PATH entry depends on where git runs the command
      fs::path candidate = fs::path(dir) / "evalkeep";
      if (fs::exists(candidate, ec) && fs::equivalent(candidate, self, ec) && !ec)
        return "evalkeep";
      // The first evalkeep on PATH is the one a bare name would run.
      if (fs::exists(candidate, ec))
        break;
    }
  }
  return shell_word(self.string());
}

// The .gitattributes line, .evalkeep/ in .gitignore and the diff and merge drivers in the
// repository's config. Says what changed, or that nothing needed to. A suite outside the
// repository is an error for --git-only and a warning for a plain init.
Status setup_git(Context& ctx, const suite::Workspace& w, bool git_only) {
  auto root = git::find_root(w.root);
  if (!root)
    return invalid("'{}' is not inside a git repository", w.root.string());
  auto relative = w.suite_path.lexically_relative(*root);
  bool inside = !relative.empty() && *relative.begin() != "..";
  if (!inside && git_only)
    return invalid("the suite '{}' is outside the git repository at '{}'", w.suite_path.string(),
                   root->string());
  bool changed = false;
  auto ignored = TRY(git::ensure_line(w.root / ".gitignore", ".evalkeep/"));
  if (ignored) {
    ctx.say("added .evalkeep/ to .gitignore");
    changed = true;
  }
  if (!inside) {
    ctx.warn("the suite '{}' is outside the git repository; git's diff and merge drivers are not "
             "set up for it",
             w.suite_path.string());
    return {};
  }
  const auto evalkeep = evalkeep_command();
  git::FileDriver driver{
      .name = "evalkeep",
      .file = w.suite_path,
      .textconv = evalkeep + " dump",
      // The text depends on the evalkeep that makes it; a cache would outlive an upgrade.
      .cache_textconv = false,
      .merge_name = "evalkeep three-way merge of the suite",
      .merge_driver = evalkeep + " merge-driver %O %A %B %P",
      .extra = {"-text"},
  };
  auto installed = git::install_driver(*root, driver);
  if (!installed)
    return with_context(installed.error(), "set up git for the suite");
  for (const auto& what : *installed)
    ctx.say("{}", what);
  if (!changed && installed->empty())
    ctx.say("git is already set up for {}", relative.generic_string());
  return {};
}

Status run_init(Context& ctx, const InitOptions& opts) {
  auto ws = TRY(ctx.workspace());
  auto& w = *ws;
  if (opts.git_only) {
    if (!w.in_git)
      return with_hint(invalid("not inside a git repository: --git-only sets up git for a suite "
                               "in a repository"),
                       "run it inside the clone, or use 'evalkeep init' for a suite outside git");
    return setup_git(ctx, w, true);
  }
  fs::path config = w.root / "evalkeep.toml";
  std::error_code ec;
  if (!w.config_file) {
    std::ofstream out(config);
    out << suite::default_config_text(opts.suite_path);
    if (!out)
      return fail(ExitCode::environment, "cannot write '{}'", config.string());
    ctx.say("wrote {}", config.string());
    if (!ctx.suite_override)
      w.suite_path = (w.root / opts.suite_path).lexically_normal();
  }
  if (fs::exists(w.suite_path, ec)) {
    TRY(suite::Suite::open(w.suite_path, suite::Suite::Access::read));
    ctx.say("suite already exists at {}", w.suite_path.string());
  } else {
    TRY(suite::Suite::create(w.suite_path));
    ctx.say("created suite {}", w.suite_path.string());
  }
  if (w.in_git)
    return setup_git(ctx, w, false);
  return {};
}

} // namespace

void add_init_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand(
      "init", "Create evalkeep.toml and an empty suite, and set up git to diff and merge it");
  auto* path = cmd->add_option("--suite-path", opts->suite_path,
                               "Where the new suite goes, relative to the project root")
                   ->capture_default_str();
  cmd->add_flag("--git-only", opts->git_only,
                "Only set up git (.gitattributes, .gitignore, diff and merge drivers): once in "
                "every clone of a repository that has a suite")
      ->excludes(path);
  cmd->footer("Example:\n  evalkeep init\n  evalkeep init --suite-path qa/evals.db\n"
              "  evalkeep init --git-only      # in a fresh clone");
  cmd->callback([&ctx, opts] { ctx.run([&] { return run_init(ctx, *opts); }); });
}

} // namespace evalkeep::cli
