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
  auto operator<=>(const Skipped&) const = default;
};

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
  std::vector<Skipped> skipped; // with skip_unsupported: what was left out
};

/// Imports a file of any format into the suite, all or nothing, through suite::import_batch, so
/// every format gets the same checks, policy and ledger events. Anything the file asks for that
/// evalkeep cannot check exactly refuses the import (exit 2), listing all of it, unless
/// `skip_unsupported`, which imports the rest and reports what was left out.
Result<ImportReport> import_file(suite::Suite& s, const ImportRequest& request,
                                 const suite::Policy& policy, const suite::Origin& origin);

} // namespace evalkeep::interop
