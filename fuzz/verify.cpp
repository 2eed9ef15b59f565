// The ledger verifier on a damaged suite. The first byte chooses: even, byte patches on the file
// (fuzz_support.hpp), which must give an error or a report, never a crash; odd, edits of ledger
// rows made with the update trigger dropped, which `verify` must report whenever a value changed.
// Each edit: a byte choosing the event, a byte choosing the column, a length byte (255: NULL where
// the column allows it) and the new value.

#include "suite/verify.hpp"

#include "fuzz_support.hpp"
#include "store/database.hpp"
#include "suite/suite.hpp"

using namespace evalkeep;

namespace {

struct Column {
  const char* name;
  bool blob;
  bool nullable;
};
constexpr Column k_columns[] = {
    {"at", false, false},       {"actor", false, false},    {"action", false, false},
    {"subject", false, false},  {"rationale", false, true}, {"before_hash", true, true},
    {"after_hash", true, true}, {"git_head", false, true},  {"detail", false, true},
    {"hash", true, false},
};

// Every ledger value with its type, in order: what an edit changed, if anything.
std::string ledger_snapshot(store::Database& db) {
  std::string sql = "SELECT group_concat(row, '|') FROM (SELECT ''";
  for (const auto& c : k_columns)
    sql += std::string(" || typeof(") + c.name + ") || hex(" + c.name + ") || ','";
  sql += " AS row FROM ledger ORDER BY seq)";
  auto stmt = db.prepare(sql);
  fuzz::require(stmt.has_value(), "prepare the ledger snapshot");
  auto row = stmt->step();
  fuzz::require(row && *row, "read the ledger snapshot");
  return stmt->str(0);
}

// Applies the edits to the suite file; true when a ledger value changed.
bool edit_ledger(const std::filesystem::path& file, std::span<const std::uint8_t> data) {
  auto db = store::Database::open(file, store::OpenMode::read_write);
  fuzz::require(db.has_value(), "open the suite to edit");
  auto events = db->scalar("SELECT count(*) FROM ledger");
  fuzz::require(events && *events > 0, "count the ledger");
  std::string before = ledger_snapshot(*db);
  auto trigger =
      db->prepare("SELECT sql FROM sqlite_schema WHERE name = 'ledger_is_append_only_update'");
  fuzz::require(trigger && trigger->step().value_or(false), "read the update trigger");
  std::string trigger_sql = trigger->str(0);
  fuzz::require(db->exec("DROP TRIGGER ledger_is_append_only_update").has_value(), "drop trigger");
  while (data.size() >= 3) {
    const Column& col = k_columns[data[1] % std::size(k_columns)];
    std::int64_t seq = 1 + data[0] % *events;
    bool null = data[2] == 255 && col.nullable;
    std::size_t len = data[2] == 255 ? 0 : std::min<std::size_t>(data[2], data.size() - 3);
    auto value = data.subspan(3, len);
    data = data.subspan(3 + len);
    auto stmt = db->prepare(fmt::format("UPDATE ledger SET {} = ?1 WHERE seq = ?2", col.name));
    fuzz::require(stmt.has_value(), "prepare an edit");
    if (null)
      stmt->bind(1, nullptr);
    else if (col.blob)
      stmt->bind(1, value);
    else
      stmt->bind(1, fuzz::as_text(value.data(), value.size()));
    stmt->bind(2, seq);
    fuzz::require(stmt->run().has_value(), "edit a ledger row");
  }
  fuzz::require(db->exec(trigger_sql).has_value(), "recreate the trigger");
  return ledger_snapshot(*db) != before;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string pristine = fuzz::suite_bytes();
  if (size == 0)
    return 0;
  const auto file = fuzz::scratch_dir() / "verify.db";
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    std::string bytes = pristine;
    fuzz::apply_patches(rest, {&bytes});
    fuzz::write_bytes(file, bytes);
    if (auto s = suite::Suite::open_untrusted(file))
      (void)suite::verify(*s);
    return 0;
  }
  fuzz::write_bytes(file, pristine);
  bool changed = edit_ledger(file, rest);
  auto s = suite::Suite::open_untrusted(file);
  fuzz::require(s.has_value(), s ? "" : "open the edited suite: " + s.error().message);
  auto report = suite::verify(*s);
  fuzz::require(report.has_value(), report ? "" : "verify failed: " + report.error().message);
  if (changed)
    fuzz::require(!report->ok(), "an edited ledger event passed verify");
  else
    fuzz::require(report->ok(), "an unedited suite failed verify");
  return 0;
}
