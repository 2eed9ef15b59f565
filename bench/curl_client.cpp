// The floor for `evalkeep run`: a minimal libcurl multi client that POSTs request bodies and
// reads the responses, and does nothing else (no JSON, no scoring, no storing).
//
//   curl_client URL BODIES_FILE N
//
// BODIES_FILE holds one JSON request body a line. Each is POSTed to URL with
// `Content-Type: application/json`, at most N in flight, over at most N reused connections
// (CURLMOPT_MAX_HOST_CONNECTIONS = N; N easy handles, recycled). Each response is read in full
// into a buffer that is then dropped. Like evalkeep's transport it turns off `Expect:
// 100-continue` and sets TCP_NODELAY and NOSIGNAL, so the requests on the wire differ from
// evalkeep's only in the User-Agent and Accept-Encoding headers.
//
// Prints one line on stdout:
//   requests R ok K failed F wall_s S
// where wall_s runs from the first request to the last response (the file is read before).
// Exits 0 when every request got a 2xx, 1 otherwise, 2 on a usage error.
//
// Build: g++ -O2 -std=c++20 bench/curl_client.cpp -lcurl -o curl_client

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <curl/curl.h>

namespace {

struct Slot {
  CURL* easy = nullptr;
  std::string response; // the body, read fully, then dropped
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<Slot*>(user)->response.append(data, size * n);
  return size * n;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s URL BODIES_FILE N\n", argv[0]);
    return 2;
  }
  const char* url = argv[1];
  long n = std::strtol(argv[3], nullptr, 10);
  if (n < 1 || n > 1024) {
    std::fprintf(stderr, "%s: N must be between 1 and 1024\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[2]);
    return 2;
  }
  std::vector<std::string> bodies;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      bodies.push_back(std::move(line));

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, n);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");

  std::vector<Slot> slots(static_cast<std::size_t>(n));
  std::vector<Slot*> idle;
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_URL, url);
    curl_easy_setopt(s.easy, CURLOPT_POST, 1L);
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_TCP_NODELAY, 1L);
    idle.push_back(&s);
  }

  std::size_t next = 0, done = 0, ok = 0, failed = 0;
  auto started = std::chrono::steady_clock::now();
  while (done < bodies.size()) {
    while (!idle.empty() && next < bodies.size()) {
      Slot* s = idle.back();
      idle.pop_back();
      const std::string& body = bodies[next++];
      s->response.clear();
      curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_multi_add_handle(multi, s->easy);
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    bool any = false;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      any = true;
      Slot* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result == CURLE_OK && status >= 200 && status < 300) {
        ++ok;
      } else {
        if (failed++ < 5)
          std::fprintf(stderr, "request failed: %s, HTTP %ld\n",
                       curl_easy_strerror(msg->data.result), status);
      }
      curl_multi_remove_handle(multi, s->easy);
      idle.push_back(s);
      ++done;
    }
    if (!any && done < bodies.size())
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  for (auto& s : slots)
    curl_easy_cleanup(s.easy);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  std::printf("requests %zu ok %zu failed %zu wall_s %.6f\n", bodies.size(), ok, failed, wall);
  return failed == 0 ? 0 : 1;
}
