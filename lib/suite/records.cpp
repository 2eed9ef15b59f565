#include "suite/records.hpp"

#include "core/ids.hpp"
#include "core/json_text.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "scoring/schema.hpp"

#include <algorithm>

namespace evalkeep::suite {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

// Reads the fields of one JSON object, naming the field in every error, and refuses fields that
// are not listed.
class Fields {
public:
  Fields(const json& j, std::initializer_list<std::string_view> allowed) : m_j(j) {
    for (const auto& [key, _] : j.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end() && !m_unknown)
        m_unknown = key;
  }
  Status unknown() const {
    if (m_unknown)
      return invalid_field(*m_unknown, "unknown field");
    return {};
  }
  const json* find(const char* key) const {
    auto it = m_j.find(key);
    return it == m_j.end() ? nullptr : &*it;
  }
  Result<std::optional<std::string>> opt_string(const char* key) const {
    const json* v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_string())
      return invalid_field(key, "must be a string");
    return v->get<std::string>();
  }
  Result<std::string> string(const char* key) const {
    auto v = TRY(opt_string(key));
    if (!v || v->empty())
      return invalid_field(key, "required");
    return *v;
  }
  Result<std::vector<std::string>> strings(const char* key) const {
    std::vector<std::string> out;
    const json* v = find(key);
    if (!v)
      return out;
    if (!v->is_array())
      return invalid_field(key, "must be an array of strings");
    for (const auto& e : *v) {
      if (!e.is_string())
        return invalid_field(key, "must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

private:
  const json& m_j;
  std::optional<std::string> m_unknown;
};

template <typename J> void put_opt(J& j, const char* key, const std::optional<std::string>& v) {
  if (v)
    j[key] = *v;
}

// A message as records and the messages column hold it: tool_calls and tool_call_id only when
// set, so a conversation without tools hashes as it always has.
template <typename J> J message_record(const Message& m) {
  J mj;
  mj["role"] = m.role;
  mj["content"] = m.content;
  if (!m.tool_calls.empty()) {
    J calls = J::array();
    for (const auto& call : m.tool_calls)
      calls.push_back(J(core::to_json(call)));
    mj["tool_calls"] = std::move(calls);
  }
  if (!m.tool_call_id.empty())
    mj["tool_call_id"] = m.tool_call_id;
  return mj;
}

template <typename J> J build_case(const Case& c, bool with_type) {
  J j;
  if (with_type)
    j["type"] = "case";
  j["id"] = c.id;
  put_opt(j, "title", c.title);
  put_opt(j, "prompt", c.prompt);
  put_opt(j, "system", c.system);
  if (!c.messages.empty()) {
    J msgs = J::array();
    for (const auto& m : c.messages)
      msgs.push_back(message_record<J>(m));
    j["messages"] = std::move(msgs);
  }
  if (!c.tools.is_null())
    j["tools"] = c.tools;
  if (!c.tool_choice.is_null())
    j["tool_choice"] = c.tool_choice;
  if (!c.evidence.is_null())
    j["evidence"] = c.evidence;
  if (!c.purged) {
    J expect = J::array();
    for (const auto& a : c.expect)
      expect.push_back(J(scoring::to_json(a)));
    j["expect"] = std::move(expect);
  }
  if (c.provenance.kind == ProvenanceKind::incident) {
    j["incident"] = c.provenance.incident;
  } else {
    J p;
    p["kind"] = to_string(c.provenance.kind);
    p["note"] = c.provenance.note;
    j["provenance"] = std::move(p);
  }
  if (!c.tags.empty())
    j["tags"] = c.tags;
  if (c.status != CaseStatus::active)
    j["status"] = to_string(c.status);
  if (c.min_pass_rate)
    j["min_pass_rate"] = *c.min_pass_rate;
  if (c.trials)
    j["trials"] = *c.trials;
  if (c.purged)
    j["content_hash"] = core::to_hex(c.content_hash);
  return j;
}

} // namespace

ojson incident_record(const Incident& i) {
  ojson j;
  j["type"] = "incident";
  j["id"] = i.id;
  j["title"] = i.title;
  put_opt(j, "date", i.date);
  put_opt(j, "severity", i.severity);
  put_opt(j, "url", i.url);
  put_opt(j, "summary", i.summary);
  return j;
}

json message_json(const Message& m) {
  return message_record<json>(m);
}

ojson case_record(const Case& c) {
  return build_case<ojson>(c, true);
}

std::string case_record_text(const Case& c) {
  if (uses_tools(c))
    return case_record(c).dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out = R"({"type":"case","id":)";
  core::append_json_string(out, c.id);
  auto field = [&](std::string_view key, const std::string& value) {
    out += ",\"";
    out += key;
    out += "\":";
    core::append_json_string(out, value);
  };
  auto opt_field = [&](std::string_view key, const std::optional<std::string>& value) {
    if (value)
      field(key, *value);
  };
  opt_field("title", c.title);
  opt_field("prompt", c.prompt);
  opt_field("system", c.system);
  if (!c.messages.empty()) {
    out += R"(,"messages":[)";
    for (std::size_t i = 0; i < c.messages.size(); ++i) {
      out += i ? R"(,{"role":)" : R"({"role":)";
      core::append_json_string(out, c.messages[i].role);
      out += R"(,"content":)";
      core::append_json_string(out, c.messages[i].content);
      out += '}';
    }
    out += ']';
  }
  if (!c.purged) {
    out += R"(,"expect":[)";
    for (std::size_t i = 0; i < c.expect.size(); ++i) {
      if (i)
        out += ',';
      out += scoring::to_json(c.expect[i]).dump();
    }
    out += ']';
  }
  if (c.provenance.kind == ProvenanceKind::incident) {
    field("incident", c.provenance.incident);
  } else {
    out += R"(,"provenance":{"kind":)";
    core::append_json_string(out, to_string(c.provenance.kind));
    out += R"(,"note":)";
    core::append_json_string(out, c.provenance.note);
    out += '}';
  }
  if (!c.tags.empty()) {
    out += R"(,"tags":[)";
    for (std::size_t i = 0; i < c.tags.size(); ++i) {
      if (i)
        out += ',';
      core::append_json_string(out, c.tags[i]);
    }
    out += ']';
  }
  if (c.status != CaseStatus::active)
    field("status", std::string(to_string(c.status)));
  if (c.min_pass_rate)
    out += R"(,"min_pass_rate":)" + json(*c.min_pass_rate).dump();
  if (c.trials)
    out += R"(,"trials":)" + std::to_string(*c.trials);
  if (c.purged)
    field("content_hash", core::to_hex(c.content_hash));
  out += '}';
  return out;
}

ojson retirement_record(const RetirementDecision& d) {
  ojson j;
  j["type"] = "retirement";
  j["case"] = d.case_id;
  j["reason"] = to_string(d.reason);
  j["rationale"] = d.rationale;
  j["decided_by"] = d.decided_by;
  put_opt(j, "approved_by", d.approved_by);
  j["decided_at"] = d.decided_at;
  put_opt(j, "git_head", d.git_head);
  if (!d.incidents.empty())
    j["incidents"] = d.incidents;
  if (!d.superseded_by.empty())
    j["superseded_by"] = d.superseded_by;
  put_opt(j, "revisit", d.revisit);
  return j;
}

void drop_content(Case& c) {
  c.purged = true;
  c.title.reset();
  c.prompt.reset();
  c.system.reset();
  c.messages.clear();
  c.tools = nullptr;
  c.tool_choice = nullptr;
  c.evidence = nullptr;
  c.expect.clear();
}

core::Digest content_hash(const Case& c) {
  if (c.purged)
    return c.content_hash;
  // Text that is not UTF-8 (a suite edited outside evalkeep) hashes with the bad bytes replaced:
  // it cannot match the ledger's hash, so verify reports it instead of failing on it.
  return core::sha256(
      build_case<json>(c, false).dump(-1, ' ', false, json::error_handler_t::replace));
}

Status text_field(std::string_view field, std::string_view value) {
  if (!core::is_utf8(value))
    return invalid_field(field, "not valid UTF-8 text");
  return {};
}

namespace {

// Every text field of a record must be UTF-8: the ledger, the dump and the exports are JSON.
Status text_fields(std::initializer_list<std::pair<std::string_view, const std::string*>> fields) {
  for (const auto& [name, value] : fields)
    if (value)
      TRY(text_field(name, *value));
  return {};
}

const std::string* opt(const std::optional<std::string>& v) {
  return v ? &*v : nullptr;
}

} // namespace

Status validate_incident(const Incident& i) {
  if (auto s = text_fields({{"id", &i.id},
                            {"title", &i.title},
                            {"date", opt(i.date)},
                            {"severity", opt(i.severity)},
                            {"url", opt(i.url)},
                            {"summary", opt(i.summary)}});
      !s)
    return s;
  if (!core::is_valid_id(i.id))
    return invalid_field("id",
                         "'{}' is not a valid incident id (letters, digits, '.', '_', "
                         "'-'; e.g. INC-142)",
                         i.id);
  if (i.title.empty())
    return invalid_field("title", "required");
  if (i.date && !core::is_date(*i.date))
    return invalid_field("date", "'{}' is not a date (YYYY-MM-DD)", *i.date);
  if (i.severity) {
    static constexpr std::string_view k_severities[] = {"critical", "high", "medium", "low"};
    if (std::find(std::begin(k_severities), std::end(k_severities), *i.severity) ==
        std::end(k_severities))
      return invalid_field("severity", "'{}' is not one of critical, high, medium, low",
                           *i.severity);
  }
  return {};
}

std::size_t input_bytes(const Case& c) {
  std::size_t n = (c.prompt ? c.prompt->size() : 0) + (c.system ? c.system->size() : 0);
  for (const auto& m : c.messages) {
    n += m.content.size();
    for (const auto& call : m.tool_calls)
      n += call.name.size() + call.arguments.size();
  }
  if (!c.tools.is_null())
    n += c.tools.dump().size();
  return n;
}

bool uses_tools(const Case& c) {
  if (!c.tools.is_null() || !c.tool_choice.is_null() || !c.evidence.is_null())
    return true;
  for (const auto& m : c.messages)
    if (!m.tool_calls.empty() || !m.tool_call_id.empty())
      return true;
  return false;
}

namespace {

// The roles, and the tool calls and results of a conversation: every call of an assistant
// message is answered by the tool messages right after it, each once, and calls only the
// case's tools. The conversation ends with the user, or with tool results for the model to go
// on from.
Status validate_conversation(const Case& c) {
  auto names = core::tool_names(c.tools);
  std::vector<std::string> open; // calls of the last assistant message not yet answered
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    const auto& m = c.messages[i];
    auto where = fmt::format("messages[{}]", i);
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool")
      return invalid_field(where + ".role", "'{}' is not system, user, assistant or tool", m.role);
    if (!m.tool_calls.empty() && m.role != "assistant")
      return invalid_field(where + ".tool_calls", "only an assistant message calls tools");
    if (m.role == "tool") {
      auto it = std::find(open.begin(), open.end(), m.tool_call_id);
      if (m.tool_call_id.empty() || it == open.end())
        return invalid_field(where + ".tool_call_id",
                             "'{}' is not a call of the assistant message before it that is "
                             "still unanswered",
                             m.tool_call_id);
      open.erase(it);
      continue;
    }
    if (!m.tool_call_id.empty())
      return invalid_field(where + ".tool_call_id", "only a tool message answers a call");
    if (!open.empty())
      return invalid_field(where,
                           "tool call '{}' has no result: tool messages answer every call "
                           "before the conversation goes on",
                           open.front());
    for (std::size_t k = 0; k < m.tool_calls.size(); ++k) {
      const auto& call = m.tool_calls[k];
      auto call_where = fmt::format("{}.tool_calls[{}]", where, k);
      if (call.id.empty())
        return invalid_field(call_where + ".id", "required: the tool message names it");
      if (std::find(open.begin(), open.end(), call.id) != open.end())
        return invalid_field(call_where + ".id", "'{}' is used twice", call.id);
      if (std::find(names.begin(), names.end(), call.name) == names.end())
        return invalid_field(call_where + ".name", "'{}' is not one of the case's tools",
                             call.name);
      open.push_back(call.id);
    }
  }
  if (!open.empty())
    return invalid_field("messages", "tool call '{}' has no result", open.front());
  if (!c.messages.empty() && c.messages.back().role != "user" && c.messages.back().role != "tool")
    return invalid_field("messages", "the last message must be from the user or a tool result");
  return {};
}

} // namespace

Status validate_case(Case& c) {
  if (auto s = text_fields({{"id", &c.id},
                            {"title", opt(c.title)},
                            {"prompt", opt(c.prompt)},
                            {"system", opt(c.system)},
                            {"provenance.note", &c.provenance.note},
                            {"incident", &c.provenance.incident}});
      !s)
    return s;
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    TRY(text_field(fmt::format("messages[{}].content", i), c.messages[i].content));
    TRY(text_field(fmt::format("messages[{}].tool_call_id", i), c.messages[i].tool_call_id));
    for (const auto& call : c.messages[i].tool_calls)
      TRY(text_field(fmt::format("messages[{}].tool_calls", i), call.id + call.arguments));
  }
  for (const auto& t : c.tags)
    TRY(text_field("tags", t));
  if (!core::is_valid_id(c.id))
    return invalid_field("id",
                         "'{}' is not a valid case id (letters, digits, '.', '_', '-'; "
                         "at most 128)",
                         c.id);
  if (c.purged) {
    if (c.status != CaseStatus::removed)
      return invalid_field("content_hash", "only a removed case without input carries one");
  } else {
    if (c.prompt && !c.messages.empty())
      return invalid_field("messages", "give either prompt or messages, not both");
    if (!c.prompt && c.messages.empty())
      return invalid_field("prompt", "a case needs a prompt or messages");
    if (c.prompt && c.prompt->empty())
      return invalid_field("prompt", "must not be empty");
    if (c.system && !c.prompt)
      return invalid_field("system", "goes with prompt; put a system message in messages");
    TRY(validate_conversation(c));
    if (!c.tool_choice.is_null() && c.tools.is_null())
      return invalid_field("tool_choice", "goes with tools");
    if (c.expect.empty())
      return invalid_field("expect", "a case needs at least one assertion");
    if (auto n = input_bytes(c); n > k_max_input_bytes)
      return invalid_field(c.prompt ? "prompt" : "messages",
                           "the case's input is {}, more than the {} a case may hold", megabytes(n),
                           megabytes(k_max_input_bytes));
  }
  for (const auto& t : c.tags)
    if (!core::is_valid_id(t))
      return invalid_field("tags", "'{}' is not a valid tag (letters, digits, '.', '_', '-')", t);
  std::sort(c.tags.begin(), c.tags.end());
  c.tags.erase(std::unique(c.tags.begin(), c.tags.end()), c.tags.end());
  if (c.provenance.kind == ProvenanceKind::incident) {
    if (c.provenance.incident.empty())
      return invalid_field("incident", "required for incident provenance");
  } else if (c.provenance.note.empty()) {
    return invalid_field("provenance.note", "a {} case needs a note saying where it came from",
                         to_string(c.provenance.kind));
  }
  if (c.min_pass_rate && !(*c.min_pass_rate > 0 && *c.min_pass_rate <= 1))
    return invalid_field("min_pass_rate", "must be in (0, 1], got {}", *c.min_pass_rate);
  if (c.trials && (*c.trials < 1 || *c.trials > 1000))
    return invalid_field("trials", "must be between 1 and 1000, got {}", *c.trials);
  return {};
}

Result<Incident> parse_incident(const json& j) {
  Fields f(j, {"type", "id", "title", "date", "severity", "url", "summary"});
  TRY(f.unknown());
  Incident i;
  auto id = TRY(f.string("id"));
  i.id = id;
  auto title = TRY(f.string("title"));
  i.title = title;
  for (auto [key, field] : {std::pair{"date", &i.date}, std::pair{"severity", &i.severity},
                            std::pair{"url", &i.url}, std::pair{"summary", &i.summary}}) {
    auto v = TRY(f.opt_string(key));
    *field = v;
  }
  TRY(validate_incident(i));
  return i;
}

namespace {} // namespace

Result<std::vector<Message>> parse_messages(const json& msgs) {
  if (!msgs.is_array())
    return invalid_field("messages", "must be an array of {{\"role\",\"content\"}} objects");
  std::vector<Message> out;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    auto where = fmt::format("messages[{}]", i);
    if (!m.is_object())
      return invalid_field(where, "must be an object");
    Fields mf(m, {"role", "content", "tool_calls", "tool_call_id"});
    if (auto s = mf.unknown(); !s)
      return with_context(s.error(), where);
    Message msg;
    auto role = mf.string("role");
    if (!role)
      return with_context(role.error(), where);
    msg.role = *role;
    if (const json* calls = mf.find("tool_calls")) {
      if (!calls->is_array())
        return invalid_field(where + ".tool_calls", "must be an array of tool calls");
      for (std::size_t k = 0; k < calls->size(); ++k) {
        auto call_where = fmt::format("{}.tool_calls[{}]", where, k);
        auto call = TRY(core::tool_call_from_json((*calls)[k], call_where));
        auto args = json::parse(call.arguments, nullptr, false);
        if (!args.is_object())
          return invalid_field(call_where + ".arguments", "must be a JSON object");
        call.arguments = args.dump(-1, ' ', false, json::error_handler_t::replace);
        msg.tool_calls.push_back(std::move(call));
      }
    }
    if (auto id = mf.opt_string("tool_call_id"); !id)
      return with_context(id.error(), where);
    else
      msg.tool_call_id = id->value_or("");
    // An assistant message that only calls tools has no text (OpenAI writes null); a tool's
    // result may be empty. Every other message says something.
    const json* content = mf.find("content");
    bool may_be_empty = !msg.tool_calls.empty() || msg.role == "tool";
    if (content && content->is_null() && may_be_empty) {
    } else if (auto text = mf.opt_string("content"); !text) {
      return with_context(text.error(), where);
    } else if (text->value_or("").empty() && !may_be_empty) {
      return with_context(invalid_field("content", "required").error(), where);
    } else {
      msg.content = text->value_or("");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

namespace {} // namespace

Result<json> parse_evidence(const json& e) {
  if (!e.is_object())
    return invalid_field("evidence",
                         "must be an object {{\"source\",\"id\",\"answer\",\"tool_calls\"}}");
  Fields f(e, {"source", "id", "answer", "tool_calls"});
  if (auto s = f.unknown(); !s)
    return with_context(s.error(), "evidence");
  json out = json::object();
  for (const char* key : {"source", "id", "answer"}) {
    auto v = f.opt_string(key);
    if (!v)
      return with_context(v.error(), "evidence");
    if (*v) {
      TRY(text_field(fmt::format("evidence.{}", key), **v));
      out[key] = **v;
    }
  }
  if (const json* calls = f.find("tool_calls")) {
    if (!calls->is_array())
      return invalid_field("evidence.tool_calls", "must be an array of tool calls");
    json list = json::array();
    for (std::size_t k = 0; k < calls->size(); ++k)
      list.push_back(core::to_json(
          TRY(core::tool_call_from_json((*calls)[k], fmt::format("evidence.tool_calls[{}]", k)))));
    out["tool_calls"] = std::move(list);
  }
  return out;
}

Result<json> parse_tools(const json& tools) {
  auto out = TRY(core::normalize_tools(tools));
  for (std::size_t i = 0; i < out.size(); ++i)
    if (const auto& fn = out[i]["function"]; fn.contains("parameters"))
      if (auto s = scoring::check_schema(fn["parameters"]); !s)
        return invalid_field(fmt::format("tools[{}].function.parameters", i), "{}",
                             s.error().message);
  return out;
}

namespace {

Result<std::vector<scoring::Assertion>> parse_expect(const json& expect) {
  if (!expect.is_array())
    return invalid("field \"expect\": must be an array of assertions");
  std::vector<scoring::Assertion> out;
  for (std::size_t i = 0; i < expect.size(); ++i) {
    auto a = scoring::from_json(expect[i]);
    if (!a) {
      Error e = a.error();
      e.message = fmt::format("field \"expect[{}]\": {}", i, e.message);
      return std::unexpected(std::move(e));
    }
    out.push_back(std::move(*a));
  }
  return out;
}

// "incident": "INC-7", or "provenance": {"kind", "note"}: exactly one of them.
Result<Provenance> parse_provenance(const Fields& f) {
  auto incident = TRY(f.opt_string("incident"));
  const json* prov = f.find("provenance");
  if (incident && prov)
    return invalid_field("provenance", "give either incident or provenance, not both");
  if (incident)
    return Provenance{ProvenanceKind::incident, *incident, {}};
  if (!prov)
    return with_hint(
        invalid_field("incident", "a case needs an incident or a provenance"),
        "add \"incident\":\"INC-…\" or \"provenance\":{\"kind\":\"spec\",\"note\":\"…\"}");
  if (!prov->is_object())
    return invalid_field("provenance", "must be {{\"kind\":\"spec\",\"note\":\"...\"}}");
  Fields pf(*prov, {"kind", "note"});
  if (auto s = pf.unknown(); !s)
    return with_context(s.error(), "provenance");
  auto kind = pf.string("kind");
  if (!kind)
    return with_context(kind.error(), "provenance");
  auto k = parse_provenance_kind(*kind);
  if (!k || *k == ProvenanceKind::incident)
    return invalid_field("provenance.kind",
                         "'{}' is not one of spec, red-team, "
                         "exploratory, imported (use \"incident\" for incidents)",
                         *kind);
  auto note = pf.opt_string("note");
  if (!note)
    return with_context(note.error(), "provenance");
  return Provenance{*k, {}, note->value_or("")};
}

// status, min_pass_rate and trials.
Status parse_run_settings(const Fields& f, Case& c) {
  if (auto status = TRY(f.opt_string("status"))) {
    auto s = parse_status(*status);
    if (!s)
      return invalid_field("status", "'{}' is not one of active, xfail, retired, removed", *status);
    c.status = *s;
  }
  if (const json* r = f.find("min_pass_rate")) {
    if (!r->is_number())
      return invalid_field("min_pass_rate", "must be a number");
    c.min_pass_rate = r->get<double>();
  }
  if (const json* t = f.find("trials")) {
    if (!t->is_number_integer())
      return invalid_field("trials", "must be a whole number");
    auto v = t->get<std::int64_t>();
    c.trials = static_cast<int>(std::clamp<std::int64_t>(v, -1, 1000000));
  }
  return {};
}

// A purged tombstone carries the hash of what it was, and nothing of its input or assertions.
Status parse_tombstone(const Fields& f, Case& c) {
  auto hash = TRY(f.opt_string("content_hash"));
  if (!hash)
    return {};
  if (!core::from_hex(*hash, c.content_hash))
    return invalid_field("content_hash", "must be 64 lowercase hex digits");
  if (c.prompt || !c.messages.empty() || !c.expect.empty() || c.title || c.system ||
      !c.tools.is_null() || !c.tool_choice.is_null() || !c.evidence.is_null())
    return invalid_field("content_hash", "only a purged tombstone carries one");
  c.purged = true;
  return {};
}

} // namespace

Status check_limits(const Case& c) {
  if (c.expect.size() > k_max_assertions)
    return invalid("field \"expect\": {} assertions, more than the {} a case may hold",
                   c.expect.size(), k_max_assertions);
  return {};
}

Result<Case> parse_case(const json& j) {
  Fields f(j, {"type", "id", "title", "prompt", "system", "messages", "tools", "tool_choice",
               "evidence", "expect", "incident", "provenance", "tags", "status", "min_pass_rate",
               "trials", "content_hash"});
  TRY(f.unknown());
  Case c;
  c.id = TRY(f.string("id"));
  for (auto [key, field] : {std::pair{"title", &c.title}, std::pair{"prompt", &c.prompt},
                            std::pair{"system", &c.system}})
    *field = TRY(f.opt_string(key));
  if (const json* msgs = f.find("messages"))
    c.messages = TRY(parse_messages(*msgs));
  if (const json* tools = f.find("tools"))
    c.tools = TRY(parse_tools(*tools));
  if (const json* choice = f.find("tool_choice"))
    c.tool_choice = TRY(core::normalize_tool_choice(*choice, c.tools));
  if (const json* evidence = f.find("evidence"))
    c.evidence = TRY(parse_evidence(*evidence));
  if (const json* expect = f.find("expect"))
    c.expect = TRY(parse_expect(*expect));
  c.provenance = TRY(parse_provenance(f));
  c.tags = TRY(f.strings("tags"));
  TRY(parse_run_settings(f, c));
  TRY(parse_tombstone(f, c));
  TRY(validate_case(c));
  c.content_hash = content_hash(c);
  return c;
}

Result<RetirementDecision> parse_retirement(const json& j) {
  Fields f(j, {"type", "case", "reason", "rationale", "decided_by", "approved_by", "decided_at",
               "git_head", "incidents", "superseded_by", "revisit"});
  TRY(f.unknown());
  RetirementDecision d;
  auto id = TRY(f.string("case"));
  d.case_id = id;
  auto reason = TRY(f.string("reason"));
  auto r = parse_reason(reason);
  if (!r)
    return invalid_field("reason", "'{}' is not one of {}", reason, reason_names());
  d.reason = *r;
  for (auto [key, field] :
       {std::pair{"rationale", &d.rationale}, std::pair{"decided_by", &d.decided_by},
        std::pair{"decided_at", &d.decided_at}}) {
    auto v = TRY(f.string(key));
    *field = v;
  }
  if (!core::is_timestamp(d.decided_at))
    return invalid_field("decided_at", "'{}' is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                         d.decided_at);
  for (auto [key, field] : {std::pair{"approved_by", &d.approved_by},
                            std::pair{"git_head", &d.git_head}, std::pair{"revisit", &d.revisit}}) {
    auto v = TRY(f.opt_string(key));
    *field = v;
  }
  if (d.revisit && !core::is_date(*d.revisit))
    return invalid_field("revisit", "'{}' is not a date (YYYY-MM-DD)", *d.revisit);
  auto incidents = TRY(f.strings("incidents"));
  d.incidents = incidents;
  auto sup = TRY(f.strings("superseded_by"));
  d.superseded_by = sup;
  if (d.reason == RetirementReason::superseded && d.superseded_by.empty())
    return invalid_field("superseded_by", "required when the reason is superseded");
  return d;
}

std::string input_preview(const Case& c, std::size_t width) {
  std::string text;
  if (c.title)
    text = *c.title;
  else if (c.prompt)
    text = *c.prompt;
  else if (!c.messages.empty())
    text = c.messages.back().content;
  for (char& ch : text)
    if (ch == '\n' || ch == '\t' || ch == '\r')
      ch = ' ';
  if (text.size() > width)
    text = std::string(core::utf8_prefix(text, width > 1 ? width - 1 : 0)) + "…";
  return text;
}

} // namespace evalkeep::suite
