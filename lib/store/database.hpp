#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace evalkeep::store {

enum class OpenMode { read_only, read_write, create };

/// A prepared statement. Binds are 1-based; the first bind error is kept and reported by step().
class Statement {
public:
  Statement(sqlite3* db, sqlite3_stmt* stmt);
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
  std::optional<Error> m_bind_error;
  void check_bind(int rc, int index);
};

/// An open SQLite connection with foreign keys on, a busy timeout and an untrusted schema.
class Database {
public:
  static Result<Database> open(const std::filesystem::path& path, OpenMode mode);
  static Result<Database> open_memory();

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  /// The first column of the first row of `sql` as an integer (0 when there is no row).
  Result<std::int64_t> scalar(std::string_view sql);
  bool read_only() const { return m_read_only; }
  const std::filesystem::path& path() const { return m_path; }

private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Close> m_db;
  std::filesystem::path m_path;
  bool m_read_only = false;
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

/// Runs `sql` and calls `row(const Statement&)` for each row it gives.
template <typename Row> Status each_row(Database& db, std::string_view sql, Row row) {
  auto stmt = db.prepare(sql);
  if (!stmt)
    return std::unexpected(stmt.error());
  for (;;) {
    auto more = stmt->step();
    if (!more)
      return std::unexpected(more.error());
    if (!*more)
      return {};
    row(std::as_const(*stmt));
  }
}

/// Converts a SQLite result code into an evalkeep error with the right exit code.
Error sqlite_error(sqlite3* db, int rc);

} // namespace evalkeep::store
