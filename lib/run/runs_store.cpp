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

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::span<const std::uint8_t> bytes(const core::Digest& d) {
  return {d.data(), d.size()};
}

constexpr const char* k_run_columns =
    "id, started_at, finished_at, state, stop_reason, git_commit, git_branch, git_dirty, "
    "suite_path, suite_hash, provider, provider_kind, base_url, model, params, settings, "
    "evalkeep_version";

RunRecord read_run(const store::Statement& s) {
  RunRecord r;
  r.id = s.integer(0);
  r.started_at = s.str(1);
  r.finished_at = s.opt_str(2);
  r.state = s.str(3);
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
  return r;
}

template <typename T, typename Read>
Result<std::vector<T>> collect(store::Database& db, const std::string& sql, std::int64_t id,
                               Read read) {
  auto stmt = db.prepare(sql);
  if (!stmt)
    return std::unexpected(stmt.error());
  if (id)
    stmt->bind(1, id);
  std::vector<T> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return out;
    out.push_back(read(*stmt));
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
    auto db = store::Database::open(file, store::OpenMode::create);
    if (!db)
      return std::unexpected(db.error());
    for (const char* pragma : {"PRAGMA synchronous = OFF", "PRAGMA journal_mode = MEMORY"})
      if (auto r = db->exec(pragma); !r)
        return r;
    if (auto v = store::prepare_schema(*db, runs_schema()); !v)
      return std::unexpected(v.error());
    if (auto r = db->exec("PRAGMA journal_mode = WAL"); !r)
      return r;
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
    auto stmt = m_db.prepare(sql);
    if (!stmt)
      return std::unexpected(stmt.error());
    slot.emplace(std::move(*stmt));
  }
  return &*slot;
}

Result<store::Transaction> RunsStore::begin_run(RunRecord& run) {
  auto tx = store::Transaction::begin(m_db);
  if (!tx)
    return std::unexpected(tx.error());
  auto ins = m_db.prepare(
      "INSERT INTO runs (started_at, state, suite_path, suite_hash, provider, provider_kind, "
      "base_url, model, params, settings, evalkeep_version, owner_pid, owner_host) "
      "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!ins)
    return std::unexpected(ins.error());
  ins->bind_all(run.started_at, run.suite_path, run.suite_hash, run.provider, run.provider_kind,
                run.base_url, run.model, run.params.dump(), run.settings.dump(),
                run.evalkeep_version, static_cast<std::int64_t>(::getpid()), hostname());
  if (auto r = ins->run(); !r)
    return std::unexpected(r.error());
  auto id = m_db.scalar("SELECT last_insert_rowid()");
  if (!id)
    return std::unexpected(id.error());
  run.id = *id;
  return std::move(*tx);
}

Status RunsStore::plan_run(const RunRecord& run, const std::vector<PlannedCase>& cases) {
  auto git = m_db.prepare("UPDATE runs SET git_commit = ?, git_branch = ?, git_dirty = ? "
                          "WHERE id = ?");
  if (!git)
    return std::unexpected(git.error());
  std::optional<std::int64_t> dirty;
  if (run.git_dirty)
    dirty = *run.git_dirty ? 1 : 0;
  git->bind_all(run.git_commit, run.git_branch, dirty, run.id);
  if (auto r = git->run(); !r)
    return r;
  auto plan =
      m_db.prepare("INSERT INTO run_cases (run_id, case_id, case_hash, case_json, status, "
                   "incident, tags, trials, min_pass_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!plan)
    return std::unexpected(plan.error());
  for (const auto& c : cases) {
    plan->bind_all(run.id, c.case_id, bytes(c.case_hash), c.case_json, c.status, c.incident,
                   json(c.tags).dump(), c.trials, c.min_pass_rate);
    if (auto r = plan->run(); !r)
      return r;
  }
  return {};
}

Status RunsStore::create_run(RunRecord& run, const std::vector<PlannedCase>& cases) {
  auto tx = begin_run(run);
  if (!tx)
    return std::unexpected(tx.error());
  if (auto r = plan_run(run, cases); !r)
    return r;
  return tx->commit();
}

Status RunsStore::record(std::int64_t run, std::span<const TrialRecord> trials) {
  if (trials.empty())
    return {};
  auto ins = cached(
      m_insert_result,
      "INSERT INTO results (run_id, case_id, trial, verdict, answer, error_class, error, "
      "served_model, fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
      "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!ins)
    return std::unexpected(ins.error());
  auto att = cached(
      m_insert_attempt,
      "INSERT INTO attempts (run_id, case_id, trial, attempt, purpose, started_at, http_status, "
      "error_class, latency_ms, idempotency_key, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?)");
  if (!att)
    return std::unexpected(att.error());
  auto put =
      cached(m_put_cache, "INSERT OR REPLACE INTO cache (key, answer, served_model, fingerprint, "
                          "tokens_in, tokens_out, latency_ms, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!put)
    return std::unexpected(put.error());
  auto tx = store::Transaction::begin(m_db);
  if (!tx)
    return std::unexpected(tx.error());
  for (const auto& [r, attempts, cache_puts] : trials) {
    (*ins)->bind_all(run, r.case_id, r.trial, r.verdict, r.answer, r.error_class, r.error,
                     r.served_model, r.fingerprint, r.tokens_in, r.tokens_out, r.cost, r.latency_ms,
                     static_cast<std::int64_t>(r.cached), r.assertions, r.finished_at);
    if (auto s = (*ins)->run(); !s)
      return s;
    for (const auto& a : attempts) {
      std::optional<std::int64_t> status;
      if (a.http_status)
        status = *a.http_status;
      (*att)->bind_all(run, a.case_id, a.trial, a.attempt, a.purpose, a.started_at, status,
                       a.error_class, a.latency_ms, a.idempotency_key, a.outcome);
      if (auto s = (*att)->run(); !s)
        return s;
    }
    for (const auto& [key, c] : cache_puts) {
      (*put)->bind_all(bytes(key), c.answer, c.served_model, c.fingerprint, c.tokens_in,
                       c.tokens_out, c.latency_ms, r.finished_at);
      if (auto s = (*put)->run(); !s)
        return s;
    }
  }
  return tx->commit();
}

Status RunsStore::finish_run(std::int64_t run, const std::string& state,
                             const std::optional<std::string>& stop_reason, const std::string& at) {
  auto upd = m_db.prepare("UPDATE runs SET state = ?2, stop_reason = ?3, finished_at = ?4, "
                          "owner_pid = NULL WHERE id = ?1");
  if (!upd)
    return std::unexpected(upd.error());
  upd->bind_all(run, state, stop_reason, at);
  return upd->run();
}

Status RunsStore::checkpoint() {
  return m_db.exec("PRAGMA wal_checkpoint(PASSIVE)");
}

Status RunsStore::claim(std::int64_t run) {
  auto tx = store::Transaction::begin(m_db);
  if (!tx)
    return std::unexpected(tx.error());
  auto q = m_db.prepare("SELECT owner_pid, owner_host, state FROM runs WHERE id = ?");
  if (!q)
    return std::unexpected(q.error());
  q->bind(1, run);
  auto row = q->step();
  if (!row)
    return std::unexpected(row.error());
  if (!*row)
    return invalid("no run {}", run);
  if (q->text(2) == "finished")
    return refuse("run {} already finished", run);
  if (!q->is_null(0)) {
    auto pid = static_cast<pid_t>(q->integer(0));
    bool same_host = q->text(1) == hostname();
    bool alive = pid != ::getpid() && (::kill(pid, 0) == 0 || errno == EPERM);
    if (alive || !same_host)
      return with_hint(refuse("run {} is being run by process {} on {}", run, pid, q->str(1)),
                       "wait for it to finish, or stop that process");
  }
  auto upd = m_db.prepare("UPDATE runs SET owner_pid = ?2, owner_host = ?3, state = 'running', "
                          "stop_reason = NULL WHERE id = ?1");
  if (!upd)
    return std::unexpected(upd.error());
  upd->bind_all(run, static_cast<std::int64_t>(::getpid()), hostname());
  if (auto r = upd->run(); !r)
    return r;
  return tx->commit();
}

Result<std::optional<CachedAnswer>> RunsStore::cache_get(const core::Digest& key) {
  auto q = cached(m_get_cache, "SELECT answer, served_model, fingerprint, tokens_in, tokens_out, "
                               "latency_ms FROM cache WHERE key = ?");
  if (!q)
    return std::unexpected(q.error());
  store::Statement& stmt = **q;
  stmt.bind(1, bytes(key));
  auto row = stmt.step();
  if (!row || !*row) {
    stmt.reset();
    if (!row)
      return std::unexpected(row.error());
    return std::optional<CachedAnswer>();
  }
  CachedAnswer c;
  c.answer = stmt.str(0);
  c.served_model = stmt.opt_str(1);
  c.fingerprint = stmt.opt_str(2);
  if (!stmt.is_null(3))
    c.tokens_in = stmt.integer(3);
  if (!stmt.is_null(4))
    c.tokens_out = stmt.integer(4);
  c.latency_ms = stmt.real(5);
  stmt.reset();
  return std::optional<CachedAnswer>(std::move(c));
}

Result<std::vector<RunRecord>> RunsStore::list_runs() {
  return collect<RunRecord>(m_db, fmt::format("SELECT {} FROM runs ORDER BY id", k_run_columns), 0,
                            read_run);
}

Result<RunRecord> RunsStore::get_run(std::int64_t id) {
  auto runs = collect<RunRecord>(
      m_db, fmt::format("SELECT {} FROM runs WHERE id = ?", k_run_columns), id, read_run);
  if (!runs)
    return std::unexpected(runs.error());
  if (runs->empty())
    return with_hint(invalid("no run {}", id), "list runs with: evalkeep runs list");
  return runs->front();
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
    auto id = m_db.prepare("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?");
    if (!id)
      return std::unexpected(id.error());
    id->bind(1, back);
    auto row = id->step();
    if (!row)
      return std::unexpected(row.error());
    if (!*row)
      return with_hint(invalid("no run matches '{}'", ref), "run 'evalkeep run' first");
    return id->integer(0);
  }
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ec != std::errc() || end != ref.data() + ref.size())
    return invalid("bad run reference '{}': give a run number or 'latest'", ref);
  if (auto r = get_run(id); !r)
    return std::unexpected(r.error());
  return id;
}

Result<std::optional<std::int64_t>> RunsStore::latest_unfinished() {
  auto q = m_db.prepare("SELECT id FROM runs WHERE state <> 'finished' ORDER BY id DESC LIMIT 1");
  if (!q)
    return std::unexpected(q.error());
  auto row = q->step();
  if (!row)
    return std::unexpected(row.error());
  if (!*row)
    return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->integer(0));
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
      "tokens_in, tokens_out, cost, latency_ms, cached, assertions, finished_at FROM results "
      "WHERE run_id = ? ORDER BY case_id, trial",
      run, [](const store::Statement& s) {
        TrialResult r;
        r.case_id = s.str(0);
        r.trial = static_cast<int>(s.integer(1));
        r.verdict = s.str(2);
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
