// The merge driver on three damaged suite files: base, ours (one case more) and theirs (an
// incident and a case more), patched by the input (fuzz_support.hpp; an odd first byte makes the
// base an empty file, as for files with no common ancestor). A clean merge leaves an `ours` that
// passes `verify`; a conflict or an error leaves `ours` exactly as it was.

#include "suite/merge.hpp"

#include "fuzz_support.hpp"
#include "suite/suite.hpp"
#include "suite/verify.hpp"

using namespace evalkeep;

namespace {

const char* const k_ours_case =
    R"({"type":"case","id":"ours-only","prompt":"Ours?","expect":[{"type":"contains","value":"yes"}],)"
    R"("provenance":{"kind":"spec","note":"ours"}})";
const char* const k_theirs_records =
    R"({"type":"incident","id":"INC-900","title":"Theirs"})"
    "\n"
    R"({"type":"case","id":"theirs-only","prompt":"Theirs?","expect":[{"type":"icontains","value":"no"}],)"
    R"("incident":"INC-900"})";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string base_bytes = fuzz::suite_bytes();
  static const std::string ours_bytes = fuzz::suite_bytes(k_ours_case);
  static const std::string theirs_bytes = fuzz::suite_bytes(k_theirs_records);
  if (size == 0)
    return 0;
  std::string base = data[0] % 2 ? std::string() : base_bytes;
  std::string ours = ours_bytes, theirs = theirs_bytes;
  fuzz::apply_patches({data + 1, size - 1}, {&base, &ours, &theirs});
  const auto& dir = fuzz::scratch_dir();
  fuzz::write_bytes(dir / "base.db", base);
  fuzz::write_bytes(dir / "ours.db", ours);
  fuzz::write_bytes(dir / "theirs.db", theirs);
  auto merged = suite::merge_suites(dir / "base.db", dir / "ours.db", dir / "theirs.db");
  if (!merged || !merged->conflicts.empty()) {
    fuzz::require(fuzz::read_bytes(dir / "ours.db") == ours, "a failed merge changed ours");
    return 0;
  }
  auto s = suite::Suite::open_untrusted(dir / "ours.db");
  fuzz::require(s.has_value(), s ? "" : "open the merged suite: " + s.error().message);
  auto report = suite::verify(*s);
  fuzz::require(report && report->ok(), "the merged suite fails verify");
  return 0;
}
