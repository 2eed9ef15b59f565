#pragma once

#include "providers/provider.hpp"
#include "run/batch.hpp"
#include "run/cache_transfer.hpp"
#include "run/runner.hpp"
#include "run/runs_store.hpp"
#include "suite/model.hpp"
#include "suite/records.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

/// The most assertions a case may hold (docs/USAGE.md, "Limits"). A trial of a case with more is
/// recorded as an error of that case ("too-many-assertions"), without calling the model.
inline constexpr std::size_t k_max_assertions = suite::k_max_assertions;

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
  // Variables that hold keys (each provider's api_key_env): an exec program runs without them
  // unless its provider's pass_env names them.
  std::vector<std::string> key_variables;
  int concurrency = 8;
  CacheMode cache = CacheMode::use;
  /// The trusted cache file the run replays from instead of this store's cache, if any.
  TrustedCache* replay_from = nullptr;
  /// What identifies an exec provider's program (identify_program); without it exec answers are
  /// neither replayed nor cached.
  std::optional<core::Digest> program;
  /// Called once, when the first requests are out (or, with none to send, before the first
  /// result is stored): a new run stores its plan there, not before its first request. An
  /// error ends the run.
  std::function<Status()> once_sent;
  /// Send the answer requests through the provider's batch API (run/batch.hpp) instead of one
  /// call each, then the judge calls through the judge provider's, when it has one; embeddings
  /// (similar) and a judge without a batch API stay synchronous, and nothing is retried.
  std::optional<BatchSettings> batch;
};

struct ExecutorResult {
  std::optional<std::string> stop_reason; // set when the run had to stop early
  std::size_t requests = 0, replayed = 0; // of this invocation
};

/// Runs trials on one thread: a libcurl multi loop (exec commands on a pool of at most
/// `concurrency` threads) with bounded concurrency, retries that follow the API's signals, judge
/// calls, the response cache, and each trial's result committed as soon as it is known.
Result<ExecutorResult> execute(RunsStore& store, const ExecutorSettings& settings,
                               const std::vector<Trial>& trials, std::size_t total_trials,
                               const ProgressFn& progress);

/// The messages sent for a case: its system prompt and prompt, or its conversation.
providers::ChatInput chat_input(const suite::Case& c);

} // namespace evalkeep::run
