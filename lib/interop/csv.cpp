#include "interop/csv.hpp"

#include <set>

namespace evalkeep::interop {

namespace {

// Reads RFC 4180 fields one at a time, counting lines for the errors it names.
struct Scanner {
  std::string_view text;
  const std::string& file;
  std::size_t i = 0;
  std::size_t line = 1;

  bool done() const { return i >= text.size(); }
  // At a field's end: a comma, a line break (LF or CRLF) or the end of the text.
  bool at_field_end() const {
    return done() || text[i] == ',' || text[i] == '\n' ||
           (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
  }

  Result<std::string> quoted() {
    std::string field;
    std::size_t opened_on = line;
    ++i;
    for (;;) {
      if (done())
        return invalid("{}:{}: a quoted field is never closed", file, opened_on);
      char c = text[i++];
      if (c == '"') {
        if (!done() && text[i] == '"') {
          field += '"';
          ++i;
          continue;
        }
        break;
      }
      if (c == '\n')
        ++line;
      field += c;
    }
    if (!at_field_end())
      return invalid("{}:{}: text after the closing quote of a field (write a quote inside "
                     "a quoted field as \"\")",
                     file, line);
    return field;
  }

  Result<std::string> unquoted() {
    std::string field;
    while (!at_field_end()) {
      if (text[i] == '"')
        return invalid("{}:{}: a quote inside an unquoted field (quote the whole field and "
                       "double the quote)",
                       file, line);
      field += text[i++];
    }
    return field;
  }

  // One record; `blank` when it is an empty line.
  Result<CsvTable::Row> row(bool& blank) {
    CsvTable::Row row;
    row.line = line;
    blank = true;
    for (;;) {
      bool quote = !done() && text[i] == '"';
      std::string field = TRY(quote ? quoted() : unquoted());
      blank = blank && !quote && field.empty();
      row.cells.push_back(std::move(field));
      if (done() || text[i] != ',')
        break;
      blank = false;
      ++i;
    }
    if (!done() && text[i] == '\r')
      ++i;
    if (!done() && text[i] == '\n')
      ++i;
    ++line;
    return row;
  }
};

// The first record names the columns; every other one must have as many fields.
Result<CsvTable> table_of(std::vector<CsvTable::Row> records, const std::string& file) {
  if (records.empty())
    return invalid("{}: the file is empty; a CSV file starts with a header row", file);
  CsvTable table;
  table.header = std::move(records.front().cells);
  std::set<std::string> seen;
  for (auto& name : table.header) {
    // Spreadsheets leave spaces around names; the name is what is between them.
    auto first = name.find_first_not_of(" \t");
    name = first == std::string::npos
               ? ""
               : name.substr(first, name.find_last_not_of(" \t") - first + 1);
    if (name.empty())
      return invalid("{}:{}: a column without a name in the header", file, records.front().line);
    if (!seen.insert(name).second)
      return invalid("{}:{}: the column '{}' appears twice in the header", file,
                     records.front().line, name);
  }
  for (std::size_t r = 1; r < records.size(); ++r) {
    auto& row = records[r];
    if (row.cells.size() != table.header.size())
      return invalid("{}:{}: {} fields, but the header has {} columns", file, row.line,
                     row.cells.size(), table.header.size());
    table.rows.push_back(std::move(row));
  }
  return table;
}

} // namespace

Result<CsvTable> parse_csv(std::string_view text, const std::string& file) {
  if (text.starts_with("\xEF\xBB\xBF"))
    text.remove_prefix(3);
  if (text.find('\0') != std::string_view::npos)
    return invalid("{}: NUL byte in the file; a CSV file is text", file);
  Scanner scan{text, file};
  std::vector<CsvTable::Row> records;
  while (!scan.done()) {
    bool blank = false;
    auto row = TRY(scan.row(blank));
    if (!blank)
      records.push_back(std::move(row));
  }
  return table_of(std::move(records), file);
}

} // namespace evalkeep::interop
