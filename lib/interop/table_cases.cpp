// evalkeep's CSV layout and OpenAI Evals' JSONL samples: one case per row or line.

#include "interop/csv.hpp"
#include "interop/reading.hpp"

#include <sstream>

namespace evalkeep::interop {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string stem_of(const std::string& source) {
  std::string stem = slug(fs::path(source).stem().string());
  return stem.empty() ? "case" : stem;
}

// The columns that become case metadata, as promptfoo's metadata keys name them.
constexpr std::string_view k_metadata_columns[] = {
    "incident",          "incident_title", "incident_date", "incident_url",
    "incident_severity", "tags",           "trials",        "min_pass_rate"};

} // namespace

Result<Reading> read_csv_cases(std::string_view text, const std::string& source,
                               const ReadContext& ctx) {
  auto table = TRY(parse_csv(text, source));
  const auto& header = table.header;
  bool has_input = false;
  for (const auto& col : header) {
    bool expect = col == "expect" || (col.starts_with("expect") &&
                                      col.find_first_not_of("0123456789", 6) == std::string::npos);
    bool known = expect || col == "id" || col == "title" || col == "input" || col == "system" ||
                 col == "provenance" ||
                 std::find(std::begin(k_metadata_columns), std::end(k_metadata_columns), col) !=
                     std::end(k_metadata_columns);
    if (!known)
      return with_hint(invalid("{}:1: unknown column '{}'", source, col),
                       "columns: id, title, input, system, expect, expect2, ..., incident, "
                       "incident_title, incident_date, incident_severity, incident_url, "
                       "provenance, tags, trials, min_pass_rate");
    has_input = has_input || col == "input";
  }
  if (!has_input)
    return invalid("{}:1: no 'input' column", source);
  Reading reading;
  std::size_t n = 0;
  for (const auto& row : table.rows) {
    ++n;
    CaseDraft draft;
    draft.where = fmt::format("{}:{}", source, row.line);
    draft.format_label = "CSV";
    draft.fallback_id = fmt::format("{}-{}", stem_of(source), n);
    json metadata = json::object();
    for (std::size_t i = 0; i < header.size(); ++i) {
      const std::string& col = header[i];
      const std::string& cell = row.cells[i];
      if (cell.empty())
        continue;
      if (col == "id") {
        draft.id = cell;
      } else if (col == "title") {
        draft.c.title = cell;
      } else if (col == "input") {
        draft.c.prompt = cell;
      } else if (col == "system") {
        draft.c.system = cell;
      } else if (col.starts_with("expect")) {
        auto a = scoring::parse_assertion(cell);
        if (!a)
          return with_context(a.error(), fmt::format("{}: column \"{}\"", draft.where, col));
        draft.c.expect.push_back(std::move(*a));
      } else if (col == "provenance") {
        auto colon = cell.find(':');
        metadata["provenance"] = cell.substr(0, colon);
        if (colon != std::string::npos)
          metadata["provenance_note"] = cell.substr(colon + 1);
      } else if (col == "trials" || col == "min_pass_rate") {
        json number = json::parse(cell, nullptr, false);
        if (number.is_discarded() || !number.is_number())
          return invalid("{}: column \"{}\": '{}' is not a number", draft.where, col, cell);
        metadata[col] = number;
      } else {
        metadata[col] = cell;
      }
    }
    TRY(add_case(reading, ctx, std::move(draft), metadata));
  }
  return reading;
}

Result<Reading> read_openai_evals(std::string_view text, const std::string& source,
                                  const ReadContext& ctx) {
  Reading reading;
  if (text.starts_with("\xEF\xBB\xBF"))
    text.remove_prefix(3);
  std::size_t line_no = 0;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    std::string where = fmt::format("{}:{}", source, line_no);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      return invalid("{}: invalid JSON: {}", where, e.what());
    }
    if (!j.is_object())
      return invalid("{}: each line must be a JSON object with \"input\" and \"ideal\"", where);
    for (const auto& [key, _] : j.items())
      if (key != "input" && key != "ideal" && key != "metadata")
        return invalid("{}: field \"{}\": unknown field (a sample has input, ideal and "
                       "metadata)",
                       where, key);
    CaseDraft draft;
    draft.where = where;
    draft.format_label = "OpenAI Evals";
    draft.fallback_id = fmt::format("{}-{}", stem_of(source), line_no);
    const json input = j.value("input", json());
    if (input.is_string()) {
      draft.c.prompt = input.get<std::string>();
    } else if (auto messages = as_messages(input)) {
      set_input(draft.c, std::move(*messages));
    } else {
      return invalid("{}: field \"input\": must be text or a list of {{\"role\", \"content\"}} "
                     "messages",
                     where);
    }
    // The ideal answer: one text is an exact match, a list means any one of them.
    const json ideal = j.value("ideal", json());
    std::vector<std::string> ideals;
    if (ideal.is_string()) {
      ideals.push_back(ideal.get<std::string>());
    } else if (ideal.is_array()) {
      for (const auto& i : ideal) {
        if (!i.is_string())
          return invalid("{}: field \"ideal\": must be text or a list of text", where);
        ideals.push_back(i.get<std::string>());
      }
    }
    if (ideals.empty())
      return invalid("{}: field \"ideal\": required (text or a list of text)", where);
    json assertion;
    if (ideals.size() == 1) {
      assertion = {{"type", "equals"}, {"value", ideals[0]}};
    } else {
      std::string pattern = "^(?:";
      for (std::size_t i = 0; i < ideals.size(); ++i)
        pattern += (i ? "|" : "") + quote_regex(ideals[i]);
      assertion = {{"type", "regex"}, {"value", pattern + ")$"}};
    }
    auto a = scoring::from_json(assertion);
    if (!a)
      return with_context(a.error(), fmt::format("{}: field \"ideal\"", where));
    draft.c.expect.push_back(std::move(*a));
    TRY(add_case(reading, ctx, std::move(draft), j.value("metadata", json())));
  }
  if (reading.batch.cases.empty())
    return invalid("{}: no samples", source);
  return reading;
}

} // namespace evalkeep::interop
