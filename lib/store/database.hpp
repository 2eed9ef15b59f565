#pragma once

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace evalkeep::store {

enum class OpenMode { read_only, read_write, create };

/// A bound on the wall-clock time SQLite may spend on one connection (see Database::limit_work).
struct WorkLimit {
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds allowed{0};
  bool reached = false;
};

/// The time to allow for work on a file of `file_bytes`: 10 s, plus 1 s for every 5 MB, which is
/// many times what SQLite and evalkeep need for a genuine suite of that size (a suite of 100,000
/// cases, 60 MB, passes the gate in about a second). EVALKEEP_WORK_LIMIT=SECONDS overrides it.
std::chrono::milliseconds work_limit_for(std::uintmax_t file_bytes);

/// A prepared statement. Binds are 1-based; the first bind error is kept and reported by step().
class Statement {
public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const WorkLimit* limit = nullptr);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::nullptr_t);
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  template <typename T> Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }
  /// Binds every argument in order, starting at parameter 1.
  template <typename... Args> Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  /// Advances; true when a row is ready, false when done.
  Result<bool> step();
  /// Steps to completion, ignoring rows, then resets so the statement can run again.
  Status run();
  void reset();

  bool is_null(int col) const;
  std::string_view text(int col) const;
  std::string str(int col) const { return std::string(text(col)); }
  std::optional<std::string> opt_str(int col) const;
  std::int64_t integer(int col) const;
  double real(int col) const;
  std::span<const std::uint8_t> blob(int col) const;

private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const;
  };
  sqlite3* m_db;
  std::unique_ptr<sqlite3_stmt, Finalize> m_stmt;
  const WorkLimit* m_limit;
  std::optional<Error> m_bind_error;
  void check_bind(int rc, int index);
};

/// An open SQLite connection with foreign keys on, a busy timeout and an untrusted schema.
class Database {
public:
  /// Opens a database file. A read-only connection to a file in WAL mode with no -wal beside it
  /// (switched by another tool) is opened for writing with `query_only` on, so that closing it
  /// removes the -wal and -shm files SQLite makes to read it, as a read-only connection cannot.
  static Result<Database> open(const std::filesystem::path& path, OpenMode mode);
  static Result<Database> open_memory();

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  /// The first column of the first row of `sql` as an integer (0 when there is no row).
  Result<std::int64_t> scalar(std::string_view sql);
  bool read_only() const { return m_read_only; }
  const std::filesystem::path& path() const { return m_path; }

  /// Bounds the work SQLite does on this connection from now on: once `allowed` has passed, every
  /// statement stops with "stopped after N s: the file makes SQLite work too long" (exit 2) and
  /// work_limit_reached() turns true. For files that may come from anyone.
  void limit_work(std::chrono::milliseconds allowed);
  bool work_limit_reached() const { return m_limit && m_limit->reached; }
  bool limits_work() const { return m_limit != nullptr; }

  /// Work to do at the start of every write transaction (Transaction::begin, Kind::immediate),
  /// inside it and before the caller's own changes, so that it commits or rolls back with them:
  /// a suite's pending migrations. A failure rolls the transaction back and is begin's error.
  void on_write_begin(std::function<Status(Database&)> hook) { m_write_begin = std::move(hook); }
  /// Work after a transaction of this connection commits, outside it: the switch of a suite that
  /// another tool put in WAL mode back to a rollback journal. Best effort: the changes are
  /// committed whatever it does.
  void on_commit(std::function<void(Database&)> hook) { m_commit = std::move(hook); }

private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Close> m_db;
  std::filesystem::path m_path;
  bool m_read_only = false;
  std::unique_ptr<WorkLimit> m_limit; // its address is the progress handler's
  std::function<Status(Database&)> m_write_begin;
  std::function<void(Database&)> m_commit;
  friend class Transaction;
};

/// A transaction that rolls back in its destructor unless committed. Never throws.
class Transaction {
public:
  enum class Kind { deferred, immediate };
  static Result<Transaction> begin(Database& db, Kind kind = Kind::immediate);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

private:
  explicit Transaction(Database& db) : m_db(&db) {}
  Database* m_db;
  bool m_open = true;
};

/// Steps `stmt` (prepared, its parameters bound) through its rows, calling
/// `row(const Statement&)` for each. A `row` that returns a Status stops the loop at its first
/// error, which is returned.
template <typename Row> Status each_row(Statement& stmt, Row row) {
  while (TRY(stmt.step())) {
    if constexpr (std::is_same_v<std::invoke_result_t<Row&, const Statement&>, Status>)
      TRY(row(std::as_const(stmt)));
    else
      row(std::as_const(stmt));
  }
  return {};
}

/// Runs `sql` with `params` bound to ?1, ?2, ... and calls `row(const Statement&)` for each row
/// it gives, as each_row(Statement&, Row) does.
template <typename Row, typename... Params>
Status each_row(Database& db, std::string_view sql, Row row, const Params&... params) {
  auto stmt = TRY(db.prepare(sql));
  if constexpr (sizeof...(Params) > 0)
    stmt.bind_all(params...);
  return each_row(stmt, std::move(row));
}

/// Converts a SQLite result code into an evalkeep error with the right exit code; an interruption
/// by `limit` (when given and reached) says how long the work was allowed.
Error sqlite_error(sqlite3* db, int rc, const WorkLimit* limit = nullptr);

} // namespace evalkeep::store
