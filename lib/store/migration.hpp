#pragma once

#include "core/error.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace evalkeep::store {

/// One schema step, embedded from schema/<store>/NNN_name.sql at build time.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

/// The suite store's migrations, in order (generated).
std::span<const Migration> suite_migrations();
/// The runs store's migrations, in order (generated).
std::span<const Migration> runs_migrations();

/// Which kind of evalkeep file a database is: its application_id and its migrations.
struct Schema {
  std::uint32_t application_id;
  std::string_view what; // "suite", "runs store"
  std::span<const Migration> migrations;
  int latest() const { return migrations.empty() ? 0 : migrations.back().version; }
};

/// Checks that the database is this kind of file at a version this build understands, without
/// writing anything. Returns its version: 0 for an empty database (no identity, no objects).
Result<int> schema_version(Database& db, const Schema& schema);

/// Applies the migrations past the file's version and stamps its identity and the latest version.
/// The caller holds a write transaction (Transaction::begin), so the migrations commit or roll
/// back with its other changes; the version is read again under that lock, since another process
/// may have migrated the file meanwhile. Returns the version the file had.
Result<int> migrate(Database& db, const Schema& schema);

/// Checks that the database is this kind of file at a version this build understands, and, when
/// the connection is writable, creates an empty file's schema or applies pending migrations in
/// one transaction. A read-only connection takes an older file as it is, so every migration must
/// leave what readers query unchanged (add triggers, indexes or columns with defaults; never
/// rename or drop). Returns the version the file had before (0 for a new file).
Result<int> prepare_schema(Database& db, const Schema& schema);

} // namespace evalkeep::store
