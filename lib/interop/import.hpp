#pragma once

#include "suite/interchange.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::interop {

/// The file formats `evalkeep import --from` reads.
enum class Format { evalkeep, promptfoo, csv, openai_evals };

std::optional<Format> parse_format(std::string_view name);
/// "evalkeep, promptfoo, csv, openai-evals", for help and errors.
std::string format_names();

/// Something in a file that evalkeep cannot bring over exactly, and where it is.
struct Skipped {
  std::string where; // FILE:LINE
  std::string what;
  /// What kind of thing it is, to count them by: "assert \"ruby\"", "options.provider", "no
  /// assertion", "scenarios", ...
  std::string cause;
  auto operator<=>(const Skipped&) const = default;
};

/// A grading provider a configuration names for its model-graded assertions (an assertion's
/// `provider`, a test's options.provider), which evalkeep does not keep: it grades with the run's
/// judge provider (evalkeep.toml `judge`, or --judge).
struct GradingProvider {
  std::string name;  // its id, or its JSON when it has none
  std::string where; // FILE:LINE where it is first named
};

/// At most this many things left out are listed one by one; past it, describe_skipped counts them.
inline constexpr std::size_t k_skipped_listed = 20;

/// The lines that tell what was left out, each starting with "\n  ": every item with its place,
/// or, past k_skipped_listed of them, their count by cause, each cause with its first place.
std::string describe_skipped(const std::vector<Skipped>& items);

struct ImportRequest {
  Format format = Format::evalkeep;
  std::string text;               // the file's bytes
  std::string source;             // its name in messages ("<stdin>" for standard input)
  std::filesystem::path base_dir; // where the file's own references (file://...) are resolved
  bool dry_run = false;
  bool skip_unsupported = false;
};

struct ImportReport {
  suite::ImportSummary summary;
  std::vector<Skipped> skipped;                   // with skip_unsupported: what was left out
  std::vector<GradingProvider> grading_providers; // each named, once, in the order first named
};

/// Imports a file of any format into the suite, all or nothing, through suite::import_batch, so
/// every format gets the same checks, policy and ledger events. Anything the file asks for that
/// evalkeep cannot check exactly refuses the import (exit 2), listing all of it, unless
/// `skip_unsupported`, which imports the rest and reports what was left out.
Result<ImportReport> import_file(suite::Suite& s, const ImportRequest& request,
                                 const suite::Policy& policy, const suite::Origin& origin);

} // namespace evalkeep::interop
