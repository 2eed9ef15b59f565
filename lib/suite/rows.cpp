#include "suite/rows.hpp"

#include "core/json_text.hpp"
#include "suite/records.hpp"

namespace evalkeep::suite::rows {

using json = nlohmann::json;

namespace {

std::optional<std::string> json_list(const std::vector<std::string>& v) {
  if (v.empty())
    return std::nullopt;
  return json(v).dump();
}

std::vector<std::string> parse_list(const store::Statement& s, int col) {
  if (s.is_null(col))
    return {};
  return core::string_array(s.text(col));
}

template <typename T>
Result<std::optional<T>> find_one(store::Database& db, const std::string& sql, std::string_view id,
                                  T (*read)(const store::Statement&)) {
  auto stmt = TRY(db.prepare(sql));
  stmt.bind(1, id);
  auto row = TRY(stmt.step());
  if (!row)
    return std::optional<T>();
  return std::optional<T>(read(stmt));
}

// A stored message, read leniently: verify reports what a hand edit broke, through the hash.
Message stored_message(const json& m) {
  Message msg{m.value("role", ""), m.value("content", ""), {}, m.value("tool_call_id", "")};
  if (auto calls = m.find("tool_calls"); calls != m.end() && calls->is_array())
    for (std::size_t k = 0; k < calls->size(); ++k)
      if (auto call = core::tool_call_from_json((*calls)[k], "tool_calls"))
        msg.tool_calls.push_back(std::move(*call));
  return msg;
}

std::optional<std::string> json_text(const json& j) {
  if (j.is_null())
    return std::nullopt;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

Result<std::string> case_columns(store::Database& db) {
  auto stmt = TRY(db.prepare("SELECT 1 FROM pragma_table_xinfo('cases') WHERE name = 'tools'"));
  if (TRY(stmt.step()))
    return std::string(k_case_columns);
  // A file from before schema 4, which a reader takes as it is: it has no tools.
  std::string cols = k_case_columns;
  return cols.substr(0, cols.find(", tools")) + ", NULL, NULL, NULL";
}

Case read_case(const store::Statement& s) {
  Case c;
  c.id = s.str(0);
  c.title = s.opt_str(1);
  c.prompt = s.opt_str(2);
  c.system = s.opt_str(3);
  if (!s.is_null(4)) {
    auto msgs = json::parse(s.text(4), nullptr, false);
    if (msgs.is_array())
      for (const auto& m : msgs)
        if (m.is_object())
          c.messages.push_back(stored_message(m));
  }
  if (s.is_null(5)) {
    c.purged = true;
  } else {
    auto expect = json::parse(s.text(5), nullptr, false);
    if (expect.is_array())
      for (const auto& a : expect)
        if (auto parsed = scoring::from_json(a, scoring::Check::structure))
          c.expect.push_back(std::move(*parsed));
  }
  c.tags = parse_list(s, 6);
  c.provenance.kind = parse_provenance_kind(s.text(8)).value_or(ProvenanceKind::spec);
  if (!s.is_null(7))
    c.provenance.incident = s.str(7);
  c.provenance.note = s.opt_str(9).value_or("");
  c.status = parse_status(s.text(10)).value_or(CaseStatus::active);
  if (!s.is_null(11))
    c.min_pass_rate = s.real(11);
  if (!s.is_null(12))
    c.trials = static_cast<int>(s.integer(12));
  auto hash = s.blob(13);
  if (hash.size() == c.content_hash.size())
    std::copy(hash.begin(), hash.end(), c.content_hash.begin());
  for (auto [col, field] :
       {std::pair{14, &c.tools}, std::pair{15, &c.tool_choice}, std::pair{16, &c.evidence}})
    if (!s.is_null(col))
      if (auto j = json::parse(s.text(col), nullptr, false); !j.is_discarded())
        *field = std::move(j);
  return c;
}

void bind_case(store::Statement& s, const Case& c) {
  std::optional<std::string> messages, expect;
  if (!c.messages.empty()) {
    json m = json::array();
    for (const auto& msg : c.messages)
      m.push_back(message_json(msg));
    messages = m.dump();
  }
  if (!c.purged) {
    nlohmann::ordered_json e = nlohmann::ordered_json::array();
    for (const auto& a : c.expect)
      e.push_back(scoring::to_json(a));
    expect = e.dump();
  }
  std::optional<std::string> incident;
  if (c.provenance.kind == ProvenanceKind::incident)
    incident = c.provenance.incident;
  std::optional<std::string> note;
  if (!c.provenance.note.empty())
    note = c.provenance.note;
  std::optional<std::int64_t> trials;
  if (c.trials)
    trials = *c.trials;
  s.bind_all(c.id, c.title, c.prompt, c.system, messages, expect, json_list(c.tags), incident,
             std::string(to_string(c.provenance.kind)), note, std::string(to_string(c.status)),
             c.min_pass_rate, trials, std::span<const std::uint8_t>(c.content_hash),
             json_text(c.tools), json_text(c.tool_choice), json_text(c.evidence));
}

Result<store::Statement> prepare_case_update(store::Database& db) {
  // Parameters in bind_case's order: ?1 is the id.
  return db.prepare(
      "UPDATE cases SET title = ?2, prompt = ?3, system = ?4, messages = ?5, "
      "expect = ?6, tags = ?7, incident = ?8, provenance_kind = ?9, "
      "provenance_note = ?10, status = ?11, min_pass_rate = ?12, trials = ?13, "
      "content_hash = ?14, tools = ?15, tool_choice = ?16, evidence = ?17 WHERE id = ?1");
}

Status update_case(store::Statement& update, const Case& c) {
  bind_case(update, c);
  return update.run();
}

Status update_case(store::Database& db, const Case& c) {
  auto update = TRY(prepare_case_update(db));
  return update_case(update, c);
}

Incident read_incident(const store::Statement& s) {
  return {s.str(0), s.str(1), s.opt_str(2), s.opt_str(3), s.opt_str(4), s.opt_str(5)};
}

void bind_incident(store::Statement& s, const Incident& i) {
  s.bind_all(i.id, i.title, i.date, i.severity, i.url, i.summary);
}

RetirementDecision read_decision(const store::Statement& s) {
  RetirementDecision d;
  d.case_id = s.str(0);
  d.reason = parse_reason(s.text(1)).value_or(RetirementReason::superseded);
  d.rationale = s.str(2);
  d.decided_by = s.str(3);
  d.approved_by = s.opt_str(4);
  d.decided_at = s.str(5);
  d.git_head = s.opt_str(6);
  d.incidents = parse_list(s, 7);
  d.superseded_by = parse_list(s, 8);
  d.revisit = s.opt_str(9);
  return d;
}

void bind_decision(store::Statement& s, const RetirementDecision& d) {
  s.bind_all(d.case_id, std::string(to_string(d.reason)), d.rationale, d.decided_by, d.approved_by,
             d.decided_at, d.git_head, json_list(d.incidents), json_list(d.superseded_by),
             d.revisit);
}

std::string canonical(const nlohmann::ordered_json& record) {
  json sorted = record; // nlohmann::json orders keys
  return sorted.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::optional<Case>> find_case(store::Database& db, std::string_view id) {
  return find_one<Case>(db, fmt::format("SELECT {} FROM cases WHERE id = ?", TRY(case_columns(db))),
                        id, &read_case);
}

Result<std::optional<Incident>> find_incident(store::Database& db, std::string_view id) {
  return find_one<Incident>(
      db, fmt::format("SELECT {} FROM incidents WHERE id = ?", k_incident_columns), id,
      &read_incident);
}

Result<std::optional<RetirementDecision>> find_decision(store::Database& db, std::string_view id) {
  return find_one<RetirementDecision>(
      db, fmt::format("SELECT {} FROM retirements WHERE case_id = ?", k_decision_columns), id,
      &read_decision);
}

} // namespace evalkeep::suite::rows
