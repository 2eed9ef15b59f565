#pragma once

#include "api.hpp"
#include "batch.hpp"
#include "reply.hpp"
#include "rules.hpp"
#include "stats.hpp"

#include <cstdint>
#include <optional>
#include <random>

namespace evalkeep::standin {

/// Faults and latency applied to every request that no rule says otherwise about.
struct ServiceOptions {
  int latency_ms = 0;
  std::optional<Fault> fault; // injected at `fault_rate`, on requests whose rule has no fault
  double fault_rate = 0;
  std::uint64_t seed = 1;
  BatchOptions batch;
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
  BatchApis m_batches; // last: it answers through the members above
};

} // namespace evalkeep::standin
