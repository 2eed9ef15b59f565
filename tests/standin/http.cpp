#include "http.hpp"

#include <algorithm>
#include <charconv>

namespace evalkeep::standin {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lowercase(a) == lowercase(b);
}

// "GET /path?query HTTP/1.1"
bool parse_request_line(std::string_view line, Request& out) {
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return false;
  out.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (out.method.empty() || target.empty() || !version.starts_with("HTTP/1."))
    return false;
  out.minor_version = version == "HTTP/1.0" ? 0 : 1;
  auto question = target.find('?');
  out.path = std::string(target.substr(0, question));
  out.query =
      question == std::string_view::npos ? std::string() : std::string(target.substr(question + 1));
  return true;
}

// Decodes a chunked body starting at `pos`. Returns the offset just past the final CRLF, 0 when
// more input is needed, or npos when the encoding is malformed.
std::size_t decode_chunked(std::string_view buf, std::size_t pos, std::string& body) {
  constexpr auto bad = std::string_view::npos;
  body.clear();
  for (;;) {
    auto eol = buf.find("\r\n", pos);
    if (eol == bad)
      return 0;
    std::string_view size_line = buf.substr(pos, eol - pos);
    size_line = size_line.substr(0, size_line.find(';')); // drop chunk extensions
    std::size_t size = 0;
    auto [end, ec] =
        std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec != std::errc{} || end == size_line.data())
      return bad;
    if (body.size() + size > k_max_body_bytes)
      return bad;
    pos = eol + 2;
    if (size == 0) {
      // Skip trailer lines up to the empty line.
      for (;;) {
        auto line_end = buf.find("\r\n", pos);
        if (line_end == bad)
          return 0;
        bool empty = line_end == pos;
        pos = line_end + 2;
        if (empty)
          return pos;
      }
    }
    if (buf.size() < pos + size + 2)
      return 0;
    body.append(buf.substr(pos, size));
    pos += size;
    if (buf.substr(pos, 2) != "\r\n")
      return bad;
    pos += 2;
  }
}

} // namespace

const std::string* Request::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers)
    if (name == lowercase_name)
      return &value;
  return nullptr;
}

bool Request::keep_alive() const {
  const std::string* connection = header("connection");
  if (minor_version == 0)
    return connection && iequals(*connection, "keep-alive");
  return !connection || !iequals(*connection, "close");
}

ParseResult parse_request(std::string_view buffer, Request& out) {
  auto head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos)
    return {buffer.size() > k_max_header_bytes ? ParseStatus::too_large : ParseStatus::incomplete};

  out = Request{};
  std::string_view head = buffer.substr(0, head_end);
  auto line_end = head.find("\r\n");
  if (!parse_request_line(head.substr(0, line_end), out))
    return {ParseStatus::bad_request};
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, line_end == head.npos ? head.npos : line_end - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return {ParseStatus::bad_request};
    out.headers.emplace_back(lowercase(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }

  std::size_t body_start = head_end + 4;
  const std::string* expect = out.header("expect");
  bool wants_continue = expect && iequals(*expect, "100-continue");

  if (const std::string* te = out.header("transfer-encoding"); te && iequals(*te, "chunked")) {
    std::size_t end = decode_chunked(buffer, body_start, out.body);
    if (end == std::string_view::npos)
      return {ParseStatus::bad_request};
    if (end == 0)
      return {ParseStatus::incomplete, 0, wants_continue && buffer.size() == body_start};
    return {ParseStatus::complete, end};
  }

  std::size_t length = 0;
  if (const std::string* cl = out.header("content-length")) {
    auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    if (ec != std::errc{} || end != cl->data() + cl->size())
      return {ParseStatus::bad_request};
  }
  if (length > k_max_body_bytes)
    return {ParseStatus::too_large};
  if (buffer.size() - body_start < length)
    return {ParseStatus::incomplete, 0, wants_continue && buffer.size() == body_start};
  out.body = std::string(buffer.substr(body_start, length));
  return {ParseStatus::complete, body_start + length};
}

std::string serialize_head(const Response& r, std::size_t content_length, bool keep_alive) {
  std::string head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(r.status);
  head += ' ';
  head += reason_phrase(r.status);
  head += "\r\ncontent-type: ";
  head += r.content_type;
  head += "\r\ncontent-length: ";
  head += std::to_string(content_length);
  head += keep_alive ? "\r\nconnection: keep-alive\r\n" : "\r\nconnection: close\r\n";
  for (const auto& [name, value] : r.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

std::string_view reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 413:
    return "Payload Too Large";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  case 529:
    return "Overloaded";
  default:
    return "Unknown";
  }
}

} // namespace evalkeep::standin
