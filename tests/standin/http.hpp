#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evalkeep::standin {

using Header = std::pair<std::string, std::string>;

/// One parsed HTTP/1.1 request. Header names are lowercased; values are trimmed.
struct Request {
  std::string method;
  std::string path;    // the target without its query string
  std::string query{}; // what follows the '?', if anything
  int minor_version = 1;
  std::vector<Header> headers;
  std::string body;

  /// The value of a header, or nullptr when the request does not carry it.
  const std::string* header(std::string_view lowercase_name) const;
  /// HTTP/1.1 keeps the connection unless asked to close; HTTP/1.0 only when asked to keep it.
  bool keep_alive() const;
};

enum class ParseStatus { incomplete, complete, bad_request, too_large };

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  std::size_t consumed = 0;      // bytes of the buffer the complete request used
  bool expects_continue = false; // headers are in, the body is not, and the client waits for 100
};

inline constexpr std::size_t k_max_header_bytes = 64 * 1024;
inline constexpr std::size_t k_max_body_bytes = 32 * 1024 * 1024; // Anthropic's request limit

/// Parses the first request in `buffer` into `out`. Bodies come with Content-Length or
/// Transfer-Encoding: chunked (trailers are skipped).
ParseResult parse_request(std::string_view buffer, Request& out);

/// A response to send: status, extra headers, and a body with its content type.
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;
  std::string body;
};

/// The status line and headers, ending with the blank line. `content_length` is what the
/// header claims, which a fault may set larger than the body.
std::string serialize_head(const Response& r, std::size_t content_length, bool keep_alive);

std::string_view reason_phrase(int status);

} // namespace evalkeep::standin
