#include "support/suite_fixture.hpp"

#include "scoring/assertion.hpp"
#include "store/migration.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/workspace.hpp"

#include <set>
#include <stdexcept>
#include <utility>

namespace evalkeep::test {

namespace {

template <typename T> T must(Result<T> r, std::string_view what) {
  if (!r)
    throw std::runtime_error(fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

void must(const Status& s, std::string_view what) {
  if (!s)
    throw std::runtime_error(fmt::format("{}: {}", what, s.error().message));
}

} // namespace

suite::Origin origin() {
  return {"Test <t@example.com>", "2026-05-01T10:00:00Z", std::nullopt};
}

suite::Case make_case(std::string id, std::string incident, std::string prompt,
                      std::vector<std::string> expect) {
  suite::Case c;
  c.id = std::move(id);
  c.prompt = std::move(prompt);
  for (const auto& spec : expect)
    c.expect.push_back(must(scoring::parse_assertion(spec), "parse assertion " + spec));
  if (incident.empty())
    c.provenance = {suite::ProvenanceKind::spec, {}, "style guide 2.1"};
  else
    c.provenance = {suite::ProvenanceKind::incident, std::move(incident), {}};
  return c;
}

std::filesystem::path suite_path(const TempDir& dir) {
  return dir.path() / "evals" / "suite.db";
}

suite::Suite empty_suite(const TempDir& dir) {
  return must(suite::Suite::create(suite_path(dir)), "create suite");
}

void add_incident(suite::Suite& s, const std::string& id, const std::string& title) {
  suite::Incident i;
  i.id = id;
  i.title = title;
  i.date = "2026-03-02";
  i.severity = "high";
  must(suite::add_incident(s, i, origin()), "add incident " + id);
}

void add_case(suite::Suite& s, const suite::Case& c) {
  must(suite::add_case(s, c, suite::Policy{}, origin()), "add case " + c.id);
}

suite::Suite suite_with_case(const TempDir& dir, const std::string& id,
                             const std::string& incident) {
  auto s = empty_suite(dir);
  add_incident(s, incident, "Refund promised outside policy");
  add_case(s, make_case(id, incident));
  return s;
}

std::int64_t count(store::Database& db, std::string_view sql) {
  return must(db.scalar(sql), std::string(sql));
}

void tamper_without_trigger(const std::filesystem::path& suite_file, const std::string& trigger,
                            const std::string& sql) {
  auto db = must(store::Database::open(suite_file, store::OpenMode::read_write), "open raw");
  auto lookup =
      must(db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?"),
           "look up trigger");
  lookup.bind(1, trigger);
  if (!must(lookup.step(), "look up trigger"))
    throw std::runtime_error("no trigger " + trigger);
  std::string definition = lookup.str(0);
  lookup.reset();
  must(db.exec("DROP TRIGGER " + trigger), "drop trigger");
  must(db.exec(sql), sql);
  must(db.exec(definition), "recreate trigger");
}

void set_schema_version(const std::filesystem::path& suite_file, int version) {
  auto older = must(store::Database::open_memory(), "open memory");
  for (const auto& m : store::suite_migrations())
    if (m.version <= version)
      must(older.exec(m.sql), m.name);
  std::set<std::string> keep;
  auto names = must(older.prepare("SELECT name FROM sqlite_schema"), "list schema");
  while (must(names.step(), "list schema"))
    keep.insert(names.str(0));
  auto db = must(store::Database::open(suite_file, store::OpenMode::read_write), "open raw");
  std::vector<std::pair<std::string, std::string>> drop;
  auto objects = must(db.prepare("SELECT type, name FROM sqlite_schema"), "list schema");
  while (must(objects.step(), "list schema"))
    if (!keep.contains(objects.str(1)))
      drop.emplace_back(objects.str(0), objects.str(1));
  for (const auto& [type, name] : drop) {
    if (type != "trigger")
      throw std::runtime_error("a later migration added " + type + " " + name);
    must(db.exec("DROP TRIGGER " + name), "drop trigger " + name);
  }
  // Columns later migrations added to a table the older schema has.
  for (const auto& table : keep) {
    std::set<std::string> had;
    auto old_cols = must(older.prepare("SELECT name FROM pragma_table_xinfo(?)"), "columns");
    old_cols.bind(1, table);
    while (must(old_cols.step(), "columns"))
      had.insert(old_cols.str(0));
    std::vector<std::string> added;
    auto cols = must(db.prepare("SELECT name FROM pragma_table_xinfo(?)"), "columns");
    cols.bind(1, table);
    while (must(cols.step(), "columns"))
      if (!had.empty() && !had.contains(cols.str(0)))
        added.push_back(cols.str(0));
    for (const auto& col : added)
      must(db.exec(fmt::format("ALTER TABLE {} DROP COLUMN {}", table, col)), "drop " + col);
  }
  must(db.exec(fmt::format("PRAGMA user_version = {}", version)), "set user_version");
}

} // namespace evalkeep::test
