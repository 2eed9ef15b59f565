#include "scoring/evaluate.hpp"
#include "scoring/schema.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep::scoring;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Debian's json-schema-test-suite package: the official conformance suite.
const fs::path k_suite = "/usr/share/json-schema-test-suite/tests/draft7";

// Files of draft 7 whose features evalkeep refuses on purpose: references to other documents
// (nothing is fetched).
const std::set<std::string> k_refused_files = {"refRemote.json"};

json read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

} // namespace

TEST_CASE("JSON Schemas validate as the official draft 7 test suite says", "[scoring][schema]") {
  INFO("json-schema-test-suite must be installed: scripts/install-deps.sh installs it");
  REQUIRE(fs::exists(k_suite));
  std::size_t checked = 0, refused = 0;
  std::vector<std::string> wrong;
  for (const auto& entry : fs::directory_iterator(k_suite)) {
    if (entry.path().extension() != ".json" || k_refused_files.contains(entry.path().filename()))
      continue;
    for (const auto& group : read(entry.path())) {
      if (!check_schema(group["schema"])) {
        ++refused; // a remote $ref inside a local file
        continue;
      }
      for (const auto& test : group["tests"]) {
        auto v = validate_json(group["schema"], test["data"]);
        ++checked;
        if (!v || v->valid != test["valid"].get<bool>())
          wrong.push_back(fmt::format("{}: {}: {}", entry.path().filename().string(),
                                      group["description"].get<std::string>(),
                                      test["description"].get<std::string>()));
      }
    }
  }
  INFO(fmt::format("{} wrong of {}:\n{}", wrong.size(), checked, fmt::join(wrong, "\n")));
  CHECK(checked > 400);
  CHECK(refused <= 5);
  CHECK(wrong.empty());
}

TEST_CASE("a schema that is not one, or reaches for another document, is refused",
          "[scoring][schema]") {
  CHECK_FALSE(check_schema(json("text")));
  CHECK_FALSE(check_schema(json{{"type", 12}}));
  auto remote = check_schema(json{{"$ref", "https://example.com/schema.json"}});
  REQUIRE_FALSE(remote);
  CHECK_THAT(remote.error().message, Catch::Contains("fetches nothing"));
  json deep = json::object();
  for (int i = 0; i < 100; ++i)
    deep = json{{"items", deep}};
  CHECK_FALSE(check_schema(deep));
  CHECK(check_schema(
      json{{"$ref", "#/definitions/a"}, {"definitions", {{"a", {{"type", "string"}}}}}}));
}

TEST_CASE("a long text is not matched against a schema's pattern", "[scoring][schema]") {
  json schema{{"type", "string"}, {"pattern", "^(a|b)*$"}};
  auto ok = validate_json(schema, std::string(100, 'a'));
  REQUIRE(ok);
  CHECK(ok->valid);
  auto huge = validate_json(schema, std::string(100'000, 'a'));
  REQUIRE(huge);
  CHECK_FALSE(huge->valid);
  CHECK_THAT(huge->errors, Catch::Contains("longer than"));
}

TEST_CASE("an answer nested deeper than a recursive schema may follow fails without a crash",
          "[scoring][schema]") {
  json schema{{"type", "object"}, {"additionalProperties", {{"$ref", "#"}}}};
  json deep = json::object();
  for (int i = 0; i < 100'000; ++i) {
    json next = json::object();
    next["a"] = std::move(deep);
    deep = std::move(next);
  }
  auto v = validate_json(schema, deep);
  REQUIRE(v);
  CHECK_FALSE(v->valid);
  CHECK_THAT(v->errors, Catch::Contains("nested more than 256 levels"));
  auto shallow = validate_json(schema, json{{"a", {{"b", json::object()}}}});
  REQUIRE(shallow);
  CHECK(shallow->valid);
}

TEST_CASE("contains-json on an answer of unbalanced braces ends quickly", "[scoring][schema]") {
  // From every '{' the object that starts there is looked for: without a bound on that work,
  // these 400,000 characters take minutes.
  std::string braces = std::string(200'000, '{') + "x" + std::string(200'000, '}');
  auto a = parse_assertion("contains-json");
  REQUIRE(a);
  auto start = std::chrono::steady_clock::now();
  auto o = evaluate(*a, {braces + R"( and {"id": 1})", 0, std::nullopt});
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(o.passed);
  CHECK_THAT(o.reason, Catch::Contains("limit of work"));
  CHECK(took < std::chrono::seconds(10));
  CHECK(evaluate(*a, {R"(text {"id": 1} {"x")", 0, std::nullopt}).passed);
}
