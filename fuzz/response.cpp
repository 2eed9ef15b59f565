// A provider's HTTP response (FUZZ_KIND: openai or anthropic): the first byte picks the status,
// the rest is the body.

#include "fuzz_support.hpp"
#include "providers/provider.hpp"

using namespace evalkeep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr long k_statuses[] = {200, 201, 400, 401, 403, 404, 408, 413,
                                        429, 500, 502, 503, 504, 529, 302, 0};
  if (size == 0)
    return 0;
  long status = k_statuses[data[0] % std::size(k_statuses)];
  std::string body(fuzz::as_text(data + 1, size - 1));
  auto reply = providers::parse_response(providers::Kind::FUZZ_KIND, status, body);
  fuzz::require(status / 100 == 2 || reply.error != providers::ErrorClass::none,
                "an error status read as an answer");
  return 0;
}
