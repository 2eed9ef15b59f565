#include "store/migration.hpp"

namespace evalkeep::store {

Result<int> prepare_schema(Database& db, const Schema& schema) {
  auto app = db.scalar("PRAGMA application_id");
  if (!app)
    return std::unexpected(app.error());
  auto version = db.scalar("PRAGMA user_version");
  if (!version)
    return std::unexpected(version.error());
  auto objects = db.scalar("SELECT count(*) FROM sqlite_schema");
  if (!objects)
    return std::unexpected(objects.error());

  bool empty = *app == 0 && *version == 0 && *objects == 0;
  if (!empty && static_cast<std::uint32_t>(*app) != schema.application_id)
    return invalid("not an evalkeep {} (application_id {:#x})", schema.what,
                   static_cast<std::uint32_t>(*app));
  if (*version > schema.latest())
    return with_hint(invalid("this {} was written by a newer evalkeep (schema version {}, this "
                             "evalkeep knows up to {})",
                             schema.what, *version, schema.latest()),
                     "upgrade evalkeep");
  // A reader takes an older file as it is: the history of a committed file (dump as git's
  // textconv, the base of a pull request) stays readable after an upgrade. Migrations keep
  // older files readable (see migration.hpp).
  if (*version == schema.latest() || (db.read_only() && *version >= 1))
    return static_cast<int>(*version);
  if (db.read_only())
    return invalid("this {} has no schema yet (schema version 0)", schema.what);

  auto tx = Transaction::begin(db);
  if (!tx)
    return std::unexpected(tx.error());
  // Another process may have created or upgraded the file while this one waited for the lock:
  // read the version again under it, or both would run the same migrations.
  auto locked_version = db.scalar("PRAGMA user_version");
  if (!locked_version)
    return std::unexpected(locked_version.error());
  if (*locked_version >= schema.latest())
    return static_cast<int>(*locked_version);
  for (const auto& m : schema.migrations) {
    if (m.version <= *locked_version)
      continue;
    if (auto s = db.exec(m.sql); !s)
      return with_context(s.error(), fmt::format("schema migration {}", m.name));
  }
  if (auto s =
          db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}",
                              static_cast<std::int32_t>(schema.application_id), schema.latest()));
      !s)
    return std::unexpected(s.error());
  if (auto s = tx->commit(); !s)
    return std::unexpected(s.error());
  return static_cast<int>(*version);
}

} // namespace evalkeep::store
