// Items 15 and 16: raw SQL against the suite's triggers, and edited ledgers. What a trigger can
// refuse, it refuses with evalkeep's message and leaves the file as it was; what gets past
// (a dropped trigger, a dropped table, a rewritten ledger) is caught by `verify` or by the gate
// comparing the pull request's suite with the committed base.

#include "core/hash.hpp"
#include "reliability/reliability.hpp"
#include "store/database.hpp"
#include "suite/ledger.hpp"
#include "support/suite_fixture.hpp"

#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

// A seeded suite (INC-7, refund-window, tone-apology) with tone-apology retired as a duplicate
// and a third case, committed on main; the work continues on branch "pr".
void committed_suite(const Repo& repo) {
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "greeting", "--prompt", "Hello", "--expect", "contains:help",
                      "--provenance", "spec:greets"});
  must_succeed(repo, {"retire", "tone-apology", "--reason", "duplicate", "--rationale",
                      "the greeting case covers the tone"});
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "suite"});
  repo.git({"checkout", "-q", "-b", "pr"});
}

// Commits the working tree and runs the gate against main: it must fail (exit 1 or 2) and say so.
core::ProcessResult gate_fails(const Repo& repo) {
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "--allow-empty", "-m", "tampered"});
  auto r = repo.evalkeep({"gate", "--base", "main"}, {}, {"GITHUB_ACTIONS=true"});
  INFO("gate exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK((r.exit_code == 1 || r.exit_code == 2));
  CHECK_THAT(r.err, Catch::Contains("::error"));
  return r;
}

// Rewrites the ledger: `edit` changes the events in memory, then every hash is recomputed so the
// chain is whole again, and the rows replace the old ones with the triggers dropped and
// recreated exactly as they were -- what someone with the library and the file can do.
void rewrite_ledger(const fs::path& suite_file,
                    const std::function<void(std::vector<suite::LedgerEvent>&)>& edit) {
  auto db = store::Database::open(suite_file, store::OpenMode::read_write);
  REQUIRE(db);
  auto events = suite::read_ledger(*db);
  REQUIRE(events);
  edit(*events);
  core::Digest prev{};
  std::int64_t seq = 0;
  for (auto& e : *events) {
    e.seq = ++seq;
    e.hash = suite::chain_hash(prev, e);
    prev = e.hash;
  }
  RawSqlite raw(suite_file);
  std::vector<std::string> triggers;
  for (const char* name : {"ledger_is_append_only_update", "ledger_is_append_only_delete"})
    triggers.push_back(sql_text(suite_file, std::string("SELECT sql FROM sqlite_schema WHERE "
                                                        "name = '") +
                                                name + "'"));
  raw.exec("BEGIN; DROP TRIGGER ledger_is_append_only_update; "
           "DROP TRIGGER ledger_is_append_only_delete; DELETE FROM ledger");
  auto quote = [](const std::optional<std::string>& s) {
    if (!s)
      return std::string("NULL");
    std::string out = "'";
    for (char c : *s)
      out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  auto blob = [](const std::optional<core::Digest>& d) {
    return d ? "X'" + core::to_hex(*d) + "'" : std::string("NULL");
  };
  for (const auto& e : *events)
    raw.exec("INSERT INTO ledger (seq, at, actor, action, subject, rationale, before_hash, "
             "after_hash, git_head, detail, hash) VALUES (" +
             std::to_string(e.seq) + ", " + quote(e.at) + ", " + quote(e.actor) + ", " +
             quote(e.action) + ", " + quote(e.subject) + ", " + quote(e.rationale) + ", " +
             blob(e.before) + ", " + blob(e.after) + ", " + quote(e.git_head) + ", " +
             quote(e.detail) + ", " + blob(e.hash) + ")");
  for (const auto& t : triggers)
    raw.exec(t);
  raw.exec("COMMIT");
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

} // namespace

TEST_CASE("raw SQL the triggers can refuse is refused with evalkeep's message, whatever the "
          "pragmas",
          "[reliability][tamper]") {
  Repo repo;
  committed_suite(repo);
  const auto before = file_hash(repo.suite());
  struct Attempt {
    std::string sql, message;
  };
  const std::string replace_row =
      " INTO cases (id, prompt, expect, provenance_kind, provenance_note, status, content_hash) "
      "SELECT id, 'hijacked', expect, provenance_kind, provenance_note, 'active', content_hash "
      "FROM cases WHERE id = 'greeting'";
  const std::vector<Attempt> attempts{
      {"DELETE FROM cases", "retirement decision"},
      {"DELETE FROM cases WHERE id = 'refund-window'", "retirement decision"},
      {"UPDATE cases SET id = 'renamed' WHERE id = 'refund-window'", "case ids never change"},
      {"UPDATE OR REPLACE cases SET id = 'greeting' WHERE id = 'refund-window'",
       "case ids never change"},
      {"INSERT OR REPLACE" + replace_row, "never replaced"},
      {"PRAGMA recursive_triggers = ON; INSERT OR REPLACE" + replace_row, "never replaced"},
      {"PRAGMA recursive_triggers = OFF; INSERT OR REPLACE" + replace_row, "never replaced"},
      {"PRAGMA recursive_triggers = ON; REPLACE" + replace_row, "never replaced"},
      {"PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = ON; REPLACE" + replace_row,
       "never replaced"},
      {"INSERT" + replace_row + " ON CONFLICT (id) DO UPDATE SET status = 'removed'",
       "never replaced"},
      {"DELETE FROM retirements WHERE case_id = 'tone-apology'", "decision of a retired case"},
      {"DELETE FROM ledger WHERE seq = 1", "append-only"},
      {"UPDATE ledger SET rationale = 'nothing happened'", "append-only"},
      {"PRAGMA recursive_triggers = ON; INSERT OR REPLACE INTO ledger SELECT seq, at, actor, "
       "action, subject, 'rewritten', before_hash, after_hash, git_head, detail, hash FROM "
       "ledger WHERE seq = 2",
       "append-only"},
      {"PRAGMA recursive_triggers = OFF; INSERT OR REPLACE INTO ledger SELECT seq, at, actor, "
       "action, subject, 'rewritten', before_hash, after_hash, git_head, detail, hash FROM "
       "ledger WHERE seq = 2",
       "never replaced"},
      {"REPLACE INTO ledger SELECT * FROM ledger WHERE seq = 1", "never replaced"},
      {"PRAGMA foreign_keys = OFF; DELETE FROM incidents", "incidents are never deleted"},
      {"PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = OFF; INSERT OR REPLACE INTO "
       "incidents (id, title) VALUES ('INC-7', 'rewritten')",
       "incidents are never replaced"},
      {"PRAGMA foreign_keys = OFF; UPDATE incidents SET id = 'INC-8' WHERE id = 'INC-7'",
       "incident ids never change"},
  };
  int refused = 0;
  for (const auto& a : attempts) {
    INFO(a.sql);
    RawSqlite db(repo.suite());
    auto err = db.try_exec(a.sql);
    CHECK_THAT(err, Catch::StartsWith("evalkeep: "));
    CHECK_THAT(err, Catch::Contains(a.message));
    CHECK(file_hash(repo.suite()) == before);
    refused += !err.empty();
  }
  must_succeed(repo, {"verify"});
  CHECK(listed_cases(repo) == 3);
  CHECK(refused == static_cast<int>(attempts.size()));
  FIGURE("raw SQL refused by the triggers: " << refused << " of " << attempts.size());
}

TEST_CASE("raw SQL that gets past the triggers is caught by verify and by the gate",
          "[reliability][tamper]") {
  struct Path {
    std::string what, sql, verify_says;
    std::string refused_with = {}; // by a trigger still there, after the script's first statements
  };
  const std::vector<Path> paths{
      {"drop the delete trigger, then delete a case",
       "DROP TRIGGER cases_delete_needs_decision; DELETE FROM cases WHERE id = 'refund-window'",
       "refund-window"},
      {"drop every trigger, then delete everything",
       "DROP TRIGGER cases_delete_needs_decision; DROP TRIGGER ledger_is_append_only_delete; "
       "DROP TRIGGER decisions_stay_while_retired; DELETE FROM retirements; DELETE FROM cases; "
       "DELETE FROM ledger",
       "missing"},
      {"drop the id trigger, then rename a case",
       "DROP TRIGGER cases_id_is_stable; UPDATE cases SET id = 'renamed' WHERE id = "
       "'refund-window'",
       "renamed"},
      {"drop the replace trigger, then INSERT OR REPLACE with recursive triggers",
       "DROP TRIGGER cases_no_replace; PRAGMA recursive_triggers = ON; INSERT OR REPLACE INTO "
       "cases (id, prompt, expect, provenance_kind, provenance_note, status, content_hash) SELECT "
       "id, 'hijacked', expect, provenance_kind, provenance_note, 'active', content_hash FROM "
       "cases WHERE id = 'greeting'",
       "cases_no_replace is missing",
       // REPLACE's implicit delete fires the delete trigger when recursive triggers are on.
       "evalkeep: refusing to delete a case that has no retirement decision; record one with: "
       "evalkeep retire CASE --reason REASON --rationale TEXT"},
      {"drop the replace trigger, then INSERT OR REPLACE without recursive triggers",
       "DROP TRIGGER cases_no_replace; PRAGMA recursive_triggers = OFF; INSERT OR REPLACE INTO "
       "cases (id, prompt, expect, provenance_kind, provenance_note, status, content_hash) SELECT "
       "id, 'hijacked', expect, provenance_kind, provenance_note, 'active', content_hash FROM "
       "cases WHERE id = 'greeting'",
       "greeting"},
      // Without recursive triggers, REPLACE's implicit delete does not fire
      // ledger_is_append_only_delete: once ledger_no_replace is gone the event is rewritten.
      {"drop the ledger's replace trigger, then INSERT OR REPLACE an event",
       "DROP TRIGGER ledger_no_replace; PRAGMA recursive_triggers = OFF; INSERT OR REPLACE INTO "
       "ledger SELECT seq, at, actor, action, subject, 'rewritten', before_hash, after_hash, "
       "git_head, detail, hash FROM ledger WHERE seq = 2",
       "ledger_no_replace is missing"},
      {"drop the retirements table", "PRAGMA foreign_keys = OFF; DROP TABLE retirements",
       "retirements"},
      {"drop the cases table", "PRAGMA foreign_keys = OFF; DROP TABLE cases", "cases"},
      {"drop the ledger table", "DROP TABLE ledger", "ledger"},
      {"drop the incidents' delete trigger, then delete an incident",
       "DROP TRIGGER incidents_never_deleted; PRAGMA foreign_keys = OFF; DELETE FROM incidents",
       "incident INC-7 is in the ledger but missing from the suite"},
      {"drop the incidents' replace trigger, then INSERT OR REPLACE an incident",
       "DROP TRIGGER incidents_no_replace; PRAGMA foreign_keys = OFF; INSERT OR REPLACE INTO "
       "incidents (id, title) VALUES ('INC-7', 'nothing happened')",
       "incident INC-7 differs"},
      {"an unguarded UPDATE of a prompt",
       "UPDATE cases SET prompt = 'Can I get a refund after 5 days?' WHERE id = 'refund-window'",
       "refund-window"},
  };
  int caught_by_verify = 0, caught_by_gate = 0;
  for (const auto& p : paths) {
    INFO(p.what);
    Repo repo;
    committed_suite(repo);
    {
      // A refusal mid-script keeps what ran before it (the dropped trigger).
      RawSqlite db(repo.suite());
      auto err = db.try_exec(p.sql);
      CHECK(err == p.refused_with);
    }
    auto v = repo.evalkeep({"verify"});
    INFO("verify exit " << v.exit_code << "\nstderr: " << v.err);
    CHECK((v.exit_code == 1 || v.exit_code == 2));
    CHECK_THAT(v.err, Catch::Contains("evalkeep: error: "));
    CHECK_THAT(v.err, Catch::Contains(p.verify_says));
    caught_by_verify += v.exit_code == 1 || v.exit_code == 2;
    auto g = gate_fails(repo);
    caught_by_gate += g.exit_code == 1 || g.exit_code == 2;
  }
  CHECK(caught_by_verify == static_cast<int>(paths.size()));
  CHECK(caught_by_gate == static_cast<int>(paths.size()));
  FIGURE("raw SQL past the triggers: " << paths.size() << " paths, " << caught_by_verify
                                       << " caught by verify, " << caught_by_gate
                                       << " by the gate");
}

TEST_CASE("an edited ledger is caught by verify, and a recomputed chain by the gate",
          "[reliability][tamper]") {
  struct Edit {
    std::string what;
    std::function<void(const Repo&)> apply;
    bool verify_catches; // false: only the comparison with the committed base can
  };
  auto raw = [](const std::string& sql) {
    return [sql](const Repo& r) {
      tamper_without_trigger(r.suite(), "ledger_is_append_only_update", sql);
    };
  };
  const std::vector<Edit> edits{
      {"a changed reason",
       raw("UPDATE ledger SET detail = replace(detail, '\"reason\":\"duplicate\"', "
           "'\"reason\":\"out-of-scope\"') WHERE action = 'retire'"),
       true},
      {"a changed rationale", raw("UPDATE ledger SET rationale = 'nothing to see' WHERE seq = 2"),
       true},
      {"a removed event",
       [](const Repo& r) {
         tamper_without_trigger(r.suite(), "ledger_is_append_only_delete",
                                "DELETE FROM ledger WHERE seq = 3");
       },
       true},
      {"two events swapped",
       raw("UPDATE ledger SET seq = -seq WHERE seq IN (2, 3); UPDATE ledger SET seq = 3 WHERE "
           "seq = -2; UPDATE ledger SET seq = 2 WHERE seq = -3"),
       true},
      {"a backdated event", raw("UPDATE ledger SET at = '2020-01-01T00:00:00Z' WHERE seq = 2"),
       true},
      {"a changed reason, row and event alike, with the chain recomputed",
       [](const Repo& r) {
         tamper_without_trigger(r.suite(), "decisions_stay_while_retired",
                                "UPDATE retirements SET reason = 'out-of-scope' WHERE case_id = "
                                "'tone-apology'");
         rewrite_ledger(r.suite(), [](auto& events) {
           for (auto& e : events)
             if (e.action == "retire" && e.detail)
               e.detail =
                   replace_all(*e.detail, R"("reason":"duplicate")", R"("reason":"out-of-scope")");
         });
       },
       false},
      {"a removed event with the chain recomputed",
       [](const Repo& r) {
         rewrite_ledger(r.suite(), [](auto& events) {
           // The incident's event: nothing in the tables points back at it.
           std::erase_if(events, [](const auto& e) { return e.action == "incident-add"; });
         });
       },
       false},
      {"events reordered with the chain recomputed",
       [](const Repo& r) {
         rewrite_ledger(r.suite(), [](auto& events) { std::swap(events[1], events[2]); });
       },
       false},
      {"an event backdated with the chain recomputed",
       [](const Repo& r) {
         rewrite_ledger(r.suite(), [](auto& events) { events[1].at = "2020-01-01T00:00:00Z"; });
       },
       false},
  };
  int verify_caught = 0, gate_caught = 0;
  for (const auto& e : edits) {
    INFO(e.what);
    Repo repo;
    committed_suite(repo);
    e.apply(repo);
    auto v = repo.evalkeep({"verify"});
    INFO("verify exit " << v.exit_code << "\nstderr: " << v.err);
    if (e.verify_catches) {
      CHECK(v.exit_code == 1);
      CHECK_THAT(v.err, Catch::Contains("evalkeep: error: the suite failed verification"));
    }
    verify_caught += v.exit_code == 1;
    auto g = gate_fails(repo);
    if (!e.verify_catches) {
      // Only the base can tell: its events must be in HEAD's ledger, in order and unchanged.
      CHECK_THAT(g.out, Catch::Contains("history"));
      CHECK_THAT(g.err, Catch::Contains("::error file=evals/suite.db,title=evalkeep gate: "
                                        "history-rewritten::"));
    }
    gate_caught += g.exit_code == 1;
  }
  CHECK(gate_caught == static_cast<int>(edits.size()));
  FIGURE("ledger edits: " << edits.size() << " edits, " << verify_caught << " caught by verify, "
                          << gate_caught << " by the gate");
}
