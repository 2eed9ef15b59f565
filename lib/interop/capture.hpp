#pragma once

// Reading one logged model exchange (an OpenAI Chat Completions request/response pair, or an
// OpenTelemetry GenAI span in OTLP JSON) into a draft case: the request becomes the case's input,
// the logged answer its evidence, and what went wrong a few proposed assertions.

#include "core/error.hpp"
#include "scoring/assertion.hpp"
#include "suite/model.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// Which exchange of a file to capture: by its line in a JSONL file (1-based), by an id it
/// carries (the response's id, an OTel trace id, span id or "TRACE/SPAN"), or both.
struct CaptureSelector {
  std::optional<std::size_t> line;
  std::optional<std::string> id_match;
};

/// An assertion proposed from what went wrong, with one line saying why.
struct Proposal {
  scoring::Assertion assertion;
  std::string spec; // the command-line form, for --expect
  std::string why;
};

/// A captured exchange. `draft` holds the input (prompt and system, or messages; tools and
/// tool_choice) and the evidence; its id, assertions and provenance are left to the caller.
struct Capture {
  suite::Case draft;
  std::vector<Proposal> proposals;
  std::string exchange_id; // as recorded in the evidence's "id"; may be empty
  std::string format;      // "OpenAI chat completion" or "OpenTelemetry GenAI span"
  std::size_t line = 0;    // the exchange's line in a JSONL file; 0 for a one-document file
  const nlohmann::json& evidence() const { return draft.evidence; }
};

/// Reads the exchange `sel` picks out of `text`, the contents of the file named `source` (as the
/// user gave it, recorded in the evidence). Anything but the two formats is refused naming the
/// file (and line); a file of several exchanges needs a selector. Errors are exit 2.
Result<Capture> read_capture(std::string_view text, const std::string& source,
                             const CaptureSelector& sel);

/// The assertions proposed for a logged answer that made these calls: no-tool-call:NAME for each
/// tool it called, or max-tool-calls:N when it called a tool over and over.
std::vector<Proposal> propose_assertions(const std::vector<core::ToolCall>& calls);

} // namespace evalkeep::interop
