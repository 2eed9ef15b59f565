#include "service.hpp"

#include "cloud.hpp"
#include "converse.hpp"

#include <charconv>

#include <fmt/format.h>

namespace evalkeep::standin {

int status_of(FaultKind kind) {
  std::string_view name = to_string(kind);
  int status = 0;
  std::from_chars(name.data(), name.data() + name.size(), status);
  return status;
}

std::optional<Reply> wire_fault(const Fault& fault, std::string body) {
  Reply r;
  r.response.body = std::move(body);
  switch (fault.kind) {
  case FaultKind::reset:
    r.delivery = Delivery::reset;
    return r;
  case FaultKind::reset_mid_body:
    r.delivery = Delivery::reset_mid_body;
    return r;
  case FaultKind::reset_after_headers:
    r.delivery = Delivery::reset_after_headers;
    return r;
  case FaultKind::hang:
    r.delivery = Delivery::hang;
    return r;
  case FaultKind::truncated:
    r.delivery = Delivery::truncated;
    return r;
  case FaultKind::drip:
    r.delivery = Delivery::drip;
    r.drip_ms = fault.drip_ms;
    return r;
  case FaultKind::html: // a proxy's page in front of the API
    r.response.status = 502;
    r.response.content_type = "text/html";
    r.response.body = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                      "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare"
                      "</center>\r\n</body>\r\n</html>\r\n";
    return r;
  default:
    return std::nullopt;
  }
}
namespace {

using json = nlohmann::json;

// Header values in the stats are the client's bytes, not necessarily UTF-8: replace, not throw.
template <typename Json> Reply json_reply(int status, const Json& body) {
  Reply r;
  r.response.status = status;
  r.response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

Reply api_error(Api api, const ApiError& error, std::uint64_t seq) {
  Reply r;
  r.response.status = error.status;
  r.response.body = error_body(api, error, seq);
  return r;
}

// The reply for a fault that has a valid request to work with.
Reply fault_reply(Api api, const Fault& fault, const ChatRequest& request, const Completion& answer,
                  std::uint64_t seq) {
  if (auto wire = wire_fault(fault, completion_body(api, seq, request, answer)))
    return *wire;
  Reply r;
  switch (fault.kind) {
  case FaultKind::status_400:
  case FaultKind::status_401:
  case FaultKind::status_403:
  case FaultKind::status_404:
  case FaultKind::status_413:
  case FaultKind::status_500:
  case FaultKind::status_502:
  case FaultKind::status_503:
  case FaultKind::status_504:
  case FaultKind::status_529:
    return api_error(api, standard_error(api, status_of(fault.kind), request.model), seq);
  case FaultKind::status_429:
    if (api == Api::gemini) { // Gemini says when to retry in a RetryInfo detail, no header
      ApiError e = standard_error(api, 429, request.model);
      if (fault.retry_after_ms || !fault.retry_after.empty())
        e.extra = nlohmann::json::array(
            {{{"@type", "type.googleapis.com/google.rpc.RetryInfo"},
              {"retryDelay", fault.retry_after_ms
                                 ? fmt::format("{}s", *fault.retry_after_ms / 1000.0)
                                 : fault.retry_after + "s"}}});
      return api_error(api, e, seq);
    }
    r = api_error(api, standard_error(api, 429, request.model), seq);
    if (!fault.retry_after.empty())
      r.response.headers.emplace_back("retry-after", fault.retry_after);
    if (fault.retry_after_ms)
      r.response.headers.emplace_back("retry-after-ms", std::to_string(*fault.retry_after_ms));
    return r;
  case FaultKind::quota_429:
    return api_error(api, quota_error(api), seq);
  case FaultKind::status_401_echo: // answered by echo_401, which has the whole request
    return api_error(api, standard_error(api, 401, request.model), seq);
  case FaultKind::invalid_json:
    r.response.body = R"({"choices": [)";
    return r;
  case FaultKind::error_200:
    r.response.body = error_body(api, standard_error(api, 500, request.model), seq);
    return r;
  case FaultKind::empty_choices:
    r.response.body = completion_body(api, seq, request, answer, true);
    return r;
  default: // the wire's, above
    break;
  }
  return r;
}

// A 401 whose message echoes the request as some gateways do: the credential first, then every
// header and the body. Tests use it to show a key never travels on from an error message.
Reply echo_401(Api api, const Request& request, std::uint64_t seq) {
  const std::string* auth = request.header("authorization");
  const std::string* api_key = request.header("x-api-key");
  if (!api_key)
    api_key = request.header(api == Api::gemini ? "x-goog-api-key" : "api-key");
  std::string echoed = fmt::format("Incorrect API key provided: {}. You sent: {} {}",
                                   auth      ? *auth
                                   : api_key ? *api_key
                                             : "(none)",
                                   request.method, request.path);
  for (const auto& [name, value] : request.headers)
    echoed += fmt::format("\n{}: {}", name, value);
  echoed += "\n\n" + request.body;
  return api_error(api,
                   {.status = 401,
                    .type = api == Api::gemini      ? "UNAUTHENTICATED"
                            : api != Api::anthropic ? "invalid_request_error"
                                                    : "authentication_error",
                    .message = echoed,
                    .code = api != Api::anthropic ? json("invalid_api_key") : json(),
                    .param = nullptr},
                   seq);
}

// What the log records as the status of a reply: 0 when no status line is sent.
int logged_status(const Reply& r) {
  return r.delivery == Delivery::reset || r.delivery == Delivery::hang ? 0 : r.response.status;
}

} // namespace

ModelService::ModelService(RuleSet rules, ServiceOptions options)
    : m_rules(std::move(rules)), m_options(std::move(options)), m_random(m_options.seed),
      m_limiter(m_options.limits),
      m_batches(m_options.batch, [this](Api api, const Request& request) {
        // A batch's request is answered as the synchronous endpoint would answer it; a fault
        // that breaks the connection is a server error in a batch.
        Reply r = answer(api, request);
        if (r.delivery != Delivery::normal && r.delivery != Delivery::drip)
          return std::pair<int, std::string>(500,
                                             error_body(api, standard_error(api, 500, ""), m_seq));
        return std::pair<int, std::string>(r.response.status, std::move(r.response.body));
      }) {
  m_rules.seed(m_options.seed);
}

Reply ModelService::handle(const Request& request) {
  const std::string& path = request.path;
  if (path == "/v1/chat/completions" && request.method == "POST")
    return answer(Api::openai, request);
  if (path == "/v1/messages" && request.method == "POST")
    return answer(Api::anthropic, request);
  if (path == "/v1/responses" && request.method == "POST")
    return answer(Api::responses, request);
  if (path == "/v1/embeddings" && request.method == "POST") {
    if (auto fault = embeddings_fault(request))
      return std::move(*fault);
    return embeddings(request);
  }
  if (azure_deployment(path) && request.method == "POST")
    return answer(Api::azure, request);
  if (gemini_model(path) && request.method == "POST")
    return answer(Api::gemini, request);
  if (auto model = converse::model_of_path(path); model && request.method == "POST")
    return converse(request, *model);
  if (auto batch = m_batches.handle(request)) {
    m_stats.record_other(request);
    return std::move(*batch);
  }
  if (path == "/__stats" && request.method == "GET")
    return json_reply(200, m_stats.summary());
  if (path == "/__log" && request.method == "GET")
    return json_reply(200, m_stats.log());
  if (path == "/__reset" && request.method == "POST") {
    m_stats.reset();
    m_rules.reset_hits();
    m_batches.reset();
    m_seq = 0;
    m_call_seq = 0;
    m_limiter.reset();
    return json_reply(200, json{{"reset", true}});
  }
  m_stats.record_other(request);
  return api_error(Api::openai,
                   {.status = 404,
                    .type = "invalid_request_error",
                    .message = fmt::format(
                        "Unknown request URL: {} {}. The stand-in serves POST "
                        "/v1/chat/completions, POST /v1/messages, POST /v1/responses and POST "
                        "/v1/embeddings.",
                        request.method, path),
                    .code = "unknown_url",
                    .param = nullptr},
                   0);
}

Reply ModelService::reject(int status) {
  return api_error(Api::openai,
                   {.status = status,
                    .type = "invalid_request_error",
                    .message = status == 413 ? "Request too large." : "Malformed HTTP request.",
                    .code = nullptr,
                    .param = nullptr},
                   0);
}

Reply ModelService::answer(Api api, const Request& request) {
  std::uint64_t seq = ++m_seq;
  Outcome out = respond(api, request, seq);
  out.reply.response.headers.push_back(request_id_header(api, seq));
  m_stats.record_model(request, seq, out.key, logged_status(out.reply),
                       out.fault ? std::optional(to_string(*out.fault)) : std::nullopt);
  return std::move(out.reply);
}

ModelService::Outcome ModelService::respond(Api api, const Request& request, std::uint64_t seq) {
  // A request the real API would refuse before looking at it is refused here too, after the
  // global latency.
  auto refuse = [&](const ApiError& error) {
    Outcome out;
    out.reply = api_error(api, error, seq);
    out.reply.delay_ms = m_options.latency_ms;
    return out;
  };
  if (api == Api::anthropic) {
    const std::string* api_key = request.header("x-api-key");
    if (!api_key || api_key->empty())
      return refuse(
          {401, "authentication_error", "x-api-key header is required", nullptr, nullptr});
    if (!request.header("anthropic-version"))
      return refuse({400, "invalid_request_error", "anthropic-version: header is required", nullptr,
                     nullptr});
  }
  std::optional<std::string> route = api == Api::azure    ? azure_deployment(request.path)
                                     : api == Api::gemini ? gemini_model(request.path)
                                                          : std::nullopt;
  if (auto refusal = api == Api::azure    ? azure_refusal(request, *route)
                     : api == Api::gemini ? gemini_refusal(request)
                                          : std::nullopt)
    return refuse(*refusal);
  auto chat = api == Api::gemini ? parse_gemini_request(request.body, *route)
                                 : parse_chat_request(api, request.body);
  if (!chat)
    return refuse(chat.error());
  if (api == Api::azure && chat->model.empty())
    chat->model = *route;
  if (api == Api::azure && chat->key.find("standin:filtered-prompt") != std::string::npos)
    return refuse(azure_prompt_filtered());

  if (m_options.prompt_cache && !chat->system.empty() &&
      !m_cached_prompts.insert(chat->system).second)
    chat->cached_words = count_words(chat->system);
  Outcome out;
  out.key = chat->key;
  Decision d = m_rules.decide(out.key, chat->tool_result);
  Completion completion{d.answer, d.tool_calls, m_call_seq + 1};
  // The account's limits are charged what the reply's usage reports: its words in and out.
  auto limit =
      m_limiter.admit(api, static_cast<double>(chat->prompt_words + count_words(completion.text)),
                      chat->model, Limiter::Clock::now());
  if (limit.refused) {
    out.reply = api_error(api, *limit.refused, seq);
    out.reply.response.headers = std::move(limit.headers);
    return out; // at once: a limit is checked before the model runs
  }
  m_call_seq += d.tool_calls.size();
  // A rule that names a fault decides alone, even once its `times` are spent.
  std::optional<Fault> fault = d.rule_has_fault ? d.fault : global_fault();
  if (fault && fault->kind == FaultKind::status_401_echo) {
    out.fault = fault->kind;
    out.reply = echo_401(api, request, seq);
  } else if (fault) {
    out.fault = fault->kind;
    out.reply = fault_reply(api, *fault, *chat, completion, seq);
  } else {
    out.reply.response.body = completion_body(api, seq, *chat, completion);
  }
  out.reply.delay_ms = d.latency_ms.value_or(m_options.latency_ms);
  for (auto& h : limit.headers)
    out.reply.response.headers.push_back(std::move(h));
  return out;
}

// A rule that matches an embeddings request's texts (joined by newlines) and names a fault that is
// an HTTP status, or 401-echo, answers with it; other rules and faults leave it to embeddings().
std::optional<Reply> ModelService::embeddings_fault(const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("input"))
    return std::nullopt;
  std::string key;
  for (const auto& e : body["input"].is_array() ? body["input"] : json::array({body["input"]}))
    if (e.is_string())
      key += (key.empty() ? "" : "\n") + e.get<std::string>();
  Decision d = m_rules.decide(key);
  if (!d.rule_has_fault || !d.fault)
    return std::nullopt;
  std::uint64_t seq = ++m_seq;
  Reply r;
  if (d.fault->kind == FaultKind::status_401_echo)
    r = echo_401(Api::openai, request, seq);
  else if (int status = status_of(d.fault->kind); status > 0)
    r = api_error(Api::openai, standard_error(Api::openai, status, ""), seq);
  else
    return std::nullopt;
  m_stats.record_model(request, seq, "embeddings", r.response.status, to_string(d.fault->kind));
  return r;
}

std::optional<Fault> ModelService::global_fault() {
  if (!m_options.fault || m_options.fault_rate <= 0)
    return std::nullopt;
  if (std::uniform_real_distribution<double>(0, 1)(m_random) >= m_options.fault_rate)
    return std::nullopt;
  return m_options.fault;
}

} // namespace evalkeep::standin
