#include "suite/merge.hpp"

#include "core/durable_file.hpp"
#include "git/repo.hpp"
#include "suite/dump.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"
#include "suite/suite.hpp"
#include "suite/verify.hpp"
#include "suite/weakening.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace evalkeep::suite {

namespace fs = std::filesystem;

namespace {

// The records of one kind on one side: a version of each (what tells two apart), and the ids
// the side's new ledger events touch.
struct Records {
  std::vector<std::pair<std::string, std::string>> versions; // sorted by id, as SQLite gives them
  std::unordered_set<std::string> touched;
};

// One side of the merge.
struct Side {
  std::optional<Suite> suite;      // none for a base that has no suite
  Records cases;                   // a case's version is its content hash and its decision
  Records incidents;               // an incident's version is its hash
  std::vector<core::Digest> chain; // ledger hashes in seq order
  std::vector<LedgerEvent> tail;   // events after the prefix both sides share
};

std::string digest_text(std::span<const std::uint8_t> d) {
  return std::string(d.begin(), d.end());
}

// Reads one side's records (and, for ours and theirs, its ledger's hashes) from `db`.
Status read_records(store::Database& db, Side& side, bool is_base) {
  // A case's version includes its decision: retiring changes both.
  std::unordered_map<std::string, std::string> decisions;
  TRY(store::each_row(db, fmt::format("SELECT {} FROM retirements", rows::k_decision_columns),
                      [&](const store::Statement& st) {
                        auto d = rows::read_decision(st);
                        decisions.emplace(d.case_id, rows::canonical(retirement_record(d)));
                      }));
  // ORDER BY id walks the primary key of a WITHOUT ROWID table: no sort.
  TRY(store::each_row(
      db, "SELECT id, content_hash FROM cases ORDER BY id", [&](const store::Statement& st) {
        auto& [id, version] = side.cases.versions.emplace_back(st.str(0), digest_text(st.blob(1)));
        if (auto d = decisions.find(id); d != decisions.end())
          version += d->second;
      }));
  TRY(store::each_row(db,
                      fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns),
                      [&](const store::Statement& st) {
                        auto i = rows::read_incident(st);
                        side.incidents.versions.emplace_back(i.id, digest_text(incident_hash(i)));
                      }));
  if (is_base) // the base's ledger is not needed: the sides' common prefix is what counts
    return {};
  return store::each_row(db, "SELECT hash FROM ledger ORDER BY seq",
                         [&](const store::Statement& st) {
                           core::Digest d{};
                           auto b = st.blob(0);
                           std::copy_n(b.begin(), std::min(b.size(), d.size()), d.begin());
                           side.chain.push_back(d);
                         });
}

Result<Side> read_side(const fs::path& path, bool is_base) {
  Side side;
  std::error_code ec;
  if (is_base && (!fs::exists(path, ec) || fs::file_size(path, ec) == 0))
    return side;
  // The connection goes into the side first: the read transaction below is on it where it stays,
  // and ends before the side moves to the caller.
  side.suite = TRY(Suite::open_untrusted(path));
  auto& db = side.suite->db();
  auto tx = TRY(store::Transaction::begin(db, store::Transaction::Kind::deferred));
  TRY(read_records(db, side, is_base));
  TRY(tx.commit()); // ends the snapshot; a read transaction has nothing to commit
  return side;
}

// Reads the events after the shared prefix and what they touch. Their chain is checked here:
// re-chaining their events must never launder an edited ledger.
Status read_tail(Side& side, std::size_t prefix, std::string_view name) {
  auto events = TRY(read_ledger(side.suite->db(), {}, static_cast<std::int64_t>(prefix)));
  core::Digest prev = prefix ? side.chain[prefix - 1] : core::Digest{};
  auto seq = static_cast<std::int64_t>(prefix);
  for (const auto& e : events) {
    if (e.seq != ++seq || chain_hash(prev, e) != e.hash)
      return with_hint(invalid("{} suite's ledger does not chain at event {}: it was edited or "
                               "events were removed",
                               name, e.seq),
                       "run 'evalkeep verify' on that branch");
    prev = e.hash;
    (is_incident_event(e) ? side.incidents : side.cases).touched.insert(e.subject);
  }
  side.tail = std::move(events);
  return {};
}

bool same(const std::string* a, const std::string* b) {
  return a == b || (a && b && *a == *b);
}

enum class Pick { ours, theirs, conflict };

// The three-way rule for one record.
Pick pick(const std::string* base, const std::string* ours, const std::string* theirs,
          bool ours_touched, bool theirs_touched) {
  bool ours_changed = ours_touched || !same(base, ours);
  bool theirs_changed = theirs_touched || !same(base, theirs);
  if (!theirs_changed || same(ours, theirs))
    return Pick::ours;
  if (!ours_changed)
    return Pick::theirs;
  return Pick::conflict;
}

Result<std::string> show_case(Side& side, const std::string& id) {
  if (!side.suite)
    return std::string("(absent)\n");
  auto c = TRY(rows::find_case(side.suite->db(), id));
  auto d = TRY(rows::find_decision(side.suite->db(), id));
  return c ? dump_case(*c, d ? &*d : nullptr) : std::string("(absent)\n");
}

Result<std::string> show_incident(Side& side, const std::string& id) {
  if (!side.suite)
    return std::string("(absent)\n");
  auto i = TRY(rows::find_incident(side.suite->db(), id));
  return i ? dump_incident(*i) : std::string("(absent)\n");
}

using Show = Result<std::string> (*)(Side&, const std::string&);

// The side a resolution keeps for `id`, if it names it.
std::optional<Keep> resolution_for(const Resolutions* resolutions, const std::string& id) {
  if (!resolutions)
    return std::nullopt;
  auto it = resolutions->keep.find(id);
  return it == resolutions->keep.end() ? std::nullopt : std::optional(it->second);
}

// Sorts the records of one kind into those to take from theirs, the conflicts, and the conflicts
// the resolutions settle. A record missing on their side only is a conflict too: records are
// never deleted, so that side lost it outside evalkeep, and it cannot be the side kept.
Status decide(const char* kind, Records Side::*records, Show show, Side& base, Side& ours,
              Side& theirs, const Resolutions* resolutions, std::vector<std::string>& take,
              MergeOutcome& outcome) {
  const Records &o = base.*records, &a = ours.*records, &b = theirs.*records;
  // One walk over the three id-sorted lists.
  auto io = o.versions.begin(), ia = a.versions.begin(), ib = b.versions.begin();
  for (;;) {
    const std::string* id = nullptr;
    for (auto [it, end] : {std::pair{io, o.versions.end()}, std::pair{ia, a.versions.end()},
                           std::pair{ib, b.versions.end()}})
      if (it != end && (!id || it->first < *id))
        id = &it->first;
    if (!id)
      return {};
    std::string current = *id;
    auto at = [&](auto& it, const Records& r) -> const std::string* {
      if (it == r.versions.end() || it->first != current)
        return nullptr;
      return &(it++)->second;
    };
    const std::string *vo = at(io, o), *va = at(ia, a), *vb = at(ib, b);
    auto p = pick(vo, va, vb, a.touched.contains(current), b.touched.contains(current));
    if (p == Pick::theirs && vb) {
      take.push_back(std::move(current));
    } else if (p == Pick::ours) {
      continue;
    } else if (auto keep = resolution_for(resolutions, current)) {
      if (!(*keep == Keep::ours ? va : vb))
        return with_hint(refuse("cannot keep {} version of {} {}: that side does not have it, and "
                                "a merge never deletes a record",
                                *keep == Keep::ours ? "our" : "their", kind, current),
                         fmt::format("keep the other side's: --{} {}",
                                     to_string(*keep == Keep::ours ? Keep::theirs : Keep::ours),
                                     current));
      if (*keep == Keep::theirs)
        take.push_back(current);
      outcome.resolved.push_back({kind, std::move(current), *keep, {}});
    } else {
      auto mine = TRY(show(ours, current));
      auto other = TRY(show(theirs, current));
      outcome.conflicts.push_back({kind, std::move(current), std::move(mine), std::move(other)});
    }
  }
}

// The merged suite is written beside ours and renamed over it only when complete and verified.
struct TempFile {
  fs::path path;
  bool keep = false;
  ~TempFile() {
    std::error_code ignored;
    if (!keep) {
      fs::remove(path, ignored);
      fs::remove(path.string() + "-journal", ignored);
    }
  }
};

// A record their listing has but a lookup by its id does not find: their file is damaged.
Status unreadable(std::string_view kind, const std::string& id) {
  return with_hint(
      invalid("their suite lists {} '{}' but cannot read it back: the file is damaged", kind, id),
      "run 'evalkeep verify' on that branch; ours is left as it was");
}

// Brings their version of each picked record into `out`, then their new events.
// Their version of each incident, inserted or updated: never upserted, as the suite's triggers
// refuse any INSERT of an id that exists (they cannot tell an upsert from INSERT OR REPLACE).
Status copy_incidents(store::Database& db, store::Database& src,
                      const std::vector<std::string>& incidents) {
  auto insert = TRY(db.prepare(fmt::format(
      "INSERT INTO incidents ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", rows::k_incident_columns)));
  auto update = TRY(db.prepare("UPDATE incidents SET title = ?2, date = ?3, severity = ?4, "
                               "url = ?5, summary = ?6 WHERE id = ?1"));
  for (const auto& id : incidents) {
    auto theirs = TRY(rows::find_incident(src, id));
    if (!theirs)
      return unreadable("incident", id);
    auto& write = TRY(rows::find_incident(db, id)) ? update : insert;
    rows::bind_incident(write, *theirs);
    TRY(write.run());
  }
  return {};
}

// Their version of each case with its retirement decision. A decision goes in before its case
// retires, and leaves after its case is live again: the suite's triggers hold during the merge as
// they do everywhere else.
Status copy_cases(store::Database& db, store::Database& src,
                  const std::vector<std::string>& cases) {
  auto upsert_decision = TRY(db.prepare(fmt::format(
      "INSERT INTO retirements ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(case_id) DO UPDATE SET reason = ?2, rationale = ?3, decided_by = ?4, "
      "approved_by = ?5, decided_at = ?6, git_head = ?7, incidents = ?8, superseded_by = ?9, "
      "revisit = ?10",
      rows::k_decision_columns)));
  auto insert_case = TRY(db.prepare(fmt::format("INSERT INTO cases ({}) VALUES ({})",
                                                rows::k_case_columns, rows::k_case_placeholders)));
  auto update_case = TRY(rows::prepare_case_update(db));
  auto delete_decision = TRY(db.prepare("DELETE FROM retirements WHERE case_id = ?"));
  auto exists = TRY(db.prepare("SELECT 1 FROM cases WHERE id = ?"));
  for (const auto& id : cases) {
    auto c = TRY(rows::find_case(src, id));
    if (!c)
      return unreadable("case", id);
    auto d = TRY(rows::find_decision(src, id));
    if (d) {
      rows::bind_decision(upsert_decision, *d);
      TRY(upsert_decision.run());
    }
    exists.bind(1, id);
    bool found = TRY(exists.step());
    exists.reset();
    auto& write = found ? update_case : insert_case;
    rows::bind_case(write, *c);
    TRY(write.run());
    if (!d) {
      delete_decision.bind(1, id);
      TRY(delete_decision.run());
    }
  }
  return {};
}

Status apply_theirs(Suite& out, Side& theirs, const std::vector<std::string>& incidents,
                    const std::vector<std::string>& cases) {
  auto& db = out.db();
  TRY(copy_incidents(db, theirs.suite->db(), incidents));
  TRY(copy_cases(db, theirs.suite->db(), cases));
  auto ledger = TRY(LedgerWriter::open(db));
  for (auto& e : theirs.tail)
    TRY(ledger.carry(e));
  return {};
}

// The ledger's account of one record, as verify reads it: the version its latest event made and,
// for a case, the retirement decision its events leave in force.
struct Account {
  std::optional<core::Digest> after;
  std::optional<std::string> decision;
};

Result<Account> account_of(store::Database& db, const std::string& id, bool incident) {
  Account a;
  for (const auto& e : TRY(read_ledger(db, id))) {
    if (is_incident_event(e) != incident)
      continue;
    a.after = e.after;
    if ((e.action == "retire" || e.action == "import") && e.detail)
      a.decision = e.detail;
    else if (e.action == "reinstate")
      a.decision.reset();
  }
  return a;
}

// The case as one side holds it when its content hash is `hash`: the version the ledger last
// recorded, which a kept version is described against.
Result<std::optional<Case>> version_with_hash(std::initializer_list<Side*> sides,
                                              const std::string& id,
                                              const std::optional<core::Digest>& hash) {
  for (auto* side : sides) {
    if (!hash || !side->suite)
      continue;
    auto c = TRY(rows::find_case(side->suite->db(), id));
    if (c && c->content_hash == *hash)
      return c;
  }
  return std::optional<Case>();
}

std::string kept_rationale(const Resolved& r) {
  return fmt::format("merge: kept {} version of {} {}, which both sides changed",
                     r.kept == Keep::ours ? "our" : "their", r.kind, r.id);
}

// Records the kept version of a settled record when the ledger's latest events about it describe
// another (their events come last; a decision may have come from either side): an edit, or a
// retirement or reinstatement when the decision in force must change. Returns whether it did.
Result<bool> record_kept(store::Database& db, LedgerWriter& ledger, Resolved& r, Side& ours,
                         Side& theirs, const Origin& by) {
  bool incident = r.kind == "incident";
  auto account = TRY(account_of(db, r.id, incident));
  if (incident) {
    auto i = TRY(rows::find_incident(db, r.id));
    if (!i)
      return fail(ExitCode::environment, "the merged suite lost incident {}", r.id);
    auto hash = incident_hash(*i);
    if (account.after == hash)
      return false;
    auto e = make_event(by, "incident-edit", r.id);
    e.rationale = kept_rationale(r);
    e.before = account.after;
    e.after = hash;
    TRY(ledger.append(e));
    return true;
  }
  auto c = TRY(rows::find_case(db, r.id));
  if (!c)
    return fail(ExitCode::environment, "the merged suite lost case {}", r.id);
  auto d = TRY(rows::find_decision(db, r.id));
  std::optional<std::string> decision;
  if (d)
    decision = rows::canonical(retirement_record(*d));
  if (account.after == c->content_hash && account.decision == decision)
    return false;
  bool decides = account.decision != decision;
  auto e = make_event(by, !decides ? "edit" : decision ? "retire" : "reinstate", r.id);
  e.rationale = kept_rationale(r);
  e.before = account.after;
  e.after = c->content_hash;
  if (decides) {
    e.detail = decision;
  } else if (auto before = TRY(version_with_hash({&theirs, &ours}, r.id, account.after))) {
    auto changes = case_changes(*before, *c);
    e.detail = edit_detail(changes, record_set(*before, *c), std::nullopt);
    for (const auto& change : changes)
      if (change.weakens)
        r.weakens.push_back(change);
  }
  TRY(ledger.append(e));
  return true;
}

// Brings in their records and events, then records the kept versions, inside `out`'s transaction.
Status merge_into(Suite& out, Side& ours, Side& theirs, const std::vector<std::string>& incidents,
                  const std::vector<std::string>& cases, const Resolutions* resolutions,
                  MergeOutcome& outcome) {
  if (auto r = apply_theirs(out, theirs, incidents, cases); !r)
    return with_context(r.error(), "merge their changes");
  if (outcome.resolved.empty())
    return {};
  auto ledger = TRY(LedgerWriter::open(out.db()));
  for (auto& r : outcome.resolved)
    if (TRY(record_kept(out.db(), ledger, r, ours, theirs, resolutions->by)))
      ++outcome.events_recorded;
  return {};
}

Status write_merged(const fs::path& ours_path, Side& ours, Side& theirs,
                    const std::vector<std::string>& incidents,
                    const std::vector<std::string>& cases, const Resolutions* resolutions,
                    MergeOutcome& outcome) {
  TempFile tmp{ours_path.parent_path() / fmt::format(".{}.merging", ours_path.filename().string())};
  std::error_code ec;
  fs::copy_file(ours_path, tmp.path, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return fail(ExitCode::environment, "cannot copy '{}' to merge into it: {}", ours_path.string(),
                ec.message());
  {
    auto out = TRY(Suite::open(tmp.path, Suite::Access::write));
    // A private copy, thrown away on any failure, needs no journal on disk and no sync at every
    // commit: it is synced once, whole, before it replaces ours (core::replace_file).
    TRY(out.db().exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF"));
    auto tx = TRY(store::Transaction::begin(out.db()));
    TRY(merge_into(out, ours, theirs, incidents, cases, resolutions, outcome));
    TRY(tx.commit());
    auto report = TRY(verify(out));
    if (!report.ok())
      return with_hint(
          invalid("the merged suite does not pass verify: {}", report.problems.front().message),
          "run 'evalkeep verify' on each branch; ours is left as it was");
  }
  TRY(core::replace_file(tmp.path, ours_path));
  tmp.keep = true;
  return {};
}

} // namespace

std::string_view to_string(Keep k) {
  return k == Keep::ours ? "ours" : "theirs";
}

Result<MergeOutcome> merge_suites(const fs::path& base_path, const fs::path& ours_path,
                                  const fs::path& theirs_path, const Resolutions* resolutions) {
  auto base = read_side(base_path, true);
  if (!base)
    return with_context(base.error(), "the common ancestor");
  auto ours = read_side(ours_path, false);
  if (!ours)
    return with_context(ours.error(), "our suite");
  auto theirs = read_side(theirs_path, false);
  if (!theirs)
    return with_context(theirs.error(), "their suite");

  auto mismatch = std::mismatch(ours->chain.begin(), ours->chain.end(), theirs->chain.begin(),
                                theirs->chain.end());
  auto prefix = static_cast<std::size_t>(mismatch.first - ours->chain.begin());
  TRY(read_tail(*ours, prefix, "our"));
  TRY(read_tail(*theirs, prefix, "their"));

  MergeOutcome outcome;
  std::vector<std::string> take_incidents, take_cases;
  TRY(decide("incident", &Side::incidents, show_incident, *base, *ours, *theirs, resolutions,
             take_incidents, outcome));
  TRY(decide("case", &Side::cases, show_case, *base, *ours, *theirs, resolutions, take_cases,
             outcome));
  if (resolutions)
    for (const auto& [id, keep] : resolutions->keep)
      if (std::none_of(outcome.resolved.begin(), outcome.resolved.end(),
                       [&](const Resolved& r) { return r.id == id; }))
        outcome.not_in_conflict.push_back(id);
  if (!outcome.conflicts.empty() || !outcome.not_in_conflict.empty())
    return outcome;
  outcome.incidents_taken = take_incidents.size();
  outcome.cases_taken = take_cases.size();
  outcome.events_carried = theirs->tail.size();
  if (take_incidents.empty() && take_cases.empty() && theirs->tail.empty() &&
      outcome.resolved.empty())
    return outcome; // ours already holds everything
  TRY(write_merged(ours_path, *ours, *theirs, take_incidents, take_cases, resolutions, outcome));
  return outcome;
}

namespace {

// A private folder for the index's versions of the suite, removed with everything in it.
struct ScratchDir {
  fs::path path;
  ~ScratchDir() {
    std::error_code ignored;
    if (!path.empty())
      fs::remove_all(path, ignored);
  }
};

std::string path_in_repo(const fs::path& repo, const fs::path& file) {
  std::error_code ec;
  auto rel = fs::relative(file, repo, ec);
  return ec || rel.empty() ? file.string() : rel.string();
}

} // namespace

Result<MergeOutcome> resolve_conflicted_merge(const fs::path& repo, const fs::path& suite_path,
                                              const Resolutions& resolutions) {
  auto name = path_in_repo(repo, suite_path);
  auto stages = TRY(git::merge_stages(repo, suite_path));
  if (!stages)
    return with_hint(invalid("{} is not in a conflicted merge: there is nothing to settle", name),
                     "run this after 'git merge' stops with a conflict in the suite");
  if (!stages->ours || !stages->theirs)
    return with_hint(
        invalid("{} was deleted on {} side of the merge: there is no suite to merge it with", name,
                stages->ours ? "their" : "our"),
        fmt::format("keep the suite with 'git checkout --{} {}', or delete it with 'git rm {}'",
                    stages->ours ? "ours" : "theirs", name, name));
  // Ours is the work tree's file, merged in place: it must still be the one the merge left.
  if (TRY(git::blob_id(repo, suite_path)) != *stages->ours)
    return with_hint(refuse("{} is not ours as the merge left it: it was changed since, and "
                            "settling the merge would lose that change",
                            name),
                     fmt::format("start again from ours with 'git checkout --ours {}'", name));
  ScratchDir scratch;
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-merge-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return fail(ExitCode::environment, "cannot create a temporary folder");
  scratch.path = tmpl;
  auto base = scratch.path / "base.db", theirs = scratch.path / "theirs.db";
  if (stages->base)
    TRY(git::write_blob(repo, *stages->base, base));
  TRY(git::write_blob(repo, *stages->theirs, theirs));
  return merge_suites(base, suite_path, theirs, &resolutions);
}

} // namespace evalkeep::suite
