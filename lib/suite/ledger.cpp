#include "suite/ledger.hpp"

#include "core/json_text.hpp"

#include <algorithm>

namespace evalkeep::suite {

namespace {

std::optional<core::Digest> digest_column(const store::Statement& s, int col) {
  if (s.is_null(col))
    return std::nullopt;
  auto b = s.blob(col);
  core::Digest d{};
  if (b.size() != d.size())
    return core::Digest{}; // a malformed hash reads as all zeros and fails verification
  std::copy(b.begin(), b.end(), d.begin());
  return d;
}

} // namespace

LedgerEvent make_event(const Origin& origin, std::string action, std::string subject) {
  LedgerEvent e;
  e.at = origin.at;
  e.actor = origin.actor;
  e.action = std::move(action);
  e.subject = std::move(subject);
  e.git_head = origin.git_head;
  return e;
}

std::string canonical_event(const LedgerEvent& e) {
  // The same bytes nlohmann::json::dump() gives for an object with these keys: sorted, compact.
  // Written out by hand because every import appends one event per case and verify hashes them
  // all.
  std::string out;
  out.reserve(256 + e.actor.size() + e.subject.size() + (e.detail ? e.detail->size() : 0) +
              (e.rationale ? e.rationale->size() : 0));
  auto str = [&](std::string_view key, std::string_view v) {
    out += key;
    core::append_json_string(out, v);
  };
  auto opt = [&](std::string_view key, const std::optional<std::string>& v) {
    if (v)
      str(key, *v);
    else {
      out += key;
      out += "null";
    }
  };
  auto hex = [&](std::string_view key, const std::optional<core::Digest>& d) {
    out += key;
    if (d) {
      out += '"';
      out += core::to_hex(*d);
      out += '"';
    } else {
      out += "null";
    }
  };
  str("{\"action\":", e.action);
  str(",\"actor\":", e.actor);
  hex(",\"after\":", e.after);
  str(",\"at\":", e.at);
  hex(",\"before\":", e.before);
  opt(",\"detail\":", e.detail);
  opt(",\"git_head\":", e.git_head);
  opt(",\"rationale\":", e.rationale);
  out += ",\"seq\":";
  out += std::to_string(e.seq);
  str(",\"subject\":", e.subject);
  out += '}';
  return out;
}

core::Digest chain_hash(const core::Digest& previous, const LedgerEvent& e) {
  return core::sha256(core::to_hex(previous) + "\n" + canonical_event(e));
}

Result<LedgerWriter> LedgerWriter::open(store::Database& db) {
  auto last = TRY(db.prepare("SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1"));
  auto row = TRY(last.step());
  std::int64_t next = 1;
  core::Digest prev{};
  std::string last_at;
  if (row) {
    next = last.integer(0) + 1;
    prev = digest_column(last, 1).value_or(core::Digest{});
    last_at = last.str(2);
  }
  auto insert = TRY(db.prepare("INSERT INTO ledger (seq, at, actor, action, subject, rationale, "
                               "before_hash, after_hash, git_head, detail, hash) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  return LedgerWriter(std::move(insert), next, prev, std::move(last_at));
}

Status LedgerWriter::append(LedgerEvent& e) {
  if (e.at < m_last_at)
    e.at = m_last_at;
  return carry(e);
}

Status LedgerWriter::carry(LedgerEvent& e) {
  e.seq = m_next_seq;
  e.hash = chain_hash(m_last, e);
  auto opt_blob = [](const std::optional<core::Digest>& d) {
    return d ? std::optional<std::span<const std::uint8_t>>(*d) : std::nullopt;
  };
  m_insert.bind_all(e.seq, e.at, e.actor, e.action, e.subject, e.rationale, opt_blob(e.before),
                    opt_blob(e.after), e.git_head, e.detail, std::span<const std::uint8_t>(e.hash));
  TRY(m_insert.run());
  m_last = e.hash;
  m_last_at = e.at;
  ++m_next_seq;
  return {};
}

Result<std::vector<LedgerEvent>>
read_ledger(store::Database& db, const std::optional<std::string>& subject, std::int64_t after) {
  std::vector<LedgerEvent> out;
  TRY(store::each_row(
      db,
      "SELECT seq, at, actor, action, subject, rationale, before_hash, after_hash, git_head, "
      "detail, hash FROM ledger WHERE (?1 IS NULL OR subject = ?1) AND seq > ?2 ORDER BY seq",
      [&](const store::Statement& row) {
        LedgerEvent& e = out.emplace_back();
        e.seq = row.integer(0);
        e.at = row.str(1);
        e.actor = row.str(2);
        e.action = row.str(3);
        e.subject = row.str(4);
        e.rationale = row.opt_str(5);
        e.before = digest_column(row, 6);
        e.after = digest_column(row, 7);
        e.git_head = row.opt_str(8);
        e.detail = row.opt_str(9);
        e.hash = digest_column(row, 10).value_or(core::Digest{});
      },
      subject, after));
  return out;
}

} // namespace evalkeep::suite
