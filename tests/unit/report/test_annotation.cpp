#include "report/gate_report.hpp"

#include <catch2/catch.hpp>

using evalkeep::report::annotation_text;

TEST_CASE("an annotation's text stays on one line and cannot drive the log viewer",
          "[annotation]") {
  CHECK(annotation_text("case refund-window was deleted") == "case refund-window was deleted");
  CHECK(annotation_text("two\nlines") == "two%0Alines");
  CHECK(annotation_text("100% sure") == "100%25 sure");
  // Not %0D: a carriage return is shown, like any other control character.
  CHECK(annotation_text("over\rwrite") == "over^Mwrite");
  CHECK(annotation_text("\x1b[31mred\x1b[0m") == "^[[31mred^[[0m");
  // An escaped line break stays escaped: a title cannot start a second workflow command.
  CHECK(annotation_text("x\n::add-mask::secret") == "x%0A::add-mask::secret");
}
