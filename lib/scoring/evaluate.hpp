#pragma once

#include "scoring/assertion.hpp"

#include <optional>
#include <string>

namespace evalkeep::scoring {

/// What a model answered, with what it cost to get it.
struct Answer {
  std::string text;
  double latency_ms = 0;
  std::optional<double> cost; // dollars, when prices are configured
};

/// One assertion's verdict on one answer, with a reason a person can read.
struct Outcome {
  bool passed = false;
  std::string reason;
  std::optional<double> score; // the judge's score
};

/// Evaluates every assertion type except `judge`, which needs a model call: for a judge
/// assertion this returns a failed outcome saying so; use judge_outcome() instead.
Outcome evaluate(const Assertion& a, const Answer& answer);

/// The verdict of a judge assertion given the judge's score in [0, 1] and its rationale.
Outcome judge_outcome(const Assertion& a, double score, const std::string& rationale);

/// The judge's instructions for a rubric and an answer; the judge must reply with JSON
/// {"score": 0..1, "rationale": "..."}.
std::string judge_prompt(const Assertion& a, const std::string& question,
                         const std::string& answer);

/// Reads a judge's reply; nothing when it is not the JSON asked for.
std::optional<std::pair<double, std::string>> parse_judge_reply(const std::string& reply);

} // namespace evalkeep::scoring
