#include "suite/interchange.hpp"

#include "suite/incidents.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/rows.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace evalkeep::suite {

using json = nlohmann::json;

namespace {

std::unexpected<Error> at(const std::string& where, Error e) {
  e.message = fmt::format("{}: {}", where, e.message);
  return std::unexpected(std::move(e));
}

// Whether an object in the line may give a key twice: a quick scan comparing each object's keys
// as written. A key with an escape, or a line the scan cannot follow, counts as maybe.
bool may_repeat_keys(std::string_view line) {
  struct Open {
    bool object;
    std::vector<std::string_view> keys;
  };
  std::vector<Open> open;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '{' || c == '[') {
      open.push_back({c == '{', {}});
    } else if (c == '}' || c == ']') {
      if (open.empty())
        return true;
      open.pop_back();
    } else if (c == '"') {
      std::size_t start = ++i;
      bool escaped = false;
      for (; i < line.size() && line[i] != '"'; ++i)
        if (line[i] == '\\') {
          escaped = true;
          ++i;
        }
      if (i >= line.size())
        return true;
      auto next = line.find_first_not_of(" \t\r", i + 1);
      if (next == std::string_view::npos || line[next] != ':' || open.empty() ||
          !open.back().object)
        continue;
      if (escaped)
        return true;
      auto key = line.substr(start, i - start);
      auto& keys = open.back().keys;
      if (std::find(keys.begin(), keys.end(), key) != keys.end())
        return true;
      keys.push_back(key);
    }
  }
  return false;
}

// One line's JSON. A key given twice in one object is refused: JSON parsers disagree on which
// one wins, so the suite would hold what some other tool never showed its user. The exact check
// (a parse callback, about half again as slow) runs only on lines the quick scan flags.
Result<json> parse_record(std::string_view line) {
  try {
    if (!may_repeat_keys(line))
      return json::parse(line);
    std::vector<std::vector<std::string>> keys; // the keys seen, per open object
    std::optional<std::string> repeated;
    auto watch = [&](int, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::object_start)
        keys.emplace_back();
      else if (event == json::parse_event_t::object_end)
        keys.pop_back();
      else if (event == json::parse_event_t::key && !repeated) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (std::find(keys.back().begin(), keys.back().end(), key) != keys.back().end())
          repeated = key;
        else
          keys.back().push_back(key);
      }
      return true;
    };
    json j = json::parse(line, watch);
    if (repeated)
      return invalid("field \"{}\": given twice in one object", *repeated);
    return j;
  } catch (const json::parse_error& e) {
    return invalid("invalid JSON: {}", e.what());
  }
}

Result<ImportBatch> parse_lines(std::string_view text, const std::string& source) {
  ImportBatch p;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  if (text.starts_with("\xEF\xBB\xBF"))
    return invalid("{}:1: the file starts with a byte-order mark; save it as UTF-8 without one",
                   source);
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      return invalid("{}:{}: Windows line ending (CRLF); convert the file to LF line endings",
                     source, line_no);
    if (line.find('\0') != std::string_view::npos)
      return invalid("{}:{}: NUL byte in the line", source, line_no);
    // Refused before parsing: a parsed line takes several times its size in memory.
    if (line.size() > k_max_line_bytes)
      return invalid("{}:{}: the line is {}, more than the {} a record may take", source, line_no,
                     megabytes(line.size()), megabytes(k_max_line_bytes));
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue;
    auto parsed = parse_record(line);
    if (!parsed)
      return at(fmt::format("{}:{}", source, line_no), parsed.error());
    json j = std::move(*parsed);
    if (!j.is_object())
      return invalid("{}:{}: each line must be a JSON object with a \"type\"", source, line_no);
    auto type = j.find("type");
    if (type == j.end() || !type->is_string())
      return invalid("{}:{}: field \"type\": required (incident, case or retirement)", source,
                     line_no);
    const auto& t = type->get_ref<const std::string&>();
    std::string where = fmt::format("{}:{}", source, line_no);
    if (t == "incident") {
      auto i = parse_incident(j);
      if (!i)
        return at(where, i.error());
      p.incidents.push_back({std::move(*i), std::move(where)});
    } else if (t == "case") {
      auto c = parse_case(j);
      if (!c)
        return at(where, c.error());
      p.cases.push_back({std::move(*c), std::move(where)});
    } else if (t == "retirement") {
      auto d = parse_retirement(j);
      if (!d)
        return at(where, d.error());
      p.retirements.push_back({std::move(*d), std::move(where)});
    } else {
      return invalid("{}:{}: field \"type\": '{}' is not incident, case or retirement", source,
                     line_no, t);
    }
  }
  return p;
}

Result<std::set<std::string>> existing_ids(store::Database& db, const char* sql) {
  std::set<std::string> out;
  TRY(store::each_row(db, sql, [&](const store::Statement& row) { out.insert(row.str(0)); }));
  return out;
}

// The rules that need the whole file and the suite: unique ids, references that resolve, and a
// decision for every retired case.
Status check_references(store::Database& db, const ImportBatch& p, const Policy& policy) {
  auto incidents = TRY(existing_ids(db, "SELECT id FROM incidents"));
  auto cases = TRY(existing_ids(db, "SELECT id FROM cases"));
  std::set<std::string> new_incidents;
  for (const auto& [i, where] : p.incidents) {
    if (incidents.contains(i.id))
      return invalid("{}: field \"id\": incident {} already exists in the suite", where, i.id);
    if (!new_incidents.insert(i.id).second)
      return invalid("{}: field \"id\": duplicate incident id {}", where, i.id);
  }
  std::map<std::string, const Sourced<Case>*> new_cases;
  for (const auto& lc : p.cases) {
    const Case& c = lc.value;
    if (cases.contains(c.id))
      return invalid("{}: field \"id\": case {} already exists in the suite", lc.where, c.id);
    if (!new_cases.emplace(c.id, &lc).second)
      return invalid("{}: field \"id\": duplicate case id {}", lc.where, c.id);
    if (c.provenance.kind == ProvenanceKind::incident &&
        !incidents.contains(c.provenance.incident) &&
        !new_incidents.contains(c.provenance.incident))
      return invalid("{}: field \"incident\": unknown incident {}", lc.where,
                     c.provenance.incident);
    if (policy.require_incident && is_live(c.status) &&
        c.provenance.kind != ProvenanceKind::incident)
      return invalid("{}: field \"provenance\": policy requires an incident link for every case",
                     lc.where);
  }
  std::set<std::string> decided;
  for (const auto& [d, where] : p.retirements) {
    auto it = new_cases.find(d.case_id);
    if (it == new_cases.end())
      return invalid("{}: field \"case\": retirement for {}, which is not a case in this file",
                     where, d.case_id);
    if (is_live(it->second->value.status))
      return invalid("{}: field \"case\": {} has a retirement decision but its status is {}", where,
                     d.case_id, to_string(it->second->value.status));
    if (!decided.insert(d.case_id).second)
      return invalid("{}: field \"case\": a second retirement decision for {}", where, d.case_id);
    if (policy.require_approver && (!d.approved_by || *d.approved_by == d.decided_by))
      return invalid("{}: field \"approved_by\": policy requires an approver other than the "
                     "decider",
                     where);
    for (const auto& other : d.superseded_by)
      if (!cases.contains(other) && !new_cases.contains(other))
        return invalid("{}: field \"superseded_by\": unknown case {}", where, other);
  }
  for (const auto& lc : p.cases)
    if (!is_live(lc.value.status) && !decided.contains(lc.value.id))
      return invalid("{}: field \"status\": case {} is {} but the file has no retirement "
                     "decision for it",
                     lc.where, lc.value.id, to_string(lc.value.status));
  return {};
}

Status write_all(store::Database& db, const ImportBatch& p, const std::string& source,
                 const Origin& origin) {
  auto ledger = TRY(LedgerWriter::open(db));
  const std::string rationale = "imported from " + source;
  auto ins_incident = db.prepare(fmt::format("INSERT INTO incidents ({}) VALUES (?, ?, ?, ?, ?, ?)",
                                             rows::k_incident_columns));
  auto ins_decision =
      db.prepare(fmt::format("INSERT INTO retirements ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows::k_decision_columns));
  auto ins_case = db.prepare(fmt::format("INSERT INTO cases ({}) VALUES ({})", rows::k_case_columns,
                                         rows::k_case_placeholders));
  for (auto* st : {&ins_incident, &ins_decision, &ins_case})
    if (!*st)
      return std::unexpected(st->error());
  for (const auto& [i, _] : p.incidents) {
    rows::bind_incident(*ins_incident, i);
    TRY(ins_incident->run());
    auto e = make_event(origin, "incident-add", i.id);
    e.rationale = rationale;
    e.after = incident_hash(i);
    TRY(ledger.append(e));
  }
  std::map<std::string_view, const RetirementDecision*> decisions;
  for (const auto& [d, _] : p.retirements) {
    rows::bind_decision(*ins_decision, d);
    TRY(ins_decision->run());
    decisions.emplace(d.case_id, &d);
  }
  for (const auto& [c, _] : p.cases) {
    rows::bind_case(*ins_case, c);
    TRY(ins_case->run());
    auto e = make_event(origin, "import", c.id);
    e.rationale = rationale;
    e.after = c.content_hash;
    if (auto it = decisions.find(c.id); it != decisions.end())
      e.detail = rows::canonical(retirement_record(*it->second));
    TRY(ledger.append(e));
  }
  return {};
}

template <typename Read>
Status export_rows(store::Database& db, const std::string& sql, std::ostream& out, Read read) {
  return store::each_row(db, sql, [&](const store::Statement& row) {
    out << read(row).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  });
}

} // namespace

Result<ImportSummary> import_batch(Suite& s, const ImportBatch& batch, const std::string& source,
                                   const Policy& policy, const Origin& origin, bool dry_run) {
  for (const auto& [c, where] : batch.cases)
    if (auto r = check_limits(c); !r)
      return with_context(r.error(), fmt::format("{}: case {}", where, c.id));
  auto tx = TRY(store::Transaction::begin(s.db()));
  TRY(check_references(s.db(), batch, policy));
  if (!dry_run) {
    if (auto r = write_all(s.db(), batch, source, origin); !r)
      return with_context(r.error(), fmt::format("import {}", source));
    TRY(tx.commit());
  }
  ImportSummary summary{batch.incidents.size(), batch.cases.size(), batch.retirements.size(), 0};
  for (const auto& [c, _] : batch.cases)
    if (c.provenance.kind != ProvenanceKind::incident)
      ++summary.without_incident;
  return summary;
}

Result<ImportSummary> import_jsonl(Suite& s, std::string_view text, const std::string& source,
                                   const Policy& policy, const Origin& origin, bool dry_run) {
  auto parsed = TRY(parse_lines(text, source));
  return import_batch(s, parsed, source, policy, origin, dry_run);
}

Status export_jsonl(Suite& s, std::ostream& out) {
  auto& db = s.db();
  TRY(store::Transaction::begin(db, store::Transaction::Kind::deferred));
  if (auto r = export_rows(
          db, fmt::format("SELECT {} FROM incidents ORDER BY id", rows::k_incident_columns), out,
          [](const store::Statement& st) { return incident_record(rows::read_incident(st)); });
      !r)
    return r;
  auto case_columns = TRY(rows::case_columns(db));
  if (auto r =
          export_rows(db, fmt::format("SELECT {} FROM cases ORDER BY id", case_columns), out,
                      [](const store::Statement& st) { return case_record(rows::read_case(st)); });
      !r)
    return r;
  if (auto r = export_rows(
          db, fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns),
          out,
          [](const store::Statement& st) { return retirement_record(rows::read_decision(st)); });
      !r)
    return r;
  out.flush();
  if (!out)
    return fail(ExitCode::environment, "cannot write the export");
  return {};
}

} // namespace evalkeep::suite
