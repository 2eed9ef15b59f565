#include "run/runner.hpp"

#include "core/process.hpp"
#include "core/time.hpp"
#include "git/repo.hpp"
#include "providers/curl_api.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "run/executor.hpp"
#include "run/merge.hpp"
#include "scoring/evaluate.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>

namespace evalkeep::run {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int RunSummary::exit_code() const {
  if (run.state == "stopped" || errored > 0 || missing > 0)
    return 3;
  return failed > 0 ? 1 : 0;
}

json provider_to_json(const providers::ProviderConfig& c) {
  json j = providers::answer_params(c);
  j["name"] = c.name;
  j["headers"] = c.headers; // header values come from the config file, which is committed
  j["api_key_env"] = c.api_key_env;
  j["max_concurrency"] = c.max_concurrency;
  j["max_attempts"] = c.max_attempts;
  j["connect_timeout_s"] = c.connect_timeout_s;
  j["timeout_s"] = c.timeout_s;
  j["max_retry_wait_s"] = c.max_retry_wait_s;
  j["idempotency_header"] = c.idempotency_header;
  j["input_price_per_mtok"] = c.input_price_per_mtok ? json(*c.input_price_per_mtok) : json();
  j["output_price_per_mtok"] = c.output_price_per_mtok ? json(*c.output_price_per_mtok) : json();
  j["anthropic_version"] = c.anthropic_version;
  return j;
}

Result<providers::ProviderConfig> provider_from_json(const json& j) {
  try {
    providers::ProviderConfig c;
    auto kind = providers::parse_kind(j.at("kind").get<std::string>());
    if (!kind)
      return invalid("stored run has an unknown provider kind");
    c.kind = *kind;
    c.name = j.at("name").get<std::string>();
    c.model = j.at("model").get<std::string>();
    if (c.kind == providers::Kind::exec)
      c.command = j.at("command").get<std::vector<std::string>>();
    else
      c.base_url = j.at("base_url").get<std::string>();
    auto opt = [&](const char* key, auto& field) {
      if (j.contains(key) && !j[key].is_null())
        field = j[key].get<typename std::remove_reference_t<decltype(field)>::value_type>();
      else
        field.reset();
    };
    opt("temperature", c.temperature);
    opt("max_tokens", c.max_tokens);
    opt("seed", c.seed);
    opt("input_price_per_mtok", c.input_price_per_mtok);
    opt("output_price_per_mtok", c.output_price_per_mtok);
    c.headers = j.at("headers").get<std::map<std::string, std::string>>();
    c.api_key_env = j.at("api_key_env").get<std::string>();
    c.max_concurrency = j.at("max_concurrency").get<int>();
    c.max_attempts = j.at("max_attempts").get<int>();
    c.connect_timeout_s = j.at("connect_timeout_s").get<double>();
    c.timeout_s = j.at("timeout_s").get<double>();
    c.max_retry_wait_s = j.at("max_retry_wait_s").get<double>();
    c.idempotency_header = j.at("idempotency_header").get<bool>();
    c.anthropic_version = j.at("anthropic_version").get<std::string>();
    return c;
  } catch (const json::exception& e) {
    return invalid("stored run has unreadable provider settings: {}", e.what());
  }
}

namespace {

// Reads a trial's stored outcomes, [{"assertion":..,"passed":..,"reason":..},...], only as far
// as the first failing one: "ASSERTION: REASON", or empty when none failed.
class FirstFailure final : public json::json_sax_t {
public:
  std::string found;
  bool null() override { return true; }
  bool boolean(bool v) override {
    if (m_depth == 2 && m_key == "passed")
      m_failed = !v;
    return true;
  }
  bool number_integer(json::number_integer_t) override { return true; }
  bool number_unsigned(json::number_unsigned_t) override { return true; }
  bool number_float(json::number_float_t, const std::string&) override { return true; }
  bool string(std::string& v) override {
    if (m_depth == 2 && m_key == "assertion")
      m_assertion = std::move(v);
    else if (m_depth == 2 && m_key == "reason")
      m_reason = std::move(v);
    return true;
  }
  bool binary(json::binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (++m_depth == 2) {
      m_failed = false;
      m_assertion.clear();
      m_reason.clear();
    }
    return true;
  }
  bool key(std::string& k) override {
    m_key = std::move(k);
    return true;
  }
  bool end_object() override {
    if (m_depth-- == 2 && m_failed) {
      found = m_assertion + ": " + m_reason;
      return false; // no need to read further
    }
    return true;
  }
  bool start_array(std::size_t) override {
    ++m_depth;
    return true;
  }
  bool end_array() override {
    --m_depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) override {
    return false;
  }

private:
  int m_depth = 0;
  bool m_failed = false;
  std::string m_key, m_assertion, m_reason;
};

std::string first_failure(const std::string& outcomes) {
  FirstFailure reader;
  json::sax_parse(outcomes, &reader);
  return reader.found;
}

std::string suite_hash(const std::vector<suite::Case>& cases) {
  std::string text;
  for (const auto& c : cases)
    text += c.id + ":" + core::to_hex(c.content_hash) + "\n";
  return core::to_hex(core::sha256(text));
}

// Runs the trials of the run that have no stored result, then summarizes the run: its plan and
// its cases, in the same order (by id, as stored).
Result<RunSummary> execute_run(RunsStore& store, const RunRecord& run, ExecutorSettings settings,
                               const ProgressFn& progress, const std::vector<PlannedCase>& planned,
                               const std::vector<suite::Case>& cases) {
  auto existing = store.results(run.id);
  if (!existing)
    return std::unexpected(existing.error());
  std::set<std::pair<std::string, int>> done;
  for (const auto& r : *existing)
    done.emplace(r.case_id, r.trial);
  std::vector<Trial> trials;
  std::size_t total = 0;
  for (std::size_t i = 0; i < planned.size(); ++i) {
    const auto& p = planned[i];
    for (int t = 0; t < p.trials; ++t) {
      ++total;
      if (!done.contains({p.case_id, t}))
        trials.push_back({&p, &cases[i], t});
    }
  }
  settings.run = run.id;
  if (auto n =
          run.settings.is_object() ? run.settings.find("idempotency_nonce") : run.settings.end();
      n != run.settings.end() && n->is_string())
    settings.nonce = n->get<std::string>();
  auto result = execute(store, settings, trials, total, progress);
  if (!result)
    return std::unexpected(result.error());
  auto at = core::now_utc();
  if (auto r = store.finish_run(run.id, result->stop_reason ? "stopped" : "finished",
                                result->stop_reason, at);
      !r)
    return std::unexpected(r.error());
  auto summary = summarize(store, run.id);
  if (!summary)
    return std::unexpected(summary.error());
  summary->requests = result->requests;
  summary->cached = result->cached;
  return summary;
}

} // namespace

Result<RunSummary> start_run(suite::Suite& s, const suite::Workspace& ws, RunsStore& store,
                             const RunRequest& request, const ProgressFn& progress) {
  // Loading libcurl (about 30 libraries) and asking git about the checkout (three processes, at
  // once) wait on the disk and other processes: they happen while the suite is read, the run
  // planned and its first requests sent, not before the first request.
  bool http = request.provider.kind != providers::Kind::exec ||
              (request.judge && request.judge->kind != providers::Kind::exec);
  auto curl_loaded = std::async(std::launch::async, [http] {
    if (http)
      (void)providers::curl_api(); // an error is reported where it is used
  });
  auto ask_git = [&ws](auto fact) {
    return std::async(std::launch::async, [&ws, fact] {
      using Fact = decltype(fact(ws.root));
      return ws.in_git ? std::optional<Fact>(fact(ws.root)) : std::optional<Fact>();
    });
  };
  auto git_commit = ask_git(git::head);
  auto git_branch = ask_git(git::branch);
  auto git_dirty = ask_git(git::is_dirty);
  suite::CaseFilter filter;
  auto all = suite::list_cases(s, filter);
  if (!all)
    return std::unexpected(all.error());
  std::vector<PlannedCase> planned;
  std::vector<suite::Case> chosen;
  for (const auto& c : *all) {
    bool wanted_status = suite::is_live(c.status) ||
                         (request.include_retired && c.status == suite::CaseStatus::retired);
    if (!wanted_status)
      continue;
    auto in = [](const std::vector<std::string>& list, const std::string& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    if (!in(request.cases, c.id))
      continue;
    if (!request.incidents.empty() && (c.provenance.kind != suite::ProvenanceKind::incident ||
                                       !in(request.incidents, c.provenance.incident)))
      continue;
    if (request.shard && shard_of(c.id, request.shard->second) != request.shard->first)
      continue;
    if (!request.tags.empty() && std::none_of(c.tags.begin(), c.tags.end(),
                                              [&](const auto& t) { return in(request.tags, t); }))
      continue;
    PlannedCase p;
    p.case_id = c.id;
    p.case_hash = c.content_hash;
    suite::Case live = c;
    live.status = suite::CaseStatus::active; // stored so parse_case accepts it on resume
    p.status = std::string(suite::to_string(c.status));
    if (c.provenance.kind == suite::ProvenanceKind::incident)
      p.incident = c.provenance.incident;
    p.tags = c.tags;
    p.trials = request.trials > 0 ? request.trials : c.trials.value_or(1);
    p.min_pass_rate = c.min_pass_rate.value_or(1.0);
    planned.push_back(std::move(p));
    chosen.push_back(std::move(live));
  }
  for (const auto& id : request.cases)
    if (std::none_of(all->begin(), all->end(), [&](const auto& c) { return c.id == id; }))
      return invalid("--case {}: no such case", id);
  if (planned.empty() && !request.shard) // an empty shard of a small suite is fine
    return with_hint(invalid("no cases to run"), "check the --tag, --incident and --case filters");

  RunRecord run;
  run.started_at = core::now_utc();
  run.suite_path = s.path().string();
  run.suite_hash = suite_hash(*all);
  run.provider = request.provider.name;
  run.provider_kind = std::string(providers::to_string(request.provider.kind));
  if (request.provider.kind != providers::Kind::exec)
    run.base_url = request.provider.base_url;
  run.model = request.provider.model;
  run.params = provider_to_json(request.provider);
  if (request.judge)
    run.params["judge"] = provider_to_json(*request.judge);
  int concurrency =
      request.concurrency > 0 ? request.concurrency : request.provider.max_concurrency;
  run.settings = {{"trials", request.trials},
                  {"concurrency", concurrency},
                  {"include_retired", request.include_retired},
                  {"cache", request.cache == CacheMode::use       ? "use"
                            : request.cache == CacheMode::refresh ? "refresh"
                                                                  : "offline"},
                  {"tags", request.tags},
                  {"incidents", request.incidents},
                  {"cases", request.cases}};
  if (request.shard)
    run.settings["shard"] = fmt::format("{}/{}", request.shard->first, request.shard->second);
  std::random_device random;
  run.settings["idempotency_nonce"] =
      fmt::format("{:08x}{:08x}{:08x}{:08x}", random(), random(), random(), random());
  run.evalkeep_version = EVALKEEP_VERSION;
  // The run is recorded now; its git facts and its plan (each case's record written out) once
  // the first requests are out, in the same transaction, so that none of it waits in front of
  // them.
  auto recording = store.begin_run(run);
  if (!recording)
    return std::unexpected(recording.error());
  ExecutorSettings settings;
  settings.provider = request.provider;
  settings.judge = request.judge;
  settings.concurrency = concurrency;
  settings.cache = request.cache;
  settings.once_sent = [&]() -> Status {
    for (std::size_t i = 0; i < planned.size(); ++i)
      planned[i].case_json = suite::case_record_text(chosen[i]);
    run.git_commit = git_commit.get().value_or(std::nullopt);
    run.git_branch = git_branch.get().value_or(std::nullopt);
    run.git_dirty = git_dirty.get();
    if (auto r = store.plan_run(run, planned); !r)
      return r;
    return recording->commit();
  };
  return execute_run(store, run, std::move(settings), progress, planned, chosen);
}

Result<RunSummary> resume_run(RunsStore& store, std::int64_t id, const ProgressFn& progress) {
  auto run = store.get_run(id);
  if (!run)
    return std::unexpected(run.error());
  if (auto r = store.claim(id); !r)
    return std::unexpected(r.error());
  auto provider = provider_from_json(run->params);
  if (!provider)
    return std::unexpected(provider.error());
  ExecutorSettings settings;
  settings.provider = *provider;
  if (run->params.contains("judge")) {
    auto judge = provider_from_json(run->params["judge"]);
    if (!judge)
      return std::unexpected(judge.error());
    settings.judge = *judge;
  }
  settings.concurrency = run->settings.value("concurrency", provider->max_concurrency);
  std::string cache = run->settings.value("cache", "use");
  settings.cache = cache == "refresh"   ? CacheMode::refresh
                   : cache == "offline" ? CacheMode::offline
                                        : CacheMode::use;
  auto planned = store.planned(id);
  if (!planned)
    return std::unexpected(planned.error());
  std::vector<suite::Case> cases;
  for (const auto& p : *planned) {
    auto c = suite::parse_case(json::parse(p.case_json, nullptr, false));
    if (!c)
      return with_context(c.error(), fmt::format("run {}: stored case {}", id, p.case_id));
    cases.push_back(std::move(*c));
  }
  return execute_run(store, *run, std::move(settings), progress, *planned, cases);
}

Result<RunSummary> summarize(RunsStore& store, std::int64_t id) {
  RunSummary s;
  auto run = store.get_run(id);
  if (!run)
    return std::unexpected(run.error());
  s.run = *run;
  auto planned = store.planned(id, false);
  if (!planned)
    return std::unexpected(planned.error());
  auto results = store.results(id);
  if (!results)
    return std::unexpected(results.error());
  // Both come sorted by case id: walk them side by side.
  auto next = results->begin();
  std::vector<const TrialResult*> trials;
  for (const auto& p : *planned) {
    while (next != results->end() && next->case_id < p.case_id)
      ++next;
    trials.clear();
    for (; next != results->end() && next->case_id == p.case_id; ++next)
      trials.push_back(&*next);
    CaseOutcome o;
    o.case_id = p.case_id;
    o.status = p.status;
    o.incident = p.incident;
    o.tags = p.tags;
    o.trials = p.trials;
    o.min_pass_rate = p.min_pass_rate;
    const TrialResult* shown = trials.empty() ? nullptr : trials.front();
    for (const auto* r : trials) {
      if (r->verdict == "pass") {
        ++o.passes;
        continue;
      }
      r->verdict == "fail" ? ++o.fails : ++o.errors;
      if (o.first_failure.empty()) {
        shown = r;
        if (r->verdict == "error") {
          o.first_failure = r->error.value_or("error");
        } else {
          o.first_failure = first_failure(r->assertions);
        }
      }
    }
    if (shown && shown->answer)
      o.answer = *shown->answer;
    o.flaky = o.passes > 0 && o.fails > 0;
    bool complete = static_cast<int>(trials.size()) >= o.trials;
    if (!complete)
      o.verdict = "missing";
    else if (o.errors > 0)
      o.verdict = "error";
    else
      o.verdict = o.passes >= o.min_pass_rate * o.trials - 1e-9 ? "pass" : "fail";
    if (p.status == "xfail" && (o.verdict == "pass" || o.verdict == "fail"))
      o.verdict = o.verdict == "pass" ? "xpass" : "xfail";
    if (p.status == "retired") {
      if (o.verdict == "pass")
        ++s.retired_passed;
      else if (o.verdict == "fail")
        ++s.retired_failed;
    } else {
      ++s.total;
      if (o.verdict == "pass")
        ++s.passed;
      else if (o.verdict == "fail")
        ++s.failed;
      else if (o.verdict == "error")
        ++s.errored;
      else if (o.verdict == "xfail")
        ++s.xfail;
      else if (o.verdict == "xpass")
        ++s.xpass;
      else
        ++s.missing;
      if (o.flaky)
        ++s.flaky;
    }
    s.cases.push_back(std::move(o));
  }
  return s;
}

} // namespace evalkeep::run
