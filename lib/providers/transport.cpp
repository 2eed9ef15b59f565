#include "providers/transport.hpp"

#include "providers/curl_api.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <strings.h>
#include <unordered_set>
#include <utility>
#include <vector>

namespace evalkeep::providers {

namespace {

struct Transfer {
  std::uint64_t token = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string request_body;
  HttpResponse response;
  std::chrono::steady_clock::time_point started;
  char error[CURL_ERROR_SIZE] = {};
  bool too_large = false; // the body passed k_max_response_bytes
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->response.body.size() + size * n > k_max_response_bytes) {
    t->too_large = true;
    return 0; // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.remove_suffix(1);
    if (name.size() == 11 && ::strncasecmp(name.data(), "retry-after", 11) == 0)
      t->response.retry_after = value;
    else if (name.size() == 14 && ::strncasecmp(name.data(), "content-length", 14) == 0)
      // One allocation for the body, not a doubling string that briefly holds two copies.
      t->response.body.reserve(std::min<std::size_t>(
          std::strtoull(std::string(value).c_str(), nullptr, 10), k_max_response_bytes));
    else if (name.size() == 14 && ::strncasecmp(name.data(), "retry-after-ms", 14) == 0)
      t->response.retry_after_ms = value;
    else if (name.size() > 12 && (::strncasecmp(name.data(), "x-ratelimit-", 12) == 0 ||
                                  ::strncasecmp(name.data(), "anthropic-rat", 13) == 0))
      read_rate_limit_header(name, value, t->response.rate, std::time(nullptr));
    else if (name.size() == 16 && ::strncasecmp(name.data(), "x-amzn-errortype", 16) == 0)
      t->response.error_type = value.substr(std::min(value.find_first_not_of(' '), value.size()));
  }
  return size * n;
}

} // namespace

struct Transport::Impl {
  CURLM* multi = nullptr;
  long connect_timeout_ms = 10000;
  long timeout_ms = 120000;
  std::unordered_set<Transfer*> live;
  std::vector<CURL*> idle;           // easy handles of finished transfers, reused for the next ones
  std::vector<HttpResponse> refused; // transfers that never started: an option was refused
};

Status preload() {
  TRY(curl_api());
  return {};
}

Result<std::unique_ptr<Transport>> Transport::make(int max_host_connections,
                                                   double connect_timeout_s, double timeout_s) {
  auto api = TRY(curl_api());
  return std::make_unique<Transport>(*api, max_host_connections, connect_timeout_s, timeout_s);
}

Transport::Transport(const CurlApi& api, int max_host_connections, double connect_timeout_s,
                     double timeout_s)
    : m_api(&api), m_impl(std::make_unique<Impl>()) {
  m_impl->multi = m_api->multi_init();
  m_impl->connect_timeout_ms = static_cast<long>(connect_timeout_s * 1000);
  m_impl->timeout_ms = static_cast<long>(timeout_s * 1000);
  m_api->multi_setopt(m_impl->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(max_host_connections));
  m_api->multi_setopt(m_impl->multi, CURLMOPT_MAXCONNECTS, static_cast<long>(max_host_connections));
}

Transport::~Transport() {
  // Abandon whatever is still running.
  for (Transfer* t : m_impl->live) {
    m_api->multi_remove_handle(m_impl->multi, t->easy);
    m_api->easy_cleanup(t->easy);
    m_api->slist_free_all(t->headers);
    delete t;
  }
  for (CURL* e : m_impl->idle)
    m_api->easy_cleanup(e);
  m_api->multi_cleanup(m_impl->multi);
}

void Transport::start(std::uint64_t token, HttpRequest request) {
  auto* t = new Transfer;
  t->token = token;
  t->response.token = token;
  t->request_body = std::move(request.body);
  // A reused handle keeps the options set below, which are all set again, and skips
  // allocating and initializing a new one.
  if (m_impl->idle.empty()) {
    t->easy = m_api->easy_init();
  } else {
    t->easy = m_impl->idle.back();
    m_impl->idle.pop_back();
  }
  for (const auto& h : request.headers)
    t->headers = m_api->slist_append(t->headers, h.c_str());
  t->headers = m_api->slist_append(t->headers, "Expect:"); // no 100-continue round trip
  CURL* e = t->easy;
  // Every option is checked: a transfer without its timeouts, its protocol limit or its body
  // must not go out. One that libcurl refuses fails closed, as a transport error naming it.
  const char* refused = nullptr;
  auto set = [&](CURLoption option, const char* name, auto value) {
    if (!refused && m_api->easy_setopt(e, option, value) != CURLE_OK)
      refused = name;
  };
  set(CURLOPT_URL, "CURLOPT_URL", request.url.c_str());
  if (request.method == "GET") {
    set(CURLOPT_HTTPGET, "CURLOPT_HTTPGET", 1L);
  } else {
    set(CURLOPT_POST, "CURLOPT_POST", 1L);
    set(CURLOPT_POSTFIELDS, "CURLOPT_POSTFIELDS", t->request_body.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, "CURLOPT_POSTFIELDSIZE_LARGE",
        static_cast<curl_off_t>(t->request_body.size()));
  }
  set(CURLOPT_HTTPHEADER, "CURLOPT_HTTPHEADER", t->headers);
  set(CURLOPT_WRITEFUNCTION, "CURLOPT_WRITEFUNCTION", on_body);
  set(CURLOPT_WRITEDATA, "CURLOPT_WRITEDATA", t);
  set(CURLOPT_HEADERFUNCTION, "CURLOPT_HEADERFUNCTION", on_header);
  set(CURLOPT_HEADERDATA, "CURLOPT_HEADERDATA", t);
  set(CURLOPT_PRIVATE, "CURLOPT_PRIVATE", t);
  set(CURLOPT_ERRORBUFFER, "CURLOPT_ERRORBUFFER", t->error);
  set(CURLOPT_CONNECTTIMEOUT_MS, "CURLOPT_CONNECTTIMEOUT_MS", m_impl->connect_timeout_ms);
  set(CURLOPT_TIMEOUT_MS, "CURLOPT_TIMEOUT_MS", m_impl->timeout_ms);
  set(CURLOPT_NOSIGNAL, "CURLOPT_NOSIGNAL", 1L);
  set(CURLOPT_TCP_NODELAY, "CURLOPT_TCP_NODELAY", 1L);
  set(CURLOPT_ACCEPT_ENCODING, "CURLOPT_ACCEPT_ENCODING", "");
  set(CURLOPT_USERAGENT, "CURLOPT_USERAGENT", "evalkeep/" EVALKEEP_VERSION);
  // Only http and https, redirects included: never file://, gopher:// or the like.
  set(CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR", "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "CURLOPT_REDIR_PROTOCOLS_STR", "http,https");
  // AWS Signature Version 4 (Bedrock), computed by libcurl over the request it sends. A reused
  // handle that signed before is set back to sending no credentials.
  bool sign = !request.aws_sigv4.empty();
  set(CURLOPT_AWS_SIGV4, "CURLOPT_AWS_SIGV4", sign ? request.aws_sigv4.c_str() : nullptr);
  set(CURLOPT_HTTPAUTH, "CURLOPT_HTTPAUTH", sign ? CURLAUTH_AWS_SIGV4 : CURLAUTH_BASIC);
  set(CURLOPT_USERPWD, "CURLOPT_USERPWD", sign ? request.userpwd.c_str() : nullptr);
  if (refused || m_api->multi_add_handle(m_impl->multi, e) != CURLM_OK) {
    t->response.transport_error = ErrorClass::connection;
    t->response.transport_message =
        fmt::format("libcurl refused {}: the request was not sent", refused ? refused
                                                                            : "the "
                                                                              "transfer");
    m_impl->idle.push_back(e);
    m_api->slist_free_all(t->headers);
    m_impl->refused.push_back(std::move(t->response));
    delete t;
    ++m_active; // wait() hands it back like any finished transfer
    return;
  }
  t->started = std::chrono::steady_clock::now();
  m_impl->live.insert(t);
  ++m_active;
}

std::vector<HttpResponse> Transport::wait(int timeout_ms) {
  std::vector<HttpResponse> done = std::exchange(m_impl->refused, {});
  m_active -= done.size();
  int running = 0;
  m_api->multi_perform(m_impl->multi, &running);
  auto collect = [&] {
    int left = 0;
    while (CURLMsg* msg = m_api->multi_info_read(m_impl->multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      Transfer* t = nullptr;
      m_api->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode rc = msg->data.result;
      t->response.latency_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t->started)
              .count();
      if (rc == CURLE_OK) {
        m_api->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
      } else {
        t->response.status = 0;
        std::string().swap(t->response.body); // a cut-off body is never an answer
        t->response.transport_error = t->too_large                     ? ErrorClass::bad_response
                                      : rc == CURLE_OPERATION_TIMEDOUT ? ErrorClass::timeout
                                                                       : ErrorClass::connection;
        t->response.transport_message =
            t->too_large  ? fmt::format("response larger than {}", megabytes(k_max_response_bytes))
            : t->error[0] ? std::string(t->error)
                          : std::string(m_api->easy_strerror(rc));
      }
      m_api->multi_remove_handle(m_impl->multi, t->easy);
      m_impl->idle.push_back(t->easy);
      m_api->slist_free_all(t->headers);
      done.push_back(std::move(t->response));
      m_impl->live.erase(t);
      delete t;
      --m_active;
    }
  };
  collect();
  if (!done.empty())
    return done;
  m_api->multi_poll(m_impl->multi, nullptr, 0, timeout_ms, nullptr);
  m_api->multi_perform(m_impl->multi, &running);
  collect();
  return done;
}

void Transport::send() {
  int running = 0;
  m_api->multi_perform(m_impl->multi, &running);
}

void Transport::wakeup() {
  m_api->multi_wakeup(m_impl->multi);
}

} // namespace evalkeep::providers
