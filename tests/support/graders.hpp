#pragma once

namespace evalkeep::test {

// The stand-in's rules for tests/promptfoo/model-graded: each case's answer, and the judge's reply
// to each grader's prompt on it. The graders' rules come first, each matching the answer it grades
// (in promptfoo's grader prompts and in evalkeep's alike), so that both tools get the same
// verdicts: the rubric and factuality replies hold the fields of both tools' JSON, closedqa's end
// in Y or N; g-eval's steps match its criteria, which both of its calls hold, so its score comes
// first, matching the answer.
inline constexpr const char* k_grader_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "Refunds are accepted within 30 days of delivery",
     "answer": "{\"pass\": true, \"score\": 0.9, \"reason\": \"polite\", \"rationale\": \"polite\"}"},
    {"match": "You can return items within 30 days",
     "answer": "{\"category\": \"C\", \"reason\": \"Both give 30 days.\"}"},
    {"match": "Gifts can be returned within 90 days",
     "answer": "{\"category\": \"D\", \"reason\": \"90 days is not 30 days.\"}"},
    {"match": "Yes, we ship to Canada", "answer": "It says yes plainly.\nY"},
    {"match": "Sale items can be returned within 14",
     "answer": "{\"category\": \"A\", \"reason\": \"It gives the sale window only.\"}"},
    {"match": "Store credit is money", "answer": "{\"score\":8,\"reason\":\"Plain words.\"}"},
    {"match": "A chargeback is", "answer": "{\"score\":3,\"reason\":\"Jargon.\"}"},
    {"match": "Explains the idea in plain words",
     "answer": "{\"steps\":[\"Check the words are plain\",\"Check the idea is explained\"]}"},
    {"match": "We open at 9", "answer": "What are your opening hours?"},
    {"match": "Our prices", "answer": "What are your prices like?"},
    {"match": "We open at noon", "answer": "When do you open on Sundays?"},
    {"match": "sale item", "answer": "Sale items can be returned within 14 days."},
    {"match": "Explain store credit", "answer": "Store credit is money you can spend in our shop."},
    {"match": "Explain chargebacks", "answer": "A chargeback is a Reg E provisional credit reversal."},
    {"match": "opening hours", "answer": "We open at 9 and close at 5 every weekday."},
    {"match": "Where is your store", "answer": "Our prices are the lowest in town."},
    {"match": "Sundays", "answer": "We open at noon on Sundays."},
    {"match": "It may depend", "answer": "It hedges.\nN"},
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "return an item", "answer": "You can return items within 30 days of delivery."},
    {"match": "return a gift", "answer": "Gifts can be returned within 90 days."},
    {"match": "ship to Canada", "answer": "Yes, we ship to Canada."},
    {"match": "ship to Mexico", "answer": "It may depend on the product."}
  ]
})";

} // namespace evalkeep::test
