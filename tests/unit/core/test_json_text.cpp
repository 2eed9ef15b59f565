#include "core/json_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::core::string_array;
using strings = std::vector<std::string>;

TEST_CASE("a JSON array of strings reads the same with or without escapes", "[core]") {
  CHECK(string_array("[]") == strings{});
  CHECK(string_array(R"(["billing"])") == strings{"billing"});
  CHECK(string_array(R"(["a","b-c","é ☃",""])") == strings{"a", "b-c", "é ☃", ""});
  CHECK(string_array(R"([",","]"])") == strings{",", "]"});
  // Escapes, spaces and other values go through the JSON parser, which gives the same strings.
  CHECK(string_array(R"(["say \"hi\"","tab\there","\u00e9"])") ==
        strings{"say \"hi\"", "tab\there", "é"});
  CHECK(string_array(R"([ "a" , "b" ])") == strings{"a", "b"});
  CHECK(string_array(R"(["a",1,null,"b"])") == strings{"a", "b"});
  for (const auto& tags : {strings{"x"}, strings{"one", "two", "three"}, strings{"q\"uote", "k"}})
    CHECK(string_array(nlohmann::json(tags).dump()) == tags);
}

TEST_CASE("what is not an array of strings reads as no strings", "[core]") {
  for (const char* bad : {"", "[", "]", "null", "{}", R"("a")", R"(["a",])", R"(["a""b"])",
                          R"(["a"x])", R"(["a)", R"([,"a"])", "[\"a\nb\"]",
                          // not UTF-8: a stored list holding it would not write back as JSON
                          "[\"\xff\xfe\"]", "[\"ok\",\"\xc3\"]"})
    CHECK(string_array(bad) == strings{});
}

TEST_CASE("JSON text's depth counts its lists and objects, not brackets inside its strings",
          "[core]") {
  using evalkeep::core::json_depth;
  CHECK(json_depth("") == 0);
  CHECK(json_depth("42") == 0);
  CHECK(json_depth("[]") == 1);
  CHECK(json_depth(R"({"a": [1, {"b": []}], "c": {}})") == 4);
  CHECK(json_depth(R"({"a": "[[[{{", "b": [{"c": "\"]"}]})") == 3);
  CHECK(json_depth(R"(["\\", ["x"]])") == 2); // an escaped backslash ends no string
  CHECK(json_depth(std::string(500, '[') + std::string(500, ']')) == 500);
  CHECK(json_depth("]]]}}[") == 1); // unbalanced closers never go below the top
}
