#include "interop/reading.hpp"

#include "interop/template.hpp"
#include "suite/records.hpp"

#include <fstream>
#include <glob.h>
#include <sstream>

namespace evalkeep::interop {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::unexpected<Error> at(const std::string& where, Error e) {
  e.message = fmt::format("{}: {}", where, e.message);
  return std::unexpected(std::move(e));
}

// A metadata value as text: strings as they are, numbers and booleans as JavaScript prints them.
Result<std::string> text_of(const json& v, std::string_view key) {
  if (v.is_string() || v.is_number() || v.is_boolean())
    return js_string(v);
  return invalid("metadata \"{}\": must be text", key);
}

Result<std::vector<std::string>> tags_of(const json& v) {
  std::vector<std::string> tags;
  auto add_words = [&](std::string_view s) {
    std::string word;
    for (char ch : std::string(s) + " ") {
      if (ch == ',' || ch == ' ' || ch == '\t') {
        if (!word.empty())
          tags.push_back(std::move(word));
        word.clear();
      } else {
        word += ch;
      }
    }
  };
  if (v.is_string()) {
    add_words(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& t : v) {
      if (!t.is_string())
        return invalid("metadata \"tags\": must be a list of text");
      tags.push_back(t.get<std::string>());
    }
  } else if (!v.is_null()) {
    return invalid("metadata \"tags\": must be a list of text");
  }
  return tags;
}

} // namespace

void skip(Reading& reading, std::string where, std::string what, std::string cause) {
  // Looked up in log time: a configuration may hold thousands of refusals.
  if (!reading.skipped_seen.emplace(where, what).second)
    return;
  reading.skipped.push_back({std::move(where), std::move(what), std::move(cause)});
}

bool is_case_metadata_key(std::string_view key) {
  static constexpr std::string_view k_keys[] = {
      "case_id",           "incident",     "incident_title",   "incident_date",
      "incident_severity", "incident_url", "incident_summary", "provenance",
      "provenance_note",   "tags",         "trials",           "min_pass_rate"};
  return std::find(std::begin(k_keys), std::end(k_keys), key) != std::end(k_keys);
}

namespace {

// What a test's metadata says beyond the case's own fields.
struct Metadata {
  std::optional<std::string> incident, kind, note;
  suite::Incident described;
  bool describes = false;
  std::vector<std::string> unused;
};

// Reads the metadata keys evalkeep knows into the draft's case and `m`; others are listed unused.
Status read_metadata(CaseDraft& draft, const json& metadata, Metadata& m) {
  suite::Case& c = draft.c;
  if (!metadata.is_null() && !metadata.is_object())
    return invalid("{}: metadata must be a mapping", draft.where);
  for (const auto& [key, value] : metadata.items()) {
    if (key == "tags") {
      auto tags = tags_of(value);
      if (!tags)
        return at(draft.where, tags.error());
      c.tags = std::move(*tags);
      continue;
    }
    if (key == "trials") {
      if (!value.is_number_integer())
        return invalid("{}: metadata \"trials\": must be a whole number", draft.where);
      c.trials = static_cast<int>(std::clamp<std::int64_t>(value.get<std::int64_t>(), -1, 1000000));
      continue;
    }
    if (key == "min_pass_rate") {
      if (!value.is_number())
        return invalid("{}: metadata \"min_pass_rate\": must be a number", draft.where);
      c.min_pass_rate = value.get<double>();
      continue;
    }
    std::optional<std::string>* field = key == "incident"            ? &m.incident
                                        : key == "provenance"        ? &m.kind
                                        : key == "provenance_note"   ? &m.note
                                        : key == "incident_date"     ? &m.described.date
                                        : key == "incident_severity" ? &m.described.severity
                                        : key == "incident_url"      ? &m.described.url
                                        : key == "incident_summary"  ? &m.described.summary
                                                                     : nullptr;
    if (!field && key != "case_id" && key != "incident_title") {
      m.unused.push_back(key);
      continue;
    }
    auto text = text_of(value, key);
    if (!text)
      return at(draft.where, text.error());
    if (key == "case_id")
      draft.id = *text;
    else if (key == "incident_title")
      m.described.title = *text;
    else
      *field = *text;
    m.describes = m.describes || key.starts_with("incident_");
  }
  return {};
}

// The draft's own id, or its fallback made unique among the ids read so far.
std::string unique_id(Reading& reading, const CaseDraft& draft) {
  std::string id = draft.id + draft.suffix;
  if (draft.id.empty()) {
    std::string base = draft.fallback_id + draft.suffix;
    id = base;
    for (int n = 2; reading.case_ids.contains(id); ++n)
      id = fmt::format("{}-{}", base, n);
  }
  reading.case_ids.insert(id);
  return id;
}

// An incident the metadata describes joins the batch, unless the suite has it already.
Status describe_incident(Reading& reading, const ReadContext& ctx, const CaseDraft& draft,
                         Metadata& m) {
  const std::string& id = *m.incident;
  if (!m.describes || ctx.suite_incidents.contains(id))
    return {};
  m.described.id = id;
  if (m.described.title.empty())
    return invalid("{}: metadata \"incident_title\": required to describe a new incident",
                   draft.where);
  if (auto s = suite::validate_incident(m.described); !s)
    return with_context(s.error(), fmt::format("{}: incident {}", draft.where, id));
  auto same = std::find_if(reading.batch.incidents.begin(), reading.batch.incidents.end(),
                           [&](const auto& i) { return i.value.id == id; });
  if (same == reading.batch.incidents.end())
    reading.batch.incidents.push_back({m.described, draft.where});
  else if (suite::incident_record(same->value) != suite::incident_record(m.described))
    return invalid("{}: incident {} is described differently at {}", draft.where, id, same->where);
  return {};
}

Result<suite::Provenance> provenance_of(Reading& reading, const ReadContext& ctx,
                                        const CaseDraft& draft, Metadata& m) {
  if (m.incident && m.kind)
    return invalid("{}: metadata \"provenance\": give incident or provenance, not both",
                   draft.where);
  if (m.incident) {
    TRY(describe_incident(reading, ctx, draft, m));
    return suite::Provenance{suite::ProvenanceKind::incident, *m.incident, {}};
  }
  if (m.describes)
    return invalid("{}: metadata \"incident_title\": describes an incident, but there is no "
                   "metadata \"incident\" naming it",
                   draft.where);
  if (m.kind) {
    auto k = suite::parse_provenance_kind(*m.kind);
    if (!k || *k == suite::ProvenanceKind::incident)
      return invalid("{}: metadata \"provenance\": '{}' is not one of spec, red-team, "
                     "exploratory, imported",
                     draft.where, *m.kind);
    return suite::Provenance{*k, {}, m.note.value_or("")};
  }
  return suite::Provenance{
      suite::ProvenanceKind::imported, {}, fmt::format("{} {}", draft.format_label, draft.where)};
}

} // namespace

Result<std::vector<std::string>> add_case(Reading& reading, const ReadContext& ctx, CaseDraft draft,
                                          const json& metadata) {
  Metadata m;
  TRY(read_metadata(draft, metadata, m));
  suite::Case& c = draft.c;
  c.id = unique_id(reading, draft);
  c.provenance = TRY(provenance_of(reading, ctx, draft, m));
  if (auto s = suite::validate_case(c); !s)
    return with_context(s.error(), fmt::format("{}: case {}", draft.where, c.id));
  c.content_hash = suite::content_hash(c);
  reading.batch.cases.push_back({std::move(c), draft.where});
  return std::move(m.unused);
}

void set_input(suite::Case& c, std::vector<suite::Message> messages) {
  if (messages.size() == 1 && messages[0].role == "user") {
    c.prompt = std::move(messages[0].content);
  } else if (messages.size() == 2 && messages[0].role == "system" && messages[1].role == "user") {
    c.system = std::move(messages[0].content);
    c.prompt = std::move(messages[1].content);
  } else {
    c.messages = std::move(messages);
  }
}

std::optional<std::vector<suite::Message>> as_messages(const json& j) {
  if (!j.is_array() || j.empty())
    return std::nullopt;
  std::vector<suite::Message> out;
  for (const auto& m : j) {
    if (!m.is_object() || m.size() != 2 || !m.contains("role") || !m.contains("content") ||
        !m["role"].is_string() || !m["content"].is_string())
      return std::nullopt;
    out.push_back(
        {.role = m["role"].get<std::string>(), .content = m["content"].get<std::string>()});
  }
  return out;
}

std::string slug(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) && u < 0x80)
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() >= 60)
      break;
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out;
}

std::string quote_regex(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20)
      out += fmt::format("\\x{{{:02x}}}", u);
    else if (u < 0x80 && !std::isalnum(u) && c != '_' && c != ' ')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

Result<std::string> read_referenced(const fs::path& file, const std::string& referred_at) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    return invalid("{}: '{}' is a folder, not a file: name the files in it, or a glob of them "
                   "(file://FOLDER/*.yaml)",
                   referred_at, file.string());
  if (!fs::is_regular_file(file, ec))
    return invalid("{}: cannot read '{}': no such file", referred_at, file.string());
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in)
    return invalid("{}: cannot read '{}'", referred_at, file.string());
  return buf.str();
}

Result<std::vector<fs::path>> expand_reference(std::string_view reference, const fs::path& base,
                                               const std::string& referred_at) {
  if (reference.starts_with("file://"))
    reference.remove_prefix(7);
  fs::path p(reference);
  if (p.is_relative())
    p = base / p;
  p = p.lexically_normal();
  if (std::string(reference).find_first_of("*?[") == std::string::npos)
    return std::vector<fs::path>{p};
  glob_t g{};
  int rc = ::glob(p.c_str(), 0, nullptr, &g);
  std::vector<fs::path> files;
  for (std::size_t i = 0; rc == 0 && i < g.gl_pathc; ++i)
    files.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (files.empty())
    return invalid("{}: no file matches '{}'", referred_at, p.string());
  return files;
}

} // namespace evalkeep::interop
