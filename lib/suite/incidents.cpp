#include "suite/incidents.hpp"

#include "suite/records.hpp"
#include "suite/rows.hpp"

namespace evalkeep::suite {

core::Digest incident_hash(const Incident& i) {
  return core::sha256(rows::canonical(incident_record(i)));
}

Status add_incident(Suite& s, const Incident& incident, const Origin& origin) {
  TRY(validate_incident(incident));
  auto tx = TRY(store::Transaction::begin(s.db()));
  auto existing = TRY(rows::find_incident(s.db(), incident.id));
  if (existing)
    return with_hint(invalid("incident {} already exists", incident.id),
                     fmt::format("change it with: evalkeep incident edit {}", incident.id));
  auto insert = TRY(s.db().prepare(fmt::format(
      "INSERT INTO incidents ({}) VALUES (?, ?, ?, ?, ?, ?)", rows::k_incident_columns)));
  rows::bind_incident(insert, incident);
  TRY(insert.run());
  auto ledger = TRY(LedgerWriter::open(s.db()));
  auto e = make_event(origin, "incident-add", incident.id);
  e.after = incident_hash(incident);
  TRY(ledger.append(e));
  return tx.commit();
}

Status edit_incident(Suite& s, const std::string& id, const IncidentChanges& changes,
                     const Origin& origin) {
  auto tx = TRY(store::Transaction::begin(s.db()));
  auto found = TRY(rows::find_incident(s.db(), id));
  if (!found)
    return with_hint(invalid("no incident {}", id), "list incidents with: evalkeep incident list");
  Incident before = *found, after = before;
  if (changes.title)
    after.title = *changes.title;
  for (auto [field, change] :
       {std::pair{&after.date, &changes.date}, std::pair{&after.severity, &changes.severity},
        std::pair{&after.url, &changes.url}, std::pair{&after.summary, &changes.summary}}) {
    if (*change)
      *field = (*change)->empty() ? std::nullopt : *change; // "" clears the field
  }
  TRY(validate_incident(after));
  auto before_hash = incident_hash(before), after_hash = incident_hash(after);
  if (before_hash == after_hash)
    return invalid("nothing to change for incident {}", id);
  auto update = TRY(s.db().prepare("UPDATE incidents SET title = ?2, date = ?3, severity = ?4, "
                                   "url = ?5, summary = ?6 WHERE id = ?1"));
  rows::bind_incident(update, after);
  TRY(update.run());
  auto ledger = TRY(LedgerWriter::open(s.db()));
  auto e = make_event(origin, "incident-edit", id);
  e.rationale = changes.rationale;
  e.before = before_hash;
  e.after = after_hash;
  TRY(ledger.append(e));
  return tx.commit();
}

Result<std::vector<Incident>> list_incidents(Suite& s) {
  std::vector<Incident> out;
  TRY(store::each_row(
      s.db(), fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns),
      [&](const store::Statement& row) { out.push_back(rows::read_incident(row)); }));
  return out;
}

Result<Incident> get_incident(Suite& s, std::string_view id) {
  auto found = TRY(rows::find_incident(s.db(), id));
  if (!found)
    return with_hint(invalid("no incident {}", id),
                     fmt::format("record it first: evalkeep incident add {} --title \"...\"", id));
  return *found;
}

} // namespace evalkeep::suite
