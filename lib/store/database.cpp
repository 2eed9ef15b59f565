#include "store/database.hpp"

#include "store/file_facts.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>

#include <sqlite3.h>

namespace evalkeep::store {

namespace {

// Test hook: EVALKEEP_TEST_ABORT_AFTER_STEPS=N aborts the process right after its Nth step, a
// step being an SQL statement stepped or executed, or a write, sync, truncation or deletion of a
// file under SQLite, so the reliability tests can crash a write at every point (inside a commit
// too) and check that each change is all there or not there at all. Read once; unset, it costs
// a compare.
long crash_limit() {
  static const long limit = [] {
    const char* v = std::getenv("EVALKEEP_TEST_ABORT_AFTER_STEPS");
    return v ? std::atol(v) : 0L;
  }();
  return limit;
}

void crash_point() {
  if (crash_limit() <= 0)
    return;
  static std::atomic<long> steps{0};
  if (++steps == crash_limit())
    std::abort();
}

// With the hook set, every SQLite file goes through this shim over the default VFS, which counts
// the file operations a commit is made of.
struct CrashFile {
  sqlite3_file base;
  sqlite3_file* real; // the default VFS's file, allocated right after this struct
};

sqlite3_vfs* g_real_vfs = nullptr;

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<CrashFile*>(f)->real;
}

int counted(int rc) {
  crash_point();
  return rc;
}

const sqlite3_io_methods k_crash_methods = {
    3,
    [](sqlite3_file* f) { return real_of(f)->pMethods->xClose(real_of(f)); },
    [](sqlite3_file* f, void* buf, int n, sqlite3_int64 at) {
      return real_of(f)->pMethods->xRead(real_of(f), buf, n, at);
    },
    [](sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
      return counted(real_of(f)->pMethods->xWrite(real_of(f), buf, n, at));
    },
    [](sqlite3_file* f, sqlite3_int64 size) {
      return counted(real_of(f)->pMethods->xTruncate(real_of(f), size));
    },
    [](sqlite3_file* f, int flags) {
      return counted(real_of(f)->pMethods->xSync(real_of(f), flags));
    },
    [](sqlite3_file* f, sqlite3_int64* size) {
      return real_of(f)->pMethods->xFileSize(real_of(f), size);
    },
    [](sqlite3_file* f, int lock) { return real_of(f)->pMethods->xLock(real_of(f), lock); },
    [](sqlite3_file* f, int lock) { return real_of(f)->pMethods->xUnlock(real_of(f), lock); },
    [](sqlite3_file* f, int* out) {
      return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
    },
    [](sqlite3_file* f, int op, void* arg) {
      return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
    },
    [](sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); },
    [](sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); },
    [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
      return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
    },
    [](sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); },
    [](sqlite3_file* f, int remove) { return real_of(f)->pMethods->xShmUnmap(real_of(f), remove); },
    [](sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
      return real_of(f)->pMethods->xFetch(real_of(f), at, n, out);
    },
    [](sqlite3_file* f, sqlite3_int64 at, void* p) {
      return real_of(f)->pMethods->xUnfetch(real_of(f), at, p);
    },
};

void install_crash_vfs() {
  static const bool installed = [] {
    g_real_vfs = sqlite3_vfs_find(nullptr);
    static sqlite3_vfs vfs = *g_real_vfs;
    vfs.zName = "evalkeep-crash-points";
    vfs.pNext = nullptr;
    vfs.szOsFile = static_cast<int>(sizeof(CrashFile)) + g_real_vfs->szOsFile;
    vfs.xOpen = [](sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
      auto* file = reinterpret_cast<CrashFile*>(f);
      file->real = reinterpret_cast<sqlite3_file*>(file + 1);
      int rc = g_real_vfs->xOpen(g_real_vfs, name, file->real, flags, out);
      file->base.pMethods = file->real->pMethods ? &k_crash_methods : nullptr;
      return rc;
    };
    vfs.xDelete = [](sqlite3_vfs*, const char* name, int sync_dir) {
      return counted(g_real_vfs->xDelete(g_real_vfs, name, sync_dir));
    };
    return sqlite3_vfs_register(&vfs, 1) == SQLITE_OK;
  }();
  (void)installed;
}

} // namespace

std::chrono::milliseconds work_limit_for(std::uintmax_t file_bytes) {
  using std::chrono::milliseconds;
  if (const char* v = std::getenv("EVALKEEP_WORK_LIMIT"); v && *v) {
    char* end = nullptr;
    double seconds = std::strtod(v, &end);
    if (end && *end == '\0' && std::isfinite(seconds) && seconds > 0)
      return milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
  }
  constexpr std::uintmax_t k_bytes_per_second = 5u << 20;
  return milliseconds(10'000 + static_cast<std::int64_t>(file_bytes / k_bytes_per_second) * 1000);
}

namespace {

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() < 1000)
    return fmt::format("{} ms", ms.count());
  return ms.count() % 1000 == 0 ? fmt::format("{} s", ms.count() / 1000)
                                : fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000);
}

} // namespace

Error sqlite_error(sqlite3* db, int rc, const WorkLimit* limit) {
  if ((rc & 0xff) == SQLITE_INTERRUPT && limit && limit->reached)
    return {ExitCode::usage,
            fmt::format("stopped after {}: the file makes SQLite work too long",
                        seconds_text(limit->allowed)),
            "a genuine suite of this size takes far less; if this one is genuine, allow more with "
            "EVALKEEP_WORK_LIMIT=SECONDS"};
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // The database file, for errors of the disk under it (its journal or WAL sits beside it).
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  std::string file = name && *name ? fmt::format("'{}'", name) : "the database";
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return {ExitCode::environment, "the database is locked by another process",
            "retry once the other evalkeep or sqlite3 process has finished"};
  case SQLITE_READONLY:
    return {ExitCode::environment, "the database is read-only: " + detail,
            "check the file's permissions"};
  case SQLITE_CANTOPEN:
    return {ExitCode::environment, "cannot open the database file: " + detail, {}};
  case SQLITE_NOTADB:
    return {ExitCode::usage, "not an SQLite database", {}};
  case SQLITE_CORRUPT:
    return {ExitCode::usage, "the database is corrupt: " + detail, {}};
  case SQLITE_FULL:
    return {ExitCode::environment, fmt::format("the disk is full: no space left to write {}", file),
            "free some space, then run the command again"};
  case SQLITE_IOERR:
    return {ExitCode::environment, fmt::format("I/O error on {}: {}", file, detail), {}};
  case SQLITE_CONSTRAINT:
    // Messages raised by our triggers already start with "evalkeep:".
    if (detail.starts_with("evalkeep: "))
      detail.erase(0, 10);
    return {ExitCode::refused, detail, {}};
  default:
    return {ExitCode::environment, detail, {}};
  }
}

void Statement::Finalize::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, const WorkLimit* limit)
    : m_db(db), m_stmt(stmt), m_limit(limit) {}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK && !m_bind_error) {
    m_bind_error = sqlite_error(m_db, rc);
    m_bind_error->context(fmt::format("bind parameter {}", index));
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  check_bind(sqlite3_bind_text(m_stmt.get(), index, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT),
             index);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(m_stmt.get(), index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(m_stmt.get(), index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(m_stmt.get(), index), index);
  return *this;
}

Statement& Statement::bind(int index, std::span<const std::uint8_t> blob) {
  check_bind(sqlite3_bind_blob(m_stmt.get(), index, blob.data(), static_cast<int>(blob.size()),
                               SQLITE_TRANSIENT),
             index);
  return *this;
}

Result<bool> Statement::step() {
  if (m_bind_error)
    return std::unexpected(*m_bind_error);
  int rc = sqlite3_step(m_stmt.get());
  crash_point();
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  Error e = sqlite_error(m_db, rc, m_limit);
  sqlite3_reset(m_stmt.get());
  return std::unexpected(std::move(e));
}

Status Statement::run() {
  for (;;) {
    auto r = TRY(step());
    if (!r)
      break;
  }
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(m_stmt.get());
  sqlite3_clear_bindings(m_stmt.get());
  m_bind_error.reset();
}

bool Statement::is_null(int col) const {
  return sqlite3_column_type(m_stmt.get(), col) == SQLITE_NULL;
}

std::string_view Statement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt.get(), col));
  if (!p)
    return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), col))};
}

std::optional<std::string> Statement::opt_str(int col) const {
  if (is_null(col))
    return std::nullopt;
  return str(col);
}

std::int64_t Statement::integer(int col) const {
  return sqlite3_column_int64(m_stmt.get(), col);
}

double Statement::real(int col) const {
  return sqlite3_column_double(m_stmt.get(), col);
}

std::span<const std::uint8_t> Statement::blob(int col) const {
  auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt.get(), col));
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), col))};
}

void Database::Close::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

namespace {

// A read-only connection to a WAL-mode file makes -wal and -shm files it cannot remove when it
// closes; a read-write one removes them, and `query_only` keeps it from writing. Only when no
// -wal is there already: one that is belongs to another connection (or to a crash it recovers).
bool read_through_writer(const std::filesystem::path& path) {
  if (path.empty() || path == ":memory:")
    return false;
  auto facts = inspect_file(path);
  std::error_code ec;
  return facts && facts->wal && !std::filesystem::exists(path.string() + "-wal", ec);
}

} // namespace

Result<Database> Database::open(const std::filesystem::path& path, OpenMode mode) {
  if (crash_limit() > 0)
    install_crash_vfs();
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= mode == OpenMode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (mode == OpenMode::create)
    flags |= SQLITE_OPEN_CREATE;
  bool query_only = mode == OpenMode::read_only && read_through_writer(path);
  sqlite3* raw = nullptr;
  int rc = SQLITE_CANTOPEN;
  if (query_only) {
    rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) { // a file or folder this user may not write: read it read-only
      sqlite3_close_v2(raw);
      raw = nullptr;
      query_only = false;
    }
  }
  if (!query_only)
    rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db;
  db.m_db.reset(raw);
  db.m_path = path;
  db.m_read_only = mode == OpenMode::read_only;
  if (rc != SQLITE_OK)
    return std::unexpected(sqlite_error(raw, rc));
  if (query_only)
    TRY(db.exec("PRAGMA query_only = ON"));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);
  // A suite file may come from a pull request: never run its functions from the schema.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  TRY(db.exec("PRAGMA foreign_keys = ON"));
  return db;
}

Result<Database> Database::open_memory() {
  return open(":memory:", OpenMode::create);
}

Status Database::exec(std::string_view sql) {
  std::string copy(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(m_db.get(), copy.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  crash_point();
  if (rc != SQLITE_OK)
    return std::unexpected(sqlite_error(m_db.get(), rc, m_limit.get()));
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(m_db.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK)
    return std::unexpected(sqlite_error(m_db.get(), rc, m_limit.get()));
  return Statement(m_db.get(), stmt, m_limit.get());
}

void Database::limit_work(std::chrono::milliseconds allowed) {
  if (allowed.count() <= 0) {
    sqlite3_progress_handler(m_db.get(), 0, nullptr, nullptr);
    m_limit.reset();
    return;
  }
  // Statements prepared earlier keep a pointer to the limit: replace its contents, not it.
  if (!m_limit)
    m_limit = std::make_unique<WorkLimit>();
  *m_limit = {std::chrono::steady_clock::now() + allowed, allowed, false};
  // Every 1000 virtual-machine steps: a few microseconds of work between looks at the clock.
  sqlite3_progress_handler(
      m_db.get(), 1000,
      [](void* p) {
        auto* limit = static_cast<WorkLimit*>(p);
        if (!limit->reached && std::chrono::steady_clock::now() < limit->deadline)
          return 0;
        limit->reached = true;
        return 1;
      },
      m_limit.get());
}

Result<std::int64_t> Database::scalar(std::string_view sql) {
  auto stmt = TRY(prepare(sql));
  auto row = TRY(stmt.step());
  return row ? stmt.integer(0) : 0;
}

Result<Transaction> Transaction::begin(Database& db, Kind kind) {
  TRY(db.exec(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  Transaction tx(db);
  if (kind == Kind::immediate && db.m_write_begin)
    TRY(db.m_write_begin(db)); // on failure tx's destructor rolls back
  return tx;
}

Transaction::Transaction(Transaction&& other) noexcept : m_db(other.m_db), m_open(other.m_open) {
  other.m_open = false;
}

Transaction::~Transaction() {
  if (m_open)
    sqlite3_exec(m_db->m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::commit() {
  TRY(m_db->exec("COMMIT"));
  m_open = false;
  if (m_db->m_commit)
    m_db->m_commit(*m_db);
  return {};
}

} // namespace evalkeep::store
