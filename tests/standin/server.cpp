#include "server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace evalkeep::standin {
namespace {

constexpr std::uint64_t k_listener_id = 1;
constexpr std::uint64_t k_signals_id = 2;
constexpr std::size_t k_read_chunk = 64 * 1024;
// A client that pipelines more than this behind a slow reply is dropped.
constexpr std::size_t k_max_buffered = k_max_header_bytes + k_max_body_bytes + k_read_chunk;

std::string errno_text(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

} // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other)
    reset(std::exchange(other.m_fd, -1));
  return *this;
}

void Fd::reset(int fd) {
  if (m_fd >= 0)
    ::close(m_fd);
  m_fd = fd;
}

enum class AfterSend { keep_alive, close, reset };

struct Server::Connection {
  std::uint64_t id = 0;
  Fd fd;
  std::string in;       // bytes received and not yet parsed
  std::string out;      // the reply being sent
  std::size_t sent = 0; // bytes of `out` already written
  AfterSend after = AfterSend::keep_alive;
  bool busy = false; // a request is being answered: waiting, hanging or sending
  bool hanging = false;
  bool dripping = false;
  int drip_ms = 0;
  bool sent_continue = false; // "100 Continue" already sent for the request being read
  bool peer_closed = false;   // the client shut down its side
  bool want_write = false;
  std::uint32_t interest = 0;   // the events registered with epoll
  std::uint64_t generation = 0; // bumped whenever a pending timer must be ignored
};

Server::Server(Handler& handler) : m_handler(handler) {}

Server::~Server() = default;

std::expected<int, std::string> Server::listen(int port) {
  m_epoll = Fd(epoll_create1(EPOLL_CLOEXEC));
  if (!m_epoll)
    return std::unexpected(errno_text("epoll_create1"));
  m_listener = Fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!m_listener)
    return std::unexpected(errno_text("socket"));
  int one = 1;
  setsockopt(m_listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (bind(m_listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return std::unexpected(errno_text(fmt::format("bind 127.0.0.1:{}", port)));
  if (::listen(m_listener.get(), SOMAXCONN) != 0)
    return std::unexpected(errno_text("listen"));
  socklen_t len = sizeof addr;
  getsockname(m_listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);

  // SIGINT and SIGTERM arrive through the loop as readable events, so shutdown is orderly.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  m_signals = Fd(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!m_signals)
    return std::unexpected(errno_text("signalfd"));

  m_spare = Fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (auto [fd, id] :
       {std::pair{m_listener.get(), k_listener_id}, std::pair{m_signals.get(), k_signals_id}}) {
    epoll_event ev{.events = EPOLLIN, .data = {.u64 = id}};
    if (epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return std::unexpected(errno_text("epoll_ctl"));
  }
  return ntohs(addr.sin_port);
}

std::expected<void, std::string> Server::run() {
  std::vector<epoll_event> events(512);
  while (!m_stop) {
    int n = wait_for_events(events);
    if (n < 0 && errno != EINTR)
      return std::unexpected(errno_text("epoll_wait"));
    m_now = Clock::now();
    for (int i = 0; i < n; ++i) {
      std::uint64_t id = events[i].data.u64;
      if (id == k_listener_id) {
        accept_all();
      } else if (id == k_signals_id) {
        m_stop = true;
      } else if (auto it = m_connections.find(id); it != m_connections.end()) {
        on_event(*it->second, events[i].events);
      }
    }
    fire_timers();
    reap();
  }
  m_connections.clear();
  return {};
}

void Server::accept_all() {
  for (;;) {
    int fd = accept4(m_listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: accept with the spare one and close at once, so the listener
        // does not stay readable and spin the loop.
        // accept() fails this way even with nothing pending, so stop once the queue is empty.
        m_spare.reset();
        int extra = accept(m_listener.get(), nullptr, nullptr);
        if (extra >= 0)
          ::close(extra);
        m_spare = Fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (extra < 0)
          return;
        continue;
      }
      return; // EAGAIN, or an aborted connection
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->id = m_next_id++;
    c->fd = Fd(fd);
    epoll_event ev{.events = EPOLLIN, .data = {.u64 = c->id}};
    if (epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      continue;
    c->interest = EPOLLIN;
    m_connections.emplace(c->id, std::move(c));
  }
}

void Server::on_event(Connection& c, std::uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    close(c);
    return;
  }
  if (events & EPOLLOUT)
    flush(c);
  if ((events & EPOLLIN) && c.fd)
    read_from(c);
  if (c.fd && !c.busy)
    serve_buffered(c);
}

void Server::read_from(Connection& c) {
  char buffer[k_read_chunk];
  ssize_t n = recv(c.fd.get(), buffer, sizeof buffer, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      close(c);
    return;
  }
  if (n == 0) {
    // The client is done. A hanging request has no one left to hang for; a reply on its way
    // is still sent (to a half-closed socket) and the connection closed after it.
    c.peer_closed = true;
    if (!c.busy || c.hanging)
      close(c);
    else
      update_interest(c);
    return;
  }
  c.in.append(buffer, static_cast<std::size_t>(n));
  if (c.busy && c.in.size() > k_max_buffered)
    close(c);
}

// Answers the requests waiting in the input buffer, one at a time, until one of them has to
// wait (delay, hang, a full socket) or the buffer holds no complete request.
void Server::serve_buffered(Connection& c) {
  while (c.fd && !c.busy) {
    Request request;
    ParseResult parsed = parse_request(c.in, request);
    switch (parsed.status) {
    case ParseStatus::incomplete:
      if (parsed.expects_continue && !c.sent_continue) {
        constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
        send(c.fd.get(), k_continue.data(), k_continue.size(), MSG_NOSIGNAL);
        c.sent_continue = true;
      }
      if (c.peer_closed)
        close(c);
      return;
    case ParseStatus::bad_request:
    case ParseStatus::too_large:
      c.in.clear();
      start_reply(c, m_handler.reject(parsed.status == ParseStatus::too_large ? 413 : 400), false);
      return;
    case ParseStatus::complete:
      c.in.erase(0, parsed.consumed);
      c.sent_continue = false;
      start_reply(c, m_handler.handle(request), request.keep_alive() && !c.peer_closed);
      break;
    }
  }
}

void Server::start_reply(Connection& c, Reply reply, bool keep_alive) {
  c.busy = true;
  c.sent = 0;
  c.after = keep_alive ? AfterSend::keep_alive : AfterSend::close;
  const std::string& body = reply.response.body;
  switch (reply.delivery) {
  case Delivery::normal:
  case Delivery::drip:
    c.out = serialize_head(reply.response, body.size(), keep_alive);
    c.out += body;
    break;
  case Delivery::reset:
    c.out.clear();
    c.after = AfterSend::reset;
    break;
  case Delivery::reset_mid_body:
  case Delivery::reset_after_headers:
    c.out = serialize_head(reply.response, body.size(), keep_alive);
    if (reply.delivery == Delivery::reset_mid_body)
      c.out.append(body, 0, body.size() / 2);
    c.after = AfterSend::reset;
    break;
  case Delivery::truncated:
    c.out = serialize_head(reply.response, body.size(), false) + body.substr(0, body.size() / 2);
    c.after = AfterSend::close;
    break;
  case Delivery::hang:
    c.out.clear();
    c.hanging = true;
    return;
  }
  c.dripping = reply.delivery == Delivery::drip;
  c.drip_ms = reply.drip_ms;
  if (reply.delay_ms > 0)
    schedule(c, reply.delay_ms);
  else
    send_reply(c);
}

void Server::send_reply(Connection& c) {
  if (c.dripping)
    drip_one(c);
  else
    flush(c);
}

void Server::flush(Connection& c) {
  while (c.fd && c.sent < c.out.size()) {
    ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.want_write = true;
        update_interest(c);
      } else if (errno != EINTR) {
        close(c);
      }
      return;
    }
    c.sent += static_cast<std::size_t>(n);
  }
  if (!c.fd || !c.busy || c.dripping)
    return;
  if (c.want_write) {
    c.want_write = false;
    update_interest(c);
  }
  finish_reply(c);
}

void Server::drip_one(Connection& c) {
  if (c.sent < c.out.size()) {
    ssize_t n = send(c.fd.get(), c.out.data() + c.sent, 1, MSG_NOSIGNAL);
    if (n > 0)
      ++c.sent;
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      close(c);
      return;
    }
  }
  if (c.sent < c.out.size())
    schedule(c, c.drip_ms);
  else
    finish_reply(c);
}

void Server::finish_reply(Connection& c) {
  switch (c.after) {
  case AfterSend::keep_alive:
    if (c.peer_closed) {
      close(c);
      return;
    }
    c.busy = false;
    c.dripping = false;
    c.out.clear();
    c.sent = 0;
    return;
  case AfterSend::close:
    close(c);
    return;
  case AfterSend::reset:
    close(c, true);
    return;
  }
}

void Server::schedule(Connection& c, int delay_ms) {
  m_timers.push({m_now + std::chrono::milliseconds(delay_ms), c.id, ++c.generation});
}

void Server::fire_timers() {
  m_now = Clock::now();
  while (!m_timers.empty() && m_timers.top().at <= m_now) {
    Timer t = m_timers.top();
    m_timers.pop();
    auto it = m_connections.find(t.connection);
    if (it == m_connections.end())
      continue;
    Connection& c = *it->second;
    if (!c.fd || c.generation != t.generation)
      continue;
    send_reply(c);
    if (c.fd && !c.busy)
      serve_buffered(c);
  }
}

// Waits for events until the next timer is due, to the microsecond where the kernel has
// epoll_pwait2 (Linux 5.11): a reply's latency is what was asked, not up to a millisecond more.
int Server::wait_for_events(std::vector<epoll_event>& events) {
  std::optional<Clock::duration> wait;
  if (!m_timers.empty())
    wait = std::clamp<Clock::duration>(m_timers.top().at - Clock::now(), Clock::duration::zero(),
                                       std::chrono::seconds(60));
  int size = static_cast<int>(events.size());
  if (m_precise_wait) {
    timespec ts{};
    if (wait) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*wait).count();
      ts = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    }
    int n = epoll_pwait2(m_epoll.get(), events.data(), size, wait ? &ts : nullptr, nullptr);
    if (n >= 0 || errno != ENOSYS)
      return n;
    m_precise_wait = false;
  }
  // Round up: waking a little late is fine, waking early only costs a lap.
  int ms =
      wait ? static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*wait).count()) : -1;
  return epoll_wait(m_epoll.get(), events.data(), size, ms);
}

void Server::update_interest(Connection& c) {
  std::uint32_t interest =
      (c.peer_closed ? 0u : std::uint32_t{EPOLLIN}) | (c.want_write ? std::uint32_t{EPOLLOUT} : 0u);
  if (interest == c.interest)
    return;
  epoll_event ev{.events = interest, .data = {.u64 = c.id}};
  epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  c.interest = interest;
}

void Server::close(Connection& c, bool reset) {
  if (!c.fd)
    return;
  if (reset) {
    // A zero linger turns close() into an RST, which is what a crashed upstream looks like.
    linger l{.l_onoff = 1, .l_linger = 0};
    setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  c.fd.reset();
  c.busy = false;
  m_dead.push_back(c.id);
}

void Server::reap() {
  for (std::uint64_t id : m_dead)
    m_connections.erase(id);
  m_dead.clear();
}

} // namespace evalkeep::standin
