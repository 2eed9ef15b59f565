#include "core/terminal.hpp"

#include <catch2/catch.hpp>

using evalkeep::core::for_terminal;

TEST_CASE("text for a terminal keeps lines, tabs and UTF-8", "[terminal]") {
  CHECK(for_terminal("plain text") == "plain text");
  CHECK(for_terminal("two\nlines\tand a tab") == "two\nlines\tand a tab");
  CHECK(for_terminal("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80") ==
        "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80");
  CHECK(for_terminal("broken \xc3 utf-8 \xff") == "broken \xc3 utf-8 \xff");
  CHECK(for_terminal("") == "");
}

TEST_CASE("text for a terminal shows control characters instead of obeying them", "[terminal]") {
  CHECK(for_terminal("\x1b[2J\x1b[31mred") == "^[[2J^[[31mred");
  CHECK(for_terminal("bad\x1b]0;title\x07") == "bad^[]0;title^G");
  CHECK(for_terminal("over\rwrite") == "over^Mwrite");
  CHECK(for_terminal(std::string_view("nul\0byte", 8)) == "nul^@byte");
  CHECK(for_terminal("del\x7f") == "del^?");
  // C1 controls as UTF-8: U+009B is an 8-bit CSI, U+0085 a next-line.
  CHECK(for_terminal("csi\xc2\x9b"
                     "31m") == "csiM-^[31m");
  CHECK(for_terminal("nel\xc2\x85") == "nelM-^E");
  CHECK(for_terminal("a dangling \xc2") == "a dangling \xc2");
  CHECK(for_terminal("not C1: \xc2\xa0") == "not C1: \xc2\xa0");
}
