// `dump` on a damaged suite file (byte patches, fuzz_support.hpp): an error or a dump, never a
// crash; a file that still passes `verify` must dump.

#include "suite/dump.hpp"

#include "fuzz_support.hpp"
#include "suite/suite.hpp"
#include "suite/verify.hpp"

using namespace evalkeep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string pristine = fuzz::suite_bytes();
  const auto file = fuzz::scratch_dir() / "dump.db";
  std::string bytes = pristine;
  fuzz::apply_patches({data, size}, {&bytes});
  fuzz::write_bytes(file, bytes);
  auto s = suite::Suite::open_untrusted(file);
  if (!s)
    return 0;
  auto text = suite::dump(*s);
  auto report = suite::verify(*s);
  if (report && report->ok())
    fuzz::require(text.has_value(),
                  text ? "" : "a verified suite failed to dump: " + text.error().message);
  return 0;
}
