#include "store/migration.hpp"

namespace evalkeep::store {

Result<int> schema_version(Database& db, const Schema& schema) {
  auto app = TRY(db.scalar("PRAGMA application_id"));
  auto version = TRY(db.scalar("PRAGMA user_version"));
  auto objects = TRY(db.scalar("SELECT count(*) FROM sqlite_schema"));
  bool empty = app == 0 && version == 0 && objects == 0;
  if (!empty && static_cast<std::uint32_t>(app) != schema.application_id)
    return invalid("not an evalkeep {} (application_id {:#x})", schema.what,
                   static_cast<std::uint32_t>(app));
  if (version > schema.latest())
    return with_hint(invalid("this {} was written by a newer evalkeep (schema version {}, this "
                             "evalkeep knows up to {})",
                             schema.what, version, schema.latest()),
                     "upgrade evalkeep");
  return static_cast<int>(version);
}

Result<int> migrate(Database& db, const Schema& schema) {
  auto version = TRY(schema_version(db, schema));
  if (version >= schema.latest())
    return version;
  for (const auto& m : schema.migrations) {
    if (m.version <= version)
      continue;
    if (auto s = db.exec(m.sql); !s)
      return with_context(s.error(), fmt::format("schema migration {}", m.name));
  }
  TRY(db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}",
                          static_cast<std::int32_t>(schema.application_id), schema.latest())));
  return version;
}

Result<int> prepare_schema(Database& db, const Schema& schema) {
  auto version = TRY(schema_version(db, schema));
  // A reader takes an older file as it is: the history of a committed file (dump as git's
  // textconv, the base of a pull request) stays readable after an upgrade. Migrations keep
  // older files readable (see migration.hpp).
  if (version == schema.latest() || (db.read_only() && version >= 1))
    return version;
  if (db.read_only())
    return invalid("this {} has no schema yet (schema version 0)", schema.what);
  auto tx = TRY(Transaction::begin(db));
  TRY(migrate(db, schema));
  TRY(tx.commit());
  return version;
}

} // namespace evalkeep::store
