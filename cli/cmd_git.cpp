#include "cli/context.hpp"
#include "cli/merge_text.hpp"
#include "suite/dump.hpp"
#include "suite/merge.hpp"

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
  bool exact = false;
};

// Reads an SQLite file once from start to end and forgets it. SQLite then reads pages in B-tree
// order, which on a file not in the page cache is random I/O: a cold 100,000-case suite took
// three times as long here, and minutes once while other builds kept the disk busy. One
// sequential pass first fills the cache. Anything else is left to Suite::open_untrusted to refuse.
void read_ahead(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) // opening a FIFO to read it would block
    return;
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
  // What git diff shows a reviewer is text for people: control characters a suite holds (an ESC
  // in a rationale) are shown, not obeyed. Repositories whose config an older `init` wrote run
  // plain `evalkeep dump` as their textconv, so this is the default and --exact the choice.
  return suite::dump(*s, std::cout, o.exact ? suite::DumpText::exact : suite::DumpText::visible);
}

struct MergeOptions {
  std::string base, ours, theirs, path;
};

// Git runs this for a suite changed on both sides of a merge: it must write the result to `ours`
// and exit 0, or leave `ours` as it was and exit non-zero to mark the file conflicted.
Status run_merge_driver(Context& ctx, const MergeOptions& o) {
  auto outcome = suite::merge_suites(o.base, o.ours, o.theirs);
  if (!outcome)
    return std::unexpected(outcome.error());
  std::string name = o.path.empty() ? o.ours : o.path;
  if (outcome->conflicts.empty()) {
    print_diagnostic(fmt::format("evalkeep: merged {}: {}\n", name, merge_summary(*outcome)));
    return {};
  }
  print_conflicts(*outcome, name);
  ctx.set_exit_code(ExitCode::refused);
  return {};
}

} // namespace

void add_git_commands(CLI::App& app, Context& ctx) {
  auto dump = std::make_shared<DumpOptions>();
  auto* cmd =
      app.add_subcommand("dump", "Print a suite as deterministic text, as git diff shows it");
  cmd->add_option("file", dump->file, "Suite file (default: the project's suite)");
  cmd->add_flag("--exact", dump->exact,
                "Write the suite's text byte for byte, control characters included");
  cmd->footer("Example:\n  evalkeep dump\n  git show HEAD~1:evals/suite.db > /tmp/old.db && "
              "evalkeep dump /tmp/old.db\n\nA header line, then incidents, cases and retirement "
              "decisions sorted by id,\nthen the ledger's events in order; a value's further "
              "lines start with '| '.\nControl characters show in caret notation ('^[' for ESC) "
              "unless --exact is given.\n'evalkeep init' registers this as git's textconv for "
              "the suite.");
  cmd->callback([&ctx, dump] { ctx.run([&] { return run_dump(ctx, *dump); }); });

  auto merge = std::make_shared<MergeOptions>();
  cmd = app.add_subcommand("merge-driver",
                           "Merge a suite changed on two branches (git's merge driver for it)");
  cmd->add_option("base", merge->base, "The common ancestor's suite (%O; may be empty)")
      ->required();
  cmd->add_option("ours", merge->ours, "Our suite, replaced by the merge (%A)")->required();
  cmd->add_option("theirs", merge->theirs, "Their suite (%B)")->required();
  cmd->add_option("path", merge->path, "The suite's path in the repository (%P), for messages");
  cmd->footer(
      "Example, as 'evalkeep init' registers it in git's config:\n"
      "  evalkeep merge-driver %O %A %B %P\n\n"
      "Cases (with their retirement decisions) and incidents merge by id: a change on one\n"
      "side applies, the same change on both sides is fine, different changes to one record\n"
      "are a conflict (exit 1, ours left in place, both versions printed; settle it with\n"
      "'evalkeep merge-resolve'). The ledger becomes the common prefix, our new events, then\n"
      "their new events chained anew; the result passes 'evalkeep verify' before it replaces\n"
      "ours.");
  cmd->callback([&ctx, merge] { ctx.run([&] { return run_merge_driver(ctx, *merge); }); });
}

} // namespace evalkeep::cli
