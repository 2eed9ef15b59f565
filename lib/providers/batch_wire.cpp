#include "providers/batch_wire.hpp"

#include "core/text.hpp"

#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::providers::batch_wire {

using json = nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void add_auth(const ProviderConfig& c, HttpRequest& r, const std::string& api_key) {
  if (c.kind == Kind::anthropic) {
    if (!api_key.empty())
      r.headers.push_back("x-api-key: " + api_key);
    r.headers.push_back("anthropic-version: " + c.anthropic_version);
  } else if (!api_key.empty()) {
    r.headers.push_back("Authorization: Bearer " + api_key);
  }
  for (const auto& [name, value] : c.headers)
    r.headers.push_back(name + ": " + value);
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// The HTTP status Anthropic's synchronous API gives an error of this type.
long anthropic_status(const std::string& type) {
  if (type == "invalid_request_error")
    return 400;
  if (type == "authentication_error")
    return 401;
  if (type == "permission_error")
    return 403;
  if (type == "not_found_error")
    return 404;
  if (type == "request_too_large")
    return 413;
  if (type == "rate_limit_error")
    return 429;
  if (type == "overloaded_error")
    return 529;
  return 500;
}

Result<LineResult> openai_line(const json& j) {
  LineResult r;
  r.custom_id = str(j, "custom_id");
  auto response = j.find("response");
  if (response != j.end() && response->is_object()) {
    r.status = response->value("status_code", 0L);
    auto body = response->find("body");
    if (body == response->end())
      return invalid("a result line of {} has no response body", r.custom_id);
    r.body = body->is_string() ? body->get<std::string>() : dump(*body);
    return r;
  }
  auto error = j.find("error");
  if (error == j.end() || !error->is_object())
    return invalid("a result line of {} has neither a response nor an error", r.custom_id);
  std::string code = str(*error, "code");
  r.message = str(*error, "message");
  if (code == "batch_expired" || code == "batch_cancelled") {
    r.unfinished = true;
    r.reason = code == "batch_expired" ? "expired" : "cancelled";
    if (r.message.empty())
      r.message = code;
    return r;
  }
  // An error without a response: the request never reached the model (a malformed line).
  r.status = 400;
  r.body = dump(json{{"error", *error}});
  return r;
}

Result<LineResult> anthropic_line(const json& j) {
  LineResult r;
  r.custom_id = str(j, "custom_id");
  auto result = j.find("result");
  if (result == j.end() || !result->is_object())
    return invalid("a result line of {} has no result", r.custom_id);
  std::string type = str(*result, "type");
  if (type == "succeeded") {
    auto message = result->find("message");
    if (message == result->end())
      return invalid("the succeeded result of {} has no message", r.custom_id);
    r.status = 200;
    r.body = dump(*message);
  } else if (type == "errored") {
    // {"type":"error","error":{"type":...,"message":...}}, or the inner object alone.
    json error = result->value("error", json::object());
    json inner = str(error, "type") == "error" ? error.value("error", json::object()) : error;
    r.status = anthropic_status(str(inner, "type"));
    r.body = dump(json{{"type", "error"}, {"error", inner}});
  } else if (type == "expired" || type == "canceled") {
    r.unfinished = true;
    r.reason = type == "expired" ? "expired" : "cancelled";
    r.message = type == "expired" ? "the batch expired before this request was processed"
                                  : "the batch was canceled before this request was processed";
  } else {
    return invalid("the result of {} has an unknown type '{}'", r.custom_id, type);
  }
  return r;
}

} // namespace

bool supports_batch(Kind kind) {
  return kind == Kind::openai || kind == Kind::anthropic;
}

Upload openai_upload(const std::vector<BatchLine>& lines) {
  std::random_device random;
  std::string boundary = fmt::format("evalkeep-{:08x}{:08x}", random(), random());
  std::string jsonl;
  for (const auto& l : lines) {
    // The body is spliced in as it is: the same bytes a synchronous call sends.
    jsonl += "{\"custom_id\":";
    jsonl += json(l.custom_id).dump();
    jsonl += ",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":";
    jsonl += l.body;
    jsonl += "}\n";
  }
  Upload u;
  u.content_type = "multipart/form-data; boundary=" + boundary;
  u.body = fmt::format("--{0}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                       "--{0}\r\nContent-Disposition: form-data; name=\"file\"; "
                       "filename=\"evalkeep-batch.jsonl\"\r\nContent-Type: application/jsonl\r\n"
                       "\r\n{1}\r\n--{0}--\r\n",
                       boundary, jsonl);
  return u;
}

HttpRequest upload_request(const ProviderConfig& c, const std::vector<BatchLine>& lines,
                           const std::string& api_key) {
  auto upload = openai_upload(lines);
  HttpRequest r;
  r.url = c.base_url + "/files";
  add_auth(c, r, api_key);
  r.headers.push_back("Content-Type: " + upload.content_type);
  r.body = std::move(upload.body);
  return r;
}

HttpRequest create_request(const ProviderConfig& c, const std::string& input_file_id,
                           const std::vector<BatchLine>& lines, const std::string& api_key) {
  HttpRequest r;
  add_auth(c, r, api_key);
  r.headers.push_back("Content-Type: application/json");
  if (c.kind == Kind::anthropic) {
    r.url = c.base_url + "/v1/messages/batches";
    std::string body = "{\"requests\":[";
    for (std::size_t i = 0; i < lines.size(); ++i) {
      body += i ? ",{\"custom_id\":" : "{\"custom_id\":";
      body += json(lines[i].custom_id).dump();
      body += ",\"params\":";
      body += lines[i].body;
      body += '}';
    }
    r.body = body + "]}";
  } else {
    r.url = c.base_url + "/batches";
    r.body = dump(json{{"input_file_id", input_file_id},
                       {"endpoint", "/v1/chat/completions"},
                       {"completion_window", "24h"}});
  }
  return r;
}

HttpRequest status_request(const ProviderConfig& c, const std::string& batch_id,
                           const std::string& api_key) {
  HttpRequest r;
  r.method = "GET";
  r.url = c.kind == Kind::anthropic ? c.base_url + "/v1/messages/batches/" + batch_id
                                    : c.base_url + "/batches/" + batch_id;
  add_auth(c, r, api_key);
  return r;
}

HttpRequest content_request(const ProviderConfig& c, const std::string& file_id_or_url,
                            const std::string& api_key) {
  HttpRequest r;
  r.method = "GET";
  r.url = c.kind == Kind::anthropic ? file_id_or_url
                                    : c.base_url + "/files/" + file_id_or_url + "/content";
  add_auth(c, r, api_key);
  return r;
}

Result<std::string> parse_file(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || str(j, "id").empty())
    return invalid("the file upload answered without a file id: {}", error_message(body));
  return str(j, "id");
}

Result<BatchStatus> parse_status(Kind kind, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || str(j, "id").empty())
    return invalid("the batch object is unreadable: {}", error_message(body));
  BatchStatus s;
  s.id = str(j, "id");
  auto counts = j.value("request_counts", json::object());
  if (kind == Kind::anthropic) {
    s.status = str(j, "processing_status");
    s.ended = s.status == "ended";
    s.done = num(counts, "succeeded") + num(counts, "errored") + num(counts, "canceled") +
             num(counts, "expired");
    s.failed = num(counts, "errored");
    s.total = s.done + num(counts, "processing");
    s.results_url = str(j, "results_url");
  } else {
    s.status = str(j, "status");
    s.ended = s.status == "completed" || s.status == "failed" || s.status == "expired" ||
              s.status == "cancelled";
    s.total = num(counts, "total");
    s.done = num(counts, "completed") + num(counts, "failed");
    s.failed = num(counts, "failed");
    s.output_file_id = str(j, "output_file_id");
    s.error_file_id = str(j, "error_file_id");
    if (auto errors = j.find("errors"); errors != j.end() && errors->is_object())
      for (const auto& e : errors->value("data", json::array()))
        if (e.is_object())
          s.message += (s.message.empty() ? "" : "; ") + str(e, "message");
  }
  if (s.status.empty())
    return invalid("the batch object {} has no status", s.id);
  return s;
}

Result<std::vector<LineResult>> parse_results(Kind kind, const std::string& jsonl) {
  std::vector<LineResult> out;
  std::size_t number = 0;
  std::string_view rest = jsonl;
  while (!rest.empty()) {
    auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object())
      return invalid("line {} of the batch results is not a JSON object", number);
    auto r = kind == Kind::anthropic ? anthropic_line(j) : openai_line(j);
    if (!r)
      return with_context(r.error(), fmt::format("line {} of the batch results", number));
    out.push_back(std::move(*r));
  }
  return out;
}

std::string error_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object())
    if (auto e = j.find("error");
        e != j.end() && e->is_object() && e->contains("message") && (*e)["message"].is_string())
      return (*e)["message"].get<std::string>();
  return core::valid_utf8(std::string(core::utf8_prefix(body, 200)));
}

} // namespace evalkeep::providers::batch_wire
