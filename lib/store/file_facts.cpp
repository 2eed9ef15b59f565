#include "store/file_facts.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace evalkeep::store {

namespace {

FileFacts::Type type_of(mode_t mode) {
  using T = FileFacts::Type;
  if (S_ISREG(mode))
    return T::regular;
  if (S_ISDIR(mode))
    return T::directory;
  if (S_ISFIFO(mode))
    return T::fifo;
  if (S_ISCHR(mode))
    return T::character_device;
  if (S_ISBLK(mode))
    return T::block_device;
  if (S_ISSOCK(mode))
    return T::socket;
  return T::other;
}

std::uint32_t big_endian(const unsigned char* p, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

// Reads the first bytes of a regular file. O_NONBLOCK, and the type checked again on the open
// descriptor: a FIFO put in the file's place after the stat neither blocks the open nor is read.
Status read_header(const std::filesystem::path& path, std::array<unsigned char, 100>& header,
                   std::size_t& got) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail(ExitCode::environment, "cannot read '{}': {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid("'{}' changed while it was being read", path.string());
  }
  got = 0;
  while (got < header.size()) {
    auto n = ::read(fd, header.data() + got, header.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return {};
}

} // namespace

Result<FileFacts> inspect_file(const std::filesystem::path& path) {
  FileFacts facts;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return facts;
    return fail(ExitCode::environment, "cannot examine '{}': {}", path.string(),
                std::strerror(errno));
  }
  facts.type = type_of(st.st_mode);
  if (facts.type != FileFacts::Type::regular)
    return facts;
  facts.size = static_cast<std::uintmax_t>(st.st_size);
  std::array<unsigned char, 100> h{};
  std::size_t got = 0;
  TRY(read_header(path, h, got));
  static constexpr char k_magic[] = "SQLite format 3"; // and its NUL: 16 bytes
  if (got < h.size() || std::memcmp(h.data(), k_magic, sizeof k_magic) != 0)
    return facts;
  facts.sqlite = true;
  facts.wal = h[18] == 2 || h[19] == 2;
  std::uint32_t page_size = big_endian(&h[16], 2);
  if (page_size == 1)
    page_size = 65536;
  std::uint32_t pages = big_endian(&h[28], 4);
  // The count is valid only when the change counter matches "version-valid-for" (SQLite's file
  // format, section 1.3.7); writers older than 3.7.0 leave it stale.
  if (pages != 0 && big_endian(&h[24], 4) == big_endian(&h[92], 4))
    facts.header_bytes = std::uintmax_t{page_size} * pages;
  facts.user_version = static_cast<std::int32_t>(big_endian(&h[60], 4));
  facts.application_id = big_endian(&h[68], 4);
  return facts;
}

std::string_view describe(FileFacts::Type type) {
  using T = FileFacts::Type;
  switch (type) {
  case T::missing:
    return "missing";
  case T::regular:
    return "a regular file";
  case T::directory:
    return "a directory";
  case T::fifo:
    return "a FIFO (named pipe)";
  case T::character_device:
    return "a character device";
  case T::block_device:
    return "a block device";
  case T::socket:
    return "a socket";
  case T::other:
    break;
  }
  return "not a regular file";
}

} // namespace evalkeep::store
