#pragma once

// What the readers of other tools' formats share: the batch they build, what they leave out, and
// the mapping of the case facts every format can carry (the keys of promptfoo's test metadata).

#include "interop/import.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// What a reader needs besides the file: where references resolve, and the suite's incidents.
struct ReadContext {
  std::filesystem::path base_dir;
  std::set<std::string> suite_incidents;
};

/// What a reader builds: records ready for suite::import_batch and what it could not bring over.
struct Reading {
  suite::ImportBatch batch;
  std::vector<Skipped> skipped;
  std::set<std::pair<std::string, std::string>> skipped_seen; // (where, what) of those above
  std::set<std::string> case_ids;                 // ids used so far, to keep generated ones unique
  std::vector<GradingProvider> grading_providers; // each named once, where first named
};

/// A case as a reader assembles it, before the shared facts are applied.
struct CaseDraft {
  suite::Case c;            // input, assertions and title set by the reader
  std::string id;           // an explicit id, or empty
  std::string fallback_id;  // used when there is no explicit id (made unique with -2, -3, ...)
  std::string suffix;       // added to either, when one test gives several cases
  std::string where;        // FILE:LINE of the case in its file
  std::string format_label; // "promptfoo", "CSV", "OpenAI Evals": names the origin of the case
};

/// Records something left out, once, with its cause (Skipped::cause).
void skip(Reading& reading, std::string where, std::string what, std::string cause);

/// Whether a test's metadata key is one evalkeep reads into the case itself (case_id, incident,
/// incident_title, incident_date, incident_severity, incident_url, provenance, provenance_note,
/// tags, trials, min_pass_rate): an export writes it back from the case.
bool is_case_metadata_key(std::string_view key);

/// Applies the keys evalkeep reads from a case's metadata (case_id, incident, incident_title,
/// incident_date, incident_severity, incident_url, provenance, provenance_note, tags, trials,
/// min_pass_rate), checks the case and adds it to the reading. A new incident described by
/// incident_title is added once; a case without an incident or provenance gets provenance
/// `imported` naming FORMAT and FILE:LINE. Returns the metadata keys it did not use.
Result<std::vector<std::string>> add_case(Reading& reading, const ReadContext& ctx, CaseDraft draft,
                                          const nlohmann::json& metadata);

/// Sets the input from a conversation: one user message, after at most one system message,
/// becomes a prompt (with its system prompt); a longer conversation stays messages.
void set_input(suite::Case& c, std::vector<suite::Message> messages);

/// Reads a conversation ([{"role","content"}, ...]) with string contents; nullopt otherwise.
std::optional<std::vector<suite::Message>> as_messages(const nlohmann::json& j);

/// A readable id from free text (lowercase letters, digits and '-', at most 60 characters);
/// empty when nothing is left.
std::string slug(std::string_view text);

/// An RE2 pattern that matches `text` literally.
std::string quote_regex(std::string_view text);

/// Reads a file a configuration refers to; a missing file names where it was referred to.
Result<std::string> read_referenced(const std::filesystem::path& file,
                                    const std::string& referred_at);

/// Expands a file:// reference (a path or a glob, relative to `base`) into files, sorted. No
/// match is an error naming where the reference was.
Result<std::vector<std::filesystem::path>> expand_reference(std::string_view reference,
                                                            const std::filesystem::path& base,
                                                            const std::string& referred_at);

/// The readers, one per format.
Result<Reading> read_promptfoo(std::string_view text, const std::string& source,
                               const ReadContext& ctx);
Result<Reading> read_csv_cases(std::string_view text, const std::string& source,
                               const ReadContext& ctx);
Result<Reading> read_openai_evals(std::string_view text, const std::string& source,
                                  const ReadContext& ctx);

} // namespace evalkeep::interop
