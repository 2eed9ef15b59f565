#pragma once

#include "providers/transport.hpp"

#include <catch2/catch.hpp>

namespace evalkeep::test {

/// Sends one request through a real transport and waits (up to 10 s) for its response.
inline providers::HttpResponse exchange(providers::HttpRequest request) {
  auto transport = providers::Transport::make(1, 5, 10);
  REQUIRE(transport);
  (*transport)->start(1, std::move(request));
  for (int i = 0; i < 100; ++i)
    if (auto done = (*transport)->wait(100); !done.empty())
      return done[0];
  FAIL("the stand-in did not answer");
  return {};
}

} // namespace evalkeep::test
