#include "providers/transport.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;

TEST_CASE("a request libcurl refuses an option for fails closed and is never sent", "[providers]") {
  auto transport = providers::Transport::make(2, 1, 1);
  REQUIRE(transport);
  // libcurl refuses strings longer than 8,000,000 bytes (CURLE_BAD_FUNCTION_ARGUMENT).
  providers::HttpRequest request{"http://127.0.0.1:9/" + std::string(8'000'100, 'a'), {}, "{}"};
  (*transport)->start(7, request);
  CHECK((*transport)->active() == 1);
  auto done = (*transport)->wait(1000);
  REQUIRE(done.size() == 1);
  CHECK(done[0].token == 7);
  CHECK(done[0].status == 0);
  CHECK(done[0].transport_error == providers::ErrorClass::connection);
  CHECK(done[0].transport_message == "libcurl refused CURLOPT_URL: the request was not sent");
  CHECK((*transport)->active() == 0);
}
