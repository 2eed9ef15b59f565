#pragma once

#include "http.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// AWS Signature Version 4, written from AWS's description of it for the stand-in to check what
// a client signs: the canonical request, the string to sign and the HMAC-SHA256 key chain. It
// shares no code with the client's signing (libcurl's CURLOPT_AWS_SIGV4) and is itself checked
// against AWS's published test suite (tests/unit/standin/test_sigv4.cpp).
namespace evalkeep::standin::sigv4 {

/// The credentials the stand-in accepts. An empty session token means a request must not carry
/// one; a set one means it must carry exactly that one (x-amz-security-token).
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token{};
};

/// The fixed test credentials the stand-in accepts unless told others (--aws-access-key-id,
/// --aws-secret-access-key, --aws-session-token).
inline constexpr std::string_view k_test_access_key_id = "AKIDSTANDINEXAMPLE";
inline constexpr std::string_view k_test_secret_access_key = "standin/K7MDENG+bPxRfiCYSTANDINKEY";

/// Lowercase hex of SHA-256 of the bytes.
std::string hex_sha256(std::string_view data);
/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' when `keep_slash`), in upper case.
std::string uri_encode(std::string_view text, bool keep_slash);

/// The canonical URI of a path as it was sent, each segment encoded once more (every service
/// but S3: "/model/a%3A0/converse" -> "/model/a%253A0/converse").
std::string canonical_uri(std::string_view path);
/// The canonical query string: name=value pairs sorted by name, then value.
std::string canonical_query(std::string_view query);

/// The canonical request: method, canonical URI and query, the signed headers' names and values
/// (lowercase names, trimmed values with inner runs of spaces made one, repeats joined by
/// commas), the signed header list, and the payload's hash.
std::string canonical_request(std::string_view method, std::string_view path,
                              std::string_view query, const std::vector<Header>& headers,
                              std::string_view signed_headers, std::string_view payload_hash);

/// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

/// The signature, in hex: the string to sign under the key derived from the secret, the date
/// (YYYYMMDD), the region and the service.
std::string signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);

/// Why AWS refuses a request, as it says it: a 403 with an error type
/// (MissingAuthenticationTokenException, IncompleteSignatureException,
/// UnrecognizedClientException, InvalidSignatureException) and a message.
struct Refusal {
  int status = 403;
  std::string type;
  std::string message;
};

/// Checks the Authorization header of `request` (AWS4-HMAC-SHA256, header form) for `service`
/// against `known`, at time `now`. Nothing when the signature is right.
std::optional<Refusal> verify(const Request& request, const Credentials& known,
                              std::string_view service, std::time_t now);

} // namespace evalkeep::standin::sigv4
