#include "suite/dump.hpp"

#include "core/terminal.hpp"
#include "suite/rows.hpp"

#include <algorithm>
#include <span>
#include <sstream>
#include <string_view>

namespace evalkeep::suite {

namespace {

// Ledger hashes and commits are shortened: enough to tell events apart in a diff, short enough to
// keep each line readable. A purged tombstone's content hash is shown in full, as it is all that
// is left of the case.
constexpr std::size_t k_short_hash = 12;
// The text is built in memory and handed to the stream in chunks of about this size.
constexpr std::size_t k_flush_at = 1 << 20;

// Whether core::for_terminal could change `s` (C0 controls but newline and tab, DEL, and the lead
// byte of a C1 control): most text has none, and one scan is cheaper than a copy.
bool needs_showing(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c == 0xc2;
  });
}

// Builds the text; the stream sees it in large chunks, which keeps 100,000 cases well under a
// second.
class Writer {
public:
  explicit Writer(std::ostream& out, DumpText text = DumpText::exact) : m_out(out), m_text(text) {
    m_buf.reserve(k_flush_at + 64 * 1024);
  }

  /// A record's head line: "case ID". A blank line separates it from the previous record.
  void head(std::string_view kind, std::string_view id) {
    m_buf += '\n';
    m_buf += kind;
    text(" ", "", id);
    maybe_flush();
  }

  /// "  key: value", continuing multi-line values with "  | " lines.
  void field(std::string_view key, std::string_view value) {
    m_buf += "  ";
    m_buf += key;
    m_buf += ':';
    text(" ", "  ", value);
  }

  /// "  [role] content": a message of a conversation, continued like a field.
  void message(std::string_view role, std::string_view content) {
    m_buf += "  [";
    m_buf += role;
    m_buf += ']';
    text(" ", "  ", content);
  }

  void raw(std::string_view s) { m_buf += s; }

  Status finish() {
    flush();
    m_out.flush();
    if (!m_out)
      return fail(ExitCode::environment, "cannot write the dump");
    return {};
  }

private:
  // Appends `value` after the head already in the buffer: its first line after `sep` (nothing
  // when that line is empty, so no line ends in a space), then each further line as
  // `indent` + "| " + line, or `indent` + "|" for an empty one. Ends the last line.
  void text(std::string_view sep, std::string_view indent, std::string_view value) {
    bool first = true;
    for (;;) {
      auto nl = value.find('\n');
      auto line = value.substr(0, nl);
      if (!first) {
        m_buf += '\n';
        m_buf += indent;
        m_buf += '|';
      }
      if (!line.empty()) {
        m_buf += first ? sep : std::string_view(" ");
        m_buf += line;
      }
      first = false;
      if (nl == std::string_view::npos)
        break;
      value.remove_prefix(nl + 1);
    }
    m_buf += '\n';
  }

  void maybe_flush() {
    if (m_buf.size() >= k_flush_at)
      flush();
  }
  // The buffer always ends a line here, so a character is never split between two flushes.
  void flush() {
    if (m_text == DumpText::visible && needs_showing(m_buf))
      m_buf = core::for_terminal(m_buf);
    m_out.write(m_buf.data(), static_cast<std::streamsize>(m_buf.size()));
    m_buf.clear();
  }

  std::ostream& m_out;
  DumpText m_text;
  std::string m_buf;
};

std::string hex(std::span<const std::uint8_t> bytes, std::size_t max_chars = std::string::npos) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += k_digits[b >> 4];
    out += k_digits[b & 0xf];
  }
  if (out.size() > max_chars)
    out.resize(max_chars);
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty())
      out += ", ";
    out += item;
  }
  return out;
}

void write_incident(Writer& w, const Incident& i) {
  w.head("incident", i.id);
  w.field("title", i.title);
  if (i.date)
    w.field("date", *i.date);
  if (i.severity)
    w.field("severity", *i.severity);
  if (i.url)
    w.field("url", *i.url);
  if (i.summary)
    w.field("summary", *i.summary);
}

void write_case(Writer& w, const Case& c) {
  w.head("case", c.id);
  w.field("status", to_string(c.status));
  if (c.provenance.kind == ProvenanceKind::incident)
    w.field("incident", c.provenance.incident);
  else
    w.field("provenance", std::string(to_string(c.provenance.kind)) + ":" + c.provenance.note);
  if (!c.tags.empty())
    w.field("tags", join(c.tags));
  if (c.title)
    w.field("title", *c.title);
  if (c.system)
    w.field("system", *c.system);
  if (c.prompt)
    w.field("prompt", *c.prompt);
  // One tool per line, so a diff shows which tool changed.
  if (c.tools.is_array())
    for (const auto& t : c.tools)
      w.field("tool", t.dump());
  if (!c.tool_choice.is_null())
    w.field("tool_choice", c.tool_choice.dump());
  for (const auto& m : c.messages) {
    w.message(m.tool_call_id.empty() ? m.role : m.role + " " + m.tool_call_id, m.content);
    for (const auto& call : m.tool_calls)
      w.field("call", fmt::format("{} {} {}", call.id, call.name, call.arguments));
  }
  for (const auto& a : c.expect)
    w.field("expect", scoring::to_spec(a));
  if (c.trials)
    w.field("trials", fmt::format("{}", *c.trials));
  if (c.min_pass_rate)
    w.field("min_pass_rate", fmt::format("{}", *c.min_pass_rate));
  if (c.purged) {
    w.field("purged", "yes");
    w.field("content_hash", hex(c.content_hash));
  }
}

void write_decision(Writer& w, const RetirementDecision& d) {
  w.head("retirement", d.case_id);
  w.field("reason", to_string(d.reason));
  w.field("rationale", d.rationale);
  w.field("decided_by", d.decided_by);
  if (d.approved_by)
    w.field("approved_by", *d.approved_by);
  w.field("decided_at", d.decided_at);
  if (d.git_head)
    w.field("git_head", *d.git_head);
  if (!d.incidents.empty())
    w.field("incidents", join(d.incidents));
  if (!d.superseded_by.empty())
    w.field("superseded_by", join(d.superseded_by));
  if (d.revisit)
    w.field("revisit", *d.revisit);
}

// Straight from the row, without building LedgerEvents: the ledger has an event per case.
void write_event(Writer& w, const store::Statement& st) {
  w.head("event", std::to_string(st.integer(0)));
  w.field("at", st.text(1));
  w.field("actor", st.text(2));
  w.field("action", st.text(3));
  w.field("subject", st.text(4));
  if (!st.is_null(5))
    w.field("rationale", st.text(5));
  if (!st.is_null(6))
    w.field("before", hex(st.blob(6), k_short_hash));
  if (!st.is_null(7))
    w.field("after", hex(st.blob(7), k_short_hash));
  if (!st.is_null(8))
    w.field("git_head", st.text(8).substr(0, k_short_hash));
  if (!st.is_null(9))
    w.field("detail", st.text(9));
}

} // namespace

Status dump(Suite& s, std::ostream& out, DumpText text) {
  auto& db = s.db();
  // One read transaction: every section comes from the same snapshot.
  auto tx = TRY(store::Transaction::begin(db, store::Transaction::Kind::deferred));
  auto version = TRY(db.scalar("PRAGMA user_version"));

  Writer w(out, text);
  w.raw(fmt::format("# evalkeep suite, schema version {}\n", version));
  // ORDER BY uses SQLite's BINARY collation: byte order, the same on every machine.
  TRY(store::each_row(
      db, fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns),
      [&](const store::Statement& st) { write_incident(w, rows::read_incident(st)); }));
  TRY(store::each_row(db,
                      fmt::format("SELECT {} FROM cases ORDER BY id", TRY(rows::case_columns(db))),
                      [&](const store::Statement& st) { write_case(w, rows::read_case(st)); }));
  TRY(store::each_row(
      db, fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns),
      [&](const store::Statement& st) { write_decision(w, rows::read_decision(st)); }));
  TRY(store::each_row(db,
                      "SELECT seq, at, actor, action, subject, rationale, before_hash, "
                      "after_hash, git_head, detail FROM ledger ORDER BY seq",
                      [&](const store::Statement& st) { write_event(w, st); }));
  return w.finish();
}

Result<std::string> dump(Suite& s) {
  std::ostringstream out;
  TRY(dump(s, out));
  return std::move(out).str();
}

namespace {

// A record's blocks without the blank line that separates them from a previous record.
template <typename Write> std::string dump_blocks(Write write) {
  std::ostringstream out;
  Writer w(out);
  write(w);
  (void)w.finish(); // a string stream does not fail
  auto text = std::move(out).str();
  return text.starts_with('\n') ? text.substr(1) : text;
}

} // namespace

std::string dump_case(const Case& c, const RetirementDecision* decision) {
  return dump_blocks([&](Writer& w) {
    write_case(w, c);
    if (decision)
      write_decision(w, *decision);
  });
}

std::string dump_incident(const Incident& i) {
  return dump_blocks([&](Writer& w) { write_incident(w, i); });
}

} // namespace evalkeep::suite
