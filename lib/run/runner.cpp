#include "run/runner.hpp"

#include "core/process.hpp"
#include "core/time.hpp"
#include "git/repo.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "run/executor.hpp"
#include "run/merge.hpp"
#include "run/program.hpp"
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

std::optional<scoring::CaseScore> score_of(const CaseOutcome& c) {
  if (c.status == "retired" || c.verdict == scoring::Verdict::missing ||
      c.verdict == scoring::Verdict::not_run || c.trials <= 0)
    return std::nullopt;
  // An errored trial is one that did not pass.
  return scoring::CaseScore{static_cast<double>(c.passes) / c.trials, c.trials, c.incident};
}

std::vector<scoring::CaseScore> scores_of(std::span<const CaseOutcome> cases) {
  std::vector<scoring::CaseScore> out;
  for (const auto& c : cases)
    if (auto s = score_of(c))
      out.push_back(*s);
  return out;
}

ExitCode RunSummary::exit_code() const {
  if (run.state == scoring::RunState::stopped || errored > 0 || missing > 0)
    return ExitCode::environment;
  return failed > 0 ? ExitCode::refused : ExitCode::ok;
}

std::string subject_of(const RunRecord& run) {
  if (run.provider_kind != "exec")
    return run.model;
  std::string command;
  auto c = run.params.is_object() ? run.params.find("command") : run.params.end();
  if (c != run.params.end() && c->is_array())
    for (const auto& arg : *c) {
      auto a = arg.is_string() ? arg.get<std::string>() : arg.dump();
      bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
      command += (command.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
    }
  if (command.empty())
    return "exec";
  // A model nobody configured is the program's name (providers::finish_config).
  bool configured = c != run.params.end() && c->is_array() && !c->empty() && (*c)[0].is_string() &&
                    run.model != (*c)[0].get<std::string>();
  return configured ? fmt::format("exec: {}, model {}", command, run.model)
                    : fmt::format("exec: {}", command);
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
  if (c.cached_input_price_per_mtok)
    j["cached_input_price_per_mtok"] = *c.cached_input_price_per_mtok;
  if (c.cache_write_price_per_mtok)
    j["cache_write_price_per_mtok"] = *c.cache_write_price_per_mtok;
  j["anthropic_version"] = c.anthropic_version;
  if (c.batch_price_factor != 0.5)
    j["batch_price_factor"] = c.batch_price_factor;
  if (!c.pass_env.empty())
    j["pass_env"] = c.pass_env;
  if (c.entra_id)
    j["auth"] = "entra-id";
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
    if (j.contains("pass_env"))
      c.pass_env = j.at("pass_env").get<std::vector<std::string>>();
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
    opt("cached_input_price_per_mtok", c.cached_input_price_per_mtok);
    opt("cache_write_price_per_mtok", c.cache_write_price_per_mtok);
    c.headers = j.at("headers").get<std::map<std::string, std::string>>();
    c.api_key_env = j.at("api_key_env").get<std::string>();
    c.max_concurrency = j.at("max_concurrency").get<int>();
    c.max_attempts = j.at("max_attempts").get<int>();
    c.connect_timeout_s = j.at("connect_timeout_s").get<double>();
    c.timeout_s = j.at("timeout_s").get<double>();
    c.max_retry_wait_s = j.at("max_retry_wait_s").get<double>();
    c.idempotency_header = j.at("idempotency_header").get<bool>();
    c.anthropic_version = j.at("anthropic_version").get<std::string>();
    c.deployment = j.value("deployment", "");
    c.api_version = j.value("api_version", "");
    c.entra_id = j.value("auth", "") == "entra-id";
    if (j.contains("region"))
      c.region = j.at("region").get<std::string>();
    c.batch_price_factor = j.value("batch_price_factor", 0.5);
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
  auto existing = TRY(store.results(run.id));
  std::set<std::pair<std::string, int>> done;
  for (const auto& r : existing)
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
  auto result = TRY(execute(store, settings, trials, total, progress));
  auto at = core::now_utc();
  TRY(store.finish_run(
      run.id, result.stop_reason ? scoring::RunState::stopped : scoring::RunState::finished,
      result.stop_reason, at));
  return summarize(store, run.id);
}

std::string_view cache_mode_name(CacheMode m) {
  return m == CacheMode::use ? "use" : m == CacheMode::refresh ? "refresh" : "offline";
}

// The variables that hold keys in this project: every provider's api_key_env.
std::vector<std::string> key_variables(const suite::Workspace& ws, const ExecutorSettings& s) {
  std::vector<std::string> out;
  for (const auto& [_, p] : ws.config.providers)
    out.push_back(p.api_key_env);
  for (const auto* p : {&s.provider, s.judge ? &*s.judge : nullptr})
    if (p)
      out.push_back(p->api_key_env);
  std::erase(out, std::string());
  return out;
}

// What identifies the run's exec programs, when it has any (once per run: a few git commands).
std::optional<core::Digest> exec_program(const suite::Workspace& ws, const RunsStore& store,
                                         const ExecutorSettings& settings) {
  ProgramScope scope;
  for (const auto* p : {&settings.provider, settings.judge ? &*settings.judge : nullptr})
    if (p && p->kind == providers::Kind::exec)
      scope.commands.push_back(p->command);
  if (scope.commands.empty() || !ws.in_git)
    return std::nullopt;
  scope.root = ws.root;
  scope.excluded_files = {ws.suite_path, ws.root / "evalkeep.toml", store.path()};
  scope.excluded_dirs = {ws.root / ".evalkeep"};
  return identify_program(scope);
}

// The trusted cache a run replays from, opened for it.
Result<std::optional<TrustedCache>>
open_replay_source(const std::optional<std::filesystem::path>& path, CacheMode mode) {
  if (!path)
    return std::optional<TrustedCache>();
  if (mode == CacheMode::refresh)
    return invalid("a run that reads no cache cannot replay from '{}'", path->string());
  auto cache = TRY(TrustedCache::open(*path));
  return std::optional(std::move(cache));
}

// Whether the run asked for the case: its status, --case, --incident, --shard and --tag.
bool wanted(const suite::Case& c, const RunRequest& request) {
  bool wanted_status = suite::is_live(c.status) ||
                       (request.include_retired && c.status == suite::CaseStatus::retired);
  if (!wanted_status)
    return false;
  auto in = [](const std::vector<std::string>& list, const std::string& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!in(request.cases, c.id))
    return false;
  if (!request.incidents.empty() && (c.provenance.kind != suite::ProvenanceKind::incident ||
                                     !in(request.incidents, c.provenance.incident)))
    return false;
  if (request.shard && shard_of(c.id, request.shard->second) != request.shard->first)
    return false;
  return request.tags.empty() || std::any_of(c.tags.begin(), c.tags.end(),
                                             [&](const auto& t) { return in(request.tags, t); });
}

// The cases the run asked for, as it plans them and as it runs them (live: an xfail or retired
// case's record is stored as active so parse_case accepts it on resume).
struct Plan {
  std::vector<PlannedCase> planned;
  std::vector<suite::Case> chosen;
};

Result<Plan> plan_cases(const std::vector<suite::Case>& all, const RunRequest& request) {
  Plan plan;
  for (const auto& c : all) {
    if (!wanted(c, request))
      continue;
    PlannedCase p;
    p.case_id = c.id;
    p.case_hash = c.content_hash;
    p.status = std::string(suite::to_string(c.status));
    if (c.provenance.kind == suite::ProvenanceKind::incident)
      p.incident = c.provenance.incident;
    p.tags = c.tags;
    p.trials = request.trials > 0 ? request.trials : c.trials.value_or(1);
    p.min_pass_rate = c.min_pass_rate.value_or(1.0);
    plan.planned.push_back(std::move(p));
    plan.chosen.push_back(c);
    plan.chosen.back().status = suite::CaseStatus::active;
  }
  for (const auto& id : request.cases)
    if (std::none_of(all.begin(), all.end(), [&](const auto& c) { return c.id == id; }))
      return invalid("--case {}: no such case", id);
  if (plan.planned.empty() && !request.shard) // an empty shard of a small suite is fine
    return with_hint(invalid("no cases to run"), "check the --tag, --incident and --case filters");
  return plan;
}

// The run as recorded before it starts: what runs, against what, with which settings.
RunRecord new_run(const suite::Suite& s, const std::vector<suite::Case>& all,
                  const RunRequest& request, int concurrency) {
  RunRecord run;
  run.started_at = core::now_utc();
  run.suite_path = s.path().string();
  run.suite_hash = suite_hash(all);
  run.provider = request.provider.name;
  run.provider_kind = std::string(providers::to_string(request.provider.kind));
  if (request.provider.kind != providers::Kind::exec)
    run.base_url = request.provider.base_url;
  run.model = request.provider.model;
  run.params = provider_to_json(request.provider);
  if (request.judge)
    run.params["judge"] = provider_to_json(*request.judge);
  run.settings = {{"trials", request.trials},
                  {"concurrency", concurrency},
                  {"include_retired", request.include_retired},
                  {"cache", std::string(cache_mode_name(request.cache))},
                  {"tags", request.tags},
                  {"incidents", request.incidents},
                  {"cases", request.cases}};
  if (request.shard)
    run.settings["shard"] = fmt::format("{}/{}", request.shard->first, request.shard->second);
  if (request.replay_from)
    run.settings["replay_from"] = request.replay_from->string();
  if (request.batch)
    run.settings["batch"] = {{"poll_interval_ms", request.batch->poll_interval.count()}};
  std::random_device random;
  run.settings["idempotency_nonce"] =
      fmt::format("{:08x}{:08x}{:08x}{:08x}", random(), random(), random(), random());
  run.evalkeep_version = EVALKEEP_VERSION;
  return run;
}

} // namespace

Result<RunSummary> start_run(suite::Suite& s, const suite::Workspace& ws, RunsStore& store,
                             const RunRequest& request, const ProgressFn& progress) {
  // libcurl (about 30 libraries) is loaded and initialized here, on the main thread, before any
  // other thread starts (its global init is not for threads); an error is reported where the
  // transport is made. Asking git about the checkout (three processes, at once) waits on other
  // processes: it happens while the suite is read and the run planned.
  if (request.provider.kind != providers::Kind::exec ||
      (request.judge && request.judge->kind != providers::Kind::exec))
    (void)providers::preload();
  auto ask_git = [&ws](auto fact) {
    return std::async(std::launch::async, [&ws, fact] {
      using Fact = decltype(fact(ws.root));
      return ws.in_git ? std::optional<Fact>(fact(ws.root)) : std::optional<Fact>();
    });
  };
  auto git_commit = ask_git(git::head);
  auto git_branch = ask_git(git::branch);
  auto git_dirty = ask_git(git::is_dirty);
  if (request.batch && !providers::batch_wire::supports_batch(request.provider.kind))
    return with_hint(invalid("provider {} ({}) has no batch API", request.provider.name,
                             providers::to_string(request.provider.kind)),
                     "--batch works with openai and anthropic providers");
  ExecutorSettings settings;
  settings.provider = request.provider;
  settings.judge = request.judge;
  settings.cache = request.cache;
  settings.batch = request.batch;
  settings.key_variables = key_variables(ws, settings);
  auto program = std::async(std::launch::async,
                            [&ws, &store, &settings] { return exec_program(ws, store, settings); });
  auto replay_from = TRY(open_replay_source(request.replay_from, request.cache));
  auto all = TRY(suite::list_cases(s, suite::CaseFilter{}));
  auto [planned, chosen] = TRY(plan_cases(all, request));
  int concurrency =
      request.concurrency > 0 ? request.concurrency : request.provider.max_concurrency;
  RunRecord run = new_run(s, all, request, concurrency);
  settings.program = program.get();
  if (request.provider.kind == providers::Kind::exec ||
      (request.judge && request.judge->kind == providers::Kind::exec))
    run.settings["exec_program"] =
        settings.program ? json(core::to_hex(*settings.program).substr(0, 16)) : json();
  // The run is recorded now; its git facts and its plan (each case's record written out) once
  // the first requests are out, in the same transaction, so that none of it waits in front of
  // them.
  auto recording = TRY(store.begin_run(run));
  settings.concurrency = concurrency;
  settings.replay_from = replay_from ? &*replay_from : nullptr;
  settings.once_sent = [&]() -> Status {
    for (std::size_t i = 0; i < planned.size(); ++i)
      planned[i].case_json = suite::case_record_text(chosen[i]);
    run.git_commit = git_commit.get().value_or(std::nullopt);
    run.git_branch = git_branch.get().value_or(std::nullopt);
    run.git_dirty = git_dirty.get();
    TRY(store.plan_run(run, planned));
    return recording.commit();
  };
  return execute_run(store, run, std::move(settings), progress, planned, chosen);
}

Result<RunSummary> resume_run(RunsStore& store, std::int64_t id, const suite::Workspace& ws,
                              const ProgressFn& progress,
                              std::optional<std::chrono::milliseconds> poll_interval) {
  auto run = TRY(store.get_run(id));
  TRY(store.claim(id));
  auto provider = TRY(provider_from_json(run.params));
  ExecutorSettings settings;
  settings.provider = provider;
  if (run.params.contains("judge")) {
    auto judge = TRY(provider_from_json(run.params["judge"]));
    settings.judge = judge;
  }
  settings.concurrency = run.settings.value("concurrency", provider.max_concurrency);
  if (auto b = run.settings.find("batch"); b != run.settings.end() && b->is_object()) {
    BatchSettings batch;
    batch.poll_interval = poll_interval.value_or(
        std::chrono::milliseconds(b->value("poll_interval_ms", std::int64_t{10'000})));
    settings.batch = batch;
  }
  std::string cache = run.settings.value("cache", "use");
  settings.cache = cache == "refresh"   ? CacheMode::refresh
                   : cache == "offline" ? CacheMode::offline
                                        : CacheMode::use;
  std::optional<std::filesystem::path> replay_path;
  if (auto r = run.settings.find("replay_from"); r != run.settings.end() && r->is_string())
    replay_path = r->get<std::string>();
  auto replay_from = open_replay_source(replay_path, settings.cache);
  if (!replay_from)
    return with_context(replay_from.error(), fmt::format("run {}", id));
  settings.replay_from = *replay_from ? &**replay_from : nullptr;
  settings.key_variables = key_variables(ws, settings);
  // The program as it is now: a changed agent is called again for what is left.
  settings.program = exec_program(ws, store, settings);
  auto planned = TRY(store.planned(id));
  std::vector<suite::Case> cases;
  for (const auto& p : planned) {
    auto c = suite::parse_case(json::parse(p.case_json, nullptr, false));
    if (!c)
      return with_context(c.error(), fmt::format("run {}: stored case {}", id, p.case_id));
    cases.push_back(std::move(*c));
  }
  return execute_run(store, run, std::move(settings), progress, planned, cases);
}

namespace {

// "3", "3-4", "3-4, 7": the runs that made replayed answers, as ranges.
std::string run_ranges(std::vector<std::int64_t> runs) {
  std::sort(runs.begin(), runs.end());
  std::string out;
  for (std::size_t i = 0; i < runs.size();) {
    std::size_t j = i;
    while (j + 1 < runs.size() && runs[j + 1] == runs[j] + 1)
      ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(runs[i]);
    if (j > i)
      out += "-" + std::to_string(runs[j]);
    i = j + 1;
  }
  return out;
}

// The run's requests and replays, its replays grouped by where they came from: answers made here
// by several runs are one group, "made here by runs 3-4".
Status count_calls(RunsStore& store, RunSummary& s) {
  s.answer_requests = static_cast<std::size_t>(s.run.answer_requests);
  s.judge_requests = static_cast<std::size_t>(s.run.judge_requests);
  s.requests = s.answer_requests + s.judge_requests;
  s.counts_estimated = s.run.counts_estimated;
  auto replays = TRY(store.replays(s.run.id));
  for (const auto& r : replays) {
    s.replayed_answers += static_cast<std::size_t>(r.answers);
    s.replayed_judge_verdicts += static_cast<std::size_t>(r.judge_verdicts);
    // Made here by a recorded run, and made here before runs were recorded, are two groups.
    bool unrecorded = r.from.origin == Origin::here && r.from.run == 0;
    auto group = std::find_if(s.replayed_from.begin(), s.replayed_from.end(), [&](const auto& g) {
      return g.origin == r.from.origin && g.source == r.from.source &&
             (g.origin != Origin::here || (g.runs == std::vector<std::int64_t>{0}) == unrecorded);
    });
    if (group == s.replayed_from.end()) {
      s.replayed_from.push_back({"", r.from.origin, r.from.source, {}, 0, 0});
      group = s.replayed_from.end() - 1;
    }
    if (r.from.origin == Origin::here &&
        std::find(group->runs.begin(), group->runs.end(), r.from.run) == group->runs.end())
      group->runs.push_back(r.from.run);
    group->answers += static_cast<std::size_t>(r.answers);
    group->judge_verdicts += static_cast<std::size_t>(r.judge_verdicts);
  }
  s.replayed = s.replayed_answers + s.replayed_judge_verdicts;
  for (auto& g : s.replayed_from) {
    std::sort(g.runs.begin(), g.runs.end());
    g.label = provenance_label(g.origin, g.source, g.runs);
  }
  std::stable_sort(s.replayed_from.begin(), s.replayed_from.end(),
                   [](const auto& a, const auto& b) { return a.count() > b.count(); });
  return {};
}

} // namespace

std::string provenance_label(Origin origin, const std::string& source,
                             const std::vector<std::int64_t>& runs) {
  switch (origin) {
  case Origin::here: {
    bool recorded = !runs.empty() && runs.front() != 0;
    std::string by = recorded
                         ? fmt::format("run{} {}", runs.size() == 1 ? "" : "s", run_ranges(runs))
                         : std::string();
    if (source.empty())
      return recorded ? "made here by " + by : "made here before runs were recorded";
    return recorded ? fmt::format("made by {} in {}", by, source)
                    : fmt::format("made in {}", source);
  }
  case Origin::imported:
    return "imported from " + source;
  case Origin::merged:
    return "merged from shard store " + source;
  case Origin::trusted:
    return "trusted cache " + source;
  }
  return source;
}

namespace {

using scoring::Verdict;

// A case's verdict over the trials stored for it.
CaseOutcome outcome_of(const PlannedCase& p, const std::vector<const TrialResult*>& trials) {
  CaseOutcome o;
  o.case_id = p.case_id;
  o.status = p.status;
  o.incident = p.incident;
  o.tags = p.tags;
  o.trials = p.trials;
  o.min_pass_rate = p.min_pass_rate;
  const TrialResult* shown = trials.empty() ? nullptr : trials.front();
  for (const auto* r : trials) {
    if (r->verdict == Verdict::pass) {
      ++o.passes;
      continue;
    }
    r->verdict == Verdict::fail ? ++o.fails : ++o.errors;
    if (o.first_failure.empty()) {
      shown = r;
      o.first_failure =
          r->verdict == Verdict::error ? r->error.value_or("error") : first_failure(r->assertions);
    }
  }
  if (shown && shown->answer)
    o.answer = *shown->answer;
  if (shown)
    o.tool_calls = shown->tool_calls;
  o.flaky = o.passes > 0 && o.fails > 0;
  if (static_cast<int>(trials.size()) < o.trials)
    o.verdict = Verdict::missing;
  else if (o.errors > 0)
    o.verdict = Verdict::error;
  else
    o.verdict = o.passes >= o.min_pass_rate * o.trials - 1e-9 ? Verdict::pass : Verdict::fail;
  if (suite::parse_status(p.status) == suite::CaseStatus::xfail)
    o.verdict = o.verdict == Verdict::pass   ? Verdict::xpass
                : o.verdict == Verdict::fail ? Verdict::xfail
                                             : o.verdict;
  return o;
}

// Counts a case's outcome into the summary's totals.
void count_outcome(RunSummary& s, const CaseOutcome& o) {
  if (suite::parse_status(o.status) == suite::CaseStatus::retired) {
    s.retired_passed += o.verdict == Verdict::pass ? 1 : 0;
    s.retired_failed += o.verdict == Verdict::fail ? 1 : 0;
    return;
  }
  ++s.total;
  s.flaky += o.flaky ? 1 : 0;
  switch (o.verdict) {
  case Verdict::pass:
    ++s.passed;
    break;
  case Verdict::fail:
    ++s.failed;
    break;
  case Verdict::error:
    ++s.errored;
    break;
  case Verdict::xfail:
    ++s.xfail;
    break;
  case Verdict::xpass:
    ++s.xpass;
    break;
  case Verdict::missing:
  case Verdict::not_run:
    ++s.missing;
    break;
  }
}

} // namespace

Result<RunSummary> summarize(RunsStore& store, std::int64_t id) {
  RunSummary s;
  s.run = TRY(store.get_run(id));
  TRY(count_calls(store, s));
  auto planned = TRY(store.planned(id, false));
  auto results = TRY(store.results(id));
  auto add = [](std::optional<double>& sum, std::optional<double> v) {
    if (v)
      sum = sum.value_or(0) + *v;
  };
  for (const auto& r : results) {
    add(s.answers_cost, r.cost);
    add(s.cost, r.cached ? std::nullopt : r.cost);
    add(s.cost, r.judge_cost);
    add(s.judge_cost, r.judge_cost);
  }
  if (s.answers_cost && !s.cost)
    s.cost = 0; // priced, and all replayed
  // Both come sorted by case id: walk them side by side.
  auto next = results.begin();
  std::vector<const TrialResult*> trials;
  for (const auto& p : planned) {
    while (next != results.end() && next->case_id < p.case_id)
      ++next;
    trials.clear();
    for (; next != results.end() && next->case_id == p.case_id; ++next)
      trials.push_back(&*next);
    s.cases.push_back(outcome_of(p, trials));
    count_outcome(s, s.cases.back());
  }
  return s;
}

} // namespace evalkeep::run
