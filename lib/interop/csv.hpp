#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::interop {

/// A CSV file: its header and its rows, each with the line it starts on.
struct CsvTable {
  struct Row {
    std::size_t line = 0;
    std::vector<std::string> cells; // one per header column
  };
  std::vector<std::string> header;
  std::vector<Row> rows;
};

/// Parses CSV as RFC 4180 writes it: a header row, then rows of as many fields; a quoted field
/// may hold commas, line breaks and doubled quotes. LF or CRLF line endings; a UTF-8 byte-order
/// mark is skipped; blank lines are ignored. Errors name FILE:LINE.
Result<CsvTable> parse_csv(std::string_view text, const std::string& file);

} // namespace evalkeep::interop
