#pragma once

#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::test {

/// The stand-in model server (tests/standin) on 127.0.0.1, on a free port, for one test.
class StandIn {
public:
  /// Starts it with these rules (JSON text; empty for the default answer), latency, the seed
  /// of its random choices (`--seed`) and any further flags (`--rpm 600`).
  explicit StandIn(const std::string& rules_json = {}, int latency_ms = 0, std::uint64_t seed = 1,
                   const std::vector<std::string>& flags = {});
  ~StandIn();
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;

  int port() const { return m_port; }
  /// "http://127.0.0.1:PORT/v1", the base URL an OpenAI-compatible provider uses.
  std::string openai_base() const;
  std::string base() const;
  /// GET /__stats, /__log; POST /__reset.
  nlohmann::json stats() const;
  nlohmann::json log() const;
  void reset() const;
  /// A POST of `body` to `path` (e.g. "/v1/files"): the status (0 when none came) and the body.
  std::pair<long, std::string> post(const std::string& path, const std::string& content_type,
                                    const std::string& body) const;
  /// How many model requests it has received.
  int requests() const { return stats()["requests"].get<int>(); }

private:
  TempDir m_dir;
  int m_pid = -1;
  int m_port = 0;
};

/// The evalkeep.toml table for a provider named NAME that talks to the stand-in.
std::string provider_table(const StandIn& s, const std::string& name = "local",
                           const std::string& type = "openai", const std::string& extra = {});

} // namespace evalkeep::test
