#include "providers/provider.hpp"

#include "core/json_text.hpp"
#include "providers/azure.hpp"
#include "providers/bedrock.hpp"
#include "providers/gemini.hpp"
#include "providers/tool_wire.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace evalkeep::providers {

using json = nlohmann::json;

namespace {

constexpr std::array<std::pair<Kind, std::string_view>, 7> k_kinds{
    {{Kind::openai, "openai"},
     {Kind::anthropic, "anthropic"},
     {Kind::exec, "exec"},
     {Kind::openai_responses, "openai-responses"},
     {Kind::azure, "azure"},
     {Kind::gemini, "gemini"},
     {Kind::bedrock, "bedrock"}}};

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

std::optional<std::int64_t> int_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    return std::nullopt;
  return it->get<std::int64_t>();
}

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The error object of either API: {"error": {"message", "type", "code"}}.
std::pair<std::string, std::string> error_of(const json& body) {
  if (!body.is_object() || !body.contains("error"))
    return {};
  const json& e = body["error"];
  if (e.is_string())
    return {e.get<std::string>(), ""};
  if (!e.is_object())
    return {};
  std::string type = string_field(e, "code");
  if (type.empty())
    type = string_field(e, "type");
  return {string_field(e, "message"), type};
}

ErrorClass class_of_status(long status, const std::string& error_type, const std::string& message) {
  if (status == 429)
    return error_type == "insufficient_quota" ? ErrorClass::quota : ErrorClass::rate_limited;
  // Anthropic reports an account out of credit as a 400 invalid_request_error, by its message.
  if (status == 400 && message.find("credit balance is too low") != std::string::npos)
    return ErrorClass::quota;
  if (status == 529)
    return ErrorClass::rate_limited;
  if (status == 401 || status == 403)
    return ErrorClass::auth;
  if (status == 408)
    return ErrorClass::timeout;
  if (status >= 500)
    return ErrorClass::server;
  return ErrorClass::bad_request;
}

} // namespace

std::string_view to_string(Kind k) {
  for (auto [v, n] : k_kinds)
    if (v == k)
      return n;
  return "?";
}

std::optional<Kind> parse_kind(std::string_view s) {
  for (auto [v, n] : k_kinds)
    if (n == s)
      return v;
  return std::nullopt;
}

std::string_view to_string(ErrorClass e) {
  switch (e) {
  case ErrorClass::none:
    return "none";
  case ErrorClass::connection:
    return "connection";
  case ErrorClass::timeout:
    return "timeout";
  case ErrorClass::rate_limited:
    return "rate-limited";
  case ErrorClass::quota:
    return "quota";
  case ErrorClass::auth:
    return "auth";
  case ErrorClass::bad_request:
    return "bad-request";
  case ErrorClass::server:
    return "server";
  case ErrorClass::bad_response:
    return "bad-response";
  case ErrorClass::exec_failed:
    return "exec-failed";
  }
  return "?";
}

bool is_local(const std::string& base_url) {
  for (std::string_view host : {"://127.", "://localhost", "://[::1]"})
    if (base_url.find(host) != std::string::npos)
      return true;
  return false;
}

namespace {

// Bedrock: the region (needed to sign), the regional endpoint, and the secret key's variable.
Status finish_bedrock(ProviderConfig& c) {
  if (c.region.empty())
    c.region = bedrock::region_from_environment();
  if (c.region.empty())
    return with_hint(invalid("provider {}: a bedrock provider needs a region", c.name),
                     "set region = \"us-east-1\" (or the one you use) in evalkeep.toml, or "
                     "export AWS_REGION");
  if (c.base_url.empty())
    c.base_url = bedrock::default_base_url(c.region);
  c.base_url = trim_slash(c.base_url);
  if (!c.base_url.starts_with("http://") && !c.base_url.starts_with("https://"))
    return invalid("provider {}: base_url '{}' must start with http:// or https://", c.name,
                   c.base_url);
  if (c.model.empty())
    return invalid("provider {}: model is required (a Bedrock model id such as "
                   "anthropic.claude-3-haiku-20240307-v1:0)",
                   c.name);
  if (c.api_key_env.empty())
    c.api_key_env = bedrock::k_secret_access_key_env;
  return {};
}

} // namespace

Status finish_config(ProviderConfig& c) {
  if (c.kind == Kind::exec) {
    if (c.command.empty())
      return invalid("provider {}: an exec provider needs a command", c.name);
    if (c.model.empty())
      c.model = c.command.front();
  } else if (c.kind == Kind::bedrock) {
    TRY(finish_bedrock(c));
  } else {
    if (c.kind == Kind::azure)
      TRY(azure::finish_config(c));
    // The Responses API lives next to Chat Completions: the same base URL, key and auth.
    bool anthropic = c.kind == Kind::anthropic;
    if (c.base_url.empty())
      c.base_url = anthropic                ? "https://api.anthropic.com"
                   : c.kind == Kind::gemini ? "https://generativelanguage.googleapis.com"
                                            : "https://api.openai.com/v1";
    c.base_url = trim_slash(c.base_url);
    if (!c.base_url.starts_with("http://") && !c.base_url.starts_with("https://"))
      return invalid("provider {}: base_url '{}' must start with http:// or https://", c.name,
                     c.base_url);
    if (c.model.empty())
      return invalid("provider {}: model is required", c.name);
    if (c.api_key_env.empty())
      c.api_key_env = anthropic                ? "ANTHROPIC_API_KEY"
                      : c.kind == Kind::gemini ? "GEMINI_API_KEY"
                                               : "OPENAI_API_KEY";
  }
  if (c.kind == Kind::anthropic && !c.max_tokens)
    c.max_tokens = 1024; // required by the Messages API
  if (c.max_concurrency < 1 || c.max_concurrency > 1024)
    return invalid("provider {}: max_concurrency must be between 1 and 1024", c.name);
  if (c.max_attempts < 1 || c.max_attempts > 20)
    return invalid("provider {}: max_attempts must be between 1 and 20", c.name);
  if (c.timeout_s <= 0 || c.connect_timeout_s <= 0)
    return invalid("provider {}: timeouts must be positive", c.name);
  return {};
}

std::vector<std::string> withheld_from_exec(const ProviderConfig& p, char** environment,
                                            const std::vector<std::string>& key_variables) {
  std::vector<std::string> out;
  for (char** e = environment; e && *e; ++e) {
    std::string_view entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool key = name.ends_with("_API_KEY") || name == "AWS_SECRET_ACCESS_KEY" ||
               name == "AWS_SESSION_TOKEN" ||
               std::find(key_variables.begin(), key_variables.end(), name) != key_variables.end();
    if (key && std::find(p.pass_env.begin(), p.pass_env.end(), name) == p.pass_env.end())
      out.emplace_back(name);
  }
  return out;
}

json answer_params(const ProviderConfig& c) {
  json p;
  p["kind"] = to_string(c.kind);
  p["model"] = c.model;
  if (c.kind == Kind::exec) {
    p["command"] = c.command;
    if (c.agent_output) // only when set: an exec provider's key stays what it was
      p["output"] = "agent";
  } else
    p["base_url"] = c.base_url;
  if (c.kind == Kind::azure) { // the deployment decides the model, whatever the body says
    p["deployment"] = c.deployment;
    p["api_version"] = c.api_version;
  }
  if (c.kind == Kind::bedrock) // the signing scope: a resumed run signs for the same region
    p["region"] = c.region;
  p["temperature"] = c.temperature ? json(*c.temperature) : json();
  p["max_tokens"] = c.max_tokens ? json(*c.max_tokens) : json();
  p["seed"] = c.seed ? json(*c.seed) : json();
  return p;
}

namespace {

void append_json(std::string& out, const json& j) {
  out += j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_message(std::string& out, const Message& m) {
  out += "{\"content\":";
  core::append_json_string(out, m.content);
  out += ",\"role\":";
  core::append_json_string(out, m.role);
  out += '}';
}

// Chat Completions: an assistant message with its calls (content null when it says nothing) or
// a tool message with the call it answers; any other message as it always was.
void append_chat_message(std::string& out, const Message& m) {
  bool calls = !m.tool_calls.empty();
  bool result = m.role == "tool";
  if (!calls && !result)
    return append_message(out, m);
  out += "{\"content\":";
  if (calls && m.content.empty())
    out += "null";
  else
    core::append_json_string(out, m.content);
  out += ",\"role\":";
  core::append_json_string(out, m.role);
  if (result) {
    out += ",\"tool_call_id\":";
    core::append_json_string(out, m.tool_call_id);
  }
  if (calls) {
    out += ",\"tool_calls\":";
    append_json(out, tool_wire::chat_tool_calls(m.tool_calls));
  }
  out += '}';
}

// Anthropic: the tool results from `at` on, merged into the one user message the API requires
// after an assistant turn with tool_use blocks. Returns the index past them.
std::size_t append_tool_results(std::string& out, const std::vector<Message>& messages,
                                std::size_t at) {
  json blocks = json::array();
  for (; at < messages.size() && messages[at].role == "tool"; ++at) {
    json block{{"type", "tool_result"}, {"tool_use_id", messages[at].tool_call_id}};
    if (!messages[at].content.empty()) // content is optional; an empty text block is refused
      block["content"] = messages[at].content;
    blocks.push_back(std::move(block));
  }
  out += "{\"content\":";
  append_json(out, blocks);
  out += ",\"role\":\"user\"}";
  return at;
}

// Anthropic: an assistant's text and tool_use blocks.
void append_tool_use(std::string& out, const Message& m) {
  json blocks = json::array();
  if (!m.content.empty())
    blocks.push_back({{"type", "text"}, {"text", m.content}});
  for (const auto& call : m.tool_calls)
    blocks.push_back(tool_wire::anthropic_tool_use(call));
  append_json(out, {{"role", m.role}, {"content", std::move(blocks)}});
}

// The messages of a Chat Completions or Anthropic body; Anthropic's system prompt goes to
// `system`, apart from the conversation.
void append_messages(std::string& out, Kind kind, const std::vector<Message>& messages,
                     std::string& system) {
  bool first = true;
  for (std::size_t i = 0; i < messages.size();) {
    const Message& m = messages[i];
    if (kind == Kind::anthropic && m.role == "system") {
      system += (system.empty() ? "" : "\n\n") + m.content;
      ++i;
      continue;
    }
    if (!first)
      out += ',';
    first = false;
    if (kind != Kind::anthropic) {
      append_chat_message(out, m);
      ++i;
    } else if (m.role == "tool") {
      i = append_tool_results(out, messages, i);
    } else {
      if (m.tool_calls.empty())
        append_message(out, m);
      else
        append_tool_use(out, m);
      ++i;
    }
  }
}

// The Responses API: the system prompt as `instructions`, the conversation as `input` items
// (messages, function_call items after the assistant message that made them, function_call_output
// items), max_output_tokens, and store false: an eval's answer is read once, never continued.
std::string responses_body(const ProviderConfig& c, const ChatInput& input) {
  json body{{"model", c.model}, {"store", false}};
  json items = json::array();
  std::string instructions;
  for (const auto& m : input.messages) {
    if (m.role == "system") {
      instructions += (instructions.empty() ? "" : "\n\n") + m.content;
    } else if (m.role == "tool") {
      items.push_back(
          {{"type", "function_call_output"}, {"call_id", m.tool_call_id}, {"output", m.content}});
    } else {
      if (m.tool_calls.empty() || !m.content.empty())
        items.push_back({{"role", m.role}, {"content", m.content}});
      for (const auto& call : m.tool_calls)
        items.push_back(tool_wire::responses_function_call(call));
    }
  }
  body["input"] = std::move(items);
  if (!instructions.empty())
    body["instructions"] = instructions;
  if (c.max_tokens)
    body["max_output_tokens"] = *c.max_tokens;
  if (c.temperature)
    body["temperature"] = *c.temperature;
  if (!input.tools.is_null())
    body["tools"] = tool_wire::responses_tools(input.tools);
  if (!input.tool_choice.is_null())
    body["tool_choice"] = tool_wire::responses_tool_choice(input.tool_choice);
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string request_body(const ProviderConfig& c, const ChatInput& input) {
  if (c.kind == Kind::openai_responses)
    return responses_body(c, input);
  if (c.kind == Kind::gemini)
    return gemini::request_body(c, input);
  if (c.kind == Kind::bedrock)
    return bedrock::request_body(c, input);
  // The keys in nlohmann::json's (sorted) order: max_tokens, messages, model, seed (OpenAI),
  // system (Anthropic), temperature, tool_choice, tools.
  bool anthropic = c.kind == Kind::anthropic;
  std::string out = "{";
  if (c.max_tokens)
    out += fmt::format("\"max_tokens\":{},", *c.max_tokens);
  out += "\"messages\":[";
  std::string system;
  append_messages(out, c.kind, input.messages, system);
  out += "],\"model\":";
  core::append_json_string(out, c.model);
  if (!anthropic && c.seed)
    out += fmt::format(",\"seed\":{}", *c.seed);
  if (!system.empty()) {
    out += ",\"system\":";
    core::append_json_string(out, system);
  }
  if (c.temperature)
    out += ",\"temperature\":" + json(*c.temperature).dump();
  if (!input.tool_choice.is_null()) {
    out += ",\"tool_choice\":";
    append_json(out, anthropic ? tool_wire::anthropic_tool_choice(input.tool_choice)
                               : input.tool_choice);
  }
  if (!input.tools.is_null()) {
    out += ",\"tools\":";
    append_json(out, anthropic ? tool_wire::anthropic_tools(input.tools) : input.tools);
  }
  out += '}';
  return out;
}

HttpRequest build_request(const ProviderConfig& c, std::string body, const std::string& api_key,
                          const std::string& idempotency_key) {
  HttpRequest r;
  if (c.kind == Kind::bedrock) {
    r.url = bedrock::url(c); // signed by bedrock::sign, with credentials of its own
  } else if (c.kind == Kind::anthropic) {
    r.url = c.base_url + "/v1/messages";
    if (!api_key.empty())
      r.headers.push_back("x-api-key: " + api_key);
    r.headers.push_back("anthropic-version: " + c.anthropic_version);
  } else if (c.kind == Kind::azure) {
    r.url = azure::url(c);
    if (!api_key.empty())
      r.headers.push_back((c.entra_id ? "Authorization: Bearer " : "api-key: ") + api_key);
  } else if (c.kind == Kind::gemini) {
    r.url = gemini::url(c);
    if (!api_key.empty())
      r.headers.push_back("x-goog-api-key: " + api_key);
  } else {
    r.url = c.base_url + (c.kind == Kind::openai_responses ? "/responses" : "/chat/completions");
    if (!api_key.empty())
      r.headers.push_back("Authorization: Bearer " + api_key);
  }
  r.headers.push_back("Content-Type: application/json");
  if (c.idempotency_header)
    r.headers.push_back("Idempotency-Key: " + idempotency_key);
  for (const auto& [name, value] : c.headers)
    r.headers.push_back(name + ": " + value);
  r.body = std::move(body);
  return r;
}

namespace {

// Each reader fills `r` from a 2xx body that is a JSON object without an error object, and
// returns why it is not an answer: an empty string when it is one.

// OpenAI's usage: input tokens count the cached ones, given in `details`.cached_tokens.
void read_usage(const json& j, const char* in, const char* out, const char* details, Reply& r) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object())
    return;
  r.tokens_in = int_field(*u, in);
  r.tokens_out = int_field(*u, out);
  if (auto d = u->find(details); d != u->end() && d->is_object())
    r.tokens_cached = int_field(*d, "cached_tokens");
}

// Anthropic's usage: input_tokens leaves out what was read from the cache and written to it,
// which are billed too; tokens_in counts them all, as OpenAI's does.
void read_anthropic_usage(const json& j, Reply& r) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object())
    return;
  r.tokens_out = int_field(*u, "output_tokens");
  r.tokens_cached = int_field(*u, "cache_read_input_tokens");
  r.tokens_cache_write = int_field(*u, "cache_creation_input_tokens");
  if (auto in = int_field(*u, "input_tokens"))
    r.tokens_in = *in + r.tokens_cached.value_or(0) + r.tokens_cache_write.value_or(0);
}

// Chat Completions: choices[0].message's content (null beside tool_calls) and tool_calls.
std::string read_chat(const json& j, Reply& r) {
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
    return "the response has no choices";
  const json& first = (*choices)[0];
  bool filtered = string_field(first, "finish_reason") == "content_filter";
  auto msg = first.find("message");
  if (msg == first.end() || !msg->is_object()) {
    if (!filtered)
      return "the first choice has no message content";
    r.finish_reason = "content_filter";
    read_usage(j, "prompt_tokens", "completion_tokens", "prompt_tokens_details", r);
    return {};
  }
  if (auto calls = msg->find("tool_calls"); calls != msg->end() && calls->is_array())
    for (const auto& c : *calls) {
      auto call = tool_wire::from_chat(c);
      if (!call)
        return "a tool call of the first choice has no function name";
      r.tool_calls.push_back(std::move(*call));
    }
  auto content = msg->find("content");
  bool has_text = content != msg->end() && content->is_string();
  if (!has_text && r.tool_calls.empty() && !filtered)
    return "the first choice has no message content";
  if (has_text)
    r.text = content->get<std::string>();
  r.fingerprint = string_field(j, "system_fingerprint");
  // Azure's filter cuts an answer short (or empties it) with finish_reason content_filter: it is
  // still the answer, scored as it is, with the reason kept.
  if (filtered)
    r.finish_reason = "content_filter";
  read_usage(j, "prompt_tokens", "completion_tokens", "prompt_tokens_details", r);
  return {};
}

// Anthropic Messages: text blocks joined, tool_use blocks as calls.
std::string read_messages(const json& j, Reply& r) {
  auto content = j.find("content");
  bool any = false;
  if (content != j.end() && content->is_array())
    for (const auto& block : *content) {
      if (!block.is_object())
        continue;
      auto type = string_field(block, "type");
      if (type == "text" && block.contains("text") && block["text"].is_string()) {
        r.text += block["text"].get<std::string>();
        any = true;
      } else if (type == "tool_use") {
        auto call = tool_wire::from_tool_use(block);
        if (!call)
          return "a tool_use block has no name";
        r.tool_calls.push_back(std::move(*call));
      }
    }
  if (!any && r.tool_calls.empty())
    return "the response has no text content";
  read_anthropic_usage(j, r);
  return {};
}

// The Responses API: output_text parts of message items joined, function_call items as calls.
std::string read_responses(const json& j, Reply& r) {
  auto output = j.find("output");
  bool any = false;
  if (output != j.end() && output->is_array())
    for (const auto& item : *output) {
      if (!item.is_object())
        continue;
      auto type = string_field(item, "type");
      if (type == "function_call") {
        auto call = tool_wire::from_function_call(item);
        if (!call)
          return "a function_call item has no name";
        r.tool_calls.push_back(std::move(*call));
      }
      auto content = item.find("content");
      if (type != "message" || content == item.end() || !content->is_array())
        continue;
      for (const auto& part : *content)
        if (part.is_object() && string_field(part, "type") == "output_text" &&
            part.contains("text") && part["text"].is_string()) {
          r.text += part["text"].get<std::string>();
          any = true;
        }
    }
  if (!any && r.tool_calls.empty()) {
    // An incomplete or failed response says why in its status and incomplete_details.
    std::string why = "the response has no output text or function call";
    auto status = string_field(j, "status");
    auto details = j.find("incomplete_details");
    auto reason = details != j.end() && details->is_object() ? string_field(*details, "reason")
                                                             : std::string();
    if (!status.empty() && status != "completed")
      why += fmt::format(" (status {}{}{})", status, reason.empty() ? "" : ": ", reason);
    return why;
  }
  read_usage(j, "input_tokens", "output_tokens", "input_tokens_details", r);
  return {};
}

} // namespace

Reply parse_response(Kind kind, long http_status, const std::string& body) {
  if (kind == Kind::gemini)
    return gemini::parse_response(http_status, body);
  if (kind == Kind::bedrock)
    return bedrock::parse_response(http_status, body, "");
  Reply r;
  json j = json::parse(body, nullptr, false);
  if (http_status < 200 || http_status >= 300) {
    auto [message, type] = j.is_discarded() ? std::pair<std::string, std::string>{} : error_of(j);
    r.error = class_of_status(http_status, type, message);
    if (kind == Kind::azure && !j.is_discarded())
      message = azure::error_message(j, message);
    r.error_message = fmt::format("HTTP {}{}{}", http_status, message.empty() ? "" : ": ",
                                  message.substr(0, 300));
    return r;
  }
  if (j.is_discarded() || !j.is_object()) {
    r.error = ErrorClass::bad_response;
    r.error_message = fmt::format("HTTP {} with a body that is not JSON", http_status);
    return r;
  }
  if (auto [message, type] = error_of(j); !message.empty() || !type.empty()) {
    r.error = ErrorClass::bad_response;
    r.error_message = fmt::format("HTTP {} carrying an error: {}", http_status, message);
    return r;
  }
  r.served_model = string_field(j, "model");
  std::string problem = kind == Kind::anthropic          ? read_messages(j, r)
                        : kind == Kind::openai_responses ? read_responses(j, r)
                                                         : read_chat(j, r);
  if (!problem.empty()) {
    r.error = ErrorClass::bad_response;
    r.error_message = std::move(problem);
    r.text.clear();
    r.tool_calls.clear();
  }
  return r;
}

std::optional<double> cost_of(const ProviderConfig& c, const Reply& r) {
  if (!c.input_price_per_mtok || !c.output_price_per_mtok || !r.tokens_in || !r.tokens_out)
    return std::nullopt;
  auto cached = static_cast<double>(r.tokens_cached.value_or(0));
  auto written = static_cast<double>(r.tokens_cache_write.value_or(0));
  double fresh = std::max(0.0, static_cast<double>(*r.tokens_in) - cached - written);
  return (fresh * *c.input_price_per_mtok +
          cached * c.cached_input_price_per_mtok.value_or(*c.input_price_per_mtok) +
          written * c.cache_write_price_per_mtok.value_or(*c.input_price_per_mtok) +
          static_cast<double>(*r.tokens_out) * *c.output_price_per_mtok) /
         1e6;
}

namespace {

std::string base64(std::string_view in, bool url) {
  const char* abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i + 2 < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                 static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6)
      out += abc[(v >> shift) & 63];
  }
  return out; // whole groups only: the tail depends on what follows
}

// The ways a secret can be written in text a server sends back: as it is, percent-encoded (upper
// and lower case), in hex, and in base64 (standard and URL-safe) at each of the three alignments
// it can have inside a longer encoded text (the characters that depend on the secret alone), and
// as an encoded Authorization header. Longest first.
std::vector<std::string> secret_forms(std::string_view secret) {
  std::vector<std::string> forms{std::string(secret)};
  if (secret.size() >= 8) {
    std::string upper, lower, hex, hex_upper;
    for (unsigned char c : secret) {
      upper += fmt::format("%{:02X}", c);
      lower += fmt::format("%{:02x}", c);
      hex += fmt::format("{:02x}", c);
      hex_upper += fmt::format("{:02X}", c);
    }
    forms.insert(forms.end(), {upper, lower, hex, hex_upper});
    for (bool url : {false, true}) {
      for (std::size_t pad = 0; pad < 3; ++pad) {
        // With `pad` bytes before it, the secret's own groups start at the next group.
        auto b = base64(std::string(pad, '\0') + std::string(secret), url);
        std::size_t skip = pad == 0 ? 0 : 4;
        if (b.size() > skip + 4)
          forms.push_back(b.substr(skip));
      }
      forms.push_back(base64("Bearer " + std::string(secret), url));
    }
  }
  std::sort(forms.begin(), forms.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
  return forms;
}

} // namespace

void redact(std::string& text, std::string_view secret) {
  if (secret.empty())
    return;
  for (const auto& form : secret_forms(secret))
    for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at)) {
      text.replace(at, form.size(), "[redacted]");
      at += std::string_view("[redacted]").size();
    }
}

void redact(Reply& reply, std::string_view secret) {
  for (auto* text : {&reply.text, &reply.error_message, &reply.served_model, &reply.fingerprint,
                     &reply.finish_reason})
    redact(*text, secret);
  for (auto& call : reply.tool_calls)
    for (auto* text : {&call.id, &call.name, &call.arguments})
      redact(*text, secret);
}

} // namespace evalkeep::providers
