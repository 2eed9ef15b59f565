#include "run/runs_store.hpp"

#include "core/json_text.hpp"
#include "store/migration.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <unistd.h>

namespace evalkeep::run {

CachedAnswer cached_answer_of(store::Statement& stmt) {
  CachedAnswer c;
  c.answer = stmt.str(0);
  c.served_model = stmt.opt_str(1);
  c.fingerprint = stmt.opt_str(2);
  if (!stmt.is_null(3))
    c.tokens_in = stmt.integer(3);
  if (!stmt.is_null(4))
    c.tokens_out = stmt.integer(4);
  c.latency_ms = stmt.is_null(5) ? 0 : stmt.real(5);
  if (!stmt.is_null(6))
    c.tool_calls = core::parse_tool_calls(stmt.text(6));
  c.steps = stmt.opt_str(7).value_or("");
  if (!stmt.is_null(8))
    c.tokens_cached = stmt.integer(8);
  if (!stmt.is_null(9))
    c.tokens_cache_write = stmt.integer(9);
  return c;
}

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::optional<std::string> calls_column(const std::vector<core::ToolCall>& calls) {
  if (calls.empty())
    return std::nullopt;
  return core::tool_calls_text(calls);
}

std::optional<std::string> text_column(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  return s;
}

std::span<const std::uint8_t> bytes(const core::Digest& d) {
  return {d.data(), d.size()};
}

// A run stored before requests were counted (NULL counts) has them estimated from what it stored:
// its attempts, and its results replayed from the cache.
constexpr const char* k_run_columns =
    "id, started_at, finished_at, state, stop_reason, git_commit, git_branch, git_dirty, "
    "suite_path, suite_hash, provider, provider_kind, base_url, model, params, settings, "
    "evalkeep_version, "
    "coalesce(answer_requests, (SELECT count(*) FROM attempts a WHERE a.run_id = runs.id AND "
    "a.purpose = 'answer')), "
    "coalesce(judge_requests, (SELECT count(*) FROM attempts a WHERE a.run_id = runs.id AND "
    "a.purpose <> 'answer')), "
    "CASE WHEN answer_requests IS NULL THEN (SELECT count(*) FROM results r WHERE r.run_id = "
    "runs.id AND r.cached) ELSE (SELECT coalesce(sum(answers + judge_verdicts), 0) FROM replays p "
    "WHERE p.run_id = runs.id) END, "
    "answer_requests IS NULL";

RunRecord read_run(const store::Statement& s) {
  RunRecord r;
  r.id = s.integer(0);
  r.started_at = s.str(1);
  r.finished_at = s.opt_str(2);
  r.state = scoring::run_state_from(s.str(3)).value_or(scoring::RunState::running);
  r.stop_reason = s.opt_str(4);
  r.git_commit = s.opt_str(5);
  r.git_branch = s.opt_str(6);
  if (!s.is_null(7))
    r.git_dirty = s.integer(7) != 0;
  r.suite_path = s.str(8);
  r.suite_hash = s.str(9);
  r.provider = s.str(10);
  r.provider_kind = s.str(11);
  r.base_url = s.opt_str(12);
  r.model = s.str(13);
  r.params = json::parse(s.text(14), nullptr, false);
  r.settings = json::parse(s.text(15), nullptr, false);
  r.evalkeep_version = s.str(16);
  r.answer_requests = s.integer(17);
  r.judge_requests = s.integer(18);
  r.replayed = s.integer(19);
  r.counts_estimated = s.integer(20) != 0;
  return r;
}

template <typename T, typename Read>
Result<std::vector<T>> collect(store::Database& db, const std::string& sql, std::int64_t id,
                               Read read) {
  auto stmt = TRY(db.prepare(sql));
  if (id)
    stmt.bind(1, id);
  std::vector<T> out;
  for (;;) {
    auto row = TRY(stmt.step());
    if (!row)
      return out;
    out.push_back(read(stmt));
  }
}

std::string hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

const store::Schema& runs_schema() {
  static const store::Schema schema{k_runs_application_id, "runs store", store::runs_migrations()};
  return schema;
}

// Writes a new store into `file`: the schema, in WAL mode, synced once.
Status write_new_store(const fs::path& file) {
  {
    auto db = TRY(store::Database::open(file, store::OpenMode::create));
    for (const char* pragma : {"PRAGMA synchronous = OFF", "PRAGMA journal_mode = MEMORY"})
      TRY(db.exec(pragma));
    TRY(store::prepare_schema(db, runs_schema()));
    TRY(db.exec("PRAGMA journal_mode = WAL"));
  }
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  int err = fd < 0 || ::fdatasync(fd) != 0 ? errno : 0;
  if (fd >= 0)
    ::close(fd);
  if (err)
    return fail(ExitCode::environment, "cannot write '{}': {}", file.string(), std::strerror(err));
  return {};
}

// A new runs store is made whole in a private file, without a journal or a sync per step, and
// moved into place only if no other process put a store there first. Made in place, the switch
// to WAL and the schema took a journal, four syncs and a directory sync before a run's first
// request: 1-2 ms each on a quiet disk, tens of ms on a busy one. Where the file system cannot
// move without replacing, nothing is moved and the caller creates the store in place, as before.
Status create_privately(const fs::path& path) {
  auto tmp = path;
  tmp += fmt::format(".{}-{:08x}.new", ::getpid(), std::random_device{}());
  auto written = write_new_store(tmp);
  bool moved =
      written && ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0;
  int err = moved ? 0 : errno;
  if (!moved) {
    std::error_code ec;
    fs::remove(tmp, ec);
  }
  if (!written)
    return std::unexpected(written.error());
  // Moved, or another process made the store first (theirs is used), or no such move here.
  if (moved || err == EEXIST || err == EINVAL || err == ENOSYS || err == ENOTSUP)
    return {};
  return fail(ExitCode::environment, "cannot create '{}': {}", path.string(), std::strerror(err));
}

} // namespace

std::string_view to_string(Origin o) {
  switch (o) {
  case Origin::here:
    return "here";
  case Origin::imported:
    return "imported";
  case Origin::merged:
    return "merged";
  case Origin::trusted:
    return "trusted";
  }
  return "here";
}

std::optional<Origin> parse_origin(std::string_view s) {
  for (auto o : {Origin::here, Origin::imported, Origin::merged, Origin::trusted})
    if (to_string(o) == s)
      return o;
  return std::nullopt;
}

Result<RunsStore> RunsStore::open(const fs::path& path, bool create) {
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (!create && !exists)
    return with_hint(invalid("no runs store at '{}'", path.string()),
                     "run 'evalkeep run' first, or pass --runs-db PATH");
  if (create && path.has_parent_path())
    fs::create_directories(path.parent_path(), ec);
  if (create && !exists)
    if (auto made = create_privately(path); !made)
      return with_context(made.error(), fmt::format("open runs store '{}'", path.string()));
  auto db =
      store::Database::open(path, create ? store::OpenMode::create : store::OpenMode::read_write);
  if (!db)
    return with_context(db.error(), fmt::format("open runs store '{}'", path.string()));
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"})
    if (auto r = db->exec(pragma); !r)
      return with_context(r.error(), fmt::format("open runs store '{}'", path.string()));
  if (auto v = store::prepare_schema(*db, runs_schema()); !v)
    return with_context(v.error(), fmt::format("open runs store '{}'", path.string()));
  return RunsStore(std::move(*db));
}

Result<store::Statement*> RunsStore::cached(std::optional<store::Statement>& slot,
                                            const char* sql) {
  if (!slot) {
    auto stmt = TRY(m_db.prepare(sql));
    slot.emplace(std::move(stmt));
  }
  return &*slot;
}

Result<store::Transaction> RunsStore::begin_run(RunRecord& run) {
  auto tx = TRY(store::Transaction::begin(m_db));
  auto ins = TRY(m_db.prepare(
      "INSERT INTO runs (started_at, state, suite_path, suite_hash, provider, provider_kind, "
      "base_url, model, params, settings, evalkeep_version, owner_pid, owner_host, "
      "answer_requests, judge_requests) "
      "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)"));
  ins.bind_all(run.started_at, run.suite_path, run.suite_hash, run.provider, run.provider_kind,
               run.base_url, run.model, run.params.dump(), run.settings.dump(),
               run.evalkeep_version, static_cast<std::int64_t>(::getpid()), hostname());
  TRY(ins.run());
  auto id = TRY(m_db.scalar("SELECT last_insert_rowid()"));
  run.id = id;
  return tx;
}

Status RunsStore::plan_run(const RunRecord& run, const std::vector<PlannedCase>& cases) {
  auto git = TRY(m_db.prepare("UPDATE runs SET git_commit = ?, git_branch = ?, git_dirty = ? "
                              "WHERE id = ?"));
  std::optional<std::int64_t> dirty;
  if (run.git_dirty)
    dirty = *run.git_dirty ? 1 : 0;
  git.bind_all(run.git_commit, run.git_branch, dirty, run.id);
  TRY(git.run());
  auto plan =
      m_db.prepare("INSERT INTO run_cases (run_id, case_id, case_hash, case_json, status, "
                   "incident, tags, trials, min_pass_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!plan)
    return std::unexpected(plan.error());
  for (const auto& c : cases) {
    plan->bind_all(run.id, c.case_id, bytes(c.case_hash), c.case_json, c.status, c.incident,
                   json(c.tags).dump(), c.trials, c.min_pass_rate);
    TRY(plan->run());
  }
  return {};
}

Status RunsStore::create_run(RunRecord& run, const std::vector<PlannedCase>& cases) {
  auto tx = TRY(begin_run(run));
  TRY(plan_run(run, cases));
  return tx.commit();
}

Status RunsStore::record(std::int64_t run, std::span<const TrialRecord> trials,
                         const CallCounts& counts) {
  if (trials.empty() && counts.empty())
    return {};
  auto tx = TRY(store::Transaction::begin(m_db));
  TRY(write_trials(run, trials, counts));
  return tx.commit();
}

Status RunsStore::write_trials(std::int64_t run, std::span<const TrialRecord> trials,
                               const CallCounts& counts) {
  auto* ins = TRY(cached(
      m_insert_result,
      "INSERT INTO results (run_id, case_id, trial, verdict, answer, error_class, error, "
      "served_model, fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
      "finished_at, tool_calls, steps, tokens_cached, tokens_cache_write, judge_cost) VALUES (?, "
      "?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  auto* att = TRY(cached(
      m_insert_attempt,
      "INSERT INTO attempts (run_id, case_id, trial, attempt, purpose, started_at, http_status, "
      "error_class, latency_ms, idempotency_key, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?)"));
  // A fresh answer replaces whatever was cached under its key, an imported one included: it is
  // now an answer made here.
  auto* put = TRY(cached(m_put_cache,
                         "INSERT OR REPLACE INTO cache (key, answer, served_model, fingerprint, "
                         "tokens_in, tokens_out, latency_ms, created_at, origin_run, tool_calls, "
                         "steps, tokens_cached, tokens_cache_write) VALUES (?, ?, ?, ?, ?, ?, ?, "
                         "?, ?, ?, ?, ?, ?)"));
  for (const auto& [r, attempts, cache_puts] : trials) {
    ins->bind_all(run, r.case_id, r.trial, scoring::to_string(r.verdict), r.answer, r.error_class,
                  r.error, r.served_model, r.fingerprint, r.tokens_in, r.tokens_out, r.cost,
                  r.latency_ms, static_cast<std::int64_t>(r.cached), r.assertions, r.finished_at,
                  calls_column(r.tool_calls), text_column(r.steps), r.tokens_cached,
                  r.tokens_cache_write, r.judge_cost);
    TRY(ins->run());
    for (const auto& a : attempts) {
      std::optional<std::int64_t> status;
      if (a.http_status)
        status = *a.http_status;
      att->bind_all(run, a.case_id, a.trial, a.attempt, a.purpose, a.started_at, status,
                    a.error_class, a.latency_ms, a.idempotency_key, a.outcome);
      TRY(att->run());
    }
    for (const auto& [key, c] : cache_puts) {
      put->bind_all(bytes(key), c.answer, c.served_model, c.fingerprint, c.tokens_in, c.tokens_out,
                    c.latency_ms, r.finished_at, run, calls_column(c.tool_calls),
                    text_column(c.steps), c.tokens_cached, c.tokens_cache_write);
      TRY(put->run());
    }
  }
  return add_counts(run, counts);
}

Status RunsStore::add_counts(std::int64_t run, const CallCounts& counts) {
  if (counts.answer_requests || counts.judge_requests) {
    auto* add =
        TRY(cached(m_add_requests, "UPDATE runs SET answer_requests = answer_requests + ?2, "
                                   "judge_requests = judge_requests + ?3 WHERE id = ?1"));
    add->bind_all(run, counts.answer_requests, counts.judge_requests);
    TRY(add->run());
  }
  if (counts.replays.empty())
    return {};
  auto* replay = TRY(cached(
      m_add_replays,
      "INSERT INTO replays (run_id, origin, source, made_by_run, answers, judge_verdicts) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET answers = answers + excluded.answers, "
      "judge_verdicts = judge_verdicts + excluded.judge_verdicts"));
  for (const auto& [from, n] : counts.replays) {
    replay->bind_all(run, to_string(from.origin), from.source, from.run, n.answers,
                     n.judge_verdicts);
    TRY(replay->run());
  }
  return {};
}

Status RunsStore::finish_run(std::int64_t run, scoring::RunState state,
                             const std::optional<std::string>& stop_reason, const std::string& at) {
  auto upd = TRY(m_db.prepare("UPDATE runs SET state = ?2, stop_reason = ?3, finished_at = ?4, "
                              "owner_pid = NULL WHERE id = ?1"));
  upd.bind_all(run, scoring::to_string(state), stop_reason, at);
  return upd.run();
}

Status RunsStore::checkpoint() {
  return m_db.exec("PRAGMA wal_checkpoint(PASSIVE)");
}

Status RunsStore::claim(std::int64_t run) {
  auto tx = TRY(store::Transaction::begin(m_db));
  auto q =
      TRY(m_db.prepare("SELECT owner_pid, owner_host, state, CASE WHEN json_valid(settings) THEN "
                       "json_extract(settings, '$.missing_shards') END FROM runs WHERE id = ?"));
  q.bind(1, run);
  auto row = TRY(q.step());
  if (!row)
    return invalid("no run {}", run);
  if (scoring::run_state_from(q.text(2)) == scoring::RunState::finished)
    return refuse("run {} already finished", run);
  // A merge of shards that do not cover the suite: nothing planned here is left to run.
  if (!q.is_null(3)) {
    std::string missing;
    for (const auto& shard : core::string_array(q.text(3)))
      missing += (missing.empty() ? "" : ", ") + shard;
    return with_hint(
        refuse("run {} is a merge that lacks shard {}: it cannot be resumed", run, missing),
        "run the missing shards (run --shard I/N) and merge every shard again");
  }
  if (!q.is_null(0)) {
    auto pid = static_cast<pid_t>(q.integer(0));
    bool same_host = q.text(1) == hostname();
    bool alive = pid != ::getpid() && (::kill(pid, 0) == 0 || errno == EPERM);
    if (alive || !same_host)
      return with_hint(refuse("run {} is being run by process {} on {}", run, pid, q.str(1)),
                       "wait for it to finish, or stop that process");
  }
  auto upd = TRY(m_db.prepare("UPDATE runs SET owner_pid = ?2, owner_host = ?3, state = 'running', "
                              "stop_reason = NULL WHERE id = ?1"));
  upd.bind_all(run, static_cast<std::int64_t>(::getpid()), hostname());
  TRY(upd.run());
  TRY(start_counting(run));
  return tx.commit();
}

// A run an older evalkeep started has no counts: resumed now, it counts on from what it stored
// (its attempts; its cached results as answers made here by an unrecorded run).
Status RunsStore::start_counting(std::int64_t run) {
  auto stmt = TRY(m_db.prepare(
      "INSERT INTO replays (run_id, origin, source, made_by_run, answers) "
      "SELECT ?1, 'here', '', 0, count(*) FROM results WHERE run_id = ?1 AND cached "
      "AND (SELECT answer_requests IS NULL FROM runs WHERE id = ?1) HAVING count(*) > 0"));
  stmt.bind(1, run);
  TRY(stmt.run());
  auto upd = TRY(m_db.prepare(
      "UPDATE runs SET answer_requests = (SELECT count(*) FROM attempts WHERE run_id = ?1 AND "
      "purpose = 'answer'), judge_requests = (SELECT count(*) FROM attempts WHERE run_id = ?1 AND "
      "purpose <> 'answer') WHERE id = ?1 AND answer_requests IS NULL"));
  upd.bind(1, run);
  return upd.run();
}

Result<std::optional<CachedAnswer>> RunsStore::cache_get(const core::Digest& key, CacheRead read) {
  // Made here: origin NULL (see schema/runs/002_provenance.sql).
  constexpr const char* k_get =
      "SELECT answer, served_model, fingerprint, tokens_in, tokens_out, latency_ms, tool_calls, "
      "steps, tokens_cached, tokens_cache_write, coalesce(origin, 'here'), origin_run, "
      "origin_source FROM cache WHERE key = ?";
  constexpr const char* k_get_replayable =
      "SELECT answer, served_model, fingerprint, tokens_in, tokens_out, latency_ms, tool_calls, "
      "steps, tokens_cached, tokens_cache_write, coalesce(origin, 'here'), origin_run, "
      "origin_source FROM cache WHERE key = ? AND (origin IS NULL OR trusted)";
  store::Statement& stmt =
      *TRY(read == CacheRead::any ? cached(m_get_cache, k_get)
                                  : cached(m_get_replayable, k_get_replayable));
  stmt.bind(1, bytes(key));
  auto row = stmt.step();
  if (!row || !*row) {
    stmt.reset();
    if (!row)
      return std::unexpected(row.error());
    return std::optional<CachedAnswer>();
  }
  CachedAnswer c = cached_answer_of(stmt);
  c.provenance.origin = parse_origin(stmt.text(10)).value_or(Origin::here);
  c.provenance.run = stmt.is_null(11) ? 0 : stmt.integer(11);
  c.provenance.source = stmt.opt_str(12).value_or("");
  stmt.reset();
  return std::optional<CachedAnswer>(std::move(c));
}

Result<std::vector<ReplayCount>> RunsStore::replays(std::int64_t run) {
  auto rec = TRY(get_run(run));
  if (rec.counts_estimated) {
    std::vector<ReplayCount> out;
    if (rec.replayed > 0)
      out.push_back({{Origin::here, 0, ""}, rec.replayed, 0});
    return out;
  }
  return collect<ReplayCount>(
      m_db,
      "SELECT origin, source, made_by_run, answers, judge_verdicts FROM replays WHERE run_id = ? "
      "ORDER BY answers + judge_verdicts DESC, origin, source, made_by_run",
      run, [](const store::Statement& s) {
        ReplayCount c;
        c.from.origin = parse_origin(s.text(0)).value_or(Origin::here);
        c.from.source = s.str(1);
        c.from.run = s.integer(2);
        c.answers = s.integer(3);
        c.judge_verdicts = s.integer(4);
        return c;
      });
}

Result<std::vector<RunRecord>> RunsStore::list_runs() {
  return collect<RunRecord>(m_db, fmt::format("SELECT {} FROM runs ORDER BY id", k_run_columns), 0,
                            read_run);
}

Result<RunRecord> RunsStore::get_run(std::int64_t id) {
  auto runs = TRY(collect<RunRecord>(
      m_db, fmt::format("SELECT {} FROM runs WHERE id = ?", k_run_columns), id, read_run));
  if (runs.empty())
    return with_hint(invalid("no run {}", id), "list runs with: evalkeep runs list");
  return runs.front();
}

Result<std::int64_t> RunsStore::resolve(const std::string& ref) {
  if (ref == "latest" || ref.starts_with("latest~")) {
    std::int64_t back = 0;
    if (ref.size() > 7) {
      try {
        back = std::stoll(ref.substr(7));
      } catch (const std::exception&) {
        return invalid("bad run reference '{}'", ref);
      }
    }
    // A run fetched from git (runs fetch) was made elsewhere: "latest" is the latest made here.
    auto id = TRY(m_db.prepare(
        "SELECT id FROM runs WHERE CASE WHEN json_valid(settings) THEN json_extract(settings, "
        "'$.fetched_from') END IS NULL ORDER BY id DESC LIMIT 1 OFFSET ?"));
    id.bind(1, back);
    auto row = TRY(id.step());
    if (!row)
      return with_hint(invalid("no run matches '{}'", ref), "run 'evalkeep run' first");
    return id.integer(0);
  }
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ec != std::errc() || end != ref.data() + ref.size())
    return invalid("bad run reference '{}': give a run number or 'latest'", ref);
  TRY(get_run(id));
  return id;
}

Result<std::optional<std::int64_t>> RunsStore::latest_unfinished() {
  // Not a merge that left shards out: resuming it cannot finish it.
  auto q =
      TRY(m_db.prepare("SELECT id FROM runs WHERE state <> 'finished' AND CASE WHEN "
                       "json_valid(settings) THEN json_extract(settings, '$.missing_shards') END "
                       "IS NULL ORDER BY id DESC LIMIT 1"));
  auto row = TRY(q.step());
  if (!row)
    return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q.integer(0));
}

Result<std::vector<PlannedCase>> RunsStore::planned(std::int64_t run, bool with_records) {
  return collect<PlannedCase>(
      m_db,
      fmt::format("SELECT case_id, case_hash, {}, status, incident, tags, trials, min_pass_rate "
                  "FROM run_cases WHERE run_id = ? ORDER BY case_id",
                  with_records ? "case_json" : "''"),
      run, [](const store::Statement& s) {
        PlannedCase c;
        c.case_id = s.str(0);
        auto h = s.blob(1);
        if (h.size() == c.case_hash.size())
          std::copy(h.begin(), h.end(), c.case_hash.begin());
        c.case_json = s.str(2);
        c.status = s.str(3);
        c.incident = s.opt_str(4);
        c.tags = core::string_array(s.text(5));
        c.trials = static_cast<int>(s.integer(6));
        c.min_pass_rate = s.real(7);
        return c;
      });
}

Result<std::vector<TrialResult>> RunsStore::results(std::int64_t run) {
  return collect<TrialResult>(
      m_db,
      "SELECT case_id, trial, verdict, answer, error_class, error, served_model, fingerprint, "
      "tokens_in, tokens_out, cost, latency_ms, cached, assertions, finished_at, tool_calls, "
      "steps, tokens_cached, tokens_cache_write, judge_cost FROM results WHERE run_id = ? ORDER BY "
      "case_id, trial",
      run, [](const store::Statement& s) {
        TrialResult r;
        r.case_id = s.str(0);
        r.trial = static_cast<int>(s.integer(1));
        r.verdict = scoring::verdict_from(s.str(2)).value_or(scoring::Verdict::error);
        r.answer = s.opt_str(3);
        r.error_class = s.opt_str(4);
        r.error = s.opt_str(5);
        r.served_model = s.opt_str(6);
        r.fingerprint = s.opt_str(7);
        if (!s.is_null(8))
          r.tokens_in = s.integer(8);
        if (!s.is_null(9))
          r.tokens_out = s.integer(9);
        if (!s.is_null(10))
          r.cost = s.real(10);
        r.latency_ms = s.real(11);
        r.cached = s.integer(12) != 0;
        r.assertions = s.str(13);
        r.finished_at = s.str(14);
        if (!s.is_null(15))
          r.tool_calls = core::parse_tool_calls(s.text(15));
        r.steps = s.opt_str(16).value_or("");
        if (!s.is_null(17))
          r.tokens_cached = s.integer(17);
        if (!s.is_null(18))
          r.tokens_cache_write = s.integer(18);
        if (!s.is_null(19))
          r.judge_cost = s.real(19);
        return r;
      });
}

Result<std::vector<Attempt>> RunsStore::attempts(std::int64_t run) {
  return collect<Attempt>(
      m_db,
      "SELECT case_id, trial, attempt, purpose, started_at, http_status, error_class, latency_ms, "
      "idempotency_key, outcome FROM attempts WHERE run_id = ? ORDER BY case_id, trial, purpose, "
      "attempt",
      run, [](const store::Statement& s) {
        Attempt a;
        a.case_id = s.str(0);
        a.trial = static_cast<int>(s.integer(1));
        a.attempt = static_cast<int>(s.integer(2));
        a.purpose = s.str(3);
        a.started_at = s.str(4);
        if (!s.is_null(5))
          a.http_status = static_cast<long>(s.integer(5));
        a.error_class = s.opt_str(6);
        a.latency_ms = s.real(7);
        a.idempotency_key = s.str(8);
        a.outcome = s.str(9);
        return a;
      });
}

} // namespace evalkeep::run
