#pragma once

#include "providers/provider.hpp"
#include "run/runner.hpp"
#include "run/runs_store.hpp"
#include "suite/model.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

/// One trial of one case to run.
struct Trial {
  const PlannedCase* planned = nullptr;
  const suite::Case* c = nullptr;
  int trial = 0;
};

/// What an executor needs to know about the run it works for.
struct ExecutorSettings {
  std::int64_t run = 0;
  std::string nonce; // stored with the run: its idempotency keys are its own, whatever its number
  providers::ProviderConfig provider;
  std::optional<providers::ProviderConfig> judge; // for judge assertions
  int concurrency = 8;
  CacheMode cache = CacheMode::use;
  /// Called once, when the first requests are out (or, with none to send, before the first
  /// result is stored): a new run stores its plan there, not before its first request. An
  /// error ends the run.
  std::function<Status()> once_sent;
};

struct ExecutorResult {
  std::optional<std::string> stop_reason; // set when the run had to stop early
  std::size_t requests = 0, cached = 0;
};

/// Runs trials on one thread: a libcurl multi loop (threads for exec commands) with bounded
/// concurrency, retries that follow the API's signals, judge calls, the response cache, and
/// each trial's result committed as soon as it is known.
Result<ExecutorResult> execute(RunsStore& store, const ExecutorSettings& settings,
                               const std::vector<Trial>& trials, std::size_t total_trials,
                               const ProgressFn& progress);

/// The messages sent for a case: its system prompt and prompt, or its conversation.
providers::ChatInput chat_input(const suite::Case& c);

} // namespace evalkeep::run
