// evalkeep-standin: a stand-in model server on 127.0.0.1 for tests, the demo and benchmarks.
// It speaks the OpenAI Chat Completions, OpenAI Responses and Anthropic Messages formats and
// answers from a rules file, with latency and faults on demand. See README.md next to this file.

#include "rules.hpp"
#include "server.hpp"
#include "service.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

using namespace evalkeep::standin;

constexpr std::string_view k_usage = R"(usage: evalkeep-standin --port N [options]

  --port N            port on 127.0.0.1 to listen on; 0 picks a free one (required)
  --port-file PATH    write the port number to PATH once listening (atomically)
  --rules FILE.json   answers, latencies and faults by the last user message
  --latency-ms N      delay every reply by N ms (a rule's latency_ms overrides it)
  --fault KIND        inject KIND (429, 500, reset, hang, drip, ...) into ...
  --fault-rate R      ... a fraction R (0..1) of requests whose rule names no fault
  --rpm N             rate-limit the account to N requests a minute (429 beyond)
  --tpm N             ... and to N tokens (words in and out) a minute
  --burst-s S         the limits' buckets hold S seconds of their rate (default 1)
  --batch-ms N        a batch (OpenAI Batch API, Anthropic Message Batches) is in
                      progress for N ms after it is created, then ends (default 200)
  --batch-expire-after N
                      every batch expires with only its first N requests processed
  --prompt-cache      a system prompt seen before is reported as cached input
                      tokens (prompt_tokens_details.cached_tokens, Anthropic's
                      cache_read_input_tokens, Gemini's cachedContentTokenCount)
  --seed N            seed for choosing those requests and for rules' probability
                      draws (default 1)
  --aws-access-key-id ID, --aws-secret-access-key KEY, --aws-session-token TOKEN
                      the AWS credentials whose SigV4 signatures the Converse route
                      accepts (default: the fixed test key AKIDSTANDINEXAMPLE)
  -h, --help          show this help
)";

struct Options {
  std::optional<int> port;
  std::string port_file;
  std::string rules_file;
  ServiceOptions service;
  std::optional<FaultKind> fault;
  bool aws_flags = false; // an --aws-* flag was given: the rules file's "aws" is not used
};

int usage_error(std::string_view message) {
  fmt::print(stderr, "evalkeep-standin: error: {}\nhint: run evalkeep-standin --help\n", message);
  return 2;
}

template <typename T> std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// Returns an error message, or nothing when the arguments are good.
std::optional<std::string> parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--prompt-cache") {
      o.service.prompt_cache = true;
      continue;
    }
    if (i + 1 >= argc)
      return fmt::format("unknown option or missing value: {}", flag);
    std::string_view value = argv[++i];
    auto bad = [&] { return fmt::format("bad value for {}: '{}'", flag, value); };
    if (flag == "--port") {
      o.port = parse_number<int>(value);
      if (!o.port || *o.port < 0 || *o.port > 65535)
        return bad();
    } else if (flag == "--port-file") {
      o.port_file = value;
    } else if (flag == "--rules") {
      o.rules_file = value;
    } else if (flag == "--latency-ms") {
      auto ms = parse_number<int>(value);
      if (!ms || *ms < 0)
        return bad();
      o.service.latency_ms = *ms;
    } else if (flag == "--fault") {
      o.fault = parse_fault_kind(value);
      if (!o.fault)
        return bad();
    } else if (flag == "--fault-rate") {
      auto rate = parse_number<double>(value);
      if (!rate || *rate < 0 || *rate > 1)
        return bad();
      o.service.fault_rate = *rate;
    } else if (flag == "--rpm" || flag == "--tpm" || flag == "--burst-s") {
      auto n = parse_number<double>(value);
      if (!n || !(*n > 0))
        return bad();
      (flag == "--rpm"   ? o.service.limits.requests_per_minute
       : flag == "--tpm" ? o.service.limits.tokens_per_minute
                         : o.service.limits.burst_s) = *n;
    } else if (flag == "--batch-ms") {
      auto ms = parse_number<int>(value);
      if (!ms || *ms < 0)
        return bad();
      o.service.batch.batch_ms = *ms;
    } else if (flag == "--batch-expire-after") {
      auto n = parse_number<std::size_t>(value);
      if (!n)
        return bad();
      o.service.batch.expire_after = *n;
    } else if (flag == "--seed") {
      auto seed = parse_number<std::uint64_t>(value);
      if (!seed)
        return bad();
      o.service.seed = *seed;
    } else if (flag == "--aws-access-key-id") {
      o.service.aws.access_key_id = value;
      o.aws_flags = true;
    } else if (flag == "--aws-secret-access-key") {
      o.service.aws.secret_access_key = value;
      o.aws_flags = true;
    } else if (flag == "--aws-session-token") {
      o.service.aws.session_token = value;
      o.aws_flags = true;
    } else {
      return fmt::format("unknown option: {}", flag);
    }
  }
  if (!o.port)
    return "--port is required (0 picks a free port)";
  if (o.service.fault_rate > 0 && !o.fault)
    return "--fault-rate needs --fault KIND";
  if (o.fault)
    o.service.fault = Fault{*o.fault, "1", std::nullopt, 1000};
  return std::nullopt;
}

// Readers poll for the file; a rename makes it appear complete or not at all.
std::optional<std::string> write_port_file(const std::string& path, int port) {
  std::string temp = fmt::format("{}.tmp.{}", path, getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush())
      return fmt::format("cannot write '{}'", temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec)
    return fmt::format("cannot rename '{}' to '{}': {}", temp, path, ec.message());
  return std::nullopt;
}

// Many concurrent connections need more descriptors than a shell's default soft limit.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      fmt::print("{}", k_usage);
      return 0;
    }
  Options options;
  if (auto error = parse_args(argc, argv, options))
    return usage_error(*error);

  RuleSet rules;
  if (!options.rules_file.empty()) {
    auto loaded = RuleSet::load(options.rules_file);
    if (!loaded)
      return usage_error(loaded.error());
    rules = std::move(*loaded);
  }

  // The rules file's AWS credentials, unless flags named them.
  if (const auto& aws = rules.aws()) {
    if (!options.aws_flags)
      options.service.aws = {aws->access_key_id, aws->secret_access_key, aws->session_token};
  }
  raise_descriptor_limit();
  ModelService service(std::move(rules), options.service);
  Server server(service);
  auto port = server.listen(*options.port);
  if (!port) {
    fmt::print(stderr, "evalkeep-standin: error: {}\n", port.error());
    return 3;
  }
  if (!options.port_file.empty())
    if (auto error = write_port_file(options.port_file, *port)) {
      fmt::print(stderr, "evalkeep-standin: error: {}\n", *error);
      return 3;
    }
  fmt::print("listening on 127.0.0.1:{}\n", *port);
  std::fflush(stdout);

  if (auto ran = server.run(); !ran) {
    fmt::print(stderr, "evalkeep-standin: error: {}\n", ran.error());
    return 3;
  }
  return 0;
}
