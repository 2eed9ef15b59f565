#include "suite/incidents.hpp"

#include "suite/records.hpp"
#include "suite/rows.hpp"

namespace evalkeep::suite {

core::Digest incident_hash(const Incident& i) {
  return core::sha256(rows::canonical(incident_record(i)));
}

Status add_incident(Suite& s, const Incident& incident, const Origin& origin) {
  if (auto v = validate_incident(incident); !v)
    return v;
  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto existing = rows::find_incident(s.db(), incident.id);
  if (!existing)
    return std::unexpected(existing.error());
  if (*existing)
    return with_hint(invalid("incident {} already exists", incident.id),
                     fmt::format("change it with: evalkeep incident edit {}", incident.id));
  auto insert = s.db().prepare(fmt::format("INSERT INTO incidents ({}) VALUES (?, ?, ?, ?, ?, ?)",
                                           rows::k_incident_columns));
  if (!insert)
    return std::unexpected(insert.error());
  rows::bind_incident(*insert, incident);
  if (auto r = insert->run(); !r)
    return r;
  auto ledger = LedgerWriter::open(s.db());
  if (!ledger)
    return std::unexpected(ledger.error());
  auto e = make_event(origin, "incident-add", incident.id);
  e.after = incident_hash(incident);
  if (auto r = ledger->append(e); !r)
    return r;
  return tx->commit();
}

Status edit_incident(Suite& s, const std::string& id, const IncidentChanges& changes,
                     const Origin& origin) {
  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto found = rows::find_incident(s.db(), id);
  if (!found)
    return std::unexpected(found.error());
  if (!*found)
    return with_hint(invalid("no incident {}", id), "list incidents with: evalkeep incident list");
  Incident before = **found, after = before;
  if (changes.title)
    after.title = *changes.title;
  for (auto [field, change] :
       {std::pair{&after.date, &changes.date}, std::pair{&after.severity, &changes.severity},
        std::pair{&after.url, &changes.url}, std::pair{&after.summary, &changes.summary}}) {
    if (*change)
      *field = (*change)->empty() ? std::nullopt : *change; // "" clears the field
  }
  if (auto v = validate_incident(after); !v)
    return v;
  auto before_hash = incident_hash(before), after_hash = incident_hash(after);
  if (before_hash == after_hash)
    return invalid("nothing to change for incident {}", id);
  auto update = s.db().prepare("UPDATE incidents SET title = ?2, date = ?3, severity = ?4, "
                               "url = ?5, summary = ?6 WHERE id = ?1");
  if (!update)
    return std::unexpected(update.error());
  rows::bind_incident(*update, after);
  if (auto r = update->run(); !r)
    return r;
  auto ledger = LedgerWriter::open(s.db());
  if (!ledger)
    return std::unexpected(ledger.error());
  auto e = make_event(origin, "incident-edit", id);
  e.rationale = changes.rationale;
  e.before = before_hash;
  e.after = after_hash;
  if (auto r = ledger->append(e); !r)
    return r;
  return tx->commit();
}

Result<std::vector<Incident>> list_incidents(Suite& s) {
  auto stmt =
      s.db().prepare(fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns));
  if (!stmt)
    return std::unexpected(stmt.error());
  std::vector<Incident> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return out;
    out.push_back(rows::read_incident(*stmt));
  }
}

Result<Incident> get_incident(Suite& s, std::string_view id) {
  auto found = rows::find_incident(s.db(), id);
  if (!found)
    return std::unexpected(found.error());
  if (!*found)
    return with_hint(invalid("no incident {}", id),
                     fmt::format("record it first: evalkeep incident add {} --title \"...\"", id));
  return **found;
}

} // namespace evalkeep::suite
