#include "interop/template.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::interop;
using nlohmann::json;

namespace {

std::string render(const std::string& text, const json& vars) {
  auto r = render_template(text, vars);
  INFO(text);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("templates render vars, paths and filters as Nunjucks does", "[interop]") {
  json vars = {{"name", "Ada"},       {"n", 3},         {"x", 1.0}, {"order", {{"id", "NW-1"}}},
               {"items", {"a", "b"}}, {"pad", "  hi  "}};
  CHECK(render("Hi {{name}}, {{ n }} items", vars) == "Hi Ada, 3 items");
  CHECK(render("{{ order.id }} {{ order['id'] }} {{ items[1] }}", vars) == "NW-1 NW-1 b");
  CHECK(render("{{ x }} {{ items }} {{ order }}", vars) == "1 a,b [object Object]");
  CHECK(render("{{ pad | trim | upper }}|{{ name | lower }}", vars) == "HI|ada");
  CHECK(render("{{ order | dump }}", vars) == R"({"id":"NW-1"})");
  CHECK(render("{{ missing }}-{{ missing | default('none') }}", vars) == "-none");
  CHECK(render("a {# note #}b", vars) == "a b");
  CHECK(render("a  {{- name -}}  b", vars) == "aAdab");
  CHECK(render("{% raw %}{{ name }}{% endraw %} {{ name }}", vars) == "{{ name }} Ada");
  // A tag left open makes promptfoo take the text as it is.
  CHECK(render("Hello {{ name", vars) == "Hello {{ name");
}

TEST_CASE("template features evalkeep does not render are errors naming them", "[interop]") {
  auto tag = render_template("{% if x %}y{% endif %}", json::object());
  REQUIRE_FALSE(tag);
  CHECK_THAT(tag.error().message, Catch::Contains("'{% if x %}' is not supported"));
  auto filter = render_template("{{ x | truncate(3) }}", json::object());
  REQUIRE_FALSE(filter);
  CHECK_THAT(filter.error().message, Catch::Contains("filter 'truncate(3)'"));
  auto env = render_template("key: {{ env.OPENAI_API_KEY }}", json::object());
  REQUIRE_FALSE(env);
  CHECK_THAT(env.error().message, Catch::Contains("reads the environment"));
}

TEST_CASE("a literal template renders back to the text it was made from", "[interop]") {
  for (std::string text : {"plain", "{{ a }} and {% b %}", "{# c #}", "x{y}z"}) {
    auto t = literal_template(text);
    REQUIRE_FALSE(t.empty());
    CHECK(render(t, json{{"a", "A"}}) == text);
  }
  CHECK(literal_template("{{ x }} {% endraw %}").empty());
}

TEST_CASE("template variables are found the way promptfoo finds them", "[interop]") {
  CHECK(template_variables("{{ a }} {{b.c}} {{ 'lit' }} {% if d %}{% endif %} {# {{ e }} #}") ==
        std::vector<std::string>{"a", "b", "d"});
}

TEST_CASE("template variables are scanned as promptfoo's pattern matches, edge by edge",
          "[interop]") {
  // Ground truth from promptfoo's pattern run by node: a greedy name and a lazy tail that runs
  // to the last tag on the line, an unclosed comment left as text, bytes that are not UTF-8, a
  // tag spread over lines, and a tail that cannot cross a line break.
  CHECK(template_variables("{{ name | upper }} {% if x%} {% for item in list %}") ==
        std::vector<std::string>{"name", "x"});
  CHECK(template_variables("{# open {{ a }}") == std::vector<std::string>{"a"});
  CHECK(template_variables("\xff{{ \xfe }}{{ ok }}") == std::vector<std::string>{"ok"});
  CHECK(template_variables("{%\nif\n  cond  %}") == std::vector<std::string>{"cond"});
  CHECK(template_variables("{% if a\nb %}") == std::vector<std::string>{"a"});
  CHECK(template_variables("{% if a b\nc %}").empty());
}

TEST_CASE("a 2 MB Nunjucks comment or tag is scanned without exhausting the stack", "[interop]") {
  std::string comment = "{# " + std::string(2 << 20, 'x') + " #}{{ after }}";
  CHECK(template_variables(comment) == std::vector<std::string>{"after"});
  std::string tag = "{% if " + std::string(2 << 20, 'y') + " %}";
  CHECK(template_variables(tag).size() == 1);
}
