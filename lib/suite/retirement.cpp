#include "suite/retirement.hpp"

#include "core/time.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"

#include <algorithm>

namespace evalkeep::suite {

namespace {

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// Moves a case to c.status with c.content_hash; a purged case also loses its payload.
Status set_status(store::Database& db, const Case& c) {
  auto update = db.prepare("UPDATE cases SET status = ?2, content_hash = ?3 WHERE id = ?1");
  if (!update)
    return std::unexpected(update.error());
  update->bind_all(c.id, std::string(to_string(c.status)),
                   std::span<const std::uint8_t>(c.content_hash));
  if (auto r = update->run(); !r || !c.purged)
    return r;
  auto purge = db.prepare("UPDATE cases SET title = NULL, prompt = NULL, system = NULL, "
                          "messages = NULL, expect = NULL WHERE id = ?");
  if (!purge)
    return std::unexpected(purge.error());
  purge->bind(1, c.id);
  return purge->run();
}

// Appends the ledger event for a status change of `c` (now carrying its new hash).
Status record(store::Database& db, const Origin& origin, const char* action, const Case& c,
              const core::Digest& before, std::optional<std::string> rationale,
              std::optional<std::string> detail) {
  auto ledger = LedgerWriter::open(db);
  if (!ledger)
    return std::unexpected(ledger.error());
  auto e = make_event(origin, action, c.id);
  e.rationale = std::move(rationale);
  e.before = before;
  e.after = c.content_hash;
  e.detail = std::move(detail);
  return ledger->append(e);
}

} // namespace

Result<RetirementDecision> retire(Suite& s, const RetireRequest& request, const Policy& policy,
                                  const Origin& origin) {
  auto reason = parse_reason(request.reason);
  if (!reason)
    return with_hint(invalid("unknown reason '{}'", request.reason), "reasons: " + reason_names());
  if (auto t = text_field("rationale", request.rationale); !t)
    return std::unexpected(t.error());
  if (blank(request.rationale))
    return with_hint(invalid("a retirement needs a rationale"),
                     "say why the guarantee is no longer needed with --rationale \"...\"");
  if (request.revisit && !core::is_date(*request.revisit))
    return invalid("--revisit '{}' is not a date (YYYY-MM-DD)", *request.revisit);
  if (*reason == RetirementReason::superseded && request.superseded_by.empty())
    return with_hint(invalid("reason superseded needs the case(s) that take over the guarantee"),
                     "add --superseded-by CASE");

  RetirementDecision d;
  d.case_id = request.case_id;
  d.reason = *reason;
  d.rationale = request.rationale;
  d.decided_by = request.decided_by.value_or(origin.actor);
  d.approved_by = request.approved_by;
  d.decided_at = origin.at;
  d.git_head = origin.git_head;
  d.superseded_by = request.superseded_by;
  d.revisit = request.revisit;
  if (policy.require_approver) {
    if (!d.approved_by || blank(*d.approved_by))
      return with_hint(refuse("policy requires an approver for every retirement"),
                       "add --approved-by \"Name <email>\" (someone other than the decider)");
    if (*d.approved_by == d.decided_by)
      return refuse("policy requires the approver to differ from the decider ({})", d.decided_by);
  }

  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto found = get_case(s, request.case_id);
  if (!found)
    return std::unexpected(found.error());
  Case c = *found;
  if (!is_live(c.status))
    return refuse("case {} is already {}", c.id, to_string(c.status));
  for (const auto& other : d.superseded_by) {
    if (other == c.id)
      return invalid("case {} cannot supersede itself", c.id);
    auto target = rows::find_case(s.db(), other);
    if (!target)
      return std::unexpected(target.error());
    if (!*target)
      return invalid("--superseded-by {}: no such case", other);
    if ((*target)->status != CaseStatus::active)
      return refuse("--superseded-by {}: the case is {}, and only an active case can take over a "
                    "guarantee",
                    other, to_string((*target)->status));
  }
  if (c.provenance.kind == ProvenanceKind::incident)
    d.incidents = {c.provenance.incident};

  auto insert = s.db().prepare(
      fmt::format("INSERT INTO retirements ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  rows::k_decision_columns));
  if (!insert)
    return std::unexpected(insert.error());
  rows::bind_decision(*insert, d);
  if (auto r = insert->run(); !r)
    return std::unexpected(r.error());
  auto before = c.content_hash;
  c.status = CaseStatus::retired;
  c.content_hash = content_hash(c);
  if (auto r = set_status(s.db(), c); !r)
    return std::unexpected(r.error());
  if (auto r = record(s.db(), origin, "retire", c, before, d.rationale,
                      rows::canonical(retirement_record(d)));
      !r)
    return std::unexpected(r.error());
  if (auto r = tx->commit(); !r)
    return std::unexpected(r.error());
  return d;
}

Status remove_case(Suite& s, const std::string& id, bool purge, const Origin& origin) {
  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto found = get_case(s, id);
  if (!found)
    return std::unexpected(found.error());
  Case c = *found;
  if (c.status == CaseStatus::removed && (c.purged || !purge))
    return refuse("case {} is already removed", id);
  if (is_live(c.status)) {
    std::string guards = "its guarantee";
    if (c.provenance.kind == ProvenanceKind::incident) {
      auto incident = rows::find_incident(s.db(), c.provenance.incident);
      guards = fmt::format("incident {}", c.provenance.incident);
      if (incident && *incident)
        guards += fmt::format(" ({})", (*incident)->title);
    } else {
      guards = fmt::format("a {} guarantee ({})", to_string(c.provenance.kind), c.provenance.note);
    }
    return with_hint(
        refuse("refusing to remove case {}: it guards {} and has no retirement decision", id,
               guards),
        fmt::format("record the decision first: evalkeep retire {} --reason REASON --rationale "
                    "\"why this guarantee is no longer needed\" (reasons: {})",
                    id, reason_names()));
  }
  auto before = c.content_hash;
  c.status = CaseStatus::removed;
  if (purge) {
    c.content_hash = content_hash(c); // the hash of the removed case, kept by the tombstone
    c.purged = true;
    c.title.reset();
    c.prompt.reset();
    c.system.reset();
    c.messages.clear();
    c.expect.clear();
  } else {
    c.content_hash = content_hash(c);
  }
  if (auto r = set_status(s.db(), c); !r)
    return r;
  nlohmann::json detail{{"purged", purge}};
  if (auto r = record(s.db(), origin, "delete", c, before, std::nullopt, detail.dump()); !r)
    return r;
  return tx->commit();
}

Status reinstate(Suite& s, const std::string& id, const std::string& rationale,
                 const Origin& origin) {
  if (auto t = text_field("rationale", rationale); !t)
    return std::unexpected(t.error());
  if (blank(rationale))
    return with_hint(invalid("reinstating needs a rationale"),
                     "say why the guarantee is needed again with --rationale \"...\"");
  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto found = get_case(s, id);
  if (!found)
    return std::unexpected(found.error());
  Case c = *found;
  if (is_live(c.status))
    return refuse("case {} is {}, not retired", id, to_string(c.status));
  if (c.purged)
    return refuse("case {} was purged: its input and assertions are gone; add a new case", id);
  auto decision = rows::find_decision(s.db(), id);
  if (!decision)
    return std::unexpected(decision.error());
  auto before = c.content_hash;
  c.status = CaseStatus::active;
  c.content_hash = content_hash(c);
  if (auto r = set_status(s.db(), c); !r)
    return r;
  auto del = s.db().prepare("DELETE FROM retirements WHERE case_id = ?");
  if (!del)
    return std::unexpected(del.error());
  del->bind(1, id);
  if (auto r = del->run(); !r)
    return r;
  std::optional<std::string> detail;
  if (*decision)
    detail = rows::canonical(retirement_record(**decision));
  if (auto r = record(s.db(), origin, "reinstate", c, before, rationale, detail); !r)
    return r;
  return tx->commit();
}

Result<std::optional<RetirementDecision>> find_decision(Suite& s, std::string_view id) {
  return rows::find_decision(s.db(), id);
}

Result<std::vector<RetirementDecision>> list_decisions(Suite& s) {
  auto stmt = s.db().prepare(
      fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns));
  if (!stmt)
    return std::unexpected(stmt.error());
  std::vector<RetirementDecision> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return out;
    out.push_back(rows::read_decision(*stmt));
  }
}

} // namespace evalkeep::suite
