#include "cli/context.hpp"

#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace fs = std::filesystem;

namespace {

struct InitOptions {
  std::string suite_path = "evals/suite.db";
};

// Appends `line` to a line-based file unless it is already there.
Status ensure_line(const fs::path& file, const std::string& line, bool& changed) {
  std::ifstream in(file);
  std::string existing, l;
  while (std::getline(in, l)) {
    if (l == line)
      return {};
    existing += l + "\n";
  }
  std::ofstream out(file, std::ios::app);
  if (!existing.empty() && existing.back() != '\n')
    out << '\n';
  out << line << '\n';
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", file.string());
  changed = true;
  return {};
}

Status run_init(Context& ctx, const InitOptions& opts) {
  auto ws = ctx.workspace();
  if (!ws)
    return std::unexpected(ws.error());
  auto& w = **ws;
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
    auto s = suite::Suite::open(w.suite_path, suite::Suite::Access::read);
    if (!s)
      return std::unexpected(s.error());
    ctx.say("suite already exists at {}", w.suite_path.string());
  } else {
    auto s = suite::Suite::create(w.suite_path);
    if (!s)
      return std::unexpected(s.error());
    ctx.say("created suite {}", w.suite_path.string());
  }
  if (w.in_git) {
    bool changed = false;
    if (auto r = ensure_line(w.root / ".gitignore", ".evalkeep/", changed); !r)
      return r;
    if (changed)
      ctx.say("added .evalkeep/ to .gitignore");
  }
  return {};
}

} // namespace

void add_init_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create evalkeep.toml and an empty suite");
  cmd->add_option("--suite-path", opts->suite_path,
                  "Where the new suite goes, relative to the project root")
      ->capture_default_str();
  cmd->footer("Example:\n  evalkeep init\n  evalkeep init --suite-path qa/evals.db");
  cmd->callback([&ctx, opts] { ctx.run([&] { return run_init(ctx, *opts); }); });
}

} // namespace evalkeep::cli
