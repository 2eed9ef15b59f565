#include "scoring/evaluate.hpp"

#include "core/text.hpp"
#include "scoring/checks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <re2/re2.h>

namespace evalkeep::scoring {

namespace {

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string quote(std::string_view s, std::size_t max = 60) {
  std::string out(s.substr(0, max));
  if (s.size() > max)
    out += "…";
  return "'" + out + "'";
}

// Compiled patterns are kept: a suite reuses a handful of regexes across thousands of answers.
// Answers are scored on several threads (the network loop, exec programs), so the cache is
// shared under a lock, and it holds at most k_max_patterns: a suite of 100,000 distinct patterns
// must not keep them all compiled. A compiled RE2 is safe to match from any number of threads, and
// each caller holds its own reference, so emptying the cache never pulls one from under a match.
class PatternCache {
public:
  std::shared_ptr<const RE2> get(const std::string& pattern) {
    {
      std::lock_guard lock(m_mutex);
      if (auto it = m_patterns.find(pattern); it != m_patterns.end())
        return it->second;
    }
    // Compiled outside the lock: a slow pattern does not hold up the other threads.
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(pattern, options);
    std::lock_guard lock(m_mutex);
    if (m_patterns.size() >= k_max_patterns)
      m_patterns.clear();
    return m_patterns.try_emplace(pattern, std::move(re)).first->second;
  }

private:
  static constexpr std::size_t k_max_patterns = 1024;
  std::mutex m_mutex;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> m_patterns;
};

std::shared_ptr<const RE2> compiled(const std::string& pattern) {
  static PatternCache cache;
  return cache.get(pattern);
}

std::optional<double> first_number(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool starts =
        std::isdigit(static_cast<unsigned char>(s[i])) ||
        (s[i] == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])));
    if (!starts)
      continue;
    std::string digits;
    for (std::size_t j = i; j < s.size(); ++j) {
      char c = s[j];
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || (j == i && c == '-'))
        digits += c;
      else if (c != ',' || j + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[j + 1])))
        break; // a comma between digits is a thousands separator
    }
    if (!digits.empty() && digits.back() == '.')
      digits.pop_back();
    double v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc())
      return v;
  }
  return std::nullopt;
}

Outcome pass(std::string reason) {
  return {true, std::move(reason), std::nullopt};
}
Outcome fail(std::string reason) {
  return {false, std::move(reason), std::nullopt};
}

} // namespace

std::string_view strip_fence(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return s;
  s.remove_prefix(first);
  if (!s.starts_with("```"))
    return s;
  auto body = s.find('\n');
  auto end = s.rfind("```");
  if (body == std::string_view::npos || end <= body)
    return s;
  return s.substr(body + 1, end - body - 1);
}

namespace {

Outcome json_path_outcome(const Assertion& a, const std::string& t) {
  auto j = nlohmann::json::parse(strip_fence(t), nullptr, false);
  if (j.is_discarded())
    return fail("is not valid JSON, so " + a.path + " cannot be read");
  try {
    nlohmann::json::json_pointer ptr(a.path);
    if (!j.contains(ptr))
      return fail(a.path + " is missing");
    const auto& v = j.at(ptr);
    if (v == a.value)
      return pass(a.path + " is " + a.value.dump());
    return fail(a.path + " is " + v.dump() + ", expected " + a.value.dump());
  } catch (const nlohmann::json::exception& e) {
    return fail(a.path + ": " + e.what());
  }
}

} // namespace

Outcome evaluate(const Assertion& a, const Answer& answer) {
  if (evaluated_in_checks(a)) // scoring/checks.cpp
    return evaluate(a, answer, EvaluationContext{});
  const std::string& t = answer.text;
  switch (a.type) {
  case AssertionType::equals:
    return t == a.text ? pass("equals the expected text") : fail("is not exactly " + quote(a.text));
  case AssertionType::contains:
    return t.find(a.text) != std::string::npos ? pass("contains " + quote(a.text))
                                               : fail("does not contain " + quote(a.text));
  case AssertionType::icontains:
    return core::ascii_lower(t).find(core::ascii_lower(a.text)) != std::string::npos
               ? pass("contains " + quote(a.text) + " (ignoring case)")
               : fail("does not contain " + quote(a.text) + " (ignoring case)");
  case AssertionType::not_contains:
    return t.find(a.text) == std::string::npos ? pass("does not contain " + quote(a.text))
                                               : fail("contains " + quote(a.text));
  case AssertionType::starts_with:
    return t.starts_with(a.text) ? pass("starts with " + quote(a.text))
                                 : fail("does not start with " + quote(a.text));
  case AssertionType::regex: {
    auto re = compiled(a.text);
    if (!re->ok())
      return fail("invalid regex " + quote(a.text));
    return RE2::PartialMatch(t, *re) ? pass("matches /" + a.text + "/")
                                     : fail("does not match /" + a.text + "/");
  }
  case AssertionType::is_json: {
    // promptfoo's is-json (strict) reads the answer as JSON.parse does: the whole of it.
    auto j = nlohmann::json::parse(a.strict ? std::string_view(t) : strip_fence(t), nullptr, false);
    return j.is_discarded() ? fail("is not valid JSON") : pass("is valid JSON");
  }
  case AssertionType::json_path:
    return json_path_outcome(a, t);
  case AssertionType::min_length:
  case AssertionType::max_length: {
    auto n = utf8_length(t);
    bool ok = a.type == AssertionType::min_length ? n >= a.number : n <= a.number;
    return {ok,
            fmt::format("{} characters ({} {})", n,
                        a.type == AssertionType::min_length ? "at least" : "at most", a.number),
            std::nullopt};
  }
  case AssertionType::number_close: {
    auto v = first_number(t);
    if (!v)
      return fail("has no number");
    bool ok = std::fabs(*v - a.number) <= a.tolerance;
    return {ok, fmt::format("{} is {}within {} of {}", *v, ok ? "" : "not ", a.tolerance, a.number),
            std::nullopt};
  }
  case AssertionType::max_latency_ms: {
    bool ok = answer.latency_ms <= a.number;
    return {ok, fmt::format("took {:.0f} ms (at most {})", answer.latency_ms, a.number),
            std::nullopt};
  }
  case AssertionType::max_cost:
    if (!answer.cost)
      return fail("cost unknown: set prices for the provider in evalkeep.toml");
    return {*answer.cost <= a.number,
            fmt::format("cost ${:.6f} (at most ${})", *answer.cost, a.number), std::nullopt};
  case AssertionType::judge:
    return fail("a judge assertion needs a judge provider");
  default: // the types of scoring/checks.cpp, sent there above
    break;
  }
  return fail("unknown assertion");
}

namespace {

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// What each factuality category says of the answer against the reference.
constexpr std::string_view k_categories[] = {
    "the answer is a subset of the reference and fully consistent with it",
    "the answer is a superset of the reference and fully consistent with it",
    "the answer holds the same details as the reference",
    "the answer and the reference disagree",
    "they differ, but not in a way that matters for the facts",
};

// g-eval's scale: the judge scores from 0 to this, and the score is read over it.
constexpr double k_geval_max_score = 10;

// The score of factuality category `i` (0 for A) for the assertion.
double category_score(const Assertion& a, int i) {
  auto at = static_cast<std::size_t>(i);
  return a.categories.empty() ? k_factuality_scores[at] : a.categories[at];
}

// The first JSON object in a reply (in a Markdown fence or not), or null.
nlohmann::json first_object(std::string_view reply) {
  auto body = strip_fence(reply);
  for (auto open = body.find('{'); open != std::string_view::npos;
       open = body.find('{', open + 1)) {
    for (auto close = body.rfind('}'); close != std::string_view::npos && close > open;
         close = close == 0 ? std::string_view::npos : body.rfind('}', close - 1)) {
      auto j = nlohmann::json::parse(body.substr(open, close - open + 1), nullptr, false);
      if (j.is_object())
        return j;
    }
  }
  return nullptr;
}

// A factuality reply: {"category": "A".."E", "reason": ...}, or else a letter in parentheses
// ("(B) because ..."). The category's index and the grader's reason; nothing when it names none.
std::optional<std::pair<int, std::string>> factuality_reply(std::string_view reply) {
  auto j = first_object(reply);
  if (j.is_object() && j.contains("category") && j["category"].is_string()) {
    auto c = std::string(trim(j["category"].get_ref<const std::string&>()));
    if (c.size() != 1 || std::toupper(static_cast<unsigned char>(c[0])) < 'A' ||
        std::toupper(static_cast<unsigned char>(c[0])) > 'E')
      return std::nullopt; // a category that is none of the five is no verdict
    std::string reason = j.contains("reason") && j["reason"].is_string()
                             ? std::string(trim(j["reason"].get_ref<const std::string&>()))
                             : "";
    return std::pair{std::toupper(static_cast<unsigned char>(c[0])) - 'A', reason};
  }
  for (std::size_t i = 0; i + 1 < reply.size(); ++i) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(reply[i])));
    if (c >= 'A' && c <= 'E' && reply[i + 1] == ')')
      return std::pair{c - 'A', std::string(trim(reply.substr(i + 2)))};
  }
  return std::nullopt;
}

} // namespace

Outcome judge_outcome(const Assertion& a, double score, const std::string& rationale) {
  switch (a.grader) {
  case Grader::factuality:
  case Grader::closedqa: {
    bool ok = score > 0;
    return {ok, fmt::format("{} {}: {}", to_string(a.grader), ok ? "passed" : "failed", rationale),
            score};
  }
  case Grader::geval: {
    bool ok = score >= a.threshold;
    return {ok,
            fmt::format("g-eval scored {:.2f} (needs {:.2f}): {}", score, a.threshold, rationale),
            score};
  }
  case Grader::relevance: // scored by relevance_outcome
  case Grader::rubric:
    break;
  }
  bool ok = score >= a.threshold;
  return {ok, fmt::format("judge scored {:.2f} (needs {:.2f}): {}", score, a.threshold, rationale),
          score};
}

std::string judge_prompt(const Assertion& a, const std::string& question,
                         const std::string& answer) {
  switch (a.grader) {
  case Grader::factuality:
    return fmt::format(
        "You check the facts of a submitted answer against an expert's answer to the same "
        "question. Only the facts count: ignore wording, style, grammar and punctuation.\n\n"
        "<question>\n{}\n</question>\n\n<expert_answer>\n{}\n</expert_answer>\n\n"
        "<submitted_answer>\n{}\n</submitted_answer>\n\n"
        "Choose the one category that fits:\n"
        "(A) The submitted answer is a subset of the expert answer and fully consistent with "
        "it.\n"
        "(B) The submitted answer is a superset of the expert answer and fully consistent with "
        "it.\n"
        "(C) The submitted answer contains all the same details as the expert answer.\n"
        "(D) The submitted answer and the expert answer disagree.\n"
        "(E) The answers differ, but the differences do not matter for the facts.\n\n"
        "Reply with only a JSON object: {{\"category\": one letter from A to E, \"reason\": one "
        "sentence}}.",
        question, a.rubric, answer);
  case Grader::closedqa:
    return fmt::format(
        "You decide whether a submitted answer meets a criterion.\n\n<question>\n{}\n</question>"
        "\n\n<submitted_answer>\n{}\n</submitted_answer>\n\n<criterion>\n{}\n</criterion>\n\n"
        "Reason step by step about whether the submission meets the criterion; do not state "
        "the verdict first. Then end your reply with a line holding only Y if it meets the "
        "criterion or N if it does not.",
        question, answer, a.rubric);
  case Grader::geval: // the first of its two calls: steps from the criteria alone
    return fmt::format(
        "You write the steps for grading a text against evaluation criteria.\n\n"
        "<criteria>\n{}\n</criteria>\n\n"
        "Write 3 or 4 short evaluation steps that check whether any text meets these criteria. "
        "Reply with only a JSON object on one line, no code fence: {{\"steps\": [\"first "
        "step\", \"second step\", ...]}}.",
        a.rubric);
  case Grader::relevance: // the first of its two calls: the question the answer answers
    return fmt::format(
        "Write the question that the answer below answers.\n\n<answer>\n{}\n</answer>\n\n"
        "Reply with only the question.",
        answer);
  case Grader::rubric:
    break;
  }
  return fmt::format(
      "You grade an AI assistant's answer against a rubric.\n\n<rubric>\n{}\n</rubric>\n\n"
      "<question>\n{}\n</question>\n\n<answer>\n{}\n</answer>\n\n"
      "Reply with only a JSON object: {{\"score\": a number from 0 to 1, \"rationale\": one "
      "sentence}}.",
      a.rubric, question, answer);
}

std::optional<std::pair<double, std::string>> parse_judge_reply(const std::string& reply) {
  auto body = strip_fence(reply);
  auto open = body.find('{');
  auto close = body.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  auto j = nlohmann::json::parse(body.substr(open, close - open + 1), nullptr, false);
  if (!j.is_object() || !j.contains("score") || !j["score"].is_number())
    return std::nullopt;
  double score = j["score"].get<double>();
  if (!(score >= 0 && score <= 1))
    return std::nullopt;
  std::string rationale = j.contains("rationale") && j["rationale"].is_string()
                              ? j["rationale"].get<std::string>()
                              : "";
  return std::pair{score, rationale};
}

std::string geval_prompt(const Assertion& a, const std::string& steps, const std::string& question,
                         const std::string& answer) {
  return fmt::format(
      "You rate one reply to a prompt on one metric.\n\n<criteria>\n{}\n</criteria>\n\n"
      "<evaluation_steps>\n{}\n</evaluation_steps>\n\n<prompt>\n{}\n</prompt>\n\n"
      "<reply>\n{}\n</reply>\n\n"
      "Follow the evaluation steps. Reply with only a JSON object on one line, no code fence: "
      "{{\"score\": a whole number from 0 to {}, where {} means the reply fully meets the "
      "criteria and 0 not at all, \"reason\": one concise sentence that cites the prompt and "
      "the reply and does not repeat the score}}.",
      a.rubric, steps, question, answer, k_geval_max_score, k_geval_max_score);
}

std::optional<std::string> parse_first_stage(const Assertion& a, const std::string& reply) {
  if (a.grader == Grader::relevance) {
    auto q = trim(reply);
    return q.empty() ? std::nullopt : std::optional<std::string>(std::string(q));
  }
  auto j = first_object(reply);
  if (!j.is_object() || !j.contains("steps") || !j["steps"].is_array() || j["steps"].empty())
    return std::nullopt;
  std::string steps;
  for (const auto& step : j["steps"]) {
    if (!step.is_string() || trim(step.get_ref<const std::string&>()).empty())
      return std::nullopt;
    steps += (steps.empty() ? "- " : "\n- ") + step.get<std::string>();
  }
  return steps;
}

std::string_view first_stage_asked(const Assertion& a) {
  return a.grader == Grader::relevance ? "a question" : "JSON {\"steps\": [...]}";
}

Outcome relevance_outcome(const Assertion& a, double similarity, const std::string& question) {
  bool ok = similarity >= a.threshold;
  return {ok,
          fmt::format("relevance {:.2f} (needs {:.2f}): the judge read the answer as answering "
                      "\"{}\"",
                      similarity, a.threshold, core::utf8_prefix(question, 200)),
          similarity};
}

std::optional<std::pair<double, std::string>> parse_judge_reply(const Assertion& a,
                                                                const std::string& reply) {
  switch (a.grader) {
  case Grader::factuality: {
    auto r = factuality_reply(reply);
    if (!r)
      return std::nullopt;
    auto letter = static_cast<char>('A' + r->first);
    std::string why =
        fmt::format("category {} ({})", letter, k_categories[static_cast<std::size_t>(r->first)]);
    if (!r->second.empty())
      why += ": " + r->second;
    return std::pair{category_score(a, r->first), why};
  }
  case Grader::geval: { // {"score": 0..10, "reason": "..."}, read as the score over 10
    auto j = first_object(reply);
    if (!j.is_object() || !j.contains("score") || !j.contains("reason") ||
        !j["reason"].is_string() || trim(j["reason"].get_ref<const std::string&>()).empty())
      return std::nullopt;
    std::optional<double> score;
    if (j["score"].is_number())
      score = j["score"].get<double>();
    else if (j["score"].is_string())
      score = core::parse_number(trim(j["score"].get_ref<const std::string&>()));
    if (!score || !(*score >= 0 && *score <= k_geval_max_score))
      return std::nullopt;
    return std::pair{*score / k_geval_max_score, j["reason"].get<std::string>()};
  }
  case Grader::relevance: // its verdict is a similarity, not a reply
    return std::nullopt;
  case Grader::closedqa: {
    // The verdict is the reply's last character: Y meets the criterion, N does not.
    auto body = trim(reply);
    auto last = body.empty() ? '\0' : body.back();
    if (last != 'Y' && last != 'N')
      return std::nullopt;
    std::string why =
        last == 'Y' ? "the answer meets the criterion" : "the answer does not meet the criterion";
    auto reasoning = trim(body.substr(0, body.size() - 1));
    if (!reasoning.empty())
      why += ": " + std::string(core::utf8_prefix(reasoning, 300));
    return std::pair{last == 'Y' ? 1.0 : 0.0, why};
  }
  case Grader::rubric:
    break;
  }
  return parse_judge_reply(reply);
}

std::string_view judge_reply_asked(const Assertion& a) {
  switch (a.grader) {
  case Grader::factuality:
    return "a category from A to E";
  case Grader::closedqa:
    return "a reply ending in Y or N";
  case Grader::geval:
    return "JSON {\"score\": 0..10, \"reason\": ...}";
  case Grader::relevance:
  case Grader::rubric:
    break;
  }
  return "the JSON asked for";
}

} // namespace evalkeep::scoring
