#pragma once

#include "http.hpp"

namespace evalkeep::standin {

/// How the server puts a response on the wire.
enum class Delivery {
  normal,              // the whole response, then keep the connection (or close it when asked)
  reset,               // no response: RST the connection
  reset_mid_body,      // the headers and half the body, then RST
  reset_after_headers, // the headers, then RST
  hang,                // nothing, until the client gives up
  truncated,           // a Content-Length larger than the half body sent, then close
  drip,                // the whole response, one byte every `drip_ms`
};

/// A response together with when and how to deliver it.
struct Reply {
  Response response;
  Delivery delivery = Delivery::normal;
  int delay_ms = 0;
  int drip_ms = 1000;
};

/// What the server asks of the application. Called on the server's only thread.
class Handler {
public:
  virtual ~Handler() = default;
  /// The reply to a complete request.
  virtual Reply handle(const Request& request) = 0;
  /// The reply to bytes that are not a request the server will read: 400 or 413.
  virtual Reply reject(int status) = 0;
};

} // namespace evalkeep::standin
