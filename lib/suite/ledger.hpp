#pragma once

#include "core/error.hpp"
#include "core/hash.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// Who makes a change, when, and at which commit: recorded on every ledger event.
struct Origin {
  std::string actor;                   // "Name <email>", or "unknown" outside a repository
  std::string at;                      // UTC timestamp
  std::optional<std::string> git_head; // nothing outside a repository or before the first commit
};

/// One entry of the append-only ledger.
struct LedgerEvent {
  std::int64_t seq = 0;
  std::string at;
  std::string actor;
  std::string action;  // add, edit, retire, reinstate, delete, import, incident-add, ...
  std::string subject; // a case id, or an incident id for incident-* actions
  std::optional<std::string> rationale;
  std::optional<core::Digest> before;
  std::optional<core::Digest> after;
  std::optional<std::string> git_head;
  std::optional<std::string> detail; // canonical JSON text
  core::Digest hash{};
};

/// An event by `origin` about `subject`; the caller fills in the rest.
LedgerEvent make_event(const Origin& origin, std::string action, std::string subject);

/// The canonical JSON an event's hash covers (everything but the hash).
std::string canonical_event(const LedgerEvent& e);

/// SHA-256 over the previous event's hash (hex) and the event's canonical JSON.
core::Digest chain_hash(const core::Digest& previous, const LedgerEvent& e);

/// Appends events inside the caller's transaction, continuing the chain from the last event.
class LedgerWriter {
public:
  static Result<LedgerWriter> open(store::Database& db);
  /// Fills in seq and hash, and inserts the event. An event is never dated before the one it
  /// follows: a writer that waited for the lock takes the time of the event it waited for.
  Status append(LedgerEvent& e);
  /// Appends an event carried over from another copy of the suite (a merge): it keeps its time
  /// and everything else, and gets the next seq and the hash that chains it here.
  Status carry(LedgerEvent& e);

private:
  LedgerWriter(store::Statement insert, std::int64_t next_seq, core::Digest last,
               std::string last_at)
      : m_insert(std::move(insert)), m_next_seq(next_seq), m_last(last),
        m_last_at(std::move(last_at)) {}
  store::Statement m_insert;
  std::int64_t m_next_seq;
  core::Digest m_last;
  std::string m_last_at;
};

/// Events in order of seq (oldest first); only those about `subject` when given, and only those
/// after seq `after`.
Result<std::vector<LedgerEvent>> read_ledger(store::Database& db,
                                             const std::optional<std::string>& subject = {},
                                             std::int64_t after = 0);

/// True for events about an incident (their subject is an incident id, not a case id).
inline bool is_incident_event(const LedgerEvent& e) {
  return e.action.starts_with("incident-");
}

} // namespace evalkeep::suite
