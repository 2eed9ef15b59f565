#include "core/hash.hpp"

#include <memory>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace evalkeep::core {

Digest sha256(std::string_view data) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, which costs more than
  // hashing a request body: look it up once, and reuse a context on each thread.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                                      EVP_MD_CTX_free);
  Digest d{};
  if (!md || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), d.data(), nullptr) != 1)
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return d;
}

std::string to_hex(const Digest& d) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(d.size() * 2, '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = k_digits[d[i] >> 4];
    out[2 * i + 1] = k_digits[d[i] & 0xf];
  }
  return out;
}

bool from_hex(std::string_view hex, Digest& out) {
  if (hex.size() != out.size() * 2)
    return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

} // namespace evalkeep::core
