// The Retry-After and retry-after-ms header values: a wait, when there is one, is finite and not
// negative.

#include "fuzz_support.hpp"
#include "providers/retry.hpp"

#include <cmath>

using namespace evalkeep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value = fuzz::as_text(data, size);
  const std::time_t now = 1777629600; // 2026-05-01T10:00:00Z
  for (auto wait :
       {providers::parse_retry_after(value, now), providers::parse_retry_after_ms(value)})
    fuzz::require(!wait || (std::isfinite(*wait) && *wait >= 0), "a negative or infinite wait");
  return 0;
}
