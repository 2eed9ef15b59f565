// The JSONL importer on any bytes. A file it accepts must leave a suite that passes `verify`, and
// export -> import into a new suite -> export must give the same bytes.

#include "fuzz_support.hpp"
#include "suite/interchange.hpp"
#include "suite/verify.hpp"

#include <sstream>

using namespace evalkeep;

namespace {

suite::Suite memory_suite() {
  auto s = suite::Suite::create(":memory:");
  fuzz::require(s.has_value(), "create an in-memory suite");
  return std::move(*s);
}

std::string exported(suite::Suite& s) {
  std::ostringstream out;
  auto r = suite::export_jsonl(s, out);
  fuzz::require(r.has_value(), r ? "" : "export: " + r.error().message);
  return out.str();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = memory_suite();
  auto imported =
      suite::import_jsonl(s, fuzz::as_text(data, size), "fuzz.jsonl", {}, fuzz::origin(), false);
  if (!imported)
    return 0;
  auto report = suite::verify(s);
  fuzz::require(report && report->ok(),
                report ? (report->ok() ? "" : "verify after import: " + report->problems[0].message)
                       : "verify: " + report.error().message);
  std::string first = exported(s);
  auto copy = memory_suite();
  auto again = suite::import_jsonl(copy, first, "export.jsonl", {}, fuzz::origin(), false);
  fuzz::require(again.has_value(), again ? "" : "import of the export: " + again.error().message);
  fuzz::require(exported(copy) == first, "export -> import -> export changed the bytes");
  return 0;
}
