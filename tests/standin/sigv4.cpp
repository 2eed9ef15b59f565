#include "sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace evalkeep::standin::sigv4 {
namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i)
    out += fmt::format("{:02x}", data[i]);
  return out;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A header value as it is signed: trimmed, each run of spaces inside made one.
std::string canonical_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : trim(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos)
      return out;
    s.remove_prefix(at + 1);
  }
}

// The parts of "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
struct Authorization {
  std::string credential, signed_headers, signature;
};

std::optional<Authorization> parse_authorization(std::string_view text) {
  constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256 ";
  if (!text.starts_with(k_algorithm))
    return std::nullopt;
  text.remove_prefix(k_algorithm.size());
  Authorization a;
  for (auto part : split(text, ',')) {
    part = trim(part);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return std::nullopt;
    auto name = part.substr(0, eq);
    auto value = std::string(part.substr(eq + 1));
    if (name == "Credential")
      a.credential = value;
    else if (name == "SignedHeaders")
      a.signed_headers = value;
    else if (name == "Signature")
      a.signature = value;
  }
  if (a.credential.empty() || a.signed_headers.empty() || a.signature.empty())
    return std::nullopt;
  return a;
}

// "20150830T123600Z" as a time; nothing when it is not one.
std::optional<std::time_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z')
    return std::nullopt;
  for (std::size_t i = 0; i < 15; ++i)
    if (i != 8 && (s[i] < '0' || s[i] > '9'))
      return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) {
    return std::atoi(std::string(s.substr(at, n)).c_str());
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  return ::timegm(&tm);
}

std::string amz_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Refusal refusal(std::string type, std::string message) {
  return {.status = 403, .type = std::move(type), .message = std::move(message)};
}

constexpr std::string_view k_invalid_token =
    "The security token included in the request is invalid.";

} // namespace

std::string hex_sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex(digest, sizeof digest);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (unreserved(c) || (keep_slash && c == '/'))
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string canonical_uri(std::string_view path) {
  if (path.empty())
    return "/";
  std::string out;
  bool first = true;
  for (auto segment : split(path, '/')) {
    if (!first)
      out += '/';
    first = false;
    out += uri_encode(segment, false);
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  if (query.empty())
    return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto item : split(query, '&')) {
    auto eq = item.find('=');
    pairs.emplace_back(std::string(item.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : std::string(item.substr(eq + 1)));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs)
    out += fmt::format("{}{}={}", out.empty() ? "" : "&", name, value);
  return out;
}

std::string canonical_request(std::string_view method, std::string_view path,
                              std::string_view query, const std::vector<Header>& headers,
                              std::string_view signed_headers, std::string_view payload_hash) {
  std::string out =
      fmt::format("{}\n{}\n{}\n", method, canonical_uri(path), canonical_query(query));
  for (auto name : split(signed_headers, ';')) {
    std::string values;
    for (const auto& [n, v] : headers) {
      std::string lower = n;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == name)
        values += (values.empty() ? "" : ",") + canonical_value(v);
    }
    out += fmt::format("{}:{}\n", name, values);
  }
  out += fmt::format("\n{}\n{}", signed_headers, payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope,
                     hex_sha256(canonical_request));
}

std::string signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string key = hmac_sha256("AWS4" + std::string(secret), date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  auto sig = hmac_sha256(key, string_to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::optional<Refusal> verify(const Request& request, const Credentials& known,
                              std::string_view service, std::time_t now) {
  const std::string* header = request.header("authorization");
  if (!header || header->empty())
    return refusal("MissingAuthenticationTokenException", "Missing Authentication Token");
  auto auth = parse_authorization(*header);
  if (!auth)
    return refusal("IncompleteSignatureException",
                   "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                   "parameters (algorithm AWS4-HMAC-SHA256).");
  // Credential=AKID/DATE/REGION/SERVICE/aws4_request
  auto scope_parts = split(auth->credential, '/');
  if (scope_parts.size() != 5 || scope_parts[4] != "aws4_request")
    return refusal("IncompleteSignatureException",
                   fmt::format("Credential '{}' is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request",
                               auth->credential));
  if (scope_parts[0] != known.access_key_id)
    return refusal("UnrecognizedClientException", std::string(k_invalid_token));
  const std::string* token = request.header("x-amz-security-token");
  if ((token != nullptr) != !known.session_token.empty() ||
      (token && *token != known.session_token))
    return refusal("UnrecognizedClientException", std::string(k_invalid_token));
  const std::string* date = request.header("x-amz-date");
  auto when = date ? parse_amz_date(*date) : std::nullopt;
  if (!when)
    return refusal("IncompleteSignatureException",
                   "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                   "header.");
  if (*when < now - 15 * 60 || *when > now + 15 * 60)
    return refusal("InvalidSignatureException",
                   fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)", *date,
                               amz_date(now - 15 * 60), amz_date(now)));
  if (scope_parts[1] != std::string_view(*date).substr(0, 8))
    return refusal("InvalidSignatureException",
                   fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                               "version of date from HTTP: '{}' != '{}'",
                               scope_parts[1], date->substr(0, 8)));
  if (scope_parts[3] != service)
    return refusal("InvalidSignatureException",
                   fmt::format("Credential should be scoped to correct service: '{}'.", service));
  auto names = split(auth->signed_headers, ';');
  if (std::find(names.begin(), names.end(), "host") == names.end())
    return refusal("InvalidSignatureException",
                   "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const std::string* content_hash = request.header("x-amz-content-sha256");
  std::string payload_hash = content_hash ? *content_hash : hex_sha256(request.body);
  auto creq = canonical_request(request.method, request.path, "", request.headers,
                                auth->signed_headers, payload_hash);
  std::string scope =
      fmt::format("{}/{}/{}/aws4_request", scope_parts[1], scope_parts[2], scope_parts[3]);
  auto sts = string_to_sign(*date, scope, creq);
  if (signature(known.secret_access_key, scope_parts[1], scope_parts[2], scope_parts[3], sts) !=
      auth->signature)
    return refusal("InvalidSignatureException",
                   fmt::format("The request signature we calculated does not match the signature "
                               "you provided. Check your AWS Secret Access Key and signing method. "
                               "Consult the service documentation for details.\n\nThe Canonical "
                               "String for this request should have been\n'{}'\n\nThe "
                               "String-to-Sign should have been\n'{}'\n",
                               creq, sts));
  return std::nullopt;
}

} // namespace evalkeep::standin::sigv4
