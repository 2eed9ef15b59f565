#include "interop/capture.hpp"

#include "core/text.hpp"
#include "interop/reading.hpp"
#include "suite/records.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace evalkeep::interop {

using json = nlohmann::json;

namespace {

constexpr std::string_view k_expected =
    "expected an OpenAI request/response pair {\"request\": {...}, \"response\": {...}} or an "
    "OTLP JSON trace {\"resourceSpans\": [...]}";
constexpr std::string_view k_openai = "OpenAI chat completion";
constexpr std::string_view k_otel = "OpenTelemetry GenAI span";

// One JSON document of the file: the whole file (line 0) or one line of a JSONL file.
struct Document {
  json j;
  std::size_t line = 0;
};

// An exchange found in a document, read only once it is the one selected.
struct Candidate {
  std::size_t line = 0;
  const json* pair = nullptr; // {"request","response"}
  const json* span = nullptr; // an OTLP span
  std::vector<std::string> ids;
  std::string label() const { return ids.empty() ? std::string("(no id)") : ids.front(); }
};

// What every format reads an exchange into before the suite's own parsers check it.
struct Exchange {
  json messages = json::array(); // the form suite::parse_messages reads
  json tools;                    // null for none
  json tool_choice;              // null for none
  std::string answer;
  std::vector<core::ToolCall> calls;
  std::string id;
};

std::string place(const std::string& source, std::size_t line) {
  return line ? fmt::format("{}:{}", source, line) : source;
}

std::unexpected<Error> at(const std::string& where, Error e) {
  e.message = fmt::format("{}: {}", where, e.message);
  return std::unexpected(std::move(e));
}

// What a document that is neither format holds, for the refusal.
std::string describe(const json& j) {
  if (!j.is_object())
    return fmt::format("a JSON {}", j.type_name());
  std::vector<std::string> keys;
  for (const auto& [k, _] : j.items())
    keys.push_back(k);
  if (keys.size() > 6)
    keys.resize(6), keys.push_back("...");
  return keys.empty() ? "an empty object" : fmt::format("an object with {}", fmt::join(keys, ", "));
}

Result<std::vector<Document>> read_documents(std::string_view text, const std::string& source) {
  auto whole = json::parse(text, nullptr, false);
  if (!whole.is_discarded())
    return std::vector<Document>{{std::move(whole), 0}};
  std::vector<Document> docs;
  std::size_t line = 0, start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto row = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (core::blank(row))
      continue;
    auto j = json::parse(row, nullptr, false);
    if (j.is_discarded())
      return with_hint(invalid("{}: not an OpenAI request/response pair or an OTLP JSON trace: "
                               "not JSON",
                               place(source, line)),
                       std::string(k_expected) + ", one a line in a JSONL file");
    docs.push_back({std::move(j), line});
  }
  if (docs.empty())
    return with_hint(invalid("{}: empty", source), std::string(k_expected));
  return docs;
}

} // namespace

// ---- OTLP JSON ------------------------------------------------------------------------------

namespace {

// An OTLP AnyValue ({"stringValue": ...}, {"intValue": "42"}, {"arrayValue": {"values": []}},
// {"kvlistValue": {"values": [{"key","value"}]}}, ...) as plain JSON.
json any_value(const json& v) {
  if (!v.is_object())
    return v;
  if (auto s = v.find("stringValue"); s != v.end())
    return *s;
  if (auto b = v.find("boolValue"); b != v.end())
    return *b;
  if (auto d = v.find("doubleValue"); d != v.end())
    return *d;
  if (auto i = v.find("intValue"); i != v.end()) // int64 is a string in OTLP JSON
    return i->is_string() ? json(std::strtoll(i->get<std::string>().c_str(), nullptr, 10)) : *i;
  if (auto a = v.find("arrayValue"); a != v.end()) {
    json out = json::array();
    if (a->is_object() && a->contains("values") && (*a)["values"].is_array())
      for (const auto& e : (*a)["values"])
        out.push_back(any_value(e));
    return out;
  }
  if (auto kv = v.find("kvlistValue"); kv != v.end()) {
    json out = json::object();
    if (kv->is_object() && kv->contains("values") && (*kv)["values"].is_array())
      for (const auto& e : (*kv)["values"])
        if (e.is_object() && e.contains("key") && e["key"].is_string())
          out[e["key"].get<std::string>()] = any_value(e.value("value", json()));
    return out;
  }
  if (auto bytes = v.find("bytesValue"); bytes != v.end())
    return *bytes;
  return nullptr;
}

// A span's or an event's attributes ([{"key","value"}]) as one object.
json attributes_of(const json& owner) {
  json out = json::object();
  auto list = owner.find("attributes");
  if (list == owner.end() || !list->is_array())
    return out;
  for (const auto& a : *list)
    if (a.is_object() && a.contains("key") && a["key"].is_string())
      out[a["key"].get<std::string>()] = any_value(a.value("value", json()));
  return out;
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool has_prefix(const json& attrs, std::string_view prefix) {
  return std::any_of(attrs.items().begin(), attrs.items().end(),
                     [&](const auto& kv) { return kv.key().starts_with(prefix); });
}

bool is_content_event(const std::string& name) {
  return name == "gen_ai.system.message" || name == "gen_ai.user.message" ||
         name == "gen_ai.assistant.message" || name == "gen_ai.tool.message" ||
         name == "gen_ai.choice" || name == "gen_ai.content.prompt";
}

// A span that records a model call with its content: an inference operation (chat,
// text_completion, generate_content, or none named) with input messages in any of the forms.
bool is_genai_span(const json& span) {
  auto attrs = attributes_of(span);
  auto op = string_at(attrs, "gen_ai.operation.name");
  if (!op.empty() && op != "chat" && op != "text_completion" && op != "generate_content")
    return false;
  if (attrs.contains("gen_ai.input.messages") || attrs.contains("gen_ai.prompt") ||
      has_prefix(attrs, "gen_ai.prompt."))
    return true;
  if (auto events = span.find("events"); events != span.end() && events->is_array())
    for (const auto& e : *events)
      if (e.is_object() && is_content_event(string_at(e, "name")))
        return true;
  return false;
}

const json* array_at(const json& j, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (auto it = j.find(key); it != j.end() && it->is_array())
      return &*it;
  return nullptr;
}

Status collect_spans(const Document& d, const std::string& source, std::vector<Candidate>& out) {
  const json* resources = array_at(d.j, {"resourceSpans"});
  if (!resources)
    return invalid("{}: field \"resourceSpans\": must be an array", place(source, d.line));
  static const json k_none = json::array(); // an lvalue: the candidates point into the document
  for (const auto& rs : *resources) {
    const json* scopes =
        rs.is_object() ? array_at(rs, {"scopeSpans", "instrumentationLibrarySpans"}) : nullptr;
    for (const auto& ss : scopes ? *scopes : k_none) {
      const json* spans = ss.is_object() ? array_at(ss, {"spans"}) : nullptr;
      for (const auto& span : spans ? *spans : k_none) {
        if (!span.is_object() || !is_genai_span(span))
          continue;
        Candidate c{.line = d.line, .span = &span, .ids = {}};
        auto trace = string_at(span, "traceId"), span_id = string_at(span, "spanId");
        c.ids = {trace + "/" + span_id, trace, span_id};
        if (auto rid = string_at(attributes_of(span), "gen_ai.response.id"); !rid.empty())
          c.ids.push_back(rid);
        out.push_back(std::move(c));
      }
    }
  }
  return {};
}

} // namespace

// ---- Finding and selecting the exchange -----------------------------------------------------

namespace {

Status collect(const Document& d, const std::string& source, std::vector<Candidate>& out) {
  if (d.j.is_object() && d.j.contains("request") && d.j.contains("response")) {
    Candidate c{.line = d.line, .pair = &d.j, .span = nullptr, .ids = {}};
    const json& response = d.j["response"];
    if (response.is_object())
      if (auto id = string_at(response, "id"); !id.empty())
        c.ids.push_back(id);
    for (const char* key : {"id", "request_id", "trace_id"})
      if (auto id = string_at(d.j, key); !id.empty())
        c.ids.push_back(id);
    out.push_back(std::move(c));
    return {};
  }
  if (d.j.is_object() && d.j.contains("resourceSpans"))
    return collect_spans(d, source, out);
  return with_hint(invalid("{}: not an OpenAI request/response pair or an OTLP JSON trace: {}",
                           place(source, d.line), describe(d.j)),
                   std::string(k_expected));
}

std::string listing(const std::vector<const Candidate*>& found) {
  std::string out;
  for (std::size_t i = 0; i < found.size() && i < 5; ++i)
    out += fmt::format("{}line {}: {}", i ? ", " : "", std::max<std::size_t>(found[i]->line, 1),
                       found[i]->label());
  if (found.size() > 5)
    out += fmt::format(", and {} more", found.size() - 5);
  return out;
}

Result<const Candidate*> select(const std::vector<Candidate>& all, const std::string& source,
                                const CaptureSelector& sel) {
  if (all.empty())
    return with_hint(invalid("{}: no span with GenAI content (gen_ai.input.messages, "
                             "gen_ai.*.message events or gen_ai.prompt)",
                             source),
                     "capture reads a chat span (gen_ai.operation.name \"chat\")");
  std::vector<const Candidate*> found;
  for (const auto& c : all) {
    if (sel.line && std::max<std::size_t>(c.line, 1) != *sel.line)
      continue;
    if (sel.id_match && std::find(c.ids.begin(), c.ids.end(), *sel.id_match) == c.ids.end())
      continue;
    found.push_back(&c);
  }
  std::vector<const Candidate*> every;
  for (const auto& c : all)
    every.push_back(&c);
  if (found.empty())
    return with_hint(invalid("{}: no exchange{}{}", source,
                             sel.line ? fmt::format(" at line {}", *sel.line) : "",
                             sel.id_match ? fmt::format(" with id {}", *sel.id_match) : ""),
                     "the file holds " + listing(every));
  if (found.size() > 1)
    return with_hint(invalid("{} holds {} exchanges{}: pick one with --line N or --id-match ID",
                             source, found.size(), sel.line || sel.id_match ? " that match" : ""),
                     listing(found));
  return found.front();
}

} // namespace

// ---- Messages in OpenAI's form --------------------------------------------------------------

namespace {

// A content that is text, or an array of text parts ([{"type":"text","text"}], or OTel's
// {"type":"text","content"}), as one text; null stays null.
Result<json> text_content(const json& content, const std::string& where) {
  if (content.is_string() || content.is_null())
    return content;
  if (!content.is_array())
    return invalid_field(where, "must be text or an array of text parts");
  std::string text;
  for (std::size_t k = 0; k < content.size(); ++k) {
    const json& part = content[k];
    auto type = part.is_object() ? string_at(part, "type") : std::string();
    auto value = part.is_object() ? part.value("text", part.value("content", json())) : json();
    if (type != "text" || !value.is_string())
      return invalid_field(fmt::format("{}[{}]", where, k),
                           "a '{}' part cannot be captured: only text parts", type);
    text += (text.empty() ? "" : "\n") + value.get<std::string>();
  }
  return text;
}

// A logged message reduced to what a case holds: role (developer read as system), content,
// tool_calls and tool_call_id; the rest (name, refusal, annotations, ...) is not input.
Result<json> case_message(const json& m, const std::string& where) {
  if (!m.is_object())
    return invalid_field(where, "must be an object");
  json out = json::object();
  auto role = m.find("role");
  if (role != m.end())
    out["role"] = *role == "developer" ? json("system") : *role;
  if (auto content = m.find("content"); content != m.end())
    out["content"] = TRY(text_content(*content, where + ".content"));
  if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
    json list = json::array();
    for (const auto& call : calls->is_array() ? *calls : json::array()) {
      json c = call;
      // The older OTel events logged the arguments as an object; the case keeps their text.
      if (c.is_object() && c.contains("function") && c["function"].is_object() &&
          c["function"].contains("arguments") && c["function"]["arguments"].is_object())
        c["function"]["arguments"] = c["function"]["arguments"].dump();
      list.push_back(std::move(c));
    }
    out["tool_calls"] = calls->is_array() ? list : *calls;
  }
  if (auto id = m.find("tool_call_id"); id != m.end())
    out["tool_call_id"] = *id;
  return out;
}

Result<json> case_messages(const json& msgs, const std::string& where) {
  if (!msgs.is_array())
    return invalid_field(where, "must be an array of messages");
  json out = json::array();
  for (std::size_t i = 0; i < msgs.size(); ++i)
    out.push_back(TRY(case_message(msgs[i], fmt::format("{}[{}]", where, i))));
  return out;
}

// The answer of a message in OpenAI's form: its text and its calls.
Status read_answer(const json& message, const std::string& where, Exchange& x) {
  if (!message.is_object())
    return invalid_field(where, "must be an object");
  if (auto content = message.find("content"); content != message.end()) {
    auto text = TRY(text_content(*content, where + ".content"));
    x.answer = text.is_string() ? text.get<std::string>() : "";
  }
  if (x.answer.empty())
    x.answer = string_at(message, "refusal");
  if (auto calls = message.find("tool_calls"); calls != message.end() && !calls->is_null()) {
    if (!calls->is_array())
      return invalid_field(where + ".tool_calls", "must be an array of tool calls");
    for (std::size_t k = 0; k < calls->size(); ++k)
      x.calls.push_back(
          TRY(core::tool_call_from_json((*calls)[k], fmt::format("{}.tool_calls[{}]", where, k))));
  }
  return {};
}

Result<Exchange> read_pair(const json& pair) {
  const json& request = pair["request"];
  const json& response = pair["response"];
  if (!request.is_object())
    return invalid_field("request", "must be the request body, an object");
  if (!response.is_object())
    return invalid_field("response", "must be the response body, an object");
  Exchange x;
  if (!request.contains("messages"))
    return invalid_field("request.messages", "required");
  x.messages = TRY(case_messages(request["messages"], "request.messages"));
  if (auto tools = request.find("tools");
      tools != request.end() && !tools->is_null() && !(tools->is_array() && tools->empty()))
    x.tools = *tools;
  if (auto choice = request.find("tool_choice"); choice != request.end() && !choice->is_null())
    x.tool_choice = *choice;
  auto choices = response.find("choices");
  if (choices == response.end() || !choices->is_array() || choices->empty())
    return invalid_field("response.choices", "must hold the logged answer (choices[0].message)");
  const json& choice = (*choices)[0];
  if (!choice.is_object() || !choice.contains("message"))
    return invalid_field("response.choices[0].message", "required");
  TRY(read_answer(choice["message"], "response.choices[0].message", x));
  x.id = string_at(response, "id");
  for (const char* key : {"id", "request_id", "trace_id"})
    if (x.id.empty())
      x.id = string_at(pair, key);
  return x;
}

} // namespace

// ---- OTel GenAI: the current attributes ------------------------------------------------------

namespace {

// An attribute that holds JSON: recorded as its text (usual on spans) or structured.
Result<json> json_attribute(const json& attrs, const std::string& key) {
  auto it = attrs.find(key);
  if (it == attrs.end() || it->is_null())
    return json();
  if (!it->is_string())
    return *it;
  auto j = json::parse(it->get<std::string>(), nullptr, false);
  if (j.is_discarded())
    return invalid_field(key, "not JSON");
  return j;
}

// One part of a GenAI message: text, tool_call or tool_call_response; reasoning is skipped.
Status read_part(const json& part, const std::string& where, std::string& text, json& calls,
                 json& results) {
  auto type = part.is_object() ? string_at(part, "type") : std::string();
  if (type == "text") {
    auto content = part.value("content", json());
    if (!content.is_string())
      return invalid_field(where + ".content", "must be text");
    text += (text.empty() ? "" : "\n") + content.get<std::string>();
  } else if (type == "tool_call") {
    json call{{"id", part.value("id", json(""))}, {"name", part.value("name", json())}};
    if (auto args = part.find("arguments"); args != part.end() && !args->is_null())
      call["arguments"] = *args;
    calls.push_back(std::move(call));
  } else if (type == "tool_call_response") {
    auto response = part.value("response", json());
    results.push_back({{"role", "tool"},
                       {"tool_call_id", part.value("id", json(""))},
                       {"content", response.is_string() ? response : json(response.dump())}});
  } else if (type != "reasoning") {
    return invalid_field(where + ".type",
                         "a '{}' part cannot be captured: only text, tool_call and "
                         "tool_call_response parts",
                         type);
  }
  return {};
}

// gen_ai.input.messages ([{"role","parts":[...]}]) as case messages: a tool_call_response part
// becomes a tool message of its own.
Result<json> genai_messages(const json& msgs, const std::string& where) {
  if (!msgs.is_array())
    return invalid_field(where, "must be an array of messages");
  json out = json::array();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    auto at_i = fmt::format("{}[{}]", where, i);
    const json& m = msgs[i];
    if (!m.is_object() || !m.contains("parts") || !m["parts"].is_array())
      return invalid_field(at_i + ".parts", "required: an array of parts");
    std::string text;
    json calls = json::array(), results = json::array();
    for (std::size_t k = 0; k < m["parts"].size(); ++k)
      TRY(read_part(m["parts"][k], fmt::format("{}.parts[{}]", at_i, k), text, calls, results));
    auto role = m.value("role", json());
    if (role != "tool" || !text.empty() || !calls.empty()) {
      json msg{{"role", role}, {"content", text}};
      if (!calls.empty())
        msg["tool_calls"] = std::move(calls);
      out.push_back(std::move(msg));
    }
    for (auto& r : results)
      out.push_back(std::move(r));
  }
  return out;
}

Status read_genai_output(const json& output, Exchange& x) {
  if (!output.is_array() || output.empty())
    return invalid_field("gen_ai.output.messages", "must hold the logged answer");
  auto msgs = TRY(genai_messages(json::array({output[0]}), "gen_ai.output.messages"));
  const json& answer = msgs[0];
  x.answer = answer.value("content", "");
  if (answer.contains("tool_calls"))
    for (std::size_t k = 0; k < answer["tool_calls"].size(); ++k)
      x.calls.push_back(TRY(core::tool_call_from_json(
          answer["tool_calls"][k], fmt::format("gen_ai.output.messages[0].parts[{}]", k))));
  return {};
}

Status read_genai_attributes(const json& attrs, Exchange& x) {
  auto input = TRY(json_attribute(attrs, "gen_ai.input.messages"));
  x.messages = TRY(genai_messages(input, "gen_ai.input.messages"));
  auto system = TRY(json_attribute(attrs, "gen_ai.system_instructions"));
  if (!system.is_null()) {
    auto text = TRY(text_content(system, "gen_ai.system_instructions"));
    x.messages.insert(x.messages.begin(), json{{"role", "system"}, {"content", text}});
  }
  auto output = TRY(json_attribute(attrs, "gen_ai.output.messages"));
  if (!output.is_null())
    TRY(read_genai_output(output, x));
  return {};
}

} // namespace

// ---- OTel GenAI: the older events and the legacy prompt attributes ---------------------------

namespace {

// An event's content: its body (a log record's), else the JSON text of gen_ai.event.content,
// else its attributes.
json event_body(const json& event) {
  json body = event.contains("body") ? any_value(event["body"]) : json();
  if (body.is_null()) {
    auto attrs = attributes_of(event);
    auto text = string_at(attrs, "gen_ai.event.content");
    body = text.empty() ? attrs : json::parse(text, nullptr, false);
  }
  if (body.is_string()) {
    auto parsed = json::parse(body.get<std::string>(), nullptr, false);
    body = parsed.is_object() ? parsed : json{{"content", body}};
  }
  return body.is_object() ? body : json::object();
}

// The gen_ai.*.message and gen_ai.choice events; false when the span has none.
Result<bool> read_events(const json& span, Exchange& x) {
  bool any = false, answered = false;
  const json* events = array_at(span, {"events"});
  for (std::size_t i = 0; events && i < events->size(); ++i) {
    const json& e = (*events)[i];
    auto name = e.is_object() ? string_at(e, "name") : std::string();
    auto where = fmt::format("events[{}] ({})", i, name);
    json body = e.is_object() ? event_body(e) : json::object();
    if (name == "gen_ai.choice" && !answered) {
      json message = body.value("message", json::object());
      TRY(read_answer(TRY(case_message(message, where + ".message")), where + ".message", x));
      answered = any = true;
    } else if (name.starts_with("gen_ai.") && name.ends_with(".message") &&
               is_content_event(name)) {
      json m = body;
      m["role"] = name.substr(7, name.size() - 7 - 8);
      if (m["role"] == "tool" && m.contains("id"))
        m["tool_call_id"] = m["id"];
      x.messages.push_back(TRY(case_message(m, where)));
      any = true;
    }
  }
  return any;
}

// Attributes flattened with indices ("gen_ai.prompt.0.role") back into JSON: objects whose keys
// are all numbers become arrays.
json unflatten(const json& attrs, const std::string& prefix) {
  json tree = json::object();
  for (const auto& [key, value] : attrs.items()) {
    if (!key.starts_with(prefix))
      continue;
    json* node = &tree;
    std::string rest = key.substr(prefix.size());
    for (std::size_t dot; (dot = rest.find('.')) != std::string::npos; rest.erase(0, dot + 1))
      node = &(*node)[rest.substr(0, dot)];
    (*node)[rest] = value;
  }
  std::function<json(const json&)> arrays = [&](const json& n) -> json {
    if (!n.is_object())
      return n;
    bool numbered = !n.empty();
    std::map<long, json> items;
    for (const auto& [k, v] : n.items()) {
      numbered = numbered && !k.empty() && k.find_first_not_of("0123456789") == std::string::npos;
      if (numbered)
        items[std::stol(k)] = arrays(v);
    }
    if (numbered) {
      json out = json::array();
      for (auto& [_, v] : items)
        out.push_back(std::move(v));
      return out;
    }
    json out = json::object();
    for (const auto& [k, v] : n.items())
      out[k] = arrays(v);
    return out;
  };
  return arrays(tree);
}

// gen_ai.prompt / gen_ai.completion: JSON text of [{"role","content"}] on the span or on its
// gen_ai.content.* events, or flattened attributes ("gen_ai.prompt.0.content").
Result<json> legacy_list(const json& span, const json& attrs, const std::string& key) {
  json value = TRY(json_attribute(attrs, key));
  if (const json* events = array_at(span, {"events"}); value.is_null() && events)
    for (const auto& e : *events)
      if (value.is_null() && e.is_object())
        value = TRY(json_attribute(attributes_of(e), key));
  if (value.is_null() && has_prefix(attrs, key + "."))
    value = unflatten(attrs, key + ".");
  if (value.is_string())
    value = json::array(
        {{{"role", key == "gen_ai.prompt" ? "user" : "assistant"}, {"content", value}}});
  return value;
}

Status read_legacy(const json& span, const json& attrs, Exchange& x) {
  auto prompt = TRY(legacy_list(span, attrs, "gen_ai.prompt"));
  x.messages = TRY(case_messages(prompt, "gen_ai.prompt"));
  auto completion = TRY(legacy_list(span, attrs, "gen_ai.completion"));
  if (completion.is_array() && !completion.empty())
    TRY(read_answer(completion[0], "gen_ai.completion[0]", x));
  if (has_prefix(attrs, "llm.request.functions.")) {
    x.tools = unflatten(attrs, "llm.request.functions.");
    for (auto& tool : x.tools)
      if (tool.is_object() && tool.contains("parameters") && tool["parameters"].is_string())
        tool["parameters"] = json::parse(tool["parameters"].get<std::string>(), nullptr, false);
  }
  return {};
}

Result<Exchange> read_span(const json& span) {
  Exchange x;
  auto attrs = attributes_of(span);
  if (attrs.contains("gen_ai.input.messages"))
    TRY(read_genai_attributes(attrs, x));
  else if (!TRY(read_events(span, x)))
    TRY(read_legacy(span, attrs, x));
  if (x.tools.is_null()) // the definitions, when logged, go with any form of the messages
    x.tools = TRY(json_attribute(attrs, "gen_ai.tool.definitions"));
  x.id = string_at(span, "traceId") + "/" + string_at(span, "spanId");
  return x;
}

} // namespace

// ---- The draft case ---------------------------------------------------------------------------

std::vector<Proposal> propose_assertions(const std::vector<core::ToolCall>& calls) {
  std::vector<std::pair<std::string, std::size_t>> counts; // in the order first called
  for (const auto& call : calls) {
    auto it = std::find_if(counts.begin(), counts.end(),
                           [&](const auto& c) { return c.first == call.name; });
    if (it == counts.end())
      counts.emplace_back(call.name, 1);
    else
      ++it->second;
  }
  std::vector<Proposal> out;
  auto propose = [&](const std::string& spec, std::string why) {
    if (auto a = scoring::parse_assertion(spec))
      out.push_back({std::move(*a), spec, std::move(why)});
  };
  std::string looped;
  for (const auto& [name, n] : counts) {
    // A tool called three times or more in one answer is a loop: the tool may be right, the
    // repetition is what went wrong, so it is bounded rather than forbidden.
    if (n >= 3)
      looped += fmt::format("{}{} {} times", looped.empty() ? "" : ", ", name, n);
    else
      propose("no-tool-call:" + name,
              fmt::format("the logged answer called {}{}; this fails a model that calls it again",
                          name, n > 1 ? " twice" : ""));
  }
  if (!looped.empty())
    propose(fmt::format("max-tool-calls:{}", counts.size()),
            fmt::format("the logged answer looped ({}, {} calls in all); this fails an answer of "
                        "more than {} call{}",
                        looped, calls.size(), counts.size(), counts.size() == 1 ? "" : "s"));
  return out;
}

namespace {

Result<json> evidence_of(const Exchange& x, const std::string& source) {
  json e{{"source", source}};
  if (!x.id.empty() && x.id != "/")
    e["id"] = x.id;
  e["answer"] = x.answer;
  if (!x.calls.empty()) {
    json calls = json::array();
    for (const auto& call : x.calls)
      calls.push_back(core::to_json(call));
    e["tool_calls"] = std::move(calls);
  }
  return suite::parse_evidence(e);
}

// The input checked by the suite's own parsers and rules, as add and import check it.
Result<suite::Case> draft_case(const Exchange& x, const std::string& source,
                               const std::vector<Proposal>& proposals) {
  suite::Case c;
  auto messages = TRY(suite::parse_messages(x.messages));
  if (!x.tools.is_null() && !(x.tools.is_array() && x.tools.empty()))
    c.tools = TRY(suite::parse_tools(x.tools));
  if (!x.tool_choice.is_null())
    c.tool_choice = TRY(core::normalize_tool_choice(x.tool_choice, c.tools));
  set_input(c, std::move(messages));
  c.evidence = TRY(evidence_of(x, source));
  // validate_case wants what the caller adds later: an id, a provenance and an assertion.
  suite::Case check = c;
  check.id = "captured";
  check.provenance = {suite::ProvenanceKind::imported, {}, "capture"};
  for (const auto& p : proposals)
    check.expect.push_back(p.assertion);
  if (check.expect.empty())
    check.expect.push_back(TRY(scoring::parse_assertion("is-json")));
  TRY(suite::validate_case(check));
  return c;
}

} // namespace

Result<Capture> read_capture(std::string_view text, const std::string& source,
                             const CaptureSelector& sel) {
  auto docs = TRY(read_documents(text, source));
  std::vector<Candidate> all;
  for (const auto& d : docs)
    TRY(collect(d, source, all));
  const Candidate* chosen = TRY(select(all, source, sel));
  Capture cap;
  cap.line = chosen->line;
  cap.format = chosen->pair ? k_openai : k_otel;
  std::string where = place(source, chosen->line);
  if (chosen->span)
    where += fmt::format(" (span {})", chosen->label());
  auto x = chosen->pair ? read_pair(*chosen->pair) : read_span(*chosen->span);
  if (!x)
    return at(where, std::move(x.error()));
  cap.proposals = propose_assertions(x->calls);
  auto draft = draft_case(*x, source, cap.proposals);
  if (!draft && x->tools.is_null() && draft.error().field.ends_with(".name"))
    draft.error().hint = "the log holds no tool definitions for the calls in its conversation "
                         "(request.tools, gen_ai.tool.definitions): a case needs them";
  if (!draft)
    return at(where, std::move(draft.error()));
  cap.draft = std::move(*draft);
  cap.exchange_id = cap.draft.evidence.value("id", "");
  return cap;
}

} // namespace evalkeep::interop
