#pragma once

#include "core/tools.hpp"
#include "scoring/assertion.hpp"
#include "scoring/script.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::scoring {

/// What a model answered, with what it cost to get it.
struct Answer {
  std::string text;
  double latency_ms = 0;
  std::optional<double> cost; // dollars, when prices are configured
  /// Every call the model or agent made, in order; the text checks read `text` alone. (Braced so
  /// that `Answer{text, latency, cost}` stays complete for -Wmissing-field-initializers.)
  std::vector<core::ToolCall> tool_calls{};
  /// How many steps an exec agent reported (providers/agent.hpp); 0 for a model's answer.
  std::size_t steps{};
};

/// One assertion's verdict on one answer, with a reason a person can read.
struct Outcome {
  bool passed = false;
  std::string reason;
  std::optional<double> score; // the judge's score
};

/// Evaluates every assertion type except `judge`, which needs a model call: for a judge
/// assertion this returns a failed outcome saying so; use judge_outcome() instead. Programs
/// (scripts, transforms) run with a default EvaluationContext: a minimal environment and no
/// prompt; `similar` fails for want of embeddings.
Outcome evaluate(const Assertion& a, const Answer& answer);

/// What evaluating an assertion may need besides the answer.
struct EvaluationContext {
  std::string question; // the case's input as text: a script's context.prompt
  ScriptLimits limits;  // what programs may not read (keys) and how long they may run
  /// An embedding of `text` by `model` (OpenAI-compatible /v1/embeddings), for `similar`;
  /// unset, a similar assertion fails saying so. (`evalkeep run` fetches both embeddings in one
  /// request of its own and scores with similar_outcome instead.)
  std::function<Result<std::vector<double>>(const std::string& text, const std::string& model)>
      embed;
  /// The case's tool definitions, normalized (core::normalize_tools), or null when it has none:
  /// what tool-args-valid checks the calls' arguments against.
  nlohmann::json tools{};
};

/// Evaluates an assertion with what its programs and embeddings need (scoring/checks.cpp): the
/// answer goes through the assertion's transforms first, then the check runs on what they made.
Outcome evaluate(const Assertion& a, const Answer& answer, const EvaluationContext& context);

/// The text inside a Markdown code fence (```json ... ```), where model answers often put JSON;
/// the text as it is when it is not fenced.
std::string_view strip_fence(std::string_view s);

/// Cosine similarity of two vectors of one length; nullopt when a vector is zero or they differ.
std::optional<double> cosine_similarity(const std::vector<double>& a, const std::vector<double>& b);

/// The verdict of a similar assertion given the cosine similarity of the embeddings of its text
/// and of the answer.
Outcome similar_outcome(const Assertion& a, double similarity);

/// The verdict of a judge assertion given the score parse_judge_reply read and its rationale: the
/// rubric and g-eval graders pass at their threshold; factuality and closedqa pass on a score
/// above 0 (their grader's answer: by default a category other than D, or Y).
Outcome judge_outcome(const Assertion& a, double score, const std::string& rationale);

/// The judge's instructions for the assertion's grader, the case's question and the answer: the
/// rubric grader asks for JSON {"score": 0..1, "rationale": "..."}; factuality for the category
/// (A to E) of the answer against the reference, {"category": "B", "reason": "..."}; closedqa for
/// reasoning that ends in Y (the answer meets the criterion) or N. For the graders that call the
/// judge twice, the first call: g-eval's asks for evaluation steps from the criteria alone
/// (geval_prompt is the second), relevance's for the question the answer answers (its second
/// call fetches embeddings).
std::string judge_prompt(const Assertion& a, const std::string& question,
                         const std::string& answer);

/// g-eval's second call: the criteria, the evaluation steps its first call wrote (from
/// parse_first_stage), the case's question and the answer, scored from 0 to 10 as JSON
/// {"score": N, "reason": "..."}.
std::string geval_prompt(const Assertion& a, const std::string& steps, const std::string& question,
                         const std::string& answer);

/// What the first of a two-call grader's calls gave, read from its reply: g-eval's evaluation
/// steps (from {"steps": [...]}, as a list of "- " lines), the question relevance's judge wrote.
/// Nothing when the reply is not what was asked for.
std::optional<std::string> parse_first_stage(const Assertion& a, const std::string& reply);

/// What the first call of a two-call grader was asked to reply, for the reason of an unreadable
/// reply.
std::string_view first_stage_asked(const Assertion& a);

/// The verdict of a judge with the relevance grader: the cosine similarity of the embeddings of
/// the question its judge wrote for the answer and of the case's question (or its reference).
Outcome relevance_outcome(const Assertion& a, double similarity, const std::string& question);

/// Reads a rubric grader's reply; nothing when it is not the JSON asked for.
std::optional<std::pair<double, std::string>> parse_judge_reply(const std::string& reply);

/// Reads the reply of the assertion's grader as a score and a rationale; nothing when it is not
/// the reply asked for. factuality: 0 for category D and 1 for the others (its JSON, or else a
/// letter in parentheses, "(B)"); closedqa: 1 for a reply ending in Y, 0 for one ending in N.
/// factuality's score is its category's (the assertion's categories, or k_factuality_scores);
/// g-eval's is the score of its second reply over 10. Never a relevance grader's.
std::optional<std::pair<double, std::string>> parse_judge_reply(const Assertion& a,
                                                                const std::string& reply);

/// What the assertion's grader was asked to reply, for the reason of an unreadable reply.
std::string_view judge_reply_asked(const Assertion& a);

} // namespace evalkeep::scoring
