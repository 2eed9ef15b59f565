#include "core/durable_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace evalkeep::core {

namespace {

// fsync of the file or folder at `path`; errno on failure, else 0.
int sync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0)
    return errno;
  int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

} // namespace

Status replace_file(const std::filesystem::path& staged, const std::filesystem::path& target) {
  if (int err = sync_path(staged, 0))
    return fail(ExitCode::environment, "cannot write '{}' to disk: {}", target.string(),
                std::strerror(err));
  if (::rename(staged.c_str(), target.c_str()) != 0)
    return fail(ExitCode::environment, "cannot replace '{}': {}", target.string(),
                std::strerror(errno));
  // Some file systems cannot sync a folder (EINVAL): their renames are as durable as they get.
  auto folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  if (int err = sync_path(folder, O_DIRECTORY); err && err != EINVAL)
    return fail(ExitCode::environment, "replaced '{}', but cannot write its folder to disk: {}",
                target.string(), std::strerror(err));
  return {};
}

} // namespace evalkeep::core
