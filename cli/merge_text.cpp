#include "cli/merge_text.hpp"

#include "core/terminal.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace evalkeep::cli {

namespace {

std::string indented(const std::string& text) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    auto end = nl == std::string::npos ? text.size() : nl + 1;
    out += "    " + text.substr(at, end - at);
    at = end;
  }
  return out;
}

} // namespace

void print_diagnostic(std::string_view text) {
  auto shown = core::for_terminal(text);
  std::fwrite(shown.data(), 1, shown.size(), stderr);
}

std::string counted(std::size_t n, std::string_view what) {
  return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

std::string merge_summary(const suite::MergeOutcome& outcome) {
  return fmt::format("{} and {} from theirs, {} chained after ours",
                     counted(outcome.cases_taken, "case"),
                     counted(outcome.incidents_taken, "incident"),
                     counted(outcome.events_carried, "ledger event"));
}

void print_conflicts(const suite::MergeOutcome& outcome, std::string_view path) {
  std::string text = fmt::format("evalkeep: {} in {}; ours is left in place\n",
                                 counted(outcome.conflicts.size(), "conflicting record"), path);
  std::string example;
  for (const auto& c : outcome.conflicts) {
    text += fmt::format("\nconflict: {} {} changed differently on both sides\n  ours:\n{}"
                        "  theirs:\n{}",
                        c.kind, c.id, indented(c.ours), indented(c.theirs));
    example += fmt::format(" --ours {}", c.id);
  }
  text += fmt::format("\nTo settle them, keep one side's version of each record (--ours ID or "
                      "--theirs ID)\nand merge everything else, then commit:\n"
                      "  evalkeep merge-resolve{}\n  git add {} && git commit\n"
                      "Checking out one side's file (git checkout --ours) would drop the other "
                      "side's\nother changes, and the gate would fail the result.\n",
                      example, path);
  print_diagnostic(text);
}

} // namespace evalkeep::cli
