#include "suite/records.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using json = nlohmann::json;

namespace {

json refund_case() {
  return json::parse(R"({"type":"case","id":"refund-window","title":"Refund after 45 days",
    "prompt":"Can I get a refund after 45 days?","expect":[{"type":"icontains","value":"30 days"}],
    "incident":"INC-7","tags":["billing","refunds"]})");
}

json spec_case() {
  return json::parse(R"({"type":"case","id":"tone-apology","messages":[
      {"role":"system","content":"Be kind."},{"role":"user","content":"My order is late."}],
    "expect":[{"type":"not-contains","value":"unfortunately"},{"type":"min-length","value":20}],
    "provenance":{"kind":"spec","note":"style guide 2.1"},"status":"xfail",
    "min_pass_rate":0.8,"trials":5})");
}

json decision() {
  return json::parse(R"({"type":"retirement","case":"refund-window","reason":"superseded",
    "rationale":"covered by the tone case","decided_by":"Test <t@example.com>",
    "decided_at":"2026-05-01T10:00:00Z","superseded_by":["tone-apology"],"incidents":["INC-7"]})");
}

std::string error_of(const Result<Case>& r) {
  REQUIRE_FALSE(r);
  return r.error().message;
}

} // namespace

TEST_CASE("a case record is read with its provenance, input and assertions", "[suite]") {
  auto c = parse_case(refund_case());
  REQUIRE(c);
  CHECK(c->id == "refund-window");
  CHECK(c->title == "Refund after 45 days");
  CHECK(c->prompt == "Can I get a refund after 45 days?");
  CHECK(c->provenance.kind == ProvenanceKind::incident);
  CHECK(c->provenance.incident == "INC-7");
  REQUIRE(c->expect.size() == 1);
  CHECK(c->expect[0].type == scoring::AssertionType::icontains);
  CHECK(c->status == CaseStatus::active);
  CHECK(c->content_hash == content_hash(*c));

  auto m = parse_case(spec_case());
  REQUIRE(m);
  CHECK(m->provenance.kind == ProvenanceKind::spec);
  CHECK(m->provenance.note == "style guide 2.1");
  REQUIRE(m->messages.size() == 2);
  CHECK(m->messages[1] == Message{.role = "user", .content = "My order is late."});
  CHECK(m->status == CaseStatus::xfail);
  CHECK(m->min_pass_rate == 0.8);
  CHECK(m->trials == 5);
}

TEST_CASE("case records refuse unknown fields, naming them", "[suite]") {
  auto j = refund_case();
  j["weight"] = 2;
  CHECK_THAT(error_of(parse_case(j)), Catch::Contains("field \"weight\": unknown field"));

  auto nested = spec_case();
  nested["provenance"]["source"] = "wiki";
  CHECK_THAT(error_of(parse_case(nested)), Catch::Contains("\"source\""));

  auto in_message = spec_case();
  in_message["messages"][0]["name"] = "bot";
  auto msg = error_of(parse_case(in_message));
  CHECK_THAT(msg, Catch::Contains("messages[0]"));
  CHECK_THAT(msg, Catch::Contains("\"name\""));
}

TEST_CASE("case records refuse fields of the wrong type, naming the field", "[suite]") {
  for (auto [field, value] :
       {std::pair<const char*, json>{"prompt", 42},
        std::pair<const char*, json>{"title", json::array()},
        std::pair<const char*, json>{"tags", "billing"},
        std::pair<const char*, json>{"expect", "icontains:30 days"},
        std::pair<const char*, json>{"trials", "5"}, std::pair<const char*, json>{"trials", 2.5},
        std::pair<const char*, json>{"min_pass_rate", "high"},
        std::pair<const char*, json>{"status", 1}, std::pair<const char*, json>{"incident", 7}}) {
    auto j = refund_case();
    j[field] = value;
    INFO(field << " = " << value.dump());
    CHECK_THAT(error_of(parse_case(j)), Catch::Contains(fmt::format("field \"{}\"", field)));
  }
  auto bad_tags = refund_case();
  bad_tags["tags"] = json::array({"billing", 3});
  CHECK_THAT(error_of(parse_case(bad_tags)), Catch::Contains("field \"tags\""));
}

TEST_CASE("a case needs exactly one of incident and provenance", "[suite]") {
  auto both = refund_case();
  both["provenance"] = {{"kind", "spec"}, {"note", "style guide"}};
  auto msg = error_of(parse_case(both));
  CHECK_THAT(msg, Catch::Contains("field \"provenance\""));
  CHECK_THAT(msg, Catch::Contains("not both"));

  auto neither = refund_case();
  neither.erase("incident");
  auto r = parse_case(neither);
  CHECK_THAT(error_of(r), Catch::Contains("needs an incident or a provenance"));
  CHECK_FALSE(r.error().hint.empty());

  auto no_note = spec_case();
  no_note["provenance"].erase("note");
  CHECK_THAT(error_of(parse_case(no_note)), Catch::Contains("field \"provenance.note\""));

  auto incident_kind = spec_case();
  incident_kind["provenance"]["kind"] = "incident";
  CHECK_THAT(error_of(parse_case(incident_kind)), Catch::Contains("field \"provenance.kind\""));
}

TEST_CASE("a conversation must end with a user message or a tool result", "[suite]") {
  auto j = spec_case();
  j["messages"].push_back({{"role", "assistant"}, {"content", "Sorry to hear that."}});
  auto msg = error_of(parse_case(j));
  CHECK_THAT(msg, Catch::Contains("field \"messages\""));
  CHECK_THAT(msg, Catch::Contains("last message must be from the user"));

  auto bad_role = spec_case();
  bad_role["messages"][0]["role"] = "developer";
  CHECK_THAT(error_of(parse_case(bad_role)),
             Catch::Contains("field \"messages[0].role\": 'developer' is not system, user, "
                             "assistant or tool"));
  // A tool result answers a call: one without a call before it is refused, naming the message.
  auto stray = spec_case();
  stray["messages"][0] = {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "ok"}};
  CHECK_THAT(error_of(parse_case(stray)), Catch::Contains("messages[0].tool_call_id"));
}

TEST_CASE("a case's input rules are enforced", "[suite]") {
  auto both_inputs = refund_case();
  both_inputs["messages"] = json::array({{{"role", "user"}, {"content", "hi"}}});
  CHECK_THAT(error_of(parse_case(both_inputs)), Catch::Contains("not both"));

  auto no_input = refund_case();
  no_input.erase("prompt");
  CHECK_THAT(error_of(parse_case(no_input)), Catch::Contains("needs a prompt or messages"));

  auto no_expect = refund_case();
  no_expect["expect"] = json::array();
  CHECK_THAT(error_of(parse_case(no_expect)), Catch::Contains("field \"expect\""));

  auto bad_id = refund_case();
  bad_id["id"] = "refund window";
  CHECK_THAT(error_of(parse_case(bad_id)), Catch::Contains("field \"id\""));

  auto bad_rate = refund_case();
  bad_rate["min_pass_rate"] = 1.5;
  CHECK_THAT(error_of(parse_case(bad_rate)), Catch::Contains("field \"min_pass_rate\""));

  auto bad_trials = refund_case();
  bad_trials["trials"] = 0;
  CHECK_THAT(error_of(parse_case(bad_trials)), Catch::Contains("field \"trials\""));

  auto bad_status = refund_case();
  bad_status["status"] = "archived";
  CHECK_THAT(error_of(parse_case(bad_status)), Catch::Contains("field \"status\""));
}

TEST_CASE("an invalid assertion is reported by its position in expect", "[suite]") {
  auto j = refund_case();
  j["expect"].push_back({{"type", "containz"}, {"value", "x"}});
  CHECK_THAT(error_of(parse_case(j)), Catch::StartsWith("field \"expect[1]\": "));

  auto extra = refund_case();
  extra["expect"] = json::array({{{"type", "contains"}, {"value", "x"}},
                                 {{"type", "contains"}, {"value", "y"}},
                                 {{"type", "min-length"}, {"value", "ten"}}});
  CHECK_THAT(error_of(parse_case(extra)), Catch::StartsWith("field \"expect[2]\": "));
}

TEST_CASE("a case record read back gives the same case and content hash", "[suite]") {
  for (const json& j : {refund_case(), spec_case()}) {
    auto c = parse_case(j);
    REQUIRE(c);
    auto record = case_record(*c);
    CHECK(record["type"] == "case");
    auto back = parse_case(json(record));
    REQUIRE(back);
    CHECK(back->content_hash == c->content_hash);
    CHECK(case_record(*back).dump() == record.dump());
    CHECK(back->expect == c->expect);
    CHECK(back->messages == c->messages);
    CHECK(back->tags == c->tags);
  }
}

TEST_CASE("a case record written directly has the bytes of the JSON object's dump", "[suite]") {
  std::vector<json> records = {refund_case(), spec_case()};
  // Every assertion type, text to escape (quotes, control characters, non-ASCII), a retired
  // status, a whole-number pass rate and a conversation with a system prompt.
  records.push_back(json::parse(R"({"type":"case","id":"all-kinds","title":"T \"q\" \\ é",
    "system":"Rules:\n\t1. be brief\u0001","prompt":"Dîtes \"bonjour\" ☃","expect":[
      {"type":"equals","value":"a"},{"type":"contains","value":"b\nc"},
      {"type":"icontains","value":"Ü"},{"type":"not-contains","value":"x"},
      {"type":"regex","value":"(?i)^a.+$"},{"type":"starts-with","value":"S"},
      {"type":"is-json"},{"type":"json-path","path":"/a/0","value":{"k":[1,2.5,"s",null]}},
      {"type":"min-length","value":3},{"type":"max-length","value":300},
      {"type":"number-close","value":3.14159,"tolerance":0.001},
      {"type":"max-latency-ms","value":1500},{"type":"max-cost","value":0.25},
      {"type":"judge","rubric":"polite, \"warm\"","threshold":0.8}],
    "provenance":{"kind":"red-team","note":"Jailbreak \"DAN\"\u0007"},"tags":["a","b-c"],"status":"retired",
    "min_pass_rate":1.0,"trials":3})"));
  for (const json& j : records) {
    auto c = parse_case(j);
    INFO((c ? "" : c.error().message));
    REQUIRE(c);
    CHECK(case_record_text(*c) == case_record(*c).dump());
  }
  auto purged = parse_case(refund_case());
  REQUIRE(purged);
  purged->purged = true;
  purged->prompt.reset();
  CHECK(case_record_text(*purged) == case_record(*purged).dump());
}

TEST_CASE("the content hash changes with status, input and assertions", "[suite]") {
  auto base = parse_case(refund_case());
  REQUIRE(base);
  const auto h = content_hash(*base);

  auto xfail = *base;
  xfail.status = CaseStatus::xfail;
  CHECK(content_hash(xfail) != h);

  auto retired = *base;
  retired.status = CaseStatus::retired;
  CHECK(content_hash(retired) != h);
  CHECK(content_hash(retired) != content_hash(xfail));

  auto prompt = *base;
  prompt.prompt = "Can I get a refund after 46 days?";
  CHECK(content_hash(prompt) != h);

  auto assertion = *base;
  assertion.expect[0].text = "31 days";
  CHECK(content_hash(assertion) != h);

  auto more = *base;
  more.expect.push_back(more.expect[0]);
  CHECK(content_hash(more) != h);

  auto incident = *base;
  incident.provenance.incident = "INC-8";
  CHECK(content_hash(incident) != h);

  auto same = *base;
  CHECK(content_hash(same) == h);
}

TEST_CASE("tags are normalized, so their order does not change the content hash", "[suite]") {
  auto a = refund_case();
  a["tags"] = json::array({"refunds", "billing", "refunds"});
  auto b = refund_case();
  b["tags"] = json::array({"billing", "refunds"});
  auto ca = parse_case(a);
  auto cb = parse_case(b);
  REQUIRE(ca);
  REQUIRE(cb);
  CHECK(ca->tags == std::vector<std::string>{"billing", "refunds"});
  CHECK(ca->content_hash == cb->content_hash);

  auto c = refund_case();
  c["tags"] = json::array({"billing"});
  auto cc = parse_case(c);
  REQUIRE(cc);
  CHECK(cc->content_hash != cb->content_hash);
}

TEST_CASE("a purged tombstone keeps its content hash through a round trip", "[suite]") {
  auto live = parse_case(refund_case());
  REQUIRE(live);
  auto removed = *live;
  removed.status = CaseStatus::removed;
  const auto kept = content_hash(removed);

  json j = {{"type", "case"},
            {"id", "refund-window"},
            {"incident", "INC-7"},
            {"status", "removed"},
            {"content_hash", core::to_hex(kept)}};
  auto tomb = parse_case(j);
  REQUIRE(tomb);
  CHECK(tomb->purged);
  CHECK(tomb->content_hash == kept);
  CHECK_FALSE(tomb->prompt);
  CHECK(tomb->expect.empty());

  auto record = case_record(*tomb);
  CHECK_FALSE(record.contains("expect"));
  CHECK(record["content_hash"] == core::to_hex(kept));
  auto back = parse_case(json(record));
  REQUIRE(back);
  CHECK(back->purged);
  CHECK(back->content_hash == kept);
  CHECK(case_record(*back).dump() == record.dump());
}

TEST_CASE("only a removed case without input may carry a content hash", "[suite]") {
  json live = refund_case();
  live["content_hash"] = std::string(64, 'a');
  CHECK_THAT(error_of(parse_case(live)), Catch::Contains("field \"content_hash\""));

  json active_tomb = {
      {"type", "case"}, {"id", "x"}, {"incident", "INC-7"}, {"content_hash", std::string(64, 'a')}};
  CHECK_THAT(error_of(parse_case(active_tomb)), Catch::Contains("field \"content_hash\""));

  json bad_hex = {{"type", "case"},
                  {"id", "x"},
                  {"incident", "INC-7"},
                  {"status", "removed"},
                  {"content_hash", std::string(64, 'A')}};
  CHECK_THAT(error_of(parse_case(bad_hex)), Catch::Contains("field \"content_hash\""));
}

TEST_CASE("incident records are checked field by field", "[suite]") {
  json good = {{"type", "incident"},
               {"id", "INC-7"},
               {"title", "Refund promised outside policy"},
               {"date", "2026-03-02"},
               {"severity", "high"}};
  auto i = parse_incident(good);
  REQUIRE(i);
  CHECK(i->id == "INC-7");
  CHECK(i->date == "2026-03-02");
  CHECK(json(incident_record(*i)) == good);

  auto unknown = good;
  unknown["owner"] = "sam";
  auto u = parse_incident(unknown);
  REQUIRE_FALSE(u);
  CHECK_THAT(u.error().message, Catch::Contains("field \"owner\": unknown field"));

  auto wrong = good;
  wrong["title"] = 3;
  auto w = parse_incident(wrong);
  REQUIRE_FALSE(w);
  CHECK_THAT(w.error().message, Catch::Contains("field \"title\": must be a string"));

  auto date = good;
  date["date"] = "2026-02-29";
  auto d = parse_incident(date);
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error().message, Catch::Contains("field \"date\""));

  auto severity = good;
  severity["severity"] = "urgent";
  auto s = parse_incident(severity);
  REQUIRE_FALSE(s);
  CHECK_THAT(s.error().message, Catch::Contains("field \"severity\""));

  auto untitled = good;
  untitled.erase("title");
  auto t = parse_incident(untitled);
  REQUIRE_FALSE(t);
  CHECK_THAT(t.error().message, Catch::Contains("field \"title\": required"));
}

TEST_CASE("retirement records are checked field by field", "[suite]") {
  auto d = parse_retirement(decision());
  REQUIRE(d);
  CHECK(d->case_id == "refund-window");
  CHECK(d->reason == RetirementReason::superseded);
  CHECK(d->superseded_by == std::vector<std::string>{"tone-apology"});
  CHECK(d->incidents == std::vector<std::string>{"INC-7"});
  CHECK(json(retirement_record(*d)) == decision());

  auto error_for = [](json j) {
    auto r = parse_retirement(j);
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  auto unknown = decision();
  unknown["ticket"] = "JIRA-1";
  CHECK_THAT(error_for(unknown), Catch::Contains("field \"ticket\": unknown field"));
  auto reason = decision();
  reason["reason"] = "obsolete";
  CHECK_THAT(error_for(reason), Catch::Contains("field \"reason\""));
  CHECK_THAT(error_for(reason), Catch::Contains("feature-removed"));
  auto wrong_type = decision();
  wrong_type["superseded_by"] = "tone-apology";
  CHECK_THAT(error_for(wrong_type), Catch::Contains("field \"superseded_by\""));
  auto when = decision();
  when["decided_at"] = "2026-05-01";
  CHECK_THAT(error_for(when), Catch::Contains("field \"decided_at\""));
  auto revisit = decision();
  revisit["revisit"] = "soon";
  CHECK_THAT(error_for(revisit), Catch::Contains("field \"revisit\""));
  auto no_successor = decision();
  no_successor.erase("superseded_by");
  CHECK_THAT(error_for(no_successor), Catch::Contains("field \"superseded_by\""));
  auto blank = decision();
  blank["rationale"] = "";
  CHECK_THAT(error_for(blank), Catch::Contains("field \"rationale\""));
}
