#pragma once

#include "core/error.hpp"
#include "run/runs_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace evalkeep::run {

/// The form of a run that `runs push` stores in git and `runs fetch` reads back: what it ran
/// against (commit, suite hash, provider settings, state) and, per case, how it was planned
/// (hash, status, incident, trials, min_pass_rate) with each trial's verdict. `full` adds each
/// case's record and each trial's answer and assertion results. Never an API key: a run stores
/// only the names of key variables.
Result<nlohmann::json> shared_run(RunsStore& store, std::int64_t run, bool full);

/// The ref a shared run is stored under: refs/evalkeep/runs/<commit>/<settings>, where
/// <settings> is a short hash of the provider, its kind, URL, model and parameters, so runs of
/// one commit with different settings sit side by side.
std::string shared_run_ref(const RunRecord& run);

/// The run `gate --baseline-run base` compares with: of the finished runs in `store` made on a
/// clean tree with `like`'s provider settings (provider, kind, URL, model, parameters), the
/// newest made at the first of `ancestors` (nearest first) that has one; never `like` itself.
/// Nothing when none is.
Result<std::optional<std::int64_t>> nearest_run(RunsStore& store, const RunRecord& like,
                                                const std::vector<std::string>& ancestors);

/// A shared run read back and checked, ready to store.
struct SharedRun {
  RunRecord run;
  std::vector<PlannedCase> cases;
  std::vector<TrialRecord> trials;
};

/// Reads a document written by shared_run. One that is not a shared run is refused, naming the
/// field.
Result<SharedRun> read_shared_run(const nlohmann::json& doc);

/// Stores a shared run as a new run of `store`, in one transaction, with `source` (the ref and
/// object it came from) in its settings as "fetched_from". Returns its id.
Result<std::int64_t> store_shared_run(RunsStore& store, SharedRun shared,
                                      const std::string& source);

/// Whether a run fetched from `source` is in the store already: each object is fetched once.
Result<bool> fetched_before(RunsStore& store, const std::string& source);

} // namespace evalkeep::run
