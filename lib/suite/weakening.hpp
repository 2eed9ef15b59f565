#pragma once

#include "suite/ledger.hpp"
#include "suite/model.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::suite {

/// Which part of a case a change is about.
enum class ChangeField {
  status,        // active, xfail, retired, removed
  min_pass_rate, // the share of trials that must pass (1 when not set)
  trials,        // how many times the case runs (1 when not set)
  passes,        // what rate and trials make of it: "2 of 3 trials"
  assertion,     // one assertion removed, added or replaced
  input,         // the prompt, system prompt or messages, shown as a short diff
  provenance,    // the incident the case guards, or its other origin
  tags,
  title,
  purged, // a removed case's title, input and assertions dropped
};

/// Whether the field gained a value, lost one, or has another.
enum class ChangeKind { changed, added, removed };

/// One difference between two versions of a case as a reviewer reads it, old -> new.
struct CaseChange {
  ChangeField field = ChangeField::status;
  ChangeKind kind = ChangeKind::changed;
  std::string before, after; // empty on the side that has no value (added, removed)
  bool weakens = false;      // the new version is, or may be, easier to pass
  bool operator==(const CaseChange&) const = default;
};

std::string_view to_string(ChangeField f);
std::optional<ChangeField> parse_change_field(std::string_view s);
std::string_view to_string(ChangeKind k);
std::optional<ChangeKind> parse_change_kind(std::string_view s);

/// "assertion: max-length:600 -> max-length:900", "assertion removed: icontains:30 days".
std::string describe(const CaseChange& c);
/// {"field","kind","before","after","weakens"}; before/after null on the side with no value.
nlohmann::ordered_json to_json(const CaseChange& c);

/// Every difference between two versions of a case, each flagged when it weakens the case: the
/// status falling (active -> xfail -> retired), a lower min_pass_rate, fewer passing trials
/// required or more failing ones allowed, an assertion removed, loosened or replaced by one whose
/// strength cannot be compared, a changed input, an incident link moved away. Added assertions,
/// tags and title are listed, never weakening. When unsure, a change weakens.
std::vector<CaseChange> case_changes(const Case& before, const Case& after);

/// True when any of the changes weakens the case.
bool any_weakens(std::span<const CaseChange> changes);

/// The reason an edit gives for `reworded` input: valid for edits only, never for retirements.
inline constexpr std::string_view k_reworded = "reworded";
/// True for a reason an edit may record a weakening with: the retirement vocabulary, or reworded.
bool is_weakening_reason(std::string_view reason);
/// "feature-removed, superseded, ..., reworded" for help and error messages.
std::string weakening_reason_names();

/// The recorded decision that lets a change weaken a case: an edit's reason and rationale, or a
/// retirement's.
struct WeakeningDecision {
  std::string reason, rationale, decided_by;
  std::optional<std::string> approved_by;
  bool operator==(const WeakeningDecision&) const = default;
};

/// The case's canonical record as its content hash covers it (keys sorted, no "type"): SHA-256
/// of its dump() is content_hash(c).
nlohmann::json canonical_record(const Case& c);
/// The keys of the canonical record whose value differs from `before` to `after`, with after's
/// value, or null for a key after does not have: `before`'s record with these set is `after`'s.
nlohmann::json record_set(const Case& before, const Case& after);

/// An edit event's detail, as canonical JSON text:
/// {"changes":[to_json(change)...],"decision":{"approved_by"?,"decided_by","reason"}?,"set":{...}}
/// The decision's rationale is the event's rationale.
std::string edit_detail(std::span<const CaseChange> changes, const nlohmann::json& set,
                        const std::optional<WeakeningDecision>& decision);

/// What an edit event's detail says it did, as recorded (for showing history; the gate replays
/// instead of believing it).
struct RecordedEdit {
  std::vector<CaseChange> changes;
  std::optional<WeakeningDecision> decision; // its rationale taken from the event
};
/// Reads an edit event's detail; nothing for another action, or a detail without "changes"
/// (edits recorded before weakenings were decisions).
std::optional<RecordedEdit> recorded_edit(const LedgerEvent& e);

/// One event of a case's history as replay_case rebuilt it.
struct ReplayedStep {
  std::int64_t seq = 0;
  std::string action;
  std::vector<CaseChange> changes; // from the version before the event to the one it made
  std::optional<WeakeningDecision> decision;
};

/// A case's history rebuilt from a known version.
struct Replay {
  std::vector<ReplayedStep> steps;
  Case last;                               // the last version rebuilt, with its content_hash
  std::optional<std::string> unverifiable; // "event 14 (edit): ..." when it cannot
};                                         // rebuild a version and check its hash

/// Replays a case's ledger events (oldest first, all about this case) from a known version,
/// rebuilding each version (edit: `set`; retire/reinstate/delete: the status change; anything
/// else, or an event without `set`, or a before/after hash that does not match: unverifiable)
/// and the changes each step made, with the decision it carried. Stops at the first event it
/// cannot verify; `last` is then the last version it could. When that first event does not
/// start from `from` but a later one does, the replay from that later event counts if it
/// verifies: the events before it are another line of history (a branch's own, before it merged a
/// base that changed the case too), and the steps from there lead from `from` to the last version.
Replay replay_case(const Case& from, std::span<const LedgerEvent> events);

} // namespace evalkeep::suite
