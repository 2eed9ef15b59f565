#include "suite/model.hpp"
#include "suite/records.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::suite;

TEST_CASE("statuses, provenance kinds and reasons read back from their names", "[suite]") {
  for (auto s : {CaseStatus::active, CaseStatus::xfail, CaseStatus::retired, CaseStatus::removed})
    CHECK(parse_status(to_string(s)) == s);
  for (auto k : {ProvenanceKind::incident, ProvenanceKind::spec, ProvenanceKind::red_team,
                 ProvenanceKind::exploratory, ProvenanceKind::imported})
    CHECK(parse_provenance_kind(to_string(k)) == k);
  for (auto r : {RetirementReason::feature_removed, RetirementReason::superseded,
                 RetirementReason::duplicate, RetirementReason::invalid_expectation,
                 RetirementReason::out_of_scope, RetirementReason::flaky_unfixable})
    CHECK(parse_reason(to_string(r)) == r);
  CHECK(to_string(ProvenanceKind::red_team) == "red-team");
  CHECK_FALSE(parse_status("Active"));
  CHECK_FALSE(parse_reason("feature_removed"));
  CHECK(reason_names() == "feature-removed, superseded, duplicate, invalid-expectation, "
                          "out-of-scope, flaky-unfixable");
  CHECK(is_live(CaseStatus::active));
  CHECK(is_live(CaseStatus::xfail));
  CHECK_FALSE(is_live(CaseStatus::retired));
  CHECK_FALSE(is_live(CaseStatus::removed));
}

TEST_CASE("the input preview is one trimmed line that never splits a character", "[suite]") {
  Case c;
  c.prompt = "Can I get\na refund\tafter 45 days?";
  CHECK(input_preview(c, 100) == "Can I get a refund after 45 days?");
  CHECK(input_preview(c, 10) == "Can I get\xE2\x80\xA6");

  c.title = "Refund window";
  CHECK(input_preview(c, 100) == "Refund window");

  Case m;
  m.messages = {{"system", "Be kind."}, {"user", "Where is my order?"}};
  CHECK(input_preview(m, 100) == "Where is my order?");

  Case utf8;
  utf8.prompt = "caf\xC3\xA9 au lait"; // é is two bytes at offsets 3 and 4
  auto cut = input_preview(utf8, 5);   // the cut would land inside é
  CHECK(cut == "caf\xE2\x80\xA6");
}
