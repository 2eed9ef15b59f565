#pragma once

#include "reply.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <queue>
#include <string>
#include <sys/epoll.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace evalkeep::standin {

/// An owned file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void reset(int fd = -1);

private:
  int m_fd = -1;
};

/// A single-threaded HTTP/1.1 server on 127.0.0.1: epoll, non-blocking sockets, keep-alive,
/// one request at a time per connection, and replies sent after their delay by a timer heap
/// (the loop never sleeps).
class Server {
public:
  explicit Server(Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds 127.0.0.1:port (0 = a free port chosen by the kernel) and returns the port.
  std::expected<int, std::string> listen(int port);

  /// Serves until SIGTERM or SIGINT arrives.
  std::expected<void, std::string> run();

private:
  using Clock = std::chrono::steady_clock;
  struct Connection;

  struct Timer {
    Clock::time_point at;
    std::uint64_t connection;
    std::uint64_t generation; // stale when the connection's generation moved on
    bool operator>(const Timer& other) const { return at > other.at; }
  };

  void accept_all();
  void on_event(Connection& c, std::uint32_t events);
  void read_from(Connection& c);
  void serve_buffered(Connection& c);
  void start_reply(Connection& c, Reply reply, bool keep_alive);
  void send_reply(Connection& c);
  void flush(Connection& c);
  void drip_one(Connection& c);
  void finish_reply(Connection& c);
  void schedule(Connection& c, int delay_ms);
  void fire_timers();
  int wait_for_events(std::vector<epoll_event>& events);
  void update_interest(Connection& c);
  void close(Connection& c, bool reset = false);
  void reap();

  Handler& m_handler;
  Fd m_epoll;
  Fd m_listener;
  Fd m_signals;
  Fd m_spare; // released to accept-and-close when out of descriptors
  std::uint64_t m_next_id = 16;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> m_connections;
  std::vector<std::uint64_t> m_dead;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
  Clock::time_point m_now;
  bool m_precise_wait = true; // epoll_pwait2 works here (Linux 5.11 and later)
  bool m_stop = false;
};

} // namespace evalkeep::standin
