#include "suite/merge.hpp"

#include "suite/dump.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"
#include "suite/suite.hpp"
#include "suite/verify.hpp"

#include <algorithm>
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

Result<Side> read_side(const fs::path& path, bool is_base) {
  Side side;
  std::error_code ec;
  if (is_base && (!fs::exists(path, ec) || fs::file_size(path, ec) == 0))
    return side;
  auto s = Suite::open_untrusted(path);
  if (!s)
    return std::unexpected(s.error());
  auto& db = s->db();
  auto tx = store::Transaction::begin(db, store::Transaction::Kind::deferred);
  if (!tx)
    return std::unexpected(tx.error());
  // A case's version includes its decision: retiring changes both.
  std::unordered_map<std::string, std::string> decisions;
  if (auto r =
          store::each_row(db, fmt::format("SELECT {} FROM retirements", rows::k_decision_columns),
                          [&](const store::Statement& st) {
                            auto d = rows::read_decision(st);
                            decisions.emplace(d.case_id, rows::canonical(retirement_record(d)));
                          });
      !r)
    return std::unexpected(r.error());
  // ORDER BY id walks the primary key of a WITHOUT ROWID table: no sort.
  if (auto r = store::each_row(db, "SELECT id, content_hash FROM cases ORDER BY id",
                               [&](const store::Statement& st) {
                                 auto& [id, version] = side.cases.versions.emplace_back(
                                     st.str(0), digest_text(st.blob(1)));
                                 if (auto d = decisions.find(id); d != decisions.end())
                                   version += d->second;
                               });
      !r)
    return std::unexpected(r.error());
  if (auto r = store::each_row(
          db, fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns),
          [&](const store::Statement& st) {
            auto i = rows::read_incident(st);
            side.incidents.versions.emplace_back(i.id, digest_text(incident_hash(i)));
          });
      !r)
    return std::unexpected(r.error());
  if (is_base) { // the base's ledger is not needed: the sides' common prefix is what counts
    side.suite = std::move(*s);
    return side;
  }
  if (auto r = store::each_row(db, "SELECT hash FROM ledger ORDER BY seq",
                               [&](const store::Statement& st) {
                                 core::Digest d{};
                                 auto b = st.blob(0);
                                 std::copy_n(b.begin(), std::min(b.size(), d.size()), d.begin());
                                 side.chain.push_back(d);
                               });
      !r)
    return std::unexpected(r.error());
  side.suite = std::move(*s);
  return side;
}

// Reads the events after the shared prefix and what they touch. Their chain is checked here:
// re-chaining their events must never launder an edited ledger.
Status read_tail(Side& side, std::size_t prefix, std::string_view name) {
  auto events = read_ledger(side.suite->db(), {}, static_cast<std::int64_t>(prefix));
  if (!events)
    return std::unexpected(events.error());
  core::Digest prev = prefix ? side.chain[prefix - 1] : core::Digest{};
  auto seq = static_cast<std::int64_t>(prefix);
  for (const auto& e : *events) {
    if (e.seq != ++seq || chain_hash(prev, e) != e.hash)
      return with_hint(invalid("{} suite's ledger does not chain at event {}: it was edited or "
                               "events were removed",
                               name, e.seq),
                       "run 'evalkeep verify' on that branch");
    prev = e.hash;
    (is_incident_event(e) ? side.incidents : side.cases).touched.insert(e.subject);
  }
  side.tail = std::move(*events);
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
  auto c = rows::find_case(side.suite->db(), id);
  if (!c)
    return std::unexpected(c.error());
  auto d = rows::find_decision(side.suite->db(), id);
  if (!d)
    return std::unexpected(d.error());
  return *c ? dump_case(**c, *d ? &**d : nullptr) : std::string("(absent)\n");
}

Result<std::string> show_incident(Side& side, const std::string& id) {
  if (!side.suite)
    return std::string("(absent)\n");
  auto i = rows::find_incident(side.suite->db(), id);
  if (!i)
    return std::unexpected(i.error());
  return *i ? dump_incident(**i) : std::string("(absent)\n");
}

using Show = Result<std::string> (*)(Side&, const std::string&);

// Sorts the records of one kind into those to take from theirs and the conflicts. A record
// missing on their side only is a conflict too: records are never deleted, so that side lost it
// outside evalkeep.
Status decide(const char* kind, Records Side::*records, Show show, Side& base, Side& ours,
              Side& theirs, std::vector<std::string>& take, std::vector<MergeConflict>& conflicts) {
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
    } else if (p != Pick::ours) {
      auto mine = show(ours, current);
      if (!mine)
        return std::unexpected(mine.error());
      auto other = show(theirs, current);
      if (!other)
        return std::unexpected(other.error());
      conflicts.push_back({kind, std::move(current), std::move(*mine), std::move(*other)});
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
Status apply_theirs(Suite& out, Side& theirs, const std::vector<std::string>& incidents,
                    const std::vector<std::string>& cases) {
  auto& db = out.db();
  auto& src = theirs.suite->db();
  auto upsert_incident = db.prepare(
      fmt::format("INSERT INTO incidents ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO "
                  "UPDATE SET title = ?2, date = ?3, severity = ?4, url = ?5, summary = ?6",
                  rows::k_incident_columns));
  auto upsert_decision = db.prepare(fmt::format(
      "INSERT INTO retirements ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(case_id) DO UPDATE SET reason = ?2, rationale = ?3, decided_by = ?4, "
      "approved_by = ?5, decided_at = ?6, git_head = ?7, incidents = ?8, superseded_by = ?9, "
      "revisit = ?10",
      rows::k_decision_columns));
  auto insert_case =
      db.prepare(fmt::format("INSERT INTO cases ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                             "?10, ?11, ?12, ?13, ?14)",
                             rows::k_case_columns));
  auto update_case = db.prepare(
      "UPDATE cases SET title = ?2, prompt = ?3, system = ?4, messages = ?5, expect = ?6, "
      "tags = ?7, incident = ?8, provenance_kind = ?9, provenance_note = ?10, status = ?11, "
      "min_pass_rate = ?12, trials = ?13, content_hash = ?14 WHERE id = ?1");
  auto delete_decision = db.prepare("DELETE FROM retirements WHERE case_id = ?");
  auto exists = db.prepare("SELECT 1 FROM cases WHERE id = ?");
  for (auto* st :
       {&upsert_incident, &upsert_decision, &insert_case, &update_case, &delete_decision})
    if (!*st)
      return std::unexpected(st->error());

  for (const auto& id : incidents) {
    auto i = rows::find_incident(src, id);
    if (!i)
      return std::unexpected(i.error());
    if (!*i)
      return unreadable("incident", id);
    rows::bind_incident(*upsert_incident, **i);
    if (auto r = upsert_incident->run(); !r)
      return r;
  }
  // A decision goes in before its case retires, and leaves after its case is live again: the
  // suite's triggers hold during the merge as they do everywhere else.
  for (const auto& id : cases) {
    auto c = rows::find_case(src, id);
    if (!c)
      return std::unexpected(c.error());
    if (!*c)
      return unreadable("case", id);
    auto d = rows::find_decision(src, id);
    if (!d)
      return std::unexpected(d.error());
    if (*d) {
      rows::bind_decision(*upsert_decision, **d);
      if (auto r = upsert_decision->run(); !r)
        return r;
    }
    exists->bind(1, id);
    auto found = exists->step();
    if (!found)
      return std::unexpected(found.error());
    exists->reset();
    auto& write = *found ? *update_case : *insert_case;
    rows::bind_case(write, **c);
    if (auto r = write.run(); !r)
      return r;
    if (!*d) {
      delete_decision->bind(1, id);
      if (auto r = delete_decision->run(); !r)
        return r;
    }
  }
  auto ledger = LedgerWriter::open(db);
  if (!ledger)
    return std::unexpected(ledger.error());
  for (auto& e : theirs.tail)
    if (auto r = ledger->carry(e); !r)
      return r;
  return {};
}

Status write_merged(const fs::path& ours_path, Side& theirs,
                    const std::vector<std::string>& incidents,
                    const std::vector<std::string>& cases) {
  TempFile tmp{ours_path.parent_path() / fmt::format(".{}.merging", ours_path.filename().string())};
  std::error_code ec;
  fs::copy_file(ours_path, tmp.path, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return fail(ExitCode::environment, "cannot copy '{}' to merge into it: {}", ours_path.string(),
                ec.message());
  {
    auto out = Suite::open(tmp.path, Suite::Access::write);
    if (!out)
      return std::unexpected(out.error());
    // A private copy that is thrown away on any failure needs no journal on disk and no fsync;
    // ours stays intact until the rename. Syncing the copy would write all of it to disk again.
    if (auto r = out->db().exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF"); !r)
      return r;
    auto tx = store::Transaction::begin(out->db());
    if (!tx)
      return std::unexpected(tx.error());
    if (auto r = apply_theirs(*out, theirs, incidents, cases); !r)
      return with_context(r.error(), "merge their changes");
    if (auto r = tx->commit(); !r)
      return r;
    auto report = verify(*out);
    if (!report)
      return std::unexpected(report.error());
    if (!report->ok())
      return with_hint(
          invalid("the merged suite does not pass verify: {}", report->problems.front().message),
          "run 'evalkeep verify' on each branch; ours is left as it was");
  }
  fs::rename(tmp.path, ours_path, ec);
  if (ec)
    return fail(ExitCode::environment, "cannot replace '{}': {}", ours_path.string(), ec.message());
  tmp.keep = true;
  return {};
}

} // namespace

Result<MergeOutcome> merge_suites(const fs::path& base_path, const fs::path& ours_path,
                                  const fs::path& theirs_path) {
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
  if (auto r = read_tail(*ours, prefix, "our"); !r)
    return std::unexpected(r.error());
  if (auto r = read_tail(*theirs, prefix, "their"); !r)
    return std::unexpected(r.error());

  MergeOutcome outcome;
  std::vector<std::string> take_incidents, take_cases;
  if (auto r = decide("incident", &Side::incidents, show_incident, *base, *ours, *theirs,
                      take_incidents, outcome.conflicts);
      !r)
    return std::unexpected(r.error());
  if (auto r = decide("case", &Side::cases, show_case, *base, *ours, *theirs, take_cases,
                      outcome.conflicts);
      !r)
    return std::unexpected(r.error());
  if (!outcome.conflicts.empty())
    return outcome;
  outcome.incidents_taken = take_incidents.size();
  outcome.cases_taken = take_cases.size();
  outcome.events_carried = theirs->tail.size();
  if (take_incidents.empty() && take_cases.empty() && theirs->tail.empty())
    return outcome; // ours already holds everything
  if (auto r = write_merged(ours_path, *theirs, take_incidents, take_cases); !r)
    return std::unexpected(r.error());
  return outcome;
}

} // namespace evalkeep::suite
