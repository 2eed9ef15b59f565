#include "run/worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

using evalkeep::run::WorkerPool;

namespace {

// The threads of this process alive now.
std::size_t tasks() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

} // namespace

TEST_CASE("a pool of 8 runs 3,000 jobs on at most 8 threads, joined as it ends", "[run][pool]") {
  const std::size_t before = tasks();
  std::mutex mutex;
  std::set<std::thread::id> ran_on;
  std::size_t most_tasks = 0;
  std::atomic<int> done{0};
  int queued = 0;
  {
    WorkerPool pool(8);
    for (int i = 0; i < 3000; ++i) {
      queued += pool.submit([&] {
        auto alive = tasks();
        std::lock_guard lock(mutex);
        ran_on.insert(std::this_thread::get_id());
        most_tasks = std::max(most_tasks, alive);
        ++done;
      });
      // Never more than 8 jobs in flight, as the executor keeps them: at most -j exec calls.
      while (queued - done.load() >= 8)
        std::this_thread::yield();
    }
    CHECK(pool.threads() <= 8);
  }
  CHECK(queued == 3000);
  CHECK(done == 3000);
  CHECK(ran_on.size() <= 8);
  CHECK(most_tasks <= before + 8);
  CHECK(tasks() == before); // every thread joined
}

TEST_CASE("a pool ends only once every queued job has run", "[run][pool]") {
  std::atomic<int> done{0};
  {
    WorkerPool pool(2);
    for (int i = 0; i < 20; ++i)
      REQUIRE(pool.submit([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++done;
      }));
    CHECK(pool.threads() == 2);
  }
  CHECK(done == 20);
}

TEST_CASE("a pool starts no thread before its first job", "[run][pool]") {
  WorkerPool pool(8);
  CHECK(pool.threads() == 0);
  std::atomic<bool> ran{false};
  REQUIRE(pool.submit([&] { ran = true; }));
  CHECK(pool.threads() == 1);
  for (int i = 0; i < 1000 && !ran; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(ran);
}
