#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// The 1-based line of each node of a document, by JSON pointer ("/tests/3/assert/0").
using LineMap = std::map<std::string, int, std::less<>>;

/// Where a value was read: a file, the value's JSON pointer in it and the document's lines.
struct Where {
  std::string file;
  int line = 0;                         // of the whole value, when there is no line map
  std::string pointer;                  // "" for the document itself
  std::shared_ptr<const LineMap> lines; // null for a JSON line or a CSV row

  /// "FILE:LINE" of this value, or of the nearest enclosing node that has a line.
  std::string str() const;
  Where key(std::string_view k) const;
  Where index(std::size_t i) const;
};

/// A YAML (or JSON) document as JSON values, with where it was read. Mappings keep their keys in
/// the order of the text.
struct Document {
  nlohmann::ordered_json value;
  Where where;
};

/// Parses YAML the way promptfoo's loader reads it: plain scalars are typed by YAML 1.2's core
/// schema (null, booleans, numbers), quoted ones stay strings, merge keys (`<<`) apply (their keys
/// placed where the `<<` stands, as js-yaml places them); a key given twice keeps its first place
/// and its last value. A syntax
/// error is reported as "FILE:LINE:COLUMN: invalid YAML: ...".
Result<Document> parse_yaml(std::string_view text, const std::string& file);

} // namespace evalkeep::interop
