#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace evalkeep::run {

/// Runs jobs on at most `max_threads` threads, started as jobs arrive and kept until the pool
/// ends, so a run of any number of exec calls holds no more threads than calls it has in flight
/// at once (a thread per call, joined at the end, ran out of memory maps at about 32,700 calls).
class WorkerPool {
public:
  explicit WorkerPool(std::size_t max_threads);
  /// Runs the jobs still queued, then joins every thread.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues a job, starting a thread for it when none is idle and the bound allows. False, with
  /// the job dropped, when no thread runs at all and none can be started.
  bool submit(std::function<void()> job);
  /// The threads started so far: never more than max_threads.
  std::size_t threads() const;

private:
  void work();

  std::size_t m_max;
  mutable std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<std::function<void()>> m_jobs;
  std::vector<std::thread> m_threads;
  std::size_t m_idle = 0; // threads waiting for a job
  bool m_stopping = false;
};

} // namespace evalkeep::run
