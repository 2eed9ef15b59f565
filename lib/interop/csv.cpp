#include "interop/csv.hpp"

#include <set>

namespace evalkeep::interop {

Result<CsvTable> parse_csv(std::string_view text, const std::string& file) {
  if (text.starts_with("\xEF\xBB\xBF"))
    text.remove_prefix(3);
  if (text.find('\0') != std::string_view::npos)
    return invalid("{}: NUL byte in the file; a CSV file is text", file);
  std::vector<CsvTable::Row> records;
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    CsvTable::Row row;
    row.line = line;
    bool blank = true;
    for (;;) { // one field per pass
      std::string field;
      if (i < text.size() && text[i] == '"') {
        blank = false;
        std::size_t opened_on = line;
        ++i;
        for (;;) {
          if (i >= text.size())
            return invalid("{}:{}: a quoted field is never closed", file, opened_on);
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
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
        if (i < text.size() && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n'))
          return invalid("{}:{}: text after the closing quote of a field (write a quote inside "
                         "a quoted field as \"\")",
                         file, line);
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
          if (text[i] == '"')
            return invalid("{}:{}: a quote inside an unquoted field (quote the whole field and "
                           "double the quote)",
                           file, line);
          field += text[i++];
        }
        if (!field.empty())
          blank = false;
      }
      row.cells.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        blank = false;
        ++i;
        continue;
      }
      break;
    }
    if (i < text.size() && text[i] == '\r')
      ++i;
    if (i < text.size() && text[i] == '\n')
      ++i;
    ++line;
    if (!blank)
      records.push_back(std::move(row));
  }
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

} // namespace evalkeep::interop
