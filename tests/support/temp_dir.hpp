#pragma once

#include <filesystem>
#include <string>

namespace evalkeep::test {

/// A fresh directory under the system temp folder, removed with everything in it on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
  std::filesystem::path m_path;
};

/// Reads a whole file as bytes.
std::string read_file(const std::filesystem::path& p);
/// Writes bytes to a file, creating parent folders.
void write_file(const std::filesystem::path& p, const std::string& content);
/// SHA-256 hex of a file's bytes, to show a file was left exactly as it was.
std::string file_hash(const std::filesystem::path& p);

} // namespace evalkeep::test
