// The order of an object's keys as promptfoo's JavaScript sees it: array-index keys ascending,
// then the others in the order they were set. Loops over objects, dump (JSON.stringify) and
// dictsort depend on it.

#include "interop/reading.hpp"
#include "interop/template.hpp"
#include "interop/template_values.hpp"
#include "interop/yaml_tree.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::interop;
using nlohmann::ordered_json;

namespace {

std::string render(const std::string& text, const ordered_json& vars) {
  auto r = render_template(text, vars);
  INFO(text);
  if (!r)
    INFO(r.error().message);
  REQUIRE(r);
  return *r;
}

std::string render_error(const std::string& text, const ordered_json& vars) {
  auto r = render_template(text, vars);
  INFO(text);
  REQUIRE_FALSE(r);
  return r.error().message;
}

ordered_json parsed(const std::string& text) {
  return ordered_json::parse(text);
}

} // namespace

TEST_CASE("array-index keys are the canonical decimals JavaScript orders first", "[interop]") {
  for (const char* key : {"0", "1", "10", "4294967294"})
    CHECK(js::is_array_index(key));
  for (const char* key :
       {"", "01", "00", "-1", "+1", "1.0", "1e3", " 1", "4294967295", "99999999999", "a1", "1a"})
    CHECK_FALSE(js::is_array_index(key));
}

TEST_CASE("own_order puts index keys first in numeric order and keeps the rest as set",
          "[interop]") {
  auto v = parsed(R"({"b":1,"10":2,"a":{"z":0,"2":0,"1":0},"2":4,"01":5,"1":[{"y":0,"0":0}]})");
  CHECK(js::needs_own_order(v));
  js::own_order(v);
  CHECK(v.dump() == R"({"1":[{"0":0,"y":0}],"2":4,"10":2,"b":1,"a":{"1":0,"2":0,"z":0},"01":5})");
  CHECK_FALSE(js::needs_own_order(v));
  auto plain = parsed(R"({"z":1,"y":{"b":2,"a":3}})");
  CHECK_FALSE(js::needs_own_order(plain));
}

TEST_CASE("a loop over an object visits its keys in JavaScript's order", "[interop]") {
  ordered_json vars = {
      {"scores", parsed(R"({"tone":4,"10":"x","accuracy":5,"2":"y","a":1,"1":"z"})")}};
  CHECK(render("{% for k, v in scores %}{{ k }}={{ v }}{% if not loop.last %}, {% endif %}"
               "{% endfor %}",
               vars) == "1=z, 2=y, 10=x, tone=4, accuracy=5, a=1");
  CHECK(render("{% for k, v in scores %}{{ loop.index }}{{ loop.revindex }}{% endfor %}", vars) ==
        "162534435261");
  // The vars of a render are ordered even when given out of JavaScript's order.
  ordered_json unordered = {{"o", {{"b", 1}, {"3", 2}, {"a", 3}}}};
  CHECK(render("{% for k, v in o %}{{ k }}{% endfor %}", unordered) == "3ba");
}

TEST_CASE("dump prints what JSON.stringify prints, keys in order", "[interop]") {
  ordered_json vars = {
      {"messages", parsed(R"([{"role":"system","content":"Be brief."},
                              {"role":"user","content":"Say \"hi\"\n\tthen\u0001 stop é \u2028"}])")},
      {"nested", parsed(R"({"user":{"name":"Ada","id":7},"tags":["a",{"z":1,"0":2}],"ok":true,
                            "none":null})")},
      {"numbers", parsed(R"({"int":3,"float":1.0,"tenth":0.1,"big":1e21,"small":1e-7,
                             "neg":-0.0,"past53":9007199254740993,"exp":1.5e300})")}};
  CHECK(
      render("{{ messages | dump }}", vars) ==
      R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Say \"hi\"\n\tthen\u0001 stop é )"
      "\xE2\x80\xA8"
      R"("}])");
  CHECK(render("{{ nested | dump }}", vars) ==
        R"({"user":{"name":"Ada","id":7},"tags":["a",{"0":2,"z":1}],"ok":true,"none":null})");
  CHECK(render("{{ nested.user | dump(2) }}", vars) == "{\n  \"name\": \"Ada\",\n  \"id\": 7\n}");
  CHECK(render("{{ nested.tags | dump('\\t') }}", vars) ==
        "[\n\t\"a\",\n\t{\n\t\t\"0\": 2,\n\t\t\"z\": 1\n\t}\n]");
  CHECK(render("{{ numbers | dump }}", vars) ==
        R"({"int":3,"float":1,"tenth":0.1,"big":1e+21,"small":1e-7,"neg":0,)"
        R"("past53":9007199254740992,"exp":1.5e+300})");
  CHECK(render("{{ {} | dump(2) }}|{{ [] | dump }}|{{ {b: 1, a: [1, 2]} | dump }}", vars) ==
        R"({}|[]|{"b":1,"a":[1,2]})");
}

TEST_CASE("object literals and load keep JavaScript's key order", "[interop]") {
  ordered_json vars = {{"text", R"({"z":1,"1":2,"y":{"b":0,"a":0}})"}};
  CHECK(render("{% set o = {b: 1, a: 2, '7': 3, b: 4} %}{{ o | dump }}", vars) ==
        R"({"7":3,"b":4,"a":2})");
  CHECK(render("{{ text | load | dump }}", vars) == R"({"1":2,"z":1,"y":{"b":0,"a":0}})");
}

TEST_CASE("dictsort keeps the object's order for keys that tie", "[interop]") {
  ordered_json vars = {{"votes", parsed(R"({"pear":2,"apple":1,"fig":2,"Kiwi":1,"date":3})")},
                       {"mixed", parsed(R"({"a":1,"b":"x"})")}};
  CHECK(render("{% for k, v in votes | dictsort(false, 'value') %}{{ k }}{{ v }} {% endfor %}",
               vars) == "apple1 Kiwi1 pear2 fig2 date3 ");
  CHECK(render("{% for k, v in votes | dictsort %}{{ k }} {% endfor %}", vars) ==
        "apple date fig Kiwi pear ");
  CHECK(render("{% for k, v in votes | dictsort(true) %}{{ k }} {% endfor %}", vars) ==
        "Kiwi apple date fig pear ");
  CHECK_THAT(render_error("{{ mixed | dictsort(false, 'value') }}", vars),
             Catch::Contains("cannot order"));
}

TEST_CASE("list, urlencode and groupby see the object's order", "[interop]") {
  ordered_json vars = {
      {"form", parsed(R"({"q":"a b","2":"two","lang":"en"})")},
      {"rows",
       parsed(R"([{"n":"a","g":"x"},{"n":"b","g":10},{"n":"c","g":2},{"n":"d","g":"x"}])")}};
  CHECK(render("{% for p in form | list %}{{ p.key }}:{{ p.value }};{% endfor %}", vars) ==
        "2:two;q:a b;lang:en;");
  CHECK(render("{{ form | urlencode }}", vars) == "2=two&q=a%20b&lang=en");
  CHECK(render("{% for g, items in rows | groupby('g') %}{{ g }}={{ items | length }} "
               "{% endfor %}",
               vars) == "2=1 10=1 x=2 ");
}

TEST_CASE("YAML mappings keep the order of the text", "[interop]") {
  auto doc = parse_yaml("z: 1\n'10': 2\na: 3\n'2': 4\nz: 5\n", "order.yaml");
  REQUIRE(doc);
  CHECK(doc->value.dump() == R"({"z":5,"10":2,"a":3,"2":4})");
  // js-yaml puts a merge key's keys where the `<<` stands; keys set later keep that place.
  auto merged = parse_yaml("base: &b {x: 1, y: 2, w: 0}\n"
                           "use:\n  a: 0\n  w: 9\n  <<: *b\n  y: 3\n  c: 4\n",
                           "merge.yaml");
  REQUIRE(merged);
  CHECK(merged->value["use"].dump() == R"({"a":0,"w":9,"x":1,"y":3,"c":4})");
  auto json_doc = parse_yaml(R"({"b": 1, "a": {"d": 1, "c": 2}})", "order.json");
  REQUIRE(json_doc);
  CHECK(render("{{ v | dump }}", {{"v", json_doc->value}}) == R"({"b":1,"a":{"d":1,"c":2}})");
}

TEST_CASE("a hostile nesting depth is refused, not ordered to the stack's end", "[interop]") {
  std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  ordered_json vars = {{"deep", deep}};
  CHECK_THAT(render_error("{{ deep | load | length }}", vars), Catch::Contains("nested deeper"));
  std::string objects;
  for (int i = 0; i < 100'000; ++i)
    objects += R"({"b":0,"1":)";
  objects += "0" + std::string(100'000, '}');
  auto nested = parsed(objects);
  js::own_order(nested); // the outer levels ordered, the rest left alone
  CHECK(nested.begin().key() == "1");
  CHECK_FALSE(js::needs_own_order(nested));
}

TEST_CASE("load refuses JSON nested deeper than a configuration is", "[interop]") {
  std::string objects;
  for (int i = 0; i < 100'000; ++i)
    objects += R"({"b":0,"1":)";
  objects += "0" + std::string(100'000, '}');
  ordered_json vars = {{"deep", objects}};
  CHECK_THAT(render_error("{{ deep | load | length }}", vars), Catch::Contains("nested deeper"));
}

TEST_CASE("a JSON line of tests nested deeper than a configuration is refused with its place",
          "[interop]") {
  evalkeep::test::TempDir dir;
  std::string deep;
  for (int i = 0; i < 100'000; ++i)
    deep += R"({"1":)";
  deep += "0" + std::string(100'000, '}');
  evalkeep::test::write_file(
      dir / "tests.jsonl",
      R"({"vars": {"q": "hi"}, "assert": [{"type": "contains", "value": "x"}]})"
      "\n{\"vars\": {\"q\": " +
          deep + R"(, "b": 1}})" + "\n");
  ReadContext ctx{dir.path(), {}};
  auto r = read_promptfoo("prompts: ['{{ q }}']\ntests: file://tests.jsonl\n",
                          (dir / "promptfooconfig.yaml").string(), ctx);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("tests.jsonl:2: nested more than 200 levels deep"));
}
