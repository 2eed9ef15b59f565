#include "providers/embeddings.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::providers {

using json = nlohmann::json;

std::string embeddings_refusal(const ProviderConfig& c) {
  if (c.kind == Kind::openai || c.kind == Kind::openai_responses)
    return {};
  return fmt::format("provider {} is of type {}, which has no OpenAI-compatible embeddings "
                     "endpoint (POST {{base_url}}/embeddings)",
                     c.name, to_string(c.kind));
}

std::string embeddings_body(const std::string& model, const std::vector<std::string>& texts) {
  json j{{"input", texts}, {"model", model}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpRequest build_embeddings_request(const ProviderConfig& c, std::string body,
                                     const std::string& api_key,
                                     const std::string& idempotency_key) {
  // An answer's request, headers and all, sent to the embeddings endpoint instead.
  ProviderConfig chat = c;
  chat.kind = Kind::openai;
  HttpRequest r = build_request(chat, std::move(body), api_key, idempotency_key);
  r.url = c.base_url + "/embeddings";
  return r;
}

EmbeddingsReply parse_embeddings(long http_status, const std::string& body, std::size_t inputs) {
  EmbeddingsReply out;
  if (http_status < 200 || http_status >= 300) {
    // Errors come in Chat Completions' shape: read and classed as an answer's.
    Reply r = parse_response(Kind::openai, http_status, body);
    out.error = r.error == ErrorClass::none ? ErrorClass::bad_response : r.error;
    out.error_message = r.error_message;
    return out;
  }
  auto bad = [&](std::string why) {
    out.error = ErrorClass::bad_response;
    out.error_message = fmt::format("HTTP {}: {}", http_status, why);
    out.vectors.clear();
    return out;
  };
  json j = json::parse(body, nullptr, false);
  if (!j.is_object())
    return bad("the embeddings response is not a JSON object");
  if (auto e = j.find("error"); e != j.end() && !e->is_null())
    return bad("the embeddings response carries an error: " + e->dump().substr(0, 300));
  auto data = j.find("data");
  if (data == j.end() || !data->is_array())
    return bad("the embeddings response has no data");
  out.vectors.assign(inputs, {});
  for (const auto& item : *data) {
    if (!item.is_object() || !item.contains("embedding") || !item["embedding"].is_array())
      return bad("an entry of the embeddings response has no embedding");
    std::size_t index = 0;
    if (item.contains("index")) {
      if (!item["index"].is_number_unsigned())
        return bad("an entry of the embeddings response has an index that is not a number");
      index = item["index"].get<std::size_t>();
    }
    if (index >= inputs || !out.vectors[index].empty())
      return bad(fmt::format("the embeddings response has an unexpected index {}", index));
    auto& v = out.vectors[index];
    for (const auto& x : item["embedding"]) {
      if (!x.is_number())
        return bad("an embedding holds something other than numbers (base64 is not read)");
      v.push_back(x.get<double>());
    }
    if (v.empty())
      return bad("the embeddings response has an empty embedding");
  }
  for (std::size_t i = 0; i < inputs; ++i)
    if (out.vectors[i].empty())
      return bad(fmt::format("the embeddings response has no embedding for input {}", i));
  if (auto u = j.find("usage"); u != j.end() && u->is_object())
    if (auto t = u->find("prompt_tokens"); t != u->end() && t->is_number_integer())
      out.tokens_in = t->get<std::int64_t>();
  return out;
}

} // namespace evalkeep::providers
