#include "support/standin.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

#include <curl/curl.h>

extern char** environ;

namespace evalkeep::test {

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string http(const std::string& url, bool post) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (post)
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    throw std::runtime_error("stand-in request failed: " + std::string(curl_easy_strerror(rc)));
  return body;
}

} // namespace

StandIn::StandIn(const std::string& rules_json, int latency_ms, std::uint64_t seed,
                 const std::vector<std::string>& flags) {
  std::vector<std::string> args{EVALKEEP_STANDIN_BIN,
                                "--port",
                                "0",
                                "--port-file",
                                (m_dir / "port").string(),
                                "--latency-ms",
                                std::to_string(latency_ms),
                                "--seed",
                                std::to_string(seed)};
  if (!rules_json.empty()) {
    write_file(m_dir / "rules.json", rules_json);
    args.push_back("--rules");
    args.push_back((m_dir / "rules.json").string());
  }
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start the stand-in server");
  m_pid = pid;
  for (int i = 0; i < 500 && m_port == 0; ++i) {
    std::ifstream in(m_dir / "port");
    if (!(in >> m_port))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (m_port == 0)
    throw std::runtime_error("the stand-in server did not start");
}

StandIn::~StandIn() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

std::pair<long, std::string> StandIn::post(const std::string& path, const std::string& content_type,
                                           const std::string& body) const {
  CURL* curl = curl_easy_init();
  std::string out;
  std::string url = base() + path;
  curl_slist* headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return {status, out};
}

std::string StandIn::base() const {
  return "http://127.0.0.1:" + std::to_string(m_port);
}
std::string StandIn::openai_base() const {
  return base() + "/v1";
}

nlohmann::json StandIn::stats() const {
  return nlohmann::json::parse(http(base() + "/__stats", false));
}
nlohmann::json StandIn::log() const {
  return nlohmann::json::parse(http(base() + "/__log", false));
}
void StandIn::reset() const {
  http(base() + "/__reset", true);
}

std::string provider_table(const StandIn& s, const std::string& name, const std::string& type,
                           const std::string& extra) {
  return "\n[providers." + name + "]\ntype = \"" + type + "\"\nbase_url = \"" +
         (type.starts_with("openai") ? s.openai_base() : s.base()) + "\"\nmodel = \"stand-in\"\n" +
         extra;
}

} // namespace evalkeep::test
