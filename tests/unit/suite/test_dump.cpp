#include "suite/cases.hpp"
#include "suite/dump.hpp"
#include "suite/interchange.hpp"
#include "suite/retirement.hpp"
#include "support/suite_fixture.hpp"

#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

namespace {

std::string dump_text(Suite& s) {
  auto text = dump(s);
  REQUIRE(text);
  return *text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// Reads back the value of `key` in the block headed `head`, as a reader of the dump would: the
// text after "  key: " (or nothing after "  key:"), then each "  | line" or "  |" that follows.
std::optional<std::string> read_field(const std::string& text, const std::string& head,
                                      const std::string& key) {
  auto lines = lines_of(text);
  std::size_t i = 0;
  while (i < lines.size() && lines[i] != head)
    ++i;
  for (++i; i < lines.size() && lines[i].starts_with("  "); ++i) {
    const auto& line = lines[i];
    std::string prefix = "  " + key + ":";
    if (!line.starts_with(prefix))
      continue;
    std::string value = line.substr(prefix.size());
    if (!value.empty()) {
      REQUIRE(value.front() == ' ');
      value.erase(0, 1);
    }
    for (++i; i < lines.size() && lines[i].starts_with("  |"); ++i) {
      std::string rest = lines[i].substr(3);
      if (!rest.empty()) {
        REQUIRE(rest.front() == ' ');
        rest.erase(0, 1);
      }
      value += "\n" + rest;
    }
    return value;
  }
  return std::nullopt;
}

Case spec_case(std::string id, std::string prompt, std::vector<std::string> expect) {
  return test::make_case(std::move(id), "", std::move(prompt), std::move(expect));
}

} // namespace

TEST_CASE("dump shows incidents, cases, decisions and the ledger as text lines", "[suite][dump]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto c = spec_case("tone-apology", "", {"not-contains:unfortunately", "max-length:400"});
  c.prompt.reset();
  c.messages = {{"system", "You are a support agent."}, {"user", "My order is late."}};
  c.tags = {"tone", "billing"};
  c.title = "No canned apologies";
  c.trials = 3;
  c.min_pass_rate = 0.67;
  test::add_case(s, c);

  auto text = dump_text(s);
  CHECK(text.starts_with("# evalkeep suite, schema version 4\n"));
  CHECK_THAT(text, Catch::Contains("\nincident INC-7\n"
                                   "  title: Refund promised outside policy\n"
                                   "  date: 2026-03-02\n"
                                   "  severity: high\n"
                                   "\ncase refund-window\n"
                                   "  status: active\n"
                                   "  incident: INC-7\n"
                                   "  prompt: Can I get a refund after 45 days?\n"
                                   "  expect: icontains:30 days\n"
                                   "\ncase tone-apology\n"
                                   "  status: active\n"
                                   "  provenance: spec:style guide 2.1\n"
                                   "  tags: billing, tone\n"
                                   "  title: No canned apologies\n"
                                   "  [system] You are a support agent.\n"
                                   "  [user] My order is late.\n"
                                   "  expect: not-contains:unfortunately\n"
                                   "  expect: max-length:400\n"
                                   "  trials: 3\n"
                                   "  min_pass_rate: 0.67\n"
                                   "\nevent 1\n"));
  CHECK_FALSE(text.ends_with("\n\n"));
  CHECK(text.ends_with("\n"));
}

TEST_CASE("dump gives the same bytes every time and leaves the file as it was", "[suite][dump]") {
  test::TempDir dir;
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    test::add_case(s, spec_case("tone-apology", "My order is late.", {"contains:sorry"}));
  }
  auto before = test::file_hash(test::suite_path(dir));
  auto s = Suite::open_untrusted(test::suite_path(dir));
  REQUIRE(s);
  auto first = dump_text(*s);
  CHECK(dump_text(*s) == first);
  auto again = Suite::open_untrusted(test::suite_path(dir));
  REQUIRE(again);
  CHECK(dump_text(*again) == first);
  CHECK(test::file_hash(test::suite_path(dir)) == before);
}

TEST_CASE("two suites with the same content built in different orders dump the same bytes",
          "[suite][dump]") {
  test::TempDir dir_a, dir_b, dir_c;
  auto a = test::empty_suite(dir_a);
  test::add_incident(a, "INC-1", "one");
  test::add_incident(a, "INC-2", "two");
  test::add_case(a, test::make_case("b-case", "INC-2"));
  test::add_case(a, test::make_case("a-case", "INC-1", "Line one\nline two"));
  test::add_case(a, spec_case("c-case", "Third", {"is-json", "json-path:/x=1"}));
  RetireRequest req{.case_id = "c-case",
                    .reason = "feature-removed",
                    .rationale = "the feature is gone",
                    .decided_by = {},
                    .approved_by = {},
                    .superseded_by = {},
                    .revisit = {}};
  REQUIRE(retire(a, req, {}, origin()));

  SECTION("the same records added through the library in another order") {
    auto b = test::empty_suite(dir_b);
    test::add_incident(b, "INC-2", "two");
    test::add_incident(b, "INC-1", "one");
    test::add_case(b, spec_case("c-case", "Third", {"is-json", "json-path:/x=1"}));
    test::add_case(b, test::make_case("a-case", "INC-1", "Line one\nline two"));
    test::add_case(b, test::make_case("b-case", "INC-2"));
    REQUIRE(retire(b, req, {}, origin()));
    // Everything but the ledger, whose events are in a different order, is the same.
    auto ta = dump_text(a), tb = dump_text(b);
    CHECK(ta.substr(0, ta.find("\nevent 1\n")) == tb.substr(0, tb.find("\nevent 1\n")));
    CHECK(ta != tb);
  }
  SECTION("every row, ledger included, copied into a new file in reverse order") {
    auto c = test::empty_suite(dir_c);
    REQUIRE(c.db().exec(fmt::format("ATTACH '{}' AS src", test::suite_path(dir_a).string())));
    REQUIRE(c.db().exec("BEGIN;"
                        "INSERT INTO incidents SELECT * FROM src.incidents ORDER BY id DESC;"
                        "INSERT INTO retirements SELECT * FROM src.retirements ORDER BY case_id "
                        "DESC;"
                        "INSERT INTO cases SELECT * FROM src.cases ORDER BY id DESC;"
                        "INSERT INTO ledger SELECT * FROM src.ledger ORDER BY seq DESC;"
                        "COMMIT;"));
    REQUIRE(c.db().exec("DETACH src"));
    CHECK(dump_text(c) == dump_text(a));
  }
}

TEST_CASE("a multi-line prompt reads back exactly from the dump", "[suite][dump]") {
  const std::string tricky[] = {
      "first line\nsecond line",
      "ends with a newline\n",
      "\nstarts with an empty line",
      "a blank\n\nline between",
      "looks like fields\n  expect: contains:x\n| a pipe\n  | an indented pipe",
      "  leading spaces\n    kept\ttabs too",
  };
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  for (std::size_t i = 0; i < std::size(tricky); ++i)
    test::add_case(s, spec_case(fmt::format("case-{}", i), tricky[i], {"contains:ok"}));
  auto text = dump_text(s);
  for (std::size_t i = 0; i < std::size(tricky); ++i) {
    INFO("prompt " << i);
    CHECK(read_field(text, fmt::format("case case-{}", i), "prompt") == tricky[i]);
    CHECK(read_field(text, fmt::format("case case-{}", i), "expect") == "contains:ok");
  }
  // Every line is a head, a field, a continuation, blank, or the header.
  for (const auto& line : lines_of(text)) {
    INFO(line);
    CHECK((line.empty() || line.starts_with("# ") || line.starts_with("case ") ||
           line.starts_with("event ") || line.starts_with("  |") ||
           (line.starts_with("  ") && line[2] != ' ' && line.find(':') != std::string::npos)));
    CHECK_FALSE(line.ends_with(" "));
  }
  CHECK_THAT(text, Catch::Contains("  prompt: first line\n  | second line\n"));
  CHECK_THAT(text, Catch::Contains("  prompt: a blank\n  |\n  | line between\n"));
  CHECK_THAT(text, Catch::Contains("  prompt:\n  | starts with an empty line\n"));
}

TEST_CASE("a purged tombstone shows its content hash and no input", "[suite][dump]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto hash = get_case(s, "refund-window");
  REQUIRE(hash);
  RetireRequest req{.case_id = "refund-window",
                    .reason = "feature-removed",
                    .rationale = "refunds are gone",
                    .decided_by = "Lee <lee@example.com>",
                    .approved_by = "Kim <kim@example.com>",
                    .superseded_by = {},
                    .revisit = "2026-12-01"};
  REQUIRE(retire(s, req, {}, origin()));
  REQUIRE(remove_case(s, "refund-window", true, origin()));
  auto tombstone = get_case(s, "refund-window");
  REQUIRE(tombstone);
  REQUIRE(tombstone->purged);

  auto text = dump_text(s);
  CHECK_THAT(text, Catch::Contains("\ncase refund-window\n"
                                   "  status: removed\n"
                                   "  incident: INC-7\n"
                                   "  purged: yes\n"
                                   "  content_hash: " +
                                   core::to_hex(tombstone->content_hash) + "\n"));
  CHECK_THAT(text, Catch::Contains("\nretirement refund-window\n"
                                   "  reason: feature-removed\n"
                                   "  rationale: refunds are gone\n"
                                   "  decided_by: Lee <lee@example.com>\n"
                                   "  approved_by: Kim <kim@example.com>\n"
                                   "  decided_at: 2026-05-01T10:00:00Z\n"
                                   "  incidents: INC-7\n"
                                   "  revisit: 2026-12-01\n"));
  CHECK_THAT(text, !Catch::Contains("Can I get a refund"));
  CHECK_THAT(text, !Catch::Contains("icontains:30 days"));
}

TEST_CASE("dump lists every ledger event in order with its fields", "[suite][dump]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  CaseChanges changes;
  changes.prompt = "Can I get a refund after 60 days?";
  changes.rationale = "the policy\nchanged";
  changes.reason = "reworded";
  REQUIRE(edit_case(s, "refund-window", changes, {}, origin()));

  auto events = read_ledger(s.db());
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  auto text = dump_text(s);
  std::size_t at = 0;
  for (const auto& e : *events) {
    auto head = fmt::format("\nevent {}\n  at: {}\n  actor: {}\n  action: {}\n  subject: {}\n",
                            e.seq, e.at, e.actor, e.action, e.subject);
    auto pos = text.find(head, at);
    INFO(head);
    REQUIRE(pos != std::string::npos);
    at = pos + head.size();
  }
  const auto& edit = events->back();
  REQUIRE(edit.before);
  REQUIRE(edit.after);
  CHECK_THAT(text, Catch::Contains("  action: edit\n  subject: refund-window\n"
                                   "  rationale: the policy\n  | changed\n"
                                   "  before: " +
                                   core::to_hex(*edit.before).substr(0, 12) +
                                   "\n"
                                   "  after: " +
                                   core::to_hex(*edit.after).substr(0, 12) + "\n"));
  if (edit.detail)
    CHECK(read_field(text, "event 3", "detail") == *edit.detail);
  CHECK_THAT(text, Catch::Contains("  prompt: Can I get a refund after 60 days?\n"));
}

TEST_CASE("dump of an empty suite is the header alone", "[suite][dump]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  CHECK(dump_text(s) == "# evalkeep suite, schema version 4\n");
}

TEST_CASE("dump streams large suites to an ostream", "[suite][dump]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  std::string jsonl;
  for (int i = 0; i < 4000; ++i)
    jsonl += fmt::format(R"({{"type":"case","id":"case-{:05}","prompt":"Question {} with a )"
                         R"(longer body so the text passes a megabyte","expect":[{{"type":)"
                         R"("contains","value":"answer {}"}}],"provenance":{{"kind":"spec",)"
                         R"("note":"bulk"}},"tags":["bulk"]}})"
                         "\n",
                         i, i, i);
  REQUIRE(import_jsonl(s, jsonl, "bulk.jsonl", {}, origin(), false));
  std::ostringstream out;
  REQUIRE(dump(s, out));
  auto text = out.str();
  CHECK(text.size() > (1u << 20));
  CHECK(text == dump_text(s));
  CHECK_THAT(text, Catch::Contains("\ncase case-03999\n"));
  CHECK_THAT(text, Catch::Contains("\nevent 4000\n"));
  CHECK(text.find("\ncase case-00000\n") < text.find("\ncase case-00001\n"));
}
