#include "providers/bedrock.hpp"

#include "providers/curl_api.hpp"
#include "providers/tool_wire.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

namespace evalkeep::providers::bedrock {

using json = nlohmann::json;

namespace {

std::string env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  return v ? std::string(v) : std::string();
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

json text_block(const std::string& text) {
  return {{"text", text}};
}

// An assistant turn: its text (when it says something) and its calls as toolUse blocks.
json assistant_content(const Message& m) {
  json blocks = json::array();
  if (!m.content.empty() || m.tool_calls.empty())
    blocks.push_back(text_block(m.content));
  for (const auto& call : m.tool_calls) {
    json input = json::parse(call.arguments, nullptr, false);
    blocks.push_back({{"toolUse",
                       {{"toolUseId", call.id},
                        {"name", call.name},
                        {"input", input.is_object() ? input : json::object()}}}});
  }
  return blocks;
}

// Converse's toolSpec list from normalized (Chat Completions) definitions.
json tool_specs(const json& tools) {
  json specs = json::array();
  // Anthropic's shape carries name, description and input_schema: the fields a toolSpec has.
  for (const auto& t : tool_wire::anthropic_tools(tools)) {
    json spec{{"name", t.at("name")}, {"inputSchema", {{"json", t.at("input_schema")}}}};
    if (t.contains("description"))
      spec["description"] = t["description"];
    specs.push_back({{"toolSpec", std::move(spec)}});
  }
  return specs;
}

// Converse's toolChoice: {"auto":{}}, {"any":{}} or {"tool":{"name"}}; null for "none" and for
// no choice.
json tool_choice(const json& choice) {
  json anthropic = tool_wire::anthropic_tool_choice(choice);
  auto type = string_at(anthropic, "type");
  if (type == "auto" || type == "any")
    return {{type, json::object()}};
  if (type == "tool")
    return {{"tool", {{"name", string_at(anthropic, "name")}}}};
  return nullptr;
}

bool is_none(const json& choice) {
  return string_at(tool_wire::anthropic_tool_choice(choice), "type") == "none";
}

// The exception name of "ThrottlingException:http://internal.amazon.com/coral/..." or of a
// `__type` such as "com.amazon.coral.service#UnrecognizedClientException".
std::string_view exception_name(std::string_view type) {
  if (auto colon = type.find(':'); colon != std::string_view::npos)
    type = type.substr(0, colon);
  if (auto hash = type.rfind('#'); hash != std::string_view::npos)
    type = type.substr(hash + 1);
  while (!type.empty() && type.front() == ' ')
    type.remove_prefix(1);
  return type;
}

} // namespace

Result<Credentials> credentials_from_environment(const ProviderConfig& c) {
  Credentials out{env(k_access_key_id_env), env(k_secret_access_key_env), env(k_session_token_env)};
  for (auto [name, value] : {std::pair{k_access_key_id_env, &out.access_key_id},
                             std::pair{k_secret_access_key_env, &out.secret_access_key}})
    if (value->empty())
      return with_hint(fail(ExitCode::environment, "{} is not set (provider {})", name, c.name),
                       "export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (and "
                       "AWS_SESSION_TOKEN=... for temporary credentials); keys are read from the "
                       "environment only");
  return out;
}

std::string region_from_environment() {
  auto region = env("AWS_REGION");
  return region.empty() ? env("AWS_DEFAULT_REGION") : region;
}

std::string default_base_url(std::string_view region) {
  return fmt::format("https://bedrock-runtime.{}.amazonaws.com", region);
}

std::string request_body(const ProviderConfig& c, const ChatInput& input) {
  json messages = json::array();
  json system = json::array();
  bool tool_turns = false;
  for (std::size_t i = 0; i < input.messages.size();) {
    const Message& m = input.messages[i];
    if (m.role == "system") {
      system.push_back(text_block(m.content));
      ++i;
    } else if (m.role == "tool") {
      // Consecutive results answer one assistant turn: one user message holds them all.
      json blocks = json::array();
      for (; i < input.messages.size() && input.messages[i].role == "tool"; ++i)
        blocks.push_back({{"toolResult",
                           {{"toolUseId", input.messages[i].tool_call_id},
                            {"content", json::array({text_block(input.messages[i].content)})}}}});
      messages.push_back({{"role", "user"}, {"content", std::move(blocks)}});
      tool_turns = true;
    } else {
      tool_turns = tool_turns || !m.tool_calls.empty();
      messages.push_back({{"role", m.role},
                          {"content", m.tool_calls.empty() ? json::array({text_block(m.content)})
                                                           : assistant_content(m)}});
      ++i;
    }
  }
  json body{{"messages", std::move(messages)}};
  if (!system.empty())
    body["system"] = std::move(system);
  json config = json::object();
  if (c.max_tokens)
    config["maxTokens"] = *c.max_tokens;
  if (c.temperature)
    config["temperature"] = *c.temperature;
  if (!config.empty())
    body["inferenceConfig"] = std::move(config);
  bool none = !input.tool_choice.is_null() && is_none(input.tool_choice);
  if (!input.tools.is_null() && (!none || tool_turns)) {
    json tools{{"tools", tool_specs(input.tools)}};
    if (!input.tool_choice.is_null())
      if (auto choice = tool_choice(input.tool_choice); !choice.is_null())
        tools["toolChoice"] = std::move(choice);
    body["toolConfig"] = std::move(tools);
  }
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string url(const ProviderConfig& c) {
  // A ':' is allowed in a path as it is, and signed the same by every libcurl that encodes the
  // signed path; the rest (an ARN's '/') is encoded, so the id stays one segment.
  std::string id;
  for (unsigned char ch : c.model)
    id += unreserved(ch) || ch == ':' ? std::string(1, static_cast<char>(ch))
                                      : fmt::format("%{:02X}", ch);
  return fmt::format("{}/model/{}/converse", c.base_url, id);
}

Status check_signable(const ProviderConfig& c) {
  if (std::ranges::all_of(c.model, [](unsigned char ch) { return unreserved(ch); }))
    return {};
  auto api = TRY(curl_api());
  if (api->version_num >= k_path_encoding_libcurl)
    return {};
  return with_hint(fail(ExitCode::environment,
                        "provider {}: libcurl {} cannot sign the model id '{}' as AWS does: it "
                        "signs a ':' (or any character but letters, digits and \"-._~\") in the "
                        "path as it is, where AWS encodes it, so Bedrock would refuse every "
                        "request with an InvalidSignatureException",
                        c.name, api->version, c.model),
                   "libcurl 8.9 or newer signs it as AWS does; on Debian 12, install libcurl4 "
                   "from bookworm-backports (scripts/install-deps.sh does), or use a model id "
                   "without ':'");
}

void sign(HttpRequest& request, const ProviderConfig& c, const Credentials& credentials) {
  request.aws_sigv4 = fmt::format("aws:amz:{}:{}", c.region, k_service);
  request.userpwd = credentials.access_key_id + ":" + credentials.secret_access_key;
  if (!credentials.session_token.empty())
    request.headers.push_back("x-amz-security-token: " + credentials.session_token);
}

ErrorClass class_of_error(long http_status, std::string_view error_type) {
  auto name = exception_name(error_type);
  if (name == "ThrottlingException" || name == "ModelNotReadyException" ||
      name == "TooManyRequestsException")
    return ErrorClass::rate_limited;
  if (name == "ServiceQuotaExceededException")
    return ErrorClass::quota;
  if (name == "AccessDeniedException" || name == "UnrecognizedClientException" ||
      name == "ExpiredTokenException" || name == "InvalidSignatureException" ||
      name == "IncompleteSignatureException" || name == "MissingAuthenticationTokenException" ||
      name == "InvalidClientTokenId" || name == "SignatureDoesNotMatch")
    return ErrorClass::auth;
  if (name == "ValidationException" || name == "ResourceNotFoundException")
    return ErrorClass::bad_request;
  if (name == "ModelTimeoutException")
    return ErrorClass::timeout;
  if (name == "InternalServerException" || name == "ServiceUnavailableException" ||
      name == "ModelErrorException")
    return ErrorClass::server;
  if (http_status == 429)
    return ErrorClass::rate_limited;
  if (http_status == 401 || http_status == 403)
    return ErrorClass::auth;
  if (http_status == 408)
    return ErrorClass::timeout;
  if (http_status >= 500)
    return ErrorClass::server;
  return ErrorClass::bad_request;
}

Reply parse_response(long http_status, const std::string& body, std::string_view error_type) {
  Reply r;
  json j = json::parse(body, nullptr, false);
  bool object = !j.is_discarded() && j.is_object();
  std::string message = object ? string_at(j, "message") : std::string();
  if (message.empty() && object)
    message = string_at(j, "Message");
  if (http_status < 200 || http_status >= 300) {
    std::string type(error_type);
    if (type.empty() && object)
      type = string_at(j, "__type");
    auto name = exception_name(type);
    r.error = class_of_error(http_status, type);
    r.error_message = fmt::format("HTTP {}{}{}{}{}", http_status, name.empty() ? "" : " ", name,
                                  message.empty() ? "" : ": ", message.substr(0, 300));
    return r;
  }
  if (!object) {
    r.error = ErrorClass::bad_response;
    r.error_message = fmt::format("HTTP {} with a body that is not JSON", http_status);
    return r;
  }
  auto output = j.find("output");
  const json* msg = nullptr;
  if (output != j.end() && output->is_object())
    if (auto m = output->find("message"); m != output->end() && m->is_object())
      msg = &*m;
  if (!msg) {
    r.error = ErrorClass::bad_response;
    r.error_message = message.empty()
                          ? std::string("the response has no output message")
                          : fmt::format("HTTP {} carrying an error: {}", http_status, message);
    return r;
  }
  bool any_text = false;
  if (auto content = msg->find("content"); content != msg->end() && content->is_array())
    for (const auto& block : *content) {
      if (!block.is_object())
        continue;
      if (auto text = block.find("text"); text != block.end() && text->is_string()) {
        r.text += text->get<std::string>();
        any_text = true;
      } else if (auto use = block.find("toolUse"); use != block.end() && use->is_object()) {
        auto name = string_at(*use, "name");
        if (name.empty()) {
          r.error = ErrorClass::bad_response;
          r.error_message = "a toolUse block has no name";
          r.text.clear();
          r.tool_calls.clear();
          return r;
        }
        auto input = use->find("input");
        r.tool_calls.push_back({string_at(*use, "toolUseId"), std::move(name),
                                input == use->end() ? std::string("{}") : input->dump()});
      }
    }
  // A guardrail or content filter that stopped the answer has answered: what it says (often a
  // canned refusal, maybe nothing) is scored like any other answer.
  auto stop = string_at(j, "stopReason");
  bool filtered = stop == "guardrail_intervened" || stop == "content_filtered";
  if (!any_text && r.tool_calls.empty() && !filtered) {
    r.error = ErrorClass::bad_response;
    r.error_message = stop.empty() ? std::string("the response has no text content")
                                   : fmt::format("the response has no text content (stopReason "
                                                 "{})",
                                                 stop);
    return r;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    auto count = [&](const char* key) -> std::optional<std::int64_t> {
      auto v = u->find(key);
      return v != u->end() && v->is_number_integer() ? std::optional(v->get<std::int64_t>())
                                                     : std::nullopt;
    };
    r.tokens_out = count("outputTokens");
    // inputTokens leaves out what was read from the cache and written to it, billed too.
    r.tokens_cached = count("cacheReadInputTokens");
    r.tokens_cache_write = count("cacheWriteInputTokens");
    if (auto in = count("inputTokens"))
      r.tokens_in = *in + r.tokens_cached.value_or(0) + r.tokens_cache_write.value_or(0);
  }
  return r;
}

} // namespace evalkeep::providers::bedrock
