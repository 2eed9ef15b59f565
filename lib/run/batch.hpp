#pragma once

#include "core/error.hpp"
#include "providers/batch_wire.hpp"
#include "providers/provider.hpp"
#include "providers/transport.hpp"
#include "run/runs_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

/// How a batch run waits on its batches.
struct BatchSettings {
  std::chrono::milliseconds poll_interval{10'000};
};

/// One request of a batch: the executor's index of the call, the case and trial it stands for,
/// the request body a synchronous call sends, and which call of the trial it is: its answer
/// (slot 0) or the judge call of its assertion slot - 1.
struct BatchItem {
  std::size_t index = 0;
  std::string case_id;
  int trial = 0;
  std::string body;
  std::size_t slot = 0;
};

/// Where a batch's results go: the executor's scoring and storing path.
struct BatchSink {
  /// The batch was created at the provider; before it is recorded (a new run stores its plan
  /// here). An error ends the run.
  std::function<Status()> submitted;
  /// A line's answer or API error, as the synchronous API would have sent it.
  std::function<Status(std::size_t index, long status, std::string body)> answered;
  /// A request the batch never ran (expired, cancelled) or that failed as a whole.
  std::function<Status(std::size_t index, std::string error_class, std::string message)> failed;
  /// Every line of a batch was handed over: store what finished.
  std::function<Status()> collected;
  /// A batch's status, for people ("batch_abc: in_progress 3/10").
  std::function<void(const std::string&)> progress;
  /// Leave the batches uncollected in the store once their lines are handed over: the caller
  /// marks them with mark_collected when what their lines started is stored (a trial whose
  /// answer came from a batch waits on its judge calls), so that a resumed run collects them
  /// again meanwhile instead of asking again.
  bool defer_collected = false;
};

/// A batch recorded in the runs store.
struct StoredBatch {
  std::int64_t row = 0;
  std::string provider_kind, batch_id, input_file_id, state;
  bool collected = false;
  struct Request {
    std::string custom_id, case_id;
    int trial = 0;
    std::size_t slot = 0; // 0: the answer; k + 1: the judge call of assertion k
  };
  std::vector<Request> requests;
};

/// The batches recorded for `run`, oldest first.
Result<std::vector<StoredBatch>> stored_batches(RunsStore& store, std::int64_t run);

/// Sends `items` through the provider's batch API and hands each result to `sink`, polling every
/// `settings.poll_interval`. A batch the run recorded earlier and has not collected (the process
/// ended while it was processing) is polled and collected instead of submitting its trials
/// again; only the items in no such batch go into a new one. `key` authenticates and is
/// redacted from every error message. Returns the ids of the batches whose lines were handed
/// over (with `sink.defer_collected`, still to be marked collected).
Result<std::vector<std::string>> run_batches(RunsStore& store, std::int64_t run,
                                             const providers::ProviderConfig& p,
                                             const std::string& key, const BatchSettings& settings,
                                             const std::vector<BatchItem>& items,
                                             providers::Transport& transport,
                                             const BatchSink& sink);

/// Marks the batches `batch_ids` of `run` collected: a resumed run no longer polls them.
Status mark_collected(RunsStore& store, std::int64_t run,
                      const std::vector<std::string>& batch_ids);

} // namespace evalkeep::run
