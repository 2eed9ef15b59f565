#include "suite/verify.hpp"

#include "core/hash.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace evalkeep::suite {

namespace {

using Kind = VerifyProblem::Kind;

VerifyProblem problem(Kind kind, std::string message, std::optional<std::int64_t> seq = {},
                      std::optional<std::string> subject = {}) {
  return {kind, seq, std::move(subject), std::move(message)};
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
      return problem(Kind::chain,
                     fmt::format("event {} is out of sequence (expected {}): events were removed "
                                 "or reordered",
                                 e.seq, expected_seq),
                     e.seq);
    if (chain_hash(prev, e) != e.hash)
      return problem(Kind::chain,
                     fmt::format("event {} ({} {}) does not match its hash: the ledger was edited",
                                 e.seq, e.action, e.subject),
                     e.seq);
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
        problem(Kind::case_changed,
                fmt::format("case {} lost its assertions outside evalkeep", c.id), {}, c.id));
    return;
  }
  auto it = last_case.find(c.id);
  if (it == last_case.end()) {
    report.problems.push_back(problem(
        Kind::case_unrecorded,
        fmt::format("case {} has no ledger event: it was added outside evalkeep", c.id), {}, c.id));
    return;
  }
  const LedgerEvent& e = *it->second;
  if (!hash_holds)
    report.problems.push_back(problem(Kind::case_changed,
                                      fmt::format("case {} was changed outside evalkeep (its "
                                                  "content no longer matches its hash)",
                                                  c.id),
                                      e.seq, c.id));
  else if (!e.after || *e.after != c.content_hash)
    report.problems.push_back(
        problem(Kind::case_changed,
                fmt::format("case {} differs from what ledger event {} recorded", c.id, e.seq),
                e.seq, c.id));
}

// The ids a table walk saw, for the checks that follow it.
struct SeenCases {
  std::unordered_set<std::string> all, retired;
};

// Every case row against the ledger's latest event for it, hashed a chunk at a time on another
// thread; then the cases the ledger has and the table lacks.
Result<SeenCases> check_cases(store::Database& db, const LastEvents& last_case,
                              VerifyReport& report) {
  SeenCases seen;
  std::vector<Case> chunk, in_hashing;
  std::future<std::vector<char>> hashing;
  auto judge = [&](const std::vector<Case>& judged, const std::vector<char>& ok) {
    for (std::size_t i = 0; i < judged.size(); ++i)
      judge_case(judged[i], ok[i], last_case, report);
  };
  auto take = [&](const store::Statement& row) {
    Case& c = chunk.emplace_back(rows::read_case(row));
    ++report.cases;
    seen.all.insert(c.id);
    if (!is_live(c.status))
      seen.retired.insert(c.id);
    if (chunk.size() == k_chunk) {
      if (hashing.valid())
        judge(in_hashing, hashing.get());
      in_hashing = std::move(chunk);
      chunk.clear();
      hashing = std::async(std::launch::async, hashes_hold, std::cref(in_hashing));
    }
  };
  // On an error `hashing` finishes before `in_hashing`, which it reads, goes: it is declared after.
  TRY(store::each_row(
      db, fmt::format("SELECT {} FROM cases ORDER BY id", TRY(rows::case_columns(db))), take));
  if (hashing.valid())
    judge(in_hashing, hashing.get());
  judge(chunk, hashes_hold(chunk));
  for (const auto* e :
       in_id_order(last_case, [&](const auto& id) { return !seen.all.contains(id); }))
    report.problems.push_back(problem(Kind::case_missing,
                                      fmt::format("case {} is in the ledger but missing from the "
                                                  "suite: it was deleted outside evalkeep",
                                                  e->subject),
                                      e->seq, e->subject));
  return seen;
}

// Every decision is the one the ledger recorded, and every retired case has one.
Status check_decisions(store::Database& db, const LastEvents& last_decision, const SeenCases& seen,
                       VerifyReport& report) {
  std::unordered_set<std::string> decided;
  TRY(store::each_row(
      db, fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns),
      [&](const store::Statement& row) {
        auto d = rows::read_decision(row);
        decided.insert(d.case_id);
        auto it = last_decision.find(d.case_id);
        if (it == last_decision.end() ||
            it->second->detail != rows::canonical(retirement_record(d)))
          report.problems.push_back(problem(Kind::decision_changed,
                                            fmt::format("the retirement decision for {} is not "
                                                        "the one the ledger recorded",
                                                        d.case_id),
                                            {}, d.case_id));
      }));
  for (const auto& id : seen.retired)
    if (!decided.contains(id))
      report.problems.push_back(
          problem(Kind::decision_missing,
                  fmt::format("case {} is retired without a retirement decision", id), {}, id));
  auto lost = [&](const std::string& id) {
    return !decided.contains(id) && seen.all.contains(id) && !seen.retired.contains(id);
  };
  for (const auto* e : in_id_order(last_decision, lost))
    report.problems.push_back(problem(
        Kind::decision_missing,
        fmt::format("the retirement decision for {} was deleted outside evalkeep", e->subject),
        e->seq, e->subject));
  return {};
}

// Every incident is the one the ledger's latest event for it describes, and none is missing.
Status check_incidents(store::Database& db, const LastEvents& last_incident, VerifyReport& report) {
  std::unordered_set<std::string> seen;
  TRY(store::each_row(
      db, fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns),
      [&](const store::Statement& row) {
        auto inc = rows::read_incident(row);
        ++report.incidents;
        seen.insert(inc.id);
        auto it = last_incident.find(inc.id);
        if (it == last_incident.end())
          report.problems.push_back(problem(
              Kind::incident_unrecorded,
              fmt::format("incident {} has no ledger event: it was added outside evalkeep", inc.id),
              {}, inc.id));
        else if (!it->second->after || *it->second->after != incident_hash(inc))
          report.problems.push_back(
              problem(Kind::incident_changed,
                      fmt::format("incident {} differs from what the ledger recorded (event {})",
                                  inc.id, it->second->seq),
                      it->second->seq, inc.id));
      }));
  for (const auto* e :
       in_id_order(last_incident, [&](const auto& id) { return !seen.contains(id); }))
    report.problems.push_back(problem(Kind::incident_missing,
                                      fmt::format("incident {} is in the ledger but missing from "
                                                  "the suite: it was deleted outside evalkeep",
                                                  e->subject),
                                      e->seq, e->subject));
  return {};
}

// Checks that every case, decision and incident in the tables is the one the ledger's latest
// event for it describes.
Status check_tables(store::Database& db, const LastEvents& last_case,
                    const LastEvents& last_incident, const LastEvents& last_decision,
                    VerifyReport& report) {
  auto seen = TRY(check_cases(db, last_case, report));
  TRY(check_decisions(db, last_decision, seen, report));
  return check_incidents(db, last_incident, report);
}

} // namespace

std::string_view to_string(VerifyProblem::Kind kind) {
  switch (kind) {
  case Kind::integrity:
    return "integrity";
  case Kind::schema:
    return "schema";
  case Kind::chain:
    return "chain";
  case Kind::case_missing:
    return "case-missing";
  case Kind::case_unrecorded:
    return "case-unrecorded";
  case Kind::case_changed:
    return "case-changed";
  case Kind::decision_changed:
    return "decision-changed";
  case Kind::decision_missing:
    return "decision-missing";
  case Kind::incident_missing:
    return "incident-missing";
  case Kind::incident_unrecorded:
    return "incident-unrecorded";
  case Kind::incident_changed:
    return "incident-changed";
  case Kind::work_limit:
    return "work-limit";
  }
  return "unknown";
}

namespace {

// Everything verify checks, in order; a failure that is the work limit's becomes a problem.
Status check_all(store::Database& db, VerifyReport& report) {
  auto tx = TRY(store::Transaction::begin(db, store::Transaction::Kind::deferred));
  report.schema_version = static_cast<int>(TRY(db.scalar("PRAGMA user_version")));

  // The schema first, from sqlite_schema alone: integrity_check evaluates the CHECK constraints,
  // generated columns, index expressions and partial-index conditions the file defines, so a
  // file whose tables or indexes are not evalkeep's is judged on its schema and nothing more.
  auto differences = TRY(schema_differences(db, report.schema_version));
  bool structural = false;
  for (auto& d : differences) {
    report.problems.push_back(problem(Kind::schema, std::move(d.message)));
    structural = structural || d.structural;
  }
  if (structural)
    return {};

  TRY(store::each_row(db, "PRAGMA integrity_check", [&](const store::Statement& row) {
    if (row.text(0) != "ok")
      report.problems.push_back(problem(Kind::integrity, "integrity_check: " + row.str(0)));
  }));

  auto events = TRY(read_ledger(db));
  report.events = static_cast<std::int64_t>(events.size());
  // Hashing the chain is much of the work on a large suite: a second thread does it while this
  // one judges the tables, whose findings count only when the chain holds.
  auto link = std::async(std::launch::async, broken_link, std::cref(events));
  std::unordered_map<std::string, const LedgerEvent*> last_case, last_incident, last_decision;
  for (const auto& e : events) {
    (is_incident_event(e) ? last_incident : last_case)[e.subject] = &e;
    if ((e.action == "retire" || e.action == "import") && e.detail)
      last_decision[e.subject] = &e;
    if (e.action == "reinstate")
      last_decision.erase(e.subject);
  }
  auto before_tables = report.problems.size();
  auto tables = check_tables(db, last_case, last_incident, last_decision, report);
  auto broken = link.get();
  TRY(std::move(tables));
  if (broken) {
    // The tables cannot be judged against a ledger that was tampered with.
    report.problems.resize(before_tables);
    report.problems.push_back(std::move(*broken));
    report.cases = report.incidents = 0;
  }
  return {};
}

} // namespace

Result<VerifyReport> verify(Suite& s) {
  auto& db = s.db();
  // A bound of verify's own unless the suite was opened with one (open_untrusted).
  struct Bound {
    store::Database& db;
    bool own;
    ~Bound() {
      if (own)
        db.limit_work(std::chrono::milliseconds(0));
    }
  } bound{db, !db.limits_work()};
  if (bound.own) {
    std::error_code ec;
    auto size = std::filesystem::file_size(s.path(), ec);
    db.limit_work(store::work_limit_for(ec ? 0 : size));
  }
  VerifyReport report;
  if (auto r = check_all(db, report); !r) {
    if (!db.work_limit_reached())
      return std::unexpected(r.error());
    report.problems.push_back(problem(Kind::work_limit, "verify " + r.error().message));
  }
  return report;
}

} // namespace evalkeep::suite
