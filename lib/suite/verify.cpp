#include "suite/verify.hpp"

#include "core/hash.hpp"
#include "store/migration.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace evalkeep::suite {

namespace {

using SchemaRows = std::map<std::string, std::string>; // "type name" -> sql

Result<SchemaRows> schema_rows(store::Database& db) {
  auto stmt = db.prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_schema "
                         "WHERE name NOT LIKE 'sqlite_%'");
  if (!stmt)
    return std::unexpected(stmt.error());
  SchemaRows out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return out;
    out[stmt->str(0) + " " + stmt->str(1)] = stmt->str(2);
  }
}

// The schema this build creates for the file's version, made fresh in memory, is the reference.
Status check_schema(store::Database& db, int version, std::vector<VerifyProblem>& problems) {
  auto fresh = store::Database::open_memory();
  if (!fresh)
    return std::unexpected(fresh.error());
  for (const auto& m : store::suite_migrations())
    if (m.version <= version)
      if (auto r = fresh->exec(m.sql); !r)
        return r;
  auto want = schema_rows(*fresh);
  if (!want)
    return std::unexpected(want.error());
  auto have = schema_rows(db);
  if (!have)
    return std::unexpected(have.error());
  for (const auto& [name, sql] : *want) {
    auto it = have->find(name);
    if (it == have->end())
      problems.push_back({{}, fmt::format("{} is missing", name)});
    else if (it->second != sql)
      problems.push_back({{}, fmt::format("{} differs from evalkeep's definition", name)});
  }
  for (const auto& [name, _] : *have)
    if (!want->contains(name))
      problems.push_back({{}, fmt::format("unexpected {} in the suite", name)});
  return {};
}

using LastEvents = std::unordered_map<std::string, const LedgerEvent*>;

// The events of `last` whose subject passes `keep`, sorted by subject.
template <typename Keep>
std::vector<const LedgerEvent*> in_id_order(const LastEvents& last, Keep keep) {
  std::vector<const LedgerEvent*> out;
  for (const auto& [id, e] : last)
    if (keep(id))
      out.push_back(e);
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->subject < b->subject; });
  return out;
}

// The first event out of sequence or not matching its hash, if any.
std::optional<VerifyProblem> broken_link(const std::vector<LedgerEvent>& events) {
  core::Digest prev{};
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    auto expected_seq = static_cast<std::int64_t>(i) + 1;
    if (e.seq != expected_seq)
      return VerifyProblem{e.seq, fmt::format("event {} is out of sequence (expected {}): events "
                                              "were removed or reordered",
                                              e.seq, expected_seq)};
    if (chain_hash(prev, e) != e.hash)
      return VerifyProblem{e.seq, fmt::format("event {} ({} {}) does not match its hash: the "
                                              "ledger was edited",
                                              e.seq, e.action, e.subject)};
    prev = e.hash;
  }
  return std::nullopt;
}

// Cases are read a chunk at a time on the verifying thread and hashed on another: recomputing
// every content hash is the biggest part of verifying a large suite.
constexpr std::size_t k_chunk = 1024;

std::vector<char> hashes_hold(const std::vector<Case>& cases) {
  std::vector<char> ok(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i)
    ok[i] = cases[i].purged || content_hash(cases[i]) == cases[i].content_hash;
  return ok;
}

// Judges one case against the ledger's latest event for it; `hash_holds` tells whether its
// content still gives its stored hash.
void judge_case(const Case& c, bool hash_holds, const LastEvents& last_case, VerifyReport& report) {
  if (c.purged && c.status != CaseStatus::removed) {
    report.problems.push_back(
        {{}, fmt::format("case {} lost its assertions outside evalkeep", c.id)});
    return;
  }
  auto it = last_case.find(c.id);
  if (it == last_case.end()) {
    report.problems.push_back(
        {{}, fmt::format("case {} has no ledger event: it was added outside evalkeep", c.id)});
    return;
  }
  const LedgerEvent& e = *it->second;
  if (!hash_holds)
    report.problems.push_back(
        {e.seq, fmt::format("case {} was changed outside evalkeep (its content no longer "
                            "matches its hash)",
                            c.id)});
  else if (!e.after || *e.after != c.content_hash)
    report.problems.push_back(
        {e.seq, fmt::format("case {} differs from what ledger event {} recorded", c.id, e.seq)});
}

// Checks that every case, decision and incident in the tables is the one the ledger's latest
// event for it describes.
Status check_tables(store::Database& db, const LastEvents& last_case,
                    const LastEvents& last_incident, const LastEvents& last_decision,
                    VerifyReport& report) {
  auto cases = db.prepare(fmt::format("SELECT {} FROM cases ORDER BY id", rows::k_case_columns));
  if (!cases)
    return std::unexpected(cases.error());
  std::unordered_set<std::string> seen, retired;
  std::vector<Case> chunk, in_hashing;
  std::future<std::vector<char>> hashing;
  auto judge = [&](const std::vector<Case>& judged, const std::vector<char>& ok) {
    for (std::size_t i = 0; i < judged.size(); ++i)
      judge_case(judged[i], ok[i], last_case, report);
  };
  for (;;) {
    auto row = cases->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      break;
    Case& c = chunk.emplace_back(rows::read_case(*cases));
    ++report.cases;
    seen.insert(c.id);
    if (!is_live(c.status))
      retired.insert(c.id);
    if (chunk.size() == k_chunk) {
      if (hashing.valid())
        judge(in_hashing, hashing.get());
      in_hashing = std::move(chunk);
      chunk.clear();
      hashing = std::async(std::launch::async, hashes_hold, std::cref(in_hashing));
    }
  }
  if (hashing.valid())
    judge(in_hashing, hashing.get());
  judge(chunk, hashes_hold(chunk));
  for (const auto* e : in_id_order(last_case, [&](const auto& id) { return !seen.contains(id); }))
    report.problems.push_back(
        {e->seq, fmt::format("case {} is in the ledger but missing from the suite: it was "
                             "deleted outside evalkeep",
                             e->subject)});

  auto decisions = db.prepare(
      fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns));
  if (!decisions)
    return std::unexpected(decisions.error());
  std::unordered_set<std::string> decided;
  for (;;) {
    auto row = decisions->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      break;
    auto d = rows::read_decision(*decisions);
    decided.insert(d.case_id);
    auto it = last_decision.find(d.case_id);
    if (it == last_decision.end() || it->second->detail != rows::canonical(retirement_record(d)))
      report.problems.push_back({{},
                                 fmt::format("the retirement decision for {} is not the one "
                                             "the ledger recorded",
                                             d.case_id)});
  }
  for (const auto& id : retired)
    if (!decided.contains(id))
      report.problems.push_back(
          {{}, fmt::format("case {} is retired without a retirement decision", id)});
  auto lost = [&](const std::string& id) {
    return !decided.contains(id) && seen.contains(id) && !retired.contains(id);
  };
  for (const auto* e : in_id_order(last_decision, lost))
    report.problems.push_back(
        {e->seq,
         fmt::format("the retirement decision for {} was deleted outside evalkeep", e->subject)});

  auto incidents =
      db.prepare(fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns));
  if (!incidents)
    return std::unexpected(incidents.error());
  for (;;) {
    auto row = incidents->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      break;
    auto inc = rows::read_incident(*incidents);
    ++report.incidents;
    auto it = last_incident.find(inc.id);
    if (it == last_incident.end() || !it->second->after || *it->second->after != incident_hash(inc))
      report.problems.push_back(
          {{}, fmt::format("incident {} differs from what the ledger recorded", inc.id)});
  }
  return {};
}

} // namespace

Result<VerifyReport> verify(Suite& s) {
  auto& db = s.db();
  VerifyReport report;
  auto tx = store::Transaction::begin(db, store::Transaction::Kind::deferred);
  if (!tx)
    return std::unexpected(tx.error());

  auto integrity = db.prepare("PRAGMA integrity_check");
  if (!integrity)
    return std::unexpected(integrity.error());
  for (;;) {
    auto row = integrity->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      break;
    if (integrity->text(0) != "ok")
      report.problems.push_back({{}, "integrity_check: " + integrity->str(0)});
  }
  auto version = db.scalar("PRAGMA user_version");
  if (!version)
    return std::unexpected(version.error());
  report.schema_version = static_cast<int>(*version);
  if (auto r = check_schema(db, report.schema_version, report.problems); !r)
    return std::unexpected(r.error());
  // A dropped table is tampering to report, not a failure to read the suite.
  for (const auto& p : report.problems)
    if (p.message.starts_with("table ") && p.message.ends_with(" is missing"))
      return report;

  auto events = read_ledger(db);
  if (!events)
    return std::unexpected(events.error());
  report.events = static_cast<std::int64_t>(events->size());
  // Hashing the chain is much of the work on a large suite: a second thread does it while this
  // one judges the tables, whose findings count only when the chain holds.
  auto link = std::async(std::launch::async, broken_link, std::cref(*events));
  std::unordered_map<std::string, const LedgerEvent*> last_case, last_incident, last_decision;
  for (const auto& e : *events) {
    (is_incident_event(e) ? last_incident : last_case)[e.subject] = &e;
    if ((e.action == "retire" || e.action == "import") && e.detail)
      last_decision[e.subject] = &e;
    if (e.action == "reinstate")
      last_decision.erase(e.subject);
  }
  auto before_tables = report.problems.size();
  if (auto r = check_tables(db, last_case, last_incident, last_decision, report); !r)
    return std::unexpected(r.error());
  if (auto broken = link.get()) {
    // The tables cannot be judged against a ledger that was tampered with.
    report.problems.resize(before_tables);
    report.problems.push_back(std::move(*broken));
    report.cases = report.incidents = 0;
  }
  return report;
}

} // namespace evalkeep::suite
