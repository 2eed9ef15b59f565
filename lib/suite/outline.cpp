#include "suite/outline.hpp"

#include <algorithm>

namespace evalkeep::suite {

namespace {

core::Digest digest_of(std::span<const std::uint8_t> blob) {
  core::Digest d{};
  std::copy_n(blob.begin(), std::min(blob.size(), d.size()), d.begin());
  return d;
}

} // namespace

Result<std::vector<Case>> case_outlines(Suite& s) {
  std::vector<Case> out;
  TRY(store::each_row(s.db(),
                      "SELECT id, status, provenance_kind, incident, provenance_note, "
                      "content_hash, expect IS NULL FROM cases ORDER BY id",
                      [&](const store::Statement& st) {
                        Case c;
                        c.id = st.str(0);
                        c.status = parse_status(st.text(1)).value_or(CaseStatus::active);
                        c.provenance.kind =
                            parse_provenance_kind(st.text(2)).value_or(ProvenanceKind::spec);
                        c.provenance.incident = st.opt_str(3).value_or("");
                        c.provenance.note = st.opt_str(4).value_or("");
                        c.content_hash = digest_of(st.blob(5));
                        c.purged = st.integer(6) != 0;
                        out.push_back(std::move(c));
                      }));
  return out;
}

Result<std::optional<LedgerTip>> ledger_tip(Suite& s) {
  std::optional<LedgerTip> tip;
  TRY(store::each_row(s.db(), "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                      [&](const store::Statement& st) {
                        tip = LedgerTip{st.integer(0), digest_of(st.blob(1))};
                      }));
  return tip;
}

Result<std::optional<core::Digest>> event_hash(Suite& s, std::int64_t seq) {
  auto stmt = TRY(s.db().prepare("SELECT hash FROM ledger WHERE seq = ?"));
  stmt.bind(1, seq);
  if (!TRY(stmt.step()))
    return std::optional<core::Digest>();
  return std::optional(digest_of(stmt.blob(0)));
}

} // namespace evalkeep::suite
