#include "providers/batch_wire.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::providers;
namespace bw = evalkeep::providers::batch_wire;
using json = nlohmann::json;

namespace {

ProviderConfig config(Kind kind) {
  ProviderConfig c;
  c.name = "p";
  c.kind = kind;
  c.base_url = kind == Kind::anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1";
  c.model = "m";
  REQUIRE(finish_config(c));
  return c;
}

} // namespace

TEST_CASE("a batch file line carries the synchronous request body byte for byte", "[providers]") {
  auto c = config(Kind::openai);
  std::string body = request_body(c, {{{"user", "Hi"}}});
  auto upload = bw::openai_upload({{"r0", body}});
  CHECK(upload.content_type.starts_with("multipart/form-data; boundary="));
  CHECK(upload.body.find("name=\"purpose\"\r\n\r\nbatch\r\n") != std::string::npos);
  CHECK(
      upload.body.find(R"({"custom_id":"r0","method":"POST","url":"/v1/chat/completions","body":)" +
                       body + "}\n") != std::string::npos);
  auto create = bw::create_request(c, "file-1", {{"r0", body}}, "sk-x");
  CHECK(create.url == "https://api.openai.com/v1/batches");
  CHECK(json::parse(create.body) == json{{"input_file_id", "file-1"},
                                         {"endpoint", "/v1/chat/completions"},
                                         {"completion_window", "24h"}});
  auto poll = bw::status_request(c, "batch_1", "sk-x");
  CHECK(poll.method == "GET");
  CHECK(poll.url == "https://api.openai.com/v1/batches/batch_1");
}

TEST_CASE("an Anthropic batch holds each request's params as the Messages body, with its headers",
          "[providers]") {
  auto c = config(Kind::anthropic);
  std::string body = request_body(c, {{{"user", "Hi"}}});
  auto create = bw::create_request(c, "", {{"r0", body}, {"r1", body}}, "sk-ant");
  CHECK(create.url == "https://api.anthropic.com/v1/messages/batches");
  CHECK(create.body == R"({"requests":[{"custom_id":"r0","params":)" + body +
                           R"(},{"custom_id":"r1","params":)" + body + "}]}");
  CHECK(std::ranges::count(create.headers, std::string("x-api-key: sk-ant")) == 1);
  CHECK(std::ranges::count(create.headers, std::string("anthropic-version: 2023-06-01")) == 1);
}

TEST_CASE("batch results read as the synchronous API's answers and errors", "[providers]") {
  std::string openai_output =
      R"({"id":"batch_req_1","custom_id":"r0","response":{"status_code":200,"request_id":"req_1","body":{"choices":[{"message":{"role":"assistant","content":"ok"}}]}},"error":null})"
      "\n"
      R"({"id":"batch_req_2","custom_id":"r1","response":{"status_code":429,"request_id":"req_2","body":{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}},"error":null})"
      "\n"
      R"({"id":"batch_req_3","custom_id":"r2","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}})"
      "\n";
  auto lines = bw::parse_results(Kind::openai, openai_output);
  REQUIRE(lines);
  REQUIRE(lines->size() == 3);
  CHECK(parse_response(Kind::openai, (*lines)[0].status, (*lines)[0].body).text == "ok");
  CHECK(parse_response(Kind::openai, (*lines)[1].status, (*lines)[1].body).error ==
        ErrorClass::rate_limited);
  CHECK((*lines)[2].unfinished);
  CHECK((*lines)[2].reason == "expired");

  std::string anthropic_results =
      R"({"custom_id":"r0","result":{"type":"errored","error":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}})"
      "\n"
      R"({"custom_id":"r1","result":{"type":"canceled"}})"
      "\n";
  auto a = bw::parse_results(Kind::anthropic, anthropic_results);
  REQUIRE(a);
  CHECK((*a)[0].status == 529);
  CHECK(parse_response(Kind::anthropic, (*a)[0].status, (*a)[0].body).error ==
        ErrorClass::rate_limited);
  CHECK((*a)[1].reason == "cancelled");
  CHECK_FALSE(bw::parse_results(Kind::openai, "{\"custom_id\": \"r0\"}\n"));
}

TEST_CASE("a batch's status says when it has ended and how far it got", "[providers]") {
  auto s = bw::parse_status(
      Kind::openai,
      R"({"id":"batch_1","object":"batch","status":"in_progress","request_counts":{"total":10,"completed":3,"failed":1}})");
  REQUIRE(s);
  CHECK_FALSE(s->ended);
  CHECK(s->done == 4);
  auto e = bw::parse_status(
      Kind::anthropic,
      R"({"id":"msgbatch_1","type":"message_batch","processing_status":"ended","request_counts":{"processing":0,"succeeded":2,"errored":1,"canceled":0,"expired":1},"results_url":"https://x/results"})");
  REQUIRE(e);
  CHECK(e->ended);
  CHECK(e->total == 4);
  CHECK(e->results_url == "https://x/results");
}
