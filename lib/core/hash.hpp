#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace evalkeep::core {

/// A SHA-256 digest.
using Digest = std::array<std::uint8_t, 32>;

/// SHA-256 of the bytes (OpenSSL's libcrypto).
Digest sha256(std::string_view data);

/// Lowercase hex of a digest, 64 characters.
std::string to_hex(const Digest& d);

/// Parses 64 hex characters; false when the text is not a digest.
bool from_hex(std::string_view hex, Digest& out);

} // namespace evalkeep::core
