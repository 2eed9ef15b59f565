#include "cli/context.hpp"

#include "report/gate_report.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>

namespace evalkeep::cli {

void print_text(std::string_view text) {
  auto shown = core::for_terminal(text);
  std::fwrite(shown.data(), 1, shown.size(), stdout);
}

void print_error(const Error& e) {
  fmt::print(stderr, "evalkeep: error: {}\n", core::for_terminal(e.message));
  if (!e.hint.empty())
    fmt::print(stderr, "hint: {}\n", core::for_terminal(e.hint));
  // Under GitHub Actions an error also becomes an annotation, so a gate that cannot even read
  // the pull request's suite shows on the pull request like a broken rule does.
  if (const char* gha = std::getenv("GITHUB_ACTIONS"); gha && std::string_view(gha) == "true")
    fmt::print(stderr, "::error title=evalkeep::{}\n",
               report::annotation_text(
                   e.hint.empty() ? e.message : fmt::format("{} (hint: {})", e.message, e.hint)));
}

void Context::run(const std::function<Status()>& body) {
  try {
    auto s = body();
    if (!s) {
      print_error(s.error());
      m_exit_code = static_cast<int>(s.error().code);
    }
  } catch (const std::exception& e) {
    print_error({ExitCode::environment, fmt::format("unexpected failure: {}", e.what()), {}});
    m_exit_code = static_cast<int>(ExitCode::environment);
  }
}

Result<suite::Workspace*> Context::workspace() {
  if (!m_workspace) {
    auto ws =
        TRY(suite::find_workspace(std::filesystem::current_path(), suite_override, config_errors));
    m_workspace = std::move(ws);
  }
  return &*m_workspace;
}

Result<suite::Suite> Context::open_suite(suite::Suite::Access access) {
  auto ws = TRY(workspace());
  return suite::Suite::open(ws->suite_path, access);
}

Result<Context::Writer> Context::writer() {
  auto ws = TRY(workspace());
  auto s = TRY(suite::Suite::open(ws->suite_path, suite::Suite::Access::write));
  // In a statement of its own: a TRY returning from inside the Writer's braces would leave the
  // members already built (the open suite) undestroyed.
  auto origin = TRY(suite::current_origin(*ws));
  return Writer{ws, std::move(s), std::move(origin)};
}

Result<suite::Origin> Context::origin() {
  auto ws = TRY(workspace());
  return suite::current_origin(*ws);
}

Result<std::filesystem::path> Context::runs_path() {
  if (runs_db && !runs_db->empty())
    return std::filesystem::absolute(*runs_db);
  auto ws = TRY(workspace());
  return ws->root / ".evalkeep" / "runs.db";
}

Result<std::string> read_input(const std::string& path, std::size_t max_bytes,
                               std::string_view limit) {
  std::string text;
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_bytes)
      return invalid("'{}' is {}, more than the {} {}", path, megabytes(size), megabytes(max_bytes),
                     limit);
    file.open(path, std::ios::binary);
    if (!file)
      return fail(ExitCode::usage, "cannot read '{}'", path);
    if (!ec)
      text.reserve(size);
    in = &file;
  }
  // In chunks, and never more than one past the limit: stdin has no size to check first.
  char chunk[1 << 16];
  while (in->read(chunk, sizeof chunk) || in->gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in->gcount()));
    if (text.size() > max_bytes)
      return invalid("{} holds more than the {} {}", path == "-" ? "stdin" : "'" + path + "'",
                     megabytes(max_bytes), limit);
  }
  if (in->bad())
    return fail(ExitCode::environment, "error reading '{}'", path);
  return text;
}

} // namespace evalkeep::cli
