// Assertions: the command-line form ("TYPE:VALUE") and the JSON form, each evaluated on an answer,
// and the judge's reply. Input: the assertion, a newline, the answer. An assertion that parses
// must come back equal from its own JSON form.

#include "scoring/assertion.hpp"

#include "fuzz_support.hpp"
#include "scoring/evaluate.hpp"

using namespace evalkeep;

namespace {

void check(const scoring::Assertion& a, const std::string& answer) {
  auto back = scoring::from_json(nlohmann::json::parse(scoring::to_json(a).dump()));
  fuzz::require(back.has_value(), back ? "" : "JSON form refused: " + back.error().message);
  fuzz::require(*back == a, "JSON form read back differs");
  scoring::evaluate(a, {answer, static_cast<double>(answer.size()), 0.01});
  scoring::judge_outcome(a, 0.5, answer);
  scoring::judge_prompt(a, "question", answer);
  scoring::to_spec(a);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  auto newline = text.find('\n');
  std::string_view spec = text.substr(0, newline);
  std::string answer(newline == std::string_view::npos ? std::string_view()
                                                       : text.substr(newline + 1));
  if (auto a = scoring::parse_assertion(spec))
    check(*a, answer);
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (!j.is_discarded())
    if (auto a = scoring::from_json(j))
      check(*a, answer);
  if (auto reply = scoring::parse_judge_reply(answer))
    fuzz::require(reply->first >= 0 && reply->first <= 1, "a judge score outside [0, 1]");
  return 0;
}
