// POST /v1/embeddings: OpenAI's embeddings endpoint, with vectors a test can predict. Each text
// becomes a hashed bag of its words (lower-cased runs of letters and digits, each adding one to
// the dimension its FNV-1a hash picks), scaled to length 1: texts with the same words are
// identical (cosine 1), texts that share no word are orthogonal (cosine 0, unless two words
// collide), and the cosine of two texts grows with the words they share.

#include "service.hpp"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace evalkeep::standin {

namespace {

using json = nlohmann::json;

constexpr std::size_t k_dimensions = 256;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace

std::vector<double> bag_of_words_embedding(std::string_view text) {
  std::vector<double> v(k_dimensions, 0.0);
  std::string word;
  auto flush = [&] {
    if (!word.empty())
      v[fnv1a(word) % k_dimensions] += 1;
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else
      flush();
  }
  flush();
  double norm = 0;
  for (double x : v)
    norm += x * x;
  if (norm == 0) { // no words (punctuation only): one fixed direction, never a zero vector
    v[0] = 1;
    return v;
  }
  norm = std::sqrt(norm);
  for (double& x : v)
    x /= norm;
  return v;
}

Reply ModelService::embeddings(const Request& request) {
  std::uint64_t seq = ++m_seq;
  auto refuse = [&](int status, std::string message, json param) {
    Reply r;
    r.response.status = status;
    json error{{"message", std::move(message)},
               {"type", "invalid_request_error"},
               {"param", std::move(param)},
               {"code", nullptr}};
    r.response.body = json{{"error", error}}.dump();
    r.delay_ms = m_options.latency_ms;
    m_stats.record_model(request, seq, "embeddings", status, std::nullopt);
    return r;
  };
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object())
    return refuse(400, "We could not parse the JSON body of your request.", nullptr);
  if (!body.contains("model") || !body["model"].is_string())
    return refuse(400, "Missing required parameter: 'model'.", "model");
  if (!body.contains("input"))
    return refuse(400, "Missing required parameter: 'input'.", "input");
  std::vector<std::string> inputs;
  const json& input = body["input"];
  if (input.is_string()) {
    inputs.push_back(input.get<std::string>());
  } else if (input.is_array() && !input.empty()) {
    for (const auto& e : input) {
      if (!e.is_string())
        return refuse(400, "'$.input' is invalid. Please check the API reference.", "input");
      inputs.push_back(e.get<std::string>());
    }
  } else {
    return refuse(400, "'$.input' is invalid. Please check the API reference.", "input");
  }
  // The real endpoint refuses an empty string.
  for (const auto& text : inputs)
    if (text.empty())
      return refuse(400, "'$.input' is invalid. Please check the API reference.", "input");

  json data = json::array();
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    data.push_back(
        {{"object", "embedding"}, {"index", i}, {"embedding", bag_of_words_embedding(inputs[i])}});
    tokens += std::max<std::size_t>(1, count_words(inputs[i]));
  }
  Reply r;
  r.response.body = json{{"object", "list"},
                         {"data", std::move(data)},
                         {"model", body["model"]},
                         {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}
                        .dump();
  r.response.headers.push_back(request_id_header(Api::openai, seq));
  r.delay_ms = m_options.latency_ms;
  m_stats.record_model(request, seq, "embeddings", 200, std::nullopt);
  return r;
}

} // namespace evalkeep::standin
