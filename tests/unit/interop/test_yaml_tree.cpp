#include "interop/yaml_tree.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::interop;
using nlohmann::json;

TEST_CASE("YAML values are typed as promptfoo's loader types them", "[interop]") {
  auto doc = parse_yaml("a: 3\nb: 0.5\nc: true\nd: ~\ne: \"3\"\nf: 2026-03-02\ng: 'yes'\nh: no\n",
                        "c.yaml");
  REQUIRE(doc);
  CHECK(doc->value["a"] == 3);
  CHECK(doc->value["b"] == 0.5);
  CHECK(doc->value["c"] == true);
  CHECK(doc->value["d"].is_null());
  CHECK(doc->value["e"] == "3");          // quoted: text
  CHECK(doc->value["f"] == "2026-03-02"); // a date stays text
  CHECK(doc->value["g"] == "yes");
  CHECK(doc->value["h"] == "no"); // YAML 1.2: only true and false are booleans
}

TEST_CASE("YAML merge keys fill in what a mapping does not set", "[interop]") {
  auto doc = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "c.yaml");
  REQUIRE(doc);
  CHECK(doc->value["use"] == json({{"x", 1}, {"y", 3}}));
}

TEST_CASE("every node of a YAML document knows its line", "[interop]") {
  auto doc = parse_yaml("tests:\n  - vars: {q: hi}\n    assert:\n      - type: contains\n"
                        "        value: hi\n      - type: equals\n        value: x\n",
                        "t.yaml");
  REQUIRE(doc);
  auto tests = doc->where.key("tests");
  CHECK(tests.index(0).str() == "t.yaml:2");
  CHECK(tests.index(0).key("assert").index(1).str() == "t.yaml:6");
  // A node without a line of its own reports its nearest ancestor's.
  CHECK(tests.index(0).key("nowhere").str() == "t.yaml:2");
}

TEST_CASE("a YAML syntax error names the file, line and column", "[interop]") {
  auto doc = parse_yaml("prompts:\n  - ok\ntests:\n  - vars: {q: [unclosed\n", "bad.yaml");
  REQUIRE_FALSE(doc);
  CHECK_THAT(doc.error().message, Catch::StartsWith("bad.yaml:"));
  CHECK_THAT(doc.error().message, Catch::Contains("invalid YAML"));
  auto tabs = parse_yaml("a: 1\n b: 2\n", "indent.yaml");
  REQUIRE_FALSE(tabs);
  CHECK_THAT(tabs.error().message, Catch::StartsWith("indent.yaml:2:"));
}

TEST_CASE("JSON with surrogate-pair escapes reads as the characters they stand for", "[interop]") {
  auto doc = parse_yaml(R"({"q": "smile \ud83d\ude00", "e": "\u00e9\\ud83d", "x": "\uD834\uDD1E"})",
                        "c.json");
  REQUIRE(doc);
  CHECK(doc->value["q"] == "smile \xF0\x9F\x98\x80");
  CHECK(doc->value["e"] == "\xC3\xA9\\ud83d"); // an escaped backslash is not an escape
  CHECK(doc->value["x"] == "\xF0\x9D\x84\x9E");
  // YAML text is read as YAML: a single-quoted \u is two characters and a u.
  auto yaml = parse_yaml("q: '\\ud83d\\ude00'\n", "c.yaml");
  REQUIRE(yaml);
  CHECK(yaml->value["q"] == "\\ud83d\\ude00");
}

TEST_CASE("a '?' inside text in a flow mapping is part of the text, as YAML 1.2 reads it",
          "[interop]") {
  auto doc = parse_yaml("vars: {q: Can I cancel?, tone: friendly, u: 'why?'}\n"
                        "list: [Is it open?, 'yes?', ok]\n"
                        "block: Really? Yes.\n"
                        "? explicit\n"
                        ": key\n",
                        "c.yaml");
  REQUIRE(doc);
  CHECK(doc->value["vars"] == json({{"q", "Can I cancel?"}, {"tone", "friendly"}, {"u", "why?"}}));
  CHECK(doc->value["list"] == json({"Is it open?", "yes?", "ok"}));
  CHECK(doc->value["block"] == "Really? Yes.");
  CHECK(doc->value["explicit"] == "key"); // the key indicator keeps its meaning
  CHECK(doc->where.key("list").str() == "c.yaml:2");
}

TEST_CASE("a document whose aliases multiply past the limit of values is refused, not expanded",
          "[interop]") {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string prev = std::string("*") + static_cast<char>(c - 1);
    text += std::string(1, c) + ": &" + c + " [" + prev;
    for (int i = 1; i < 10; ++i)
      text += ", " + prev;
    text += "]\n";
  }
  auto doc = parse_yaml(text, "bomb.yaml");
  REQUIRE_FALSE(doc);
  CHECK_THAT(doc.error().message,
             Catch::Contains("bomb.yaml:") && Catch::Contains("more than 500000 values"));
}
