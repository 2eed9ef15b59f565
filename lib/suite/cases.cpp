#include "suite/cases.hpp"

#include "core/ids.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace evalkeep::suite {

namespace {

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// The rules a new or edited case obeys against the rest of the suite.
Status check_provenance(Suite& s, const Case& c, const Policy& policy) {
  if (c.provenance.kind == ProvenanceKind::incident) {
    auto incident = rows::find_incident(s.db(), c.provenance.incident);
    if (!incident)
      return std::unexpected(incident.error());
    if (!*incident)
      return with_hint(invalid("unknown incident {}", c.provenance.incident),
                       fmt::format("record it first: evalkeep incident add {} --title \"...\"",
                                   c.provenance.incident));
  } else if (policy.require_incident) {
    return with_hint(
        refuse("policy requires an incident link for every case, and {} has {} provenance", c.id,
               to_string(c.provenance.kind)),
        "pass --incident INC-…, or set require_incident = false in evalkeep.toml");
  }
  return {};
}

Status insert_case(store::Database& db, const Case& c) {
  static const std::string sql =
      fmt::format("INSERT INTO cases ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  rows::k_case_columns);
  auto insert = db.prepare(sql);
  if (!insert)
    return std::unexpected(insert.error());
  rows::bind_case(*insert, c);
  return insert->run();
}

} // namespace

Result<std::string> add_case(Suite& s, Case c, const Policy& policy, const Origin& origin) {
  if (c.id.empty())
    c.id = core::generate_case_id();
  if (c.status != CaseStatus::active && c.status != CaseStatus::xfail)
    return invalid("a new case is active or xfail, not {}", to_string(c.status));
  if (auto v = validate_case(c); !v)
    return with_context(v.error(), fmt::format("case {}", c.id));
  c.content_hash = content_hash(c);

  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto existing = rows::find_case(s.db(), c.id);
  if (!existing)
    return std::unexpected(existing.error());
  if (*existing)
    return with_hint(invalid("a case with id {} already exists", c.id),
                     "pick another --id, or change the existing case with: evalkeep edit " + c.id);
  if (auto r = check_provenance(s, c, policy); !r)
    return std::unexpected(r.error());
  if (auto r = insert_case(s.db(), c); !r)
    return std::unexpected(r.error());
  auto ledger = LedgerWriter::open(s.db());
  if (!ledger)
    return std::unexpected(ledger.error());
  auto e = make_event(origin, "add", c.id);
  e.after = c.content_hash;
  if (auto r = ledger->append(e); !r)
    return std::unexpected(r.error());
  if (auto r = tx->commit(); !r)
    return std::unexpected(r.error());
  return c.id;
}

namespace {

// SELECT `what` FROM the cases the filter selects, then `tail`, with the parameters bound.
Result<store::Statement> select_cases(Suite& s, const CaseFilter& filter, std::string_view what,
                                      std::string_view tail = {}) {
  std::string sql = fmt::format("SELECT {} FROM cases WHERE 1", what);
  if (filter.status)
    sql += " AND status = ?1";
  else if (!filter.include_removed)
    sql += " AND status <> 'removed'";
  if (filter.incident)
    sql += " AND incident = ?2";
  if (filter.kind)
    sql += " AND provenance_kind = ?3";
  if (filter.tag)
    sql += " AND EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE value = ?4)";
  sql += tail;
  auto stmt = s.db().prepare(sql);
  if (!stmt)
    return std::unexpected(stmt.error());
  if (filter.status)
    stmt->bind(1, std::string(to_string(*filter.status)));
  if (filter.incident)
    stmt->bind(2, *filter.incident);
  if (filter.kind)
    stmt->bind(3, std::string(to_string(*filter.kind)));
  if (filter.tag)
    stmt->bind(4, *filter.tag);
  return stmt;
}

} // namespace

Status for_each_case(Suite& s, const CaseFilter& filter,
                     const std::function<Status(Case&&)>& each) {
  auto stmt = select_cases(s, filter, rows::k_case_columns, " ORDER BY id");
  if (!stmt)
    return std::unexpected(stmt.error());
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return {};
    if (auto r = each(rows::read_case(*stmt)); !r)
      return r;
  }
}

Result<std::vector<Case>> list_cases(Suite& s, const CaseFilter& filter) {
  std::vector<Case> out;
  auto r = for_each_case(s, filter, [&](Case&& c) {
    out.push_back(std::move(c));
    return Status{};
  });
  if (!r)
    return std::unexpected(r.error());
  return out;
}

Result<std::size_t> longest_case_id(Suite& s, const CaseFilter& filter) {
  auto stmt = select_cases(s, filter, "coalesce(max(length(id)), 0)");
  if (!stmt)
    return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row)
    return std::unexpected(row.error());
  return static_cast<std::size_t>(stmt->integer(0));
}

Result<Case> get_case(Suite& s, std::string_view id) {
  auto found = rows::find_case(s.db(), id);
  if (!found)
    return std::unexpected(found.error());
  if (!*found)
    return with_hint(invalid("no case {}", id), "list cases with: evalkeep list");
  return **found;
}

Status edit_case(Suite& s, const std::string& id, const CaseChanges& changes, const Policy& policy,
                 const Origin& origin) {
  if (blank(changes.rationale))
    return with_hint(invalid("an edit needs a rationale"),
                     "say why with --rationale \"...\"; it is kept in the ledger");
  if (changes.status && !is_live(*changes.status))
    return with_hint(
        invalid("edit sets status active or xfail, not {}", to_string(*changes.status)),
        "retire a case with: evalkeep retire " + id);
  auto tx = store::Transaction::begin(s.db());
  if (!tx)
    return std::unexpected(tx.error());
  auto found = get_case(s, id);
  if (!found)
    return std::unexpected(found.error());
  Case before = *found;
  if (!is_live(before.status))
    return with_hint(refuse("case {} is {}; only active or xfail cases can be edited", id,
                            to_string(before.status)),
                     "bring it back first with: evalkeep reinstate " + id + " --rationale \"...\"");
  Case after = before;
  nlohmann::json changed = nlohmann::json::array();
  auto mark = [&](const char* field) { changed.push_back(field); };
  if (changes.title)
    after.title = changes.title->empty() ? std::nullopt : changes.title, mark("title");
  if (changes.prompt) {
    after.prompt = *changes.prompt;
    after.messages.clear();
    mark("prompt");
  }
  if (changes.system)
    after.system = changes.system->empty() ? std::nullopt : changes.system, mark("system");
  if (changes.messages) {
    after.messages = *changes.messages;
    after.prompt.reset();
    after.system.reset();
    mark("messages");
  }
  nlohmann::json removed = nlohmann::json::array(), added = nlohmann::json::array();
  if (changes.expect || !changes.add_expect.empty() || !changes.remove_expect.empty()) {
    std::vector<scoring::Assertion> next = changes.expect.value_or(after.expect);
    for (const auto& r : changes.remove_expect) {
      auto it = std::find(next.begin(), next.end(), r);
      if (it == next.end())
        return invalid("case {} has no assertion {}", id, scoring::to_spec(r));
      next.erase(it);
    }
    for (const auto& a : changes.add_expect)
      next.push_back(a);
    for (const auto& a : after.expect)
      if (std::find(next.begin(), next.end(), a) == next.end())
        removed.push_back(scoring::to_spec(a));
    for (const auto& a : next)
      if (std::find(after.expect.begin(), after.expect.end(), a) == after.expect.end())
        added.push_back(scoring::to_spec(a));
    after.expect = std::move(next);
    mark("expect");
  }
  if (!changes.add_tags.empty() || !changes.remove_tags.empty()) {
    for (const auto& t : changes.remove_tags)
      std::erase(after.tags, t);
    after.tags.insert(after.tags.end(), changes.add_tags.begin(), changes.add_tags.end());
    mark("tags");
  }
  if (changes.provenance)
    after.provenance = *changes.provenance, mark("provenance");
  if (changes.status)
    after.status = *changes.status, mark("status");
  if (changes.min_pass_rate)
    after.min_pass_rate = *changes.min_pass_rate, mark("min_pass_rate");
  if (changes.trials)
    after.trials = *changes.trials, mark("trials");

  if (auto v = validate_case(after); !v)
    return with_context(v.error(), fmt::format("case {}", id));
  after.content_hash = content_hash(after);
  if (after.content_hash == before.content_hash)
    return invalid("nothing to change for case {}", id);
  if (changes.provenance) {
    if (auto r = check_provenance(s, after, policy); !r)
      return r;
  }
  auto update = s.db().prepare(
      "UPDATE cases SET title = ?2, prompt = ?3, system = ?4, messages = ?5, expect = ?6, "
      "tags = ?7, incident = ?8, provenance_kind = ?9, provenance_note = ?10, status = ?11, "
      "min_pass_rate = ?12, trials = ?13, content_hash = ?14 WHERE id = ?1");
  if (!update)
    return std::unexpected(update.error());
  rows::bind_case(*update, after);
  if (auto r = update->run(); !r)
    return r;
  nlohmann::json detail{{"changed", changed}};
  if (!removed.empty())
    detail["assertions_removed"] = removed;
  if (!added.empty())
    detail["assertions_added"] = added;
  auto ledger = LedgerWriter::open(s.db());
  if (!ledger)
    return std::unexpected(ledger.error());
  auto e = make_event(origin, "edit", id);
  e.rationale = changes.rationale;
  e.before = before.content_hash;
  e.after = after.content_hash;
  e.detail = detail.dump();
  if (auto r = ledger->append(e); !r)
    return r;
  return tx->commit();
}

} // namespace evalkeep::suite
