#pragma once

#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"

#include <optional>
#include <vector>

namespace evalkeep::suite {

/// Records a new incident; its id must be new.
Status add_incident(Suite& s, const Incident& incident, const Origin& origin);

/// Changes the fields that are set in `changes` (title, date, severity, url, summary).
struct IncidentChanges {
  std::optional<std::string> title, date, severity, url, summary;
  std::optional<std::string> rationale;
};
Status edit_incident(Suite& s, const std::string& id, const IncidentChanges& changes,
                     const Origin& origin);

Result<std::vector<Incident>> list_incidents(Suite& s);
/// The incident, or an error naming the id when there is none.
Result<Incident> get_incident(Suite& s, std::string_view id);

/// SHA-256 over the incident's canonical record, recorded in its ledger events.
core::Digest incident_hash(const Incident& i);

} // namespace evalkeep::suite
