// Writes the request bodies `evalkeep run` sends to an OpenAI provider, one a line, for
// bench/curl_client.cpp to send the same requests.
//
//   evalkeep export | make_bodies MODEL > bodies.txt
//
// Reads the JSONL interchange format on stdin. For each case that a run includes (status absent
// or "xfail"; "retired" and "removed" are skipped) it writes the body `trials` times (default 1):
//   {"messages":[...],"model":MODEL,"temperature":0.0}
// A case with "prompt" becomes a system message (when it has "system") and a user message; one
// with "messages" sends them as they are. The body is built as in providers::build_request (the
// provider's defaults: temperature 0.0, no max_tokens, no seed) and dumped with the same
// nlohmann::json call, so the bytes are the same. Exits 2 on a line that is not such JSON.
//
// Build: g++ -O2 -std=c++20 bench/make_bodies.cpp -o make_bodies   (needs nlohmann/json.hpp)

#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

using json = nlohmann::json;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: evalkeep export | %s MODEL > bodies.txt\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  std::ios::sync_with_stdio(false);
  std::string line, out;
  long lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    if (line.empty())
      continue;
    json rec = json::parse(line, nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) {
      std::fprintf(stderr, "make_bodies: line %ld is not a JSON object\n", lineno);
      return 2;
    }
    if (rec.value("type", "") != "case")
      continue;
    std::string status = rec.value("status", "active");
    if (status != "active" && status != "xfail")
      continue;
    json messages = json::array();
    if (rec.contains("prompt")) {
      if (rec.contains("system"))
        messages.push_back({{"role", "system"}, {"content", rec["system"]}});
      messages.push_back({{"role", "user"}, {"content", rec["prompt"]}});
    } else if (rec.contains("messages") && rec["messages"].is_array()) {
      for (const auto& m : rec["messages"])
        messages.push_back({{"role", m.at("role")}, {"content", m.at("content")}});
    } else {
      std::fprintf(stderr, "make_bodies: line %ld: a case without prompt or messages\n", lineno);
      return 2;
    }
    json body;
    body["model"] = model;
    body["messages"] = std::move(messages);
    body["temperature"] = 0.0;
    std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    int trials = rec.value("trials", 1);
    for (int t = 0; t < trials; ++t) {
      out += text;
      out += '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
