#include "git/attributes.hpp"

#include "git/config.hpp"

#include <fstream>
#include <sstream>

namespace evalkeep::git {

namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    auto start = line.find_first_not_of(" \t\r", pos);
    if (start == std::string_view::npos)
      break;
    auto end = line.find_first_of(" \t\r", start);
    if (end == std::string_view::npos)
      end = line.size();
    out.push_back(line.substr(start, end - start));
    pos = end;
  }
  return out;
}

} // namespace

Result<bool> ensure_line(const fs::path& file, const std::string& line) {
  std::string existing;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return fail(ExitCode::environment, "cannot read '{}'", file.string());
    std::ostringstream buf;
    buf << in.rdbuf();
    existing = std::move(buf).str();
  }
  const auto wanted = words(line);
  std::string_view rest = existing;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (words(rest.substr(0, nl)) == wanted)
      return false;
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  std::ofstream out(file, std::ios::binary | std::ios::app);
  if (!existing.empty() && existing.back() != '\n')
    out << '\n';
  out << line << '\n';
  out.close();
  if (!out)
    return fail(ExitCode::environment, "cannot write '{}'", file.string());
  return true;
}

std::string attributes_pattern(const std::string& relative_path) {
  std::string pattern;
  bool quote = false;
  for (char c : relative_path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\')
      pattern += '\\';
    if (c == ' ' || c == '\t' || c == '"')
      quote = true;
    pattern += c;
  }
  if (!quote)
    return pattern;
  // gitattributes(5): a pattern starting with a double quote is unquoted C-style first, then
  // matched as a glob, so the glob escapes above get their own backslash.
  std::string quoted = "\"";
  for (char c : pattern) {
    if (c == '\\' || c == '"')
      quoted += '\\';
    quoted += c == '\t' ? std::string("\\t") : std::string(1, c);
  }
  return quoted + "\"";
}

Result<std::vector<std::string>> install_driver(const fs::path& root, const FileDriver& driver) {
  auto relative = driver.file.lexically_normal().lexically_relative(root.lexically_normal());
  if (relative.empty() || *relative.begin() == "..")
    return invalid("'{}' is outside the git repository at '{}'", driver.file.string(),
                   root.string());
  std::string line =
      fmt::format("{} diff={} merge={}", attributes_pattern(relative.generic_string()), driver.name,
                  driver.name);
  for (const auto& attribute : driver.extra)
    line += " " + attribute;

  std::vector<std::string> changed;
  auto attributes = TRY(ensure_line(root / ".gitattributes", line));
  if (attributes)
    changed.push_back(fmt::format("added to .gitattributes: {}", line));

  const std::pair<std::string, std::string> settings[] = {
      {fmt::format("diff.{}.textconv", driver.name), driver.textconv},
      {fmt::format("diff.{}.cachetextconv", driver.name), driver.cache_textconv ? "true" : "false"},
      {fmt::format("merge.{}.name", driver.name), driver.merge_name},
      {fmt::format("merge.{}.driver", driver.name), driver.merge_driver},
  };
  for (const auto& [key, value] : settings) {
    auto set = TRY(ensure_local_config(root, key, value));
    if (set)
      changed.push_back(fmt::format("set git config {} = {}", key, value));
  }
  return changed;
}

} // namespace evalkeep::git
