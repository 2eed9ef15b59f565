#include "interop/csv.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::interop;

TEST_CASE("CSV fields may hold commas, quotes and line breaks", "[interop]") {
  auto t = parse_csv(
      "\xEF\xBB\xBFq, note \r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",x\r\n", "t.csv");
  REQUIRE(t);
  CHECK(t->header == std::vector<std::string>{"q", "note"});
  REQUIRE(t->rows.size() == 2);
  CHECK(t->rows[0].cells == std::vector<std::string>{"a, b", "say \"hi\""});
  CHECK(t->rows[0].line == 2);
  CHECK(t->rows[1].cells == std::vector<std::string>{"two\nlines", "x"});
  CHECK(t->rows[1].line == 4);
}

TEST_CASE("a malformed CSV file is an error naming its line", "[interop]") {
  struct Bad {
    std::string text, mentions;
  };
  for (const auto& [text, mentions] : std::vector<Bad>{
           {"a,b\n1,2\n\"open,3\n4,5\n", "t.csv:3: a quoted field is never closed"},
           {"a,b\n1,2\n1,2,3\n", "t.csv:3: 3 fields, but the header has 2 columns"},
           {"a,b\n1,x\"y\n", "t.csv:2: a quote inside an unquoted field"},
           {"a,b\n\"1\"x,2\n", "t.csv:2: text after the closing quote"},
           {"a,a\n1,2\n", "t.csv:1: the column 'a' appears twice"},
           {"", "t.csv: the file is empty"},
       }) {
    auto t = parse_csv(text, "t.csv");
    INFO(text);
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains(mentions));
  }
}
