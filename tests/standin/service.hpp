#pragma once

#include "api.hpp"
#include "batch.hpp"
#include "limiter.hpp"
#include "reply.hpp"
#include "rules.hpp"
#include "sigv4.hpp"
#include "stats.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>

namespace evalkeep::standin {

/// The HTTP status a plain error fault answers with: its name ("503" -> 503).
int status_of(FaultKind kind);

/// The reply of a fault that is about the wire rather than the API (a reset, a hang, a truncated
/// or dripped body, a proxy's HTML page), sending `body` where it sends one; nothing for the
/// faults each API shapes itself.
std::optional<Reply> wire_fault(const Fault& fault, std::string body);

/// The stand-in's embedding of a text (POST /v1/embeddings): a hashed bag of its words, of
/// length 1 (embeddings.cpp).
std::vector<double> bag_of_words_embedding(std::string_view text);

/// Faults and latency applied to every request that no rule says otherwise about.
struct ServiceOptions {
  int latency_ms = 0;
  std::optional<Fault> fault; // injected at `fault_rate`, on requests whose rule has no fault
  double fault_rate = 0;
  std::uint64_t seed = 1;
  LimiterOptions limits{}; // requests and tokens per minute; none by default
  // Bedrock's Converse route: the credentials whose signatures it accepts.
  sigv4::Credentials aws{std::string(sigv4::k_test_access_key_id),
                         std::string(sigv4::k_test_secret_access_key)};
  BatchOptions batch;
  // A system prompt seen before is read from the prompt cache: its words are reported as cached
  // input tokens, as a provider's automatic prompt caching does for a repeated prefix.
  bool prompt_cache = false;
};

/// The stand-in model: routes a request to the Chat Completions, Anthropic Messages or Responses
/// endpoint or a control endpoint, picks the answer or fault from the rules, and keeps the stats.
class ModelService final : public Handler {
public:
  ModelService(RuleSet rules, ServiceOptions options);

  Reply handle(const Request& request) override;
  Reply reject(int status) override;

private:
  Reply answer(Api api, const Request& request);
  Reply converse(const Request& request, const std::string& model); // converse.cpp
  Reply embeddings(const Request& request);                         // embeddings.cpp
  std::optional<Reply> embeddings_fault(const Request& request);
  struct Outcome {
    Reply reply;
    std::string key;
    std::optional<FaultKind> fault;
  };
  Outcome respond(Api api, const Request& request, std::uint64_t seq);
  std::optional<Fault> global_fault();

  RuleSet m_rules;
  ServiceOptions m_options;
  Stats m_stats;
  std::uint64_t m_seq = 0;
  std::uint64_t m_call_seq = 0; // function calls rendered: their ids' numbers
  std::mt19937_64 m_random;
  Limiter m_limiter;
  std::unordered_set<std::string> m_cached_prompts; // system prompts seen (--prompt-cache)
  BatchApis m_batches;                              // last: it answers through the members above
};

} // namespace evalkeep::standin
