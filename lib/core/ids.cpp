#include "core/ids.hpp"

#include <chrono>
#include <random>

namespace evalkeep::core {

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id.front()))
    return false;
  for (char c : id)
    if (!alnum(c) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

std::string generate_case_id() {
  static constexpr char k_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base 32
  auto ms = static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  std::string id(17, 'c');
  for (int i = 10; i >= 1; --i, ms >>= 5)
    id[static_cast<std::size_t>(i)] = k_alphabet[ms & 31];
  std::random_device rd;
  for (std::size_t i = 11; i < 17; ++i)
    id[i] = k_alphabet[rd() & 31];
  return id;
}

} // namespace evalkeep::core
