#include "cli/context.hpp"
#include "suite/dump.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace evalkeep::cli {

namespace {

struct DumpOptions {
  std::string file; // empty: the workspace's suite
};

// Reads an SQLite file once from start to end and forgets it. SQLite then reads pages in B-tree
// order, which on a file not in the page cache is random I/O: a cold 100,000-case suite took
// three times as long here, and minutes once while other builds kept the disk busy. One
// sequential pass first fills the cache. Anything else is left to Suite::open_untrusted to refuse.
void read_ahead(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chunk(1 << 20);
  constexpr std::string_view k_magic("SQLite format 3\0", 16);
  if (!in.read(chunk.data(), k_magic.size()) ||
      std::string_view(chunk.data(), k_magic.size()) != k_magic)
    return;
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
  }
}

Status run_dump(Context& ctx, const DumpOptions& o) {
  std::filesystem::path path = o.file;
  if (path.empty()) {
    auto ws = ctx.workspace();
    if (!ws)
      return std::unexpected(ws.error());
    path = (*ws)->suite_path;
  }
  // git hands the textconv a copy of whatever was committed, by anyone: open it as untrusted,
  // and never look for evalkeep.toml when a file is given, so a broken config cannot break
  // `git diff`.
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return with_hint(invalid("no suite at '{}'", path.string()),
                     o.file.empty() ? "run 'evalkeep init' to create one, or pass a suite file"
                                    : "pass the path of a suite file, e.g. evals/suite.db");
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 &&
      !ec)
    return invalid("'{}' is empty, not a suite", path.string());
  read_ahead(path);
  auto s = suite::Suite::open_untrusted(path);
  if (!s)
    return std::unexpected(s.error());
  return suite::dump(*s, std::cout);
}

} // namespace

void add_git_commands(CLI::App& app, Context& ctx) {
  auto dump = std::make_shared<DumpOptions>();
  auto* cmd =
      app.add_subcommand("dump", "Print a suite as deterministic text, as git diff shows it");
  cmd->add_option("file", dump->file, "Suite file (default: the project's suite)");
  cmd->footer("Example:\n  evalkeep dump\n  git show HEAD~1:evals/suite.db > /tmp/old.db && "
              "evalkeep dump /tmp/old.db\n\nA header line, then incidents, cases and retirement "
              "decisions sorted by id,\nthen the ledger's events in order; a value's further "
              "lines start with '| '.\n'evalkeep init' registers this as git's textconv for the "
              "suite.");
  cmd->callback([&ctx, dump] { ctx.run([&] { return run_dump(ctx, *dump); }); });
}

} // namespace evalkeep::cli
