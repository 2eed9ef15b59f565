#include "run/worker_pool.hpp"

#include <algorithm>
#include <system_error>

namespace evalkeep::run {

WorkerPool::WorkerPool(std::size_t max_threads) : m_max(std::max<std::size_t>(1, max_threads)) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_ready.notify_all();
  for (auto& t : m_threads)
    t.join();
}

bool WorkerPool::submit(std::function<void()> job) {
  std::unique_lock lock(m_mutex);
  m_jobs.push_back(std::move(job));
  if (m_jobs.size() > m_idle && m_threads.size() < m_max) {
    try {
      m_threads.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      // Out of threads or memory: the threads already running take the job in turn.
      if (m_threads.empty()) {
        m_jobs.pop_back();
        return false;
      }
    }
  }
  lock.unlock();
  m_ready.notify_one();
  return true;
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(m_mutex);
  return m_threads.size();
}

void WorkerPool::work() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    ++m_idle;
    m_ready.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
    --m_idle;
    if (m_jobs.empty())
      return; // stopping, and nothing left to run
    auto job = std::move(m_jobs.front());
    m_jobs.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

} // namespace evalkeep::run
