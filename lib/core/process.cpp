#include "core/process.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace evalkeep::core {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0)
        ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0)
      ::close(fd[i]);
    fd[i] = -1;
  }
};

// After a kill (timeout, too much output), stop reading: a grandchild may still hold the pipes
// open.
void options_timeout_done(Pipe& out, Pipe& err) {
  out.close_end(0);
  err.close_end(0);
}

// The child's environment: ours, with options.env's entries replacing those of the same name and
// options.unset's names dropped. Points into `environ` and `options`, which outlive the spawn.
std::vector<char*> child_environment(const ProcessOptions& options) {
  auto overridden = [&](const char* entry) {
    for (const auto& e : options.env) {
      auto eq = e.find('=');
      if (eq != std::string::npos && std::strncmp(entry, e.c_str(), eq + 1) == 0)
        return true;
    }
    for (const auto& name : options.unset)
      if (std::strncmp(entry, name.c_str(), name.size()) == 0 && entry[name.size()] == '=')
        return true;
    return false;
  };
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (!overridden(*e))
      envp.push_back(*e);
  for (const auto& e : options.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  return envp;
}

// Starts argv with the pipes as its stdin, stdout and stderr, SIGPIPE at its default.
Result<pid_t> spawn(const std::vector<std::string>& argv, const ProcessOptions& options, Pipe& in,
                    Pipe& out, Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::string cwd = options.cwd ? options.cwd->string() : std::string();
  if (options.cwd)
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto envp = child_environment(options);
  // Once for the process, never undone: saving and restoring the disposition around each child
  // raced between exec threads, and a restore could leave a write unprotected.
  static std::once_flag ignored;
  std::call_once(ignored, [] { ::signal(SIGPIPE, SIG_IGN); });
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return fail(ExitCode::environment, "cannot run '{}': {}", argv[0], std::strerror(rc));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  return pid;
}

// Feeds stdin and reads stdout and stderr until both close, the time is up or the output grows
// past its bound (then the child is killed).
void pump(pid_t pid, const ProcessOptions& options, Pipe& in, Pipe& out, Pipe& err,
          ProcessResult& result) {
  // Allocated once: only the pages written become resident, and a doubling string would briefly
  // hold two copies of a large output.
  if (options.max_output > 0)
    result.out.reserve(options.max_output);
  std::size_t written = 0;
  if (options.stdin_data.empty())
    in.close_end(1);
  else
    ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    int wait_ms = -1;
    if (options.timeout_ms > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        ::kill(pid, SIGKILL); // the pipes close when it dies; keep reading until they do
        result.timed_out = true;
        options_timeout_done(out, err);
        return;
      }
      wait_ms = static_cast<int>(left);
    }
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out.fd[0] >= 0)
      fds[out_i = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0)
      fds[err_i = n++] = {err.fd[0], POLLIN, 0};
    if (in.fd[1] >= 0)
      fds[in_i = n++] = {in.fd[1], POLLOUT, 0};
    if (::poll(fds, static_cast<nfds_t>(n), wait_ms) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    auto drain = [&](int i, Pipe& p, std::string& into) {
      if (i < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        return;
      ssize_t got = ::read(p.fd[0], buf, sizeof buf);
      if (got > 0 && options.max_output > 0 &&
          into.size() + static_cast<std::size_t>(got) > options.max_output)
        result.output_too_large = true; // kept out: memory stays within max_output
      else if (got > 0)
        into.append(buf, static_cast<std::size_t>(got));
      else if (got == 0 || errno != EINTR)
        p.close_end(0);
    };
    drain(out_i, out, result.out);
    drain(err_i, err, result.err);
    if (result.output_too_large) {
      ::kill(pid, SIGKILL);
      options_timeout_done(out, err);
      return;
    }
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t put = ::write(in.fd[1], options.stdin_data.data() + written,
                            options.stdin_data.size() - written);
      if (put > 0)
        written += static_cast<std::size_t>(put);
      if (put < 0 && errno != EAGAIN && errno != EINTR)
        written = options.stdin_data.size();
      if (written == options.stdin_data.size())
        in.close_end(1);
    }
  }
}

} // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options) {
  if (argv.empty())
    return invalid("run_process: empty command");
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 ||
      ::pipe2(err.fd, O_CLOEXEC) != 0)
    return fail(ExitCode::environment, "cannot create pipes: {}", std::strerror(errno));
  auto pid = TRY(spawn(argv, options, in, out, err));
  ProcessResult result;
  pump(pid, options, in, out, err, result);
  in.close_end(1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

} // namespace evalkeep::core
