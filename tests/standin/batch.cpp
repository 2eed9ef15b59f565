#include "batch.hpp"

#include <ctime>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::standin {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

Reply json_reply(int status, const json& body) {
  Reply r;
  r.response.status = status;
  r.response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

Reply openai_error(int status, const std::string& message, json param = nullptr,
                   json code = nullptr) {
  return json_reply(status, json{{"error",
                                  {{"message", message},
                                   {"type", "invalid_request_error"},
                                   {"param", std::move(param)},
                                   {"code", std::move(code)}}}});
}

Reply anthropic_error(int status, const std::string& type, const std::string& message) {
  return json_reply(status,
                    json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
}

std::string iso(std::int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json null_or(const std::string& s) {
  return s.empty() ? json() : json(s);
}

// The parts of a multipart/form-data body: name -> (filename, content).
std::optional<std::map<std::string, std::pair<std::string, std::string>>>
multipart(const std::string& content_type, const std::string& body) {
  auto at = content_type.find("boundary=");
  if (content_type.rfind("multipart/form-data", 0) != 0 || at == std::string::npos)
    return std::nullopt;
  std::string boundary = content_type.substr(at + 9);
  if (!boundary.empty() && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  std::string delimiter = "--" + boundary;
  std::map<std::string, std::pair<std::string, std::string>> parts;
  std::size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0)
      return parts;
    if (body.compare(pos, 2, "\r\n") != 0)
      return std::nullopt;
    pos += 2;
    auto head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos)
      return std::nullopt;
    std::string head = body.substr(pos, head_end - pos);
    auto next = body.find("\r\n" + delimiter, head_end + 4);
    if (next == std::string::npos)
      return std::nullopt;
    std::string content = body.substr(head_end + 4, next - head_end - 4);
    std::smatch m;
    std::string name, filename;
    if (std::regex_search(head, m, std::regex(R"re(name="([^"]*)")re")))
      name = m[1];
    if (std::regex_search(head, m, std::regex(R"re(filename="([^"]*)")re")))
      filename = m[1];
    parts[name] = {filename, content};
    pos = next + 2;
  }
  return std::nullopt;
}

} // namespace

BatchApis::BatchApis(BatchOptions options, Answer answer)
    : m_options(options), m_answer(std::move(answer)) {}

void BatchApis::reset() {
  m_files.clear();
  m_batches.clear();
  m_next = 0;
}

std::optional<Reply> BatchApis::handle(const Request& request) {
  const std::string& path = request.path;
  if (path.rfind("/v1/messages/batches", 0) == 0)
    return anthropic(request, path.substr(20));
  if (path.rfind("/v1/files", 0) == 0 || path.rfind("/v1/batches", 0) == 0)
    return openai(request, path);
  return std::nullopt;
}

Reply BatchApis::openai(const Request& request, const std::string& path) {
  if (path == "/v1/files" && request.method == "POST")
    return upload(request);
  if (path == "/v1/batches" && request.method == "POST")
    return create_openai(request);
  std::smatch m;
  if (std::regex_match(path, m, std::regex(R"(/v1/files/([^/]+)/content)")) &&
      request.method == "GET") {
    auto it = m_files.find(m[1]);
    if (it == m_files.end())
      return openai_error(404, fmt::format("No such File object: {}", std::string(m[1])), "id");
    Reply r;
    r.response.content_type = "application/octet-stream";
    r.response.body = it->second.content;
    return r;
  }
  if (std::regex_match(path, m, std::regex(R"(/v1/batches/([^/]+)(/cancel)?)"))) {
    auto it = m_batches.find(m[1]);
    if (it == m_batches.end() || it->second.api != Api::openai)
      return openai_error(404, fmt::format("No batch found with id '{}'.", std::string(m[1])));
    Batch& b = it->second;
    bool cancel = m[2].matched;
    if (cancel != (request.method == "POST") || (!cancel && request.method != "GET"))
      return openai_error(405, "Method not allowed");
    if (cancel) {
      if (b.status == "completed" || b.status == "failed" || b.status == "expired" ||
          b.status == "cancelled")
        return openai_error(400, fmt::format("Cannot cancel a batch with status '{}'.", b.status));
      b.cancel_requested = true;
      b.status = "cancelling";
      return json_reply(200, openai_object(b));
    }
    advance(b);
    return json_reply(200, openai_object(b));
  }
  return openai_error(404, fmt::format("Invalid URL ({} {})", request.method, path));
}

Reply BatchApis::upload(const Request& request) {
  const std::string* type = request.header("content-type");
  auto parts = multipart(type ? *type : "", request.body);
  if (!parts)
    return openai_error(400, "Invalid multipart/form-data request: expected fields 'file' and "
                             "'purpose'.");
  auto purpose = parts->find("purpose");
  if (purpose == parts->end())
    return openai_error(400, "Missing required parameter: 'purpose'.", "purpose");
  std::string p = purpose->second.second;
  if (p != "batch" && p != "assistants" && p != "fine-tune" && p != "vision" && p != "user_data" &&
      p != "evals")
    return openai_error(400,
                        fmt::format("'{}' is not one of ['assistants', 'batch', 'fine-tune', "
                                    "'vision', 'user_data', 'evals'] - 'purpose'",
                                    p),
                        "purpose");
  auto file = parts->find("file");
  if (file == parts->end() || file->second.first.empty())
    return openai_error(400, "Missing required parameter: 'file'.", "file");
  File f{fmt::format("file-standin{}", ++m_next), file->second.first, p, file->second.second};
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  json object{{"id", f.id},
              {"object", "file"},
              {"bytes", f.content.size()},
              {"created_at", now},
              {"filename", f.filename},
              {"purpose", f.purpose},
              {"status", "processed"},
              {"status_details", nullptr}};
  m_files[f.id] = std::move(f);
  return json_reply(200, object);
}

Reply BatchApis::create_openai(const Request& request) {
  auto j = json::parse(request.body, nullptr, false);
  if (!j.is_object())
    return openai_error(400, "We could not parse the JSON body of your request.");
  for (const char* field : {"input_file_id", "endpoint", "completion_window"})
    if (!j.contains(field) || !j[field].is_string())
      return openai_error(400, fmt::format("Missing required parameter: '{}'.", field), field);
  std::string endpoint = j["endpoint"];
  if (endpoint != "/v1/chat/completions" && endpoint != "/v1/responses" &&
      endpoint != "/v1/embeddings" && endpoint != "/v1/completions")
    return openai_error(400, fmt::format("Invalid value: '{}'.", endpoint), "endpoint");
  if (j["completion_window"] != "24h")
    return openai_error(400,
                        fmt::format("Invalid value: '{}'. Supported values are: '24h'.",
                                    j["completion_window"].get<std::string>()),
                        "completion_window");
  auto file = m_files.find(j["input_file_id"].get<std::string>());
  if (file == m_files.end())
    return openai_error(
        404, fmt::format("No such File object: {}", j["input_file_id"].get<std::string>()),
        "input_file_id");
  if (file->second.purpose != "batch")
    return openai_error(400, "The input file must be uploaded with purpose 'batch'.",
                        "input_file_id");
  Batch b;
  b.id = fmt::format("batch_standin{}", ++m_next);
  b.api = Api::openai;
  b.input_file_id = file->first;
  b.created = Clock::now();
  b.created_unix = static_cast<std::int64_t>(std::time(nullptr));
  b.status = "validating";
  for (const auto* name : {"authorization"})
    if (const auto* v = request.header(name))
      b.auth.emplace_back(name, *v);
  // Each line is checked as the real API validates the file: the batch fails as a whole.
  std::set<std::string> ids;
  std::size_t number = 0;
  std::string_view rest = file->second.content;
  while (!rest.empty() && b.failure.empty()) {
    auto end = rest.find('\n');
    std::string_view text = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++number;
    if (text.empty())
      continue;
    auto line = json::parse(text, nullptr, false);
    if (!line.is_object() || !line.contains("custom_id") || !line["custom_id"].is_string() ||
        line.value("method", "") != "POST" || !line.contains("body") || !line["body"].is_object())
      b.failure = fmt::format("Line {}: each line needs custom_id, method \"POST\", url and a JSON "
                              "object body.",
                              number);
    else if (line.value("url", "") != endpoint)
      b.failure = fmt::format("Line {}: the url '{}' does not match the batch's endpoint '{}'.",
                              number, line.value("url", ""), endpoint);
    else if (!ids.insert(line["custom_id"].get<std::string>()).second)
      b.failure = fmt::format("Line {}: the custom_id '{}' is not unique.", number,
                              line["custom_id"].get<std::string>());
    else
      b.lines.push_back({line["custom_id"], line["body"].dump()});
  }
  if (b.lines.empty() && b.failure.empty())
    b.failure = "The input file has no requests.";
  auto object = openai_object(b);
  m_batches[b.id] = std::move(b);
  return json_reply(200, object);
}

Reply BatchApis::anthropic(const Request& request, const std::string& rest) {
  const std::string* key = request.header("x-api-key");
  if (!key || key->empty())
    return anthropic_error(401, "authentication_error", "x-api-key header is required");
  if (!request.header("anthropic-version"))
    return anthropic_error(400, "invalid_request_error", "anthropic-version: header is required");
  if (rest.empty() && request.method == "POST")
    return create_anthropic(request);
  std::smatch m;
  if (!std::regex_match(rest, m, std::regex(R"(/([^/]+)(/results|/cancel)?)")))
    return anthropic_error(404, "not_found_error", "Not found");
  auto it = m_batches.find(m[1]);
  if (it == m_batches.end() || it->second.api != Api::anthropic)
    return anthropic_error(404, "not_found_error",
                           fmt::format("No message batch found with id '{}'", std::string(m[1])));
  Batch& b = it->second;
  std::string what = m[2];
  if (what == "/cancel" && request.method == "POST") {
    if (b.status == "in_progress") {
      b.cancel_requested = true;
      b.status = "canceling";
    }
    return json_reply(200, anthropic_object(b));
  }
  if (request.method != "GET")
    return anthropic_error(405, "invalid_request_error", "Method not allowed");
  advance(b);
  if (what == "/results") {
    if (b.status != "ended")
      return anthropic_error(400, "invalid_request_error",
                             fmt::format("Message batch {} is still in progress.", b.id));
    Reply r;
    r.response.content_type = "application/binary";
    r.response.body = b.results;
    return r;
  }
  return json_reply(200, anthropic_object(b));
}

Reply BatchApis::create_anthropic(const Request& request) {
  auto j = json::parse(request.body, nullptr, false);
  if (!j.is_object())
    return anthropic_error(400, "invalid_request_error", "The request body is not valid JSON.");
  if (!j.contains("requests") || !j["requests"].is_array() || j["requests"].empty())
    return anthropic_error(400, "invalid_request_error", "requests: Field required");
  Batch b;
  b.id = fmt::format("msgbatch_standin{}", ++m_next);
  b.api = Api::anthropic;
  std::set<std::string> ids;
  static const std::regex k_id("[a-zA-Z0-9_-]{1,64}");
  for (std::size_t i = 0; i < j["requests"].size(); ++i) {
    const auto& r = j["requests"][i];
    if (!r.is_object() || !r.contains("custom_id") || !r["custom_id"].is_string())
      return anthropic_error(400, "invalid_request_error",
                             fmt::format("requests.{}.custom_id: Field required", i));
    std::string id = r["custom_id"];
    if (!std::regex_match(id, k_id))
      return anthropic_error(400, "invalid_request_error",
                             fmt::format("requests.{}.custom_id: String should match pattern "
                                         "'^[a-zA-Z0-9_-]{{1,64}}$'",
                                         i));
    if (!ids.insert(id).second)
      return anthropic_error(400, "invalid_request_error",
                             fmt::format("requests.{}: custom_id '{}' is not unique", i, id));
    if (!r.contains("params") || !r["params"].is_object())
      return anthropic_error(400, "invalid_request_error",
                             fmt::format("requests.{}.params: Field required", i));
    b.lines.push_back({id, r["params"].dump()});
  }
  b.created = Clock::now();
  b.created_unix = static_cast<std::int64_t>(std::time(nullptr));
  b.status = "in_progress";
  for (const auto* name : {"x-api-key", "anthropic-version"})
    if (const auto* v = request.header(name))
      b.auth.emplace_back(name, *v);
  if (const auto* host = request.header("host"))
    b.host = *host;
  auto object = anthropic_object(b);
  m_batches[b.id] = std::move(b);
  return json_reply(200, object);
}

// Moves a batch on by the time passed since it was created.
void BatchApis::advance(Batch& b) {
  bool ended = b.status == "completed" || b.status == "failed" || b.status == "expired" ||
               b.status == "cancelled" || b.status == "ended";
  if (ended)
    return;
  if (b.api == Api::openai && !b.failure.empty()) {
    b.status = "failed";
    return;
  }
  auto age = Clock::now() - b.created;
  if (!b.cancel_requested && age < std::chrono::milliseconds(m_options.batch_ms)) {
    if (b.api == Api::openai)
      b.status = "in_progress";
    return;
  }
  process(b);
}

// Answers the batch's requests from the rules (those it gets to before it expires or is
// cancelled) and writes its results.
void BatchApis::process(Batch& b) {
  std::size_t limit = b.cancel_requested ? 0 : m_options.expire_after.value_or(b.lines.size());
  bool expired = !b.cancel_requested && limit < b.lines.size();
  std::string output, errors;
  for (std::size_t i = 0; i < b.lines.size(); ++i) {
    const auto& line = b.lines[i];
    if (i >= limit) {
      if (b.cancel_requested) {
        ++b.canceled;
        if (b.api == Api::anthropic)
          b.results +=
              json{{"custom_id", line.custom_id}, {"result", {{"type", "canceled"}}}}.dump() + "\n";
        continue;
      }
      ++b.expired;
      if (b.api == Api::anthropic) {
        b.results +=
            json{{"custom_id", line.custom_id}, {"result", {{"type", "expired"}}}}.dump() + "\n";
      } else {
        errors += json{{"id", fmt::format("batch_req_standin{}", ++m_next)},
                       {"custom_id", line.custom_id},
                       {"response", nullptr},
                       {"error",
                        {{"code", "batch_expired"},
                         {"message", "This request could not be executed before the completion "
                                     "window expired."}}}}
                      .dump() +
                  "\n";
      }
      continue;
    }
    Request sync;
    sync.method = "POST";
    // Logged apart from synchronous calls: /__stats and /__log show what came through a batch.
    sync.path = b.api == Api::anthropic ? "batch:/v1/messages" : "batch:/v1/chat/completions";
    sync.headers = b.auth;
    sync.headers.emplace_back("content-type", "application/json");
    sync.body = line.body;
    auto [status, body] = m_answer(b.api, sync);
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded())
      parsed = json{{"error",
                     {{"message", "The server had an error processing your request."},
                      {"type", "server_error"}}}};
    bool ok = status / 100 == 2 && !parsed.contains("error");
    if (b.api == Api::anthropic) {
      json result;
      if (ok) {
        result = {{"type", "succeeded"}, {"message", parsed}};
        ++b.completed;
      } else {
        json inner = parsed.value("error", json::object());
        if (!inner.is_object() || !inner.contains("type"))
          inner = {{"type", "api_error"}, {"message", "Internal server error"}};
        result = {{"type", "errored"}, {"error", {{"type", "error"}, {"error", inner}}}};
        ++b.failed;
      }
      b.results += json{{"custom_id", line.custom_id}, {"result", result}}.dump() + "\n";
    } else {
      json entry{{"id", fmt::format("batch_req_standin{}", ++m_next)},
                 {"custom_id", line.custom_id},
                 {"response",
                  {{"status_code", ok ? status : (status / 100 == 2 ? 500 : status)},
                   {"request_id", fmt::format("req_standin{}", m_next)},
                   {"body", parsed}}},
                 {"error", nullptr}};
      (ok ? output : errors) += entry.dump() + "\n";
      ++(ok ? b.completed : b.failed);
    }
  }
  if (b.api == Api::anthropic) {
    b.status = "ended";
    return;
  }
  b.status = b.cancel_requested ? "cancelled" : expired ? "expired" : "completed";
  auto file = [&](const std::string& content, const char* name) {
    File f{fmt::format("file-standin{}", ++m_next), name, "batch_output", content};
    std::string id = f.id;
    m_files[id] = std::move(f);
    return id;
  };
  if (!output.empty())
    b.output_file_id = file(output, "batch_output.jsonl");
  if (!errors.empty())
    b.error_file_id = file(errors, "batch_errors.jsonl");
}

json BatchApis::openai_object(const Batch& b) const {
  bool ended = b.status == "completed" || b.status == "expired" || b.status == "cancelled";
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  json errors = nullptr;
  if (!b.failure.empty())
    errors = {{"object", "list"},
              {"data",
               {{{"code", "invalid_request"},
                 {"message", b.failure},
                 {"param", nullptr},
                 {"line", nullptr}}}}};
  return {{"id", b.id},
          {"object", "batch"},
          {"endpoint", "/v1/chat/completions"},
          {"errors", errors},
          {"input_file_id", b.input_file_id},
          {"completion_window", "24h"},
          {"status", b.status},
          {"output_file_id", null_or(b.output_file_id)},
          {"error_file_id", null_or(b.error_file_id)},
          {"created_at", b.created_unix},
          {"in_progress_at", b.status == "validating" ? json() : json(b.created_unix)},
          {"expires_at", b.created_unix + 86400},
          {"finalizing_at", ended ? json(now) : json()},
          {"completed_at", b.status == "completed" ? json(now) : json()},
          {"failed_at", b.status == "failed" ? json(now) : json()},
          {"expired_at", b.status == "expired" ? json(now) : json()},
          {"cancelling_at", b.cancel_requested ? json(now) : json()},
          {"cancelled_at", b.status == "cancelled" ? json(now) : json()},
          {"request_counts",
           {{"total", b.lines.size()}, {"completed", b.completed}, {"failed", b.failed}}},
          {"metadata", nullptr}};
}

json BatchApis::anthropic_object(const Batch& b) const {
  bool ended = b.status == "ended";
  std::size_t processing = ended ? 0 : b.lines.size();
  return {{"id", b.id},
          {"type", "message_batch"},
          {"processing_status", b.status},
          {"request_counts",
           {{"processing", processing},
            {"succeeded", b.completed},
            {"errored", b.failed},
            {"canceled", b.canceled},
            {"expired", b.expired}}},
          {"ended_at", ended ? json(iso(std::time(nullptr))) : json()},
          {"created_at", iso(b.created_unix)},
          {"expires_at", iso(b.created_unix + 86400)},
          {"archived_at", nullptr},
          {"cancel_initiated_at", b.cancel_requested ? json(iso(std::time(nullptr))) : json()},
          {"results_url",
           ended ? json(fmt::format("http://{}/v1/messages/batches/{}/results", b.host, b.id))
                 : json()}};
}

} // namespace evalkeep::standin
