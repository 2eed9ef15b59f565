#include "run/runner.hpp"

#include "core/process.hpp"
#include "core/time.hpp"
#include "git/repo.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "scoring/evaluate.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
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

// One trial of one case, from its first attempt to its stored result.
struct Work {
  const PlannedCase* planned = nullptr;
  const suite::Case* c = nullptr;
  int trial = 0;
  int attempt = 0;
  std::vector<Attempt> attempts;
  core::Digest cache_key{};
  std::string idempotency_key;
  std::string attempt_started_at;
};

providers::ChatInput chat_input(const suite::Case& c) {
  providers::ChatInput in;
  if (c.prompt) {
    if (c.system)
      in.messages.push_back({"system", *c.system});
    in.messages.push_back({"user", *c.prompt});
  } else {
    for (const auto& m : c.messages)
      in.messages.push_back({m.role, m.content});
  }
  return in;
}

core::Digest cache_key(const providers::ProviderConfig& p, const providers::ChatInput& in,
                       int trial) {
  json j = providers::answer_params(p);
  json msgs = json::array();
  for (const auto& m : in.messages)
    msgs.push_back({{"role", m.role}, {"content", m.content}});
  j["messages"] = std::move(msgs);
  j["trial"] = trial;
  return core::sha256(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Scores an answer against every assertion of the case.
std::pair<std::string, std::string> score(const suite::Case& c, const scoring::Answer& answer) {
  json outcomes = json::array();
  bool all = true;
  for (const auto& a : c.expect) {
    auto o = scoring::evaluate(a, answer);
    all = all && o.passed;
    json oj{{"assertion", scoring::to_spec(a)}, {"passed", o.passed}, {"reason", o.reason}};
    if (o.score)
      oj["score"] = *o.score;
    outcomes.push_back(std::move(oj));
  }
  return {all ? "pass" : "fail", outcomes.dump(-1, ' ', false, json::error_handler_t::replace)};
}

class Executor {
public:
  Executor(RunsStore& store, std::int64_t run_id, const providers::ProviderConfig& provider,
           int concurrency, CacheMode cache, const ProgressFn& progress)
      : m_store(store), m_run(run_id), m_provider(provider),
        m_concurrency(std::max(1, concurrency)), m_cache(cache), m_progress(progress),
        m_transport(m_concurrency, provider.connect_timeout_s, provider.timeout_s),
        m_rng(std::random_device{}()) {}

  // Runs every trial in `work`; returns the reason when the run had to stop early.
  Result<std::optional<std::string>> execute(std::vector<Work>& work, std::size_t total_trials,
                                             std::size_t already_done) {
    m_stats.total = total_trials;
    m_stats.done = already_done;
    m_started = Clock::now();
    if (m_provider.kind != providers::Kind::exec) {
      if (const char* key = std::getenv(m_provider.api_key_env.c_str()); key && *key)
        m_api_key = key;
      else if (!providers::is_local(m_provider.base_url) && m_cache != CacheMode::offline)
        return with_hint(fail(ExitCode::environment, "{} is not set", m_provider.api_key_env),
                         fmt::format("export {}=... (the key is read from the environment only)",
                                     m_provider.api_key_env));
    }
    for (std::size_t i = 0; i < work.size(); ++i) {
      if (auto r = replay_or_queue(work, i); !r)
        return std::unexpected(r.error());
    }
    while (!m_stop_reason && (!m_ready.empty() || !m_delayed.empty() || in_flight() > 0)) {
      auto now = Clock::now();
      while (!m_delayed.empty() && m_delayed.top().first <= now) {
        m_ready.push_back(m_delayed.top().second);
        m_delayed.pop();
      }
      while (!m_ready.empty() && in_flight() < static_cast<std::size_t>(m_concurrency)) {
        start(work, m_ready.front());
        m_ready.pop_front();
      }
      int timeout = 100;
      if (!m_delayed.empty())
        timeout = static_cast<int>(std::clamp<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(m_delayed.top().first - now)
                .count(),
            0, 100));
      if (in_flight() == 0) {
        if (timeout > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(timeout));
        continue;
      }
      for (auto& response : m_transport.wait(timeout))
        if (auto r = handle(work, std::move(response)); !r)
          return std::unexpected(r.error());
      for (auto& response : take_exec_done())
        if (auto r = handle(work, std::move(response)); !r)
          return std::unexpected(r.error());
      report(false);
    }
    // Stopping: let running exec commands end, but store nothing more from them.
    for (auto& t : m_exec_threads)
      t.join();
    report(true);
    return m_stop_reason;
  }

  std::size_t requests() const { return m_stats.requests; }
  std::size_t cached() const { return m_stats.cached; }

private:
  std::size_t in_flight() const { return m_transport.active() + m_exec_running; }

  Status replay_or_queue(std::vector<Work>& work, std::size_t i) {
    Work& w = work[i];
    if (m_cache == CacheMode::refresh) {
      m_ready.push_back(i);
      return {};
    }
    auto hit = m_store.cache_get(w.cache_key);
    if (!hit)
      return std::unexpected(hit.error());
    if (*hit) {
      ++m_stats.cached;
      providers::Reply reply;
      reply.text = (*hit)->answer;
      reply.served_model = (*hit)->served_model.value_or("");
      reply.fingerprint = (*hit)->fingerprint.value_or("");
      reply.tokens_in = (*hit)->tokens_in;
      reply.tokens_out = (*hit)->tokens_out;
      return finish(w, reply, (*hit)->latency_ms, true);
    }
    if (m_cache == CacheMode::offline)
      return finish_error(w, "offline", "no cached answer and --offline forbids calling the model");
    m_ready.push_back(i);
    return {};
  }

  void start(std::vector<Work>& work, std::size_t i) {
    Work& w = work[i];
    ++w.attempt;
    ++m_stats.requests;
    w.attempt_started_at = core::now_utc();
    auto input = chat_input(*w.c);
    if (m_provider.kind == providers::Kind::exec) {
      start_exec(i, w, input);
      return;
    }
    m_transport.start(i, providers::build_request(m_provider, input, m_api_key, w.idempotency_key));
  }

  void start_exec(std::size_t i, const Work& w, const providers::ChatInput& input) {
    json payload = json::parse(suite::case_record(*w.c).dump());
    payload["trial"] = w.trial;
    json msgs = json::array();
    for (const auto& m : input.messages)
      msgs.push_back({{"role", m.role}, {"content", m.content}});
    payload["messages"] = std::move(msgs);
    ++m_exec_running;
    m_exec_threads.emplace_back([this, i, stdin_data = payload.dump(),
                                 command = m_provider.command] {
      auto started = Clock::now();
      auto r = core::run_process(command,
                                 {.cwd = {}, .stdin_data = stdin_data, .env = {}, .timeout_ms = 0});
      providers::HttpResponse resp;
      resp.token = i;
      resp.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      if (!r) {
        resp.transport_error = providers::ErrorClass::exec_failed;
        resp.transport_message = r.error().message;
      } else if (r->exit_code != 0) {
        resp.transport_error = providers::ErrorClass::exec_failed;
        resp.transport_message =
            fmt::format("exit code {}: {}", r->exit_code, r->err.substr(0, 300));
      } else {
        resp.status = 200;
        resp.body = r->out;
      }
      std::lock_guard lock(m_exec_mutex);
      m_exec_done.push_back(std::move(resp));
      m_transport.wakeup();
    });
  }

  std::vector<providers::HttpResponse> take_exec_done() {
    std::lock_guard lock(m_exec_mutex);
    std::vector<providers::HttpResponse> out;
    out.swap(m_exec_done);
    m_exec_running -= out.size();
    return out;
  }

  Status handle(std::vector<Work>& work, providers::HttpResponse response) {
    Work& w = work[response.token];
    Attempt a;
    a.case_id = w.planned->case_id;
    a.trial = w.trial;
    a.attempt = w.attempt;
    a.started_at = w.attempt_started_at;
    a.latency_ms = response.latency_ms;
    a.idempotency_key = w.idempotency_key;
    if (response.status)
      a.http_status = response.status;

    providers::Reply reply;
    if (response.transport_error != providers::ErrorClass::none) {
      reply.error = response.transport_error;
      reply.error_message = response.transport_message;
    } else if (m_provider.kind == providers::Kind::exec) {
      reply.text = response.body;
      while (!reply.text.empty() && reply.text.back() == '\n')
        reply.text.pop_back();
    } else {
      reply = providers::parse_response(m_provider.kind, response.status, response.body);
    }
    if (reply.error == providers::ErrorClass::none) {
      a.outcome = "answer";
      w.attempts.push_back(std::move(a));
      return finish(w, reply, response.latency_ms, false);
    }
    a.error_class = std::string(providers::to_string(reply.error));
    bool retry = providers::is_retryable(response.status, reply.error) &&
                 w.attempt < m_provider.max_attempts;
    double delay_ms = 0;
    if (retry) {
      std::optional<double> told;
      if (auto ms = providers::parse_retry_after_ms(response.retry_after_ms))
        told = *ms;
      else if (auto s = providers::parse_retry_after(response.retry_after, std::time(nullptr)))
        told = *s * 1000;
      delay_ms = told.value_or(providers::backoff_ms(w.attempt, m_unit(m_rng)));
      if (told && *told > m_provider.max_retry_wait_s * 1000) {
        retry = false; // waiting that long would hang the run: record it as rate limited
        reply.error_message +=
            fmt::format(" (asked to wait {:.0f} s, more than max_retry_wait_s)", *told / 1000);
      }
    }
    if (retry) {
      a.outcome = "retry";
      w.attempts.push_back(std::move(a));
      m_delayed.emplace(Clock::now() +
                            std::chrono::microseconds(static_cast<long long>(delay_ms * 1000)),
                        response.token);
      return {};
    }
    a.outcome = "error";
    w.attempts.push_back(std::move(a));
    if (reply.error == providers::ErrorClass::auth || reply.error == providers::ErrorClass::quota)
      m_stop_reason = fmt::format("{} ({}): stopping instead of failing every case",
                                  reply.error_message, providers::to_string(reply.error));
    else if (reply.error == providers::ErrorClass::connection && m_answers == 0 &&
             ++m_unreachable >= std::min(8, m_concurrency))
      m_stop_reason = fmt::format("the provider is unreachable: {}", reply.error_message);
    return finish_error(w, std::string(providers::to_string(reply.error)), reply.error_message);
  }

  Status finish(Work& w, const providers::Reply& reply, double latency_ms, bool cached) {
    ++m_answers;
    scoring::Answer answer{reply.text, latency_ms, providers::cost_of(m_provider, reply)};
    auto [verdict, outcomes] = score(*w.c, answer);
    TrialResult r;
    r.case_id = w.planned->case_id;
    r.trial = w.trial;
    r.verdict = verdict;
    r.answer = reply.text;
    if (!reply.served_model.empty())
      r.served_model = reply.served_model;
    if (!reply.fingerprint.empty())
      r.fingerprint = reply.fingerprint;
    r.tokens_in = reply.tokens_in;
    r.tokens_out = reply.tokens_out;
    r.cost = answer.cost;
    r.latency_ms = latency_ms;
    r.cached = cached;
    r.assertions = outcomes;
    r.finished_at = core::now_utc();
    std::optional<std::pair<core::Digest, CachedAnswer>> put;
    if (!cached)
      put = std::pair{w.cache_key, CachedAnswer{reply.text, r.served_model, r.fingerprint,
                                                reply.tokens_in, reply.tokens_out, latency_ms}};
    if (auto s = m_store.record(m_run, r, w.attempts, put); !s)
      return s;
    ++m_stats.done;
    ++(verdict == "pass" ? m_stats.passed : m_stats.failed);
    return {};
  }

  Status finish_error(Work& w, const std::string& error_class, const std::string& message) {
    TrialResult r;
    r.case_id = w.planned->case_id;
    r.trial = w.trial;
    r.verdict = "error";
    r.error_class = error_class;
    r.error = message;
    r.latency_ms = w.attempts.empty() ? 0 : w.attempts.back().latency_ms;
    r.finished_at = core::now_utc();
    if (auto s = m_store.record(m_run, r, w.attempts, std::nullopt); !s)
      return s;
    ++m_stats.done;
    ++m_stats.errored;
    return {};
  }

  void report(bool last) {
    if (!m_progress)
      return;
    auto now = Clock::now();
    if (!last && now - m_last_report < std::chrono::milliseconds(100))
      return;
    m_last_report = now;
    m_stats.elapsed_s = std::chrono::duration<double>(now - m_started).count();
    m_progress(m_stats);
  }

  RunsStore& m_store;
  std::int64_t m_run;
  const providers::ProviderConfig& m_provider;
  int m_concurrency;
  CacheMode m_cache;
  const ProgressFn& m_progress;
  providers::Transport m_transport;
  std::string m_api_key;
  std::deque<std::size_t> m_ready;
  using Delayed = std::pair<Clock::time_point, std::size_t>;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> m_delayed;
  std::mt19937_64 m_rng;
  std::uniform_real_distribution<double> m_unit{0.0, 1.0};
  std::optional<std::string> m_stop_reason;
  std::size_t m_answers = 0;
  int m_unreachable = 0;
  Progress m_stats;
  Clock::time_point m_started, m_last_report;
  std::mutex m_exec_mutex;
  std::vector<providers::HttpResponse> m_exec_done;
  std::size_t m_exec_running = 0;
  std::vector<std::thread> m_exec_threads;
};

std::string suite_hash(const std::vector<suite::Case>& cases) {
  std::string text;
  for (const auto& c : cases)
    text += c.id + ":" + core::to_hex(c.content_hash) + "\n";
  return core::to_hex(core::sha256(text));
}

// Runs the trials of `planned` that have no stored result, then summarizes the run.
Result<RunSummary> execute_run(RunsStore& store, const RunRecord& run,
                               const providers::ProviderConfig& provider, int concurrency,
                               CacheMode cache, const ProgressFn& progress) {
  auto planned = store.planned(run.id);
  if (!planned)
    return std::unexpected(planned.error());
  auto existing = store.results(run.id);
  if (!existing)
    return std::unexpected(existing.error());
  std::set<std::pair<std::string, int>> done;
  for (const auto& r : *existing)
    done.emplace(r.case_id, r.trial);

  std::vector<suite::Case> cases;
  cases.reserve(planned->size());
  for (const auto& p : *planned) {
    auto c = suite::parse_case(json::parse(p.case_json, nullptr, false));
    if (!c)
      return with_context(c.error(), fmt::format("run {}: stored case {}", run.id, p.case_id));
    cases.push_back(std::move(*c));
  }
  std::vector<Work> work;
  std::size_t total = 0;
  for (std::size_t i = 0; i < planned->size(); ++i) {
    const auto& p = (*planned)[i];
    for (int t = 0; t < p.trials; ++t) {
      ++total;
      if (done.contains({p.case_id, t}))
        continue;
      Work w;
      w.planned = &p;
      w.c = &cases[i];
      w.trial = t;
      w.cache_key = cache_key(provider, chat_input(cases[i]), t);
      w.idempotency_key =
          core::to_hex(core::sha256(fmt::format("{}:{}:{}", run.id, p.case_id, t))).substr(0, 32);
      work.push_back(std::move(w));
    }
  }
  Executor exec(store, run.id, provider, concurrency, cache, progress);
  auto stopped = exec.execute(work, total, total - work.size());
  if (!stopped)
    return std::unexpected(stopped.error());
  auto at = core::now_utc();
  if (auto r = store.finish_run(run.id, *stopped ? "stopped" : "finished", *stopped, at); !r)
    return std::unexpected(r.error());
  auto summary = summarize(store, run.id);
  if (!summary)
    return std::unexpected(summary.error());
  summary->requests = exec.requests();
  summary->cached = exec.cached();
  return summary;
}

} // namespace

Result<RunSummary> start_run(suite::Suite& s, const suite::Workspace& ws, RunsStore& store,
                             const RunRequest& request, const ProgressFn& progress) {
  suite::CaseFilter filter;
  auto all = suite::list_cases(s, filter);
  if (!all)
    return std::unexpected(all.error());
  std::vector<PlannedCase> planned;
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
    if (!request.tags.empty() && std::none_of(c.tags.begin(), c.tags.end(),
                                              [&](const auto& t) { return in(request.tags, t); }))
      continue;
    PlannedCase p;
    p.case_id = c.id;
    p.case_hash = c.content_hash;
    suite::Case live = c;
    live.status = suite::CaseStatus::active; // stored so parse_case accepts it on resume
    p.case_json = suite::case_record(live).dump();
    p.status = std::string(suite::to_string(c.status));
    if (c.provenance.kind == suite::ProvenanceKind::incident)
      p.incident = c.provenance.incident;
    p.tags = c.tags;
    p.trials = request.trials > 0 ? request.trials : c.trials.value_or(1);
    p.min_pass_rate = c.min_pass_rate.value_or(1.0);
    planned.push_back(std::move(p));
  }
  for (const auto& id : request.cases)
    if (std::none_of(all->begin(), all->end(), [&](const auto& c) { return c.id == id; }))
      return invalid("--case {}: no such case", id);
  if (planned.empty())
    return with_hint(invalid("no cases to run"), "check the --tag, --incident and --case filters");

  RunRecord run;
  run.started_at = core::now_utc();
  if (ws.in_git) {
    run.git_commit = git::head(ws.root);
    run.git_branch = git::branch(ws.root);
    run.git_dirty = git::is_dirty(ws.root);
  }
  run.suite_path = s.path().string();
  run.suite_hash = suite_hash(*all);
  run.provider = request.provider.name;
  run.provider_kind = std::string(providers::to_string(request.provider.kind));
  if (request.provider.kind != providers::Kind::exec)
    run.base_url = request.provider.base_url;
  run.model = request.provider.model;
  run.params = provider_to_json(request.provider);
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
  run.evalkeep_version = EVALKEEP_VERSION;
  if (auto r = store.create_run(run, planned); !r)
    return std::unexpected(r.error());
  return execute_run(store, run, request.provider, concurrency, request.cache, progress);
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
  int concurrency = run->settings.value("concurrency", provider->max_concurrency);
  std::string cache = run->settings.value("cache", "use");
  CacheMode mode = cache == "refresh"   ? CacheMode::refresh
                   : cache == "offline" ? CacheMode::offline
                                        : CacheMode::use;
  return execute_run(store, *run, *provider, concurrency, mode, progress);
}

Result<RunSummary> summarize(RunsStore& store, std::int64_t id) {
  RunSummary s;
  auto run = store.get_run(id);
  if (!run)
    return std::unexpected(run.error());
  s.run = *run;
  auto planned = store.planned(id);
  if (!planned)
    return std::unexpected(planned.error());
  auto results = store.results(id);
  if (!results)
    return std::unexpected(results.error());
  std::map<std::string, std::vector<const TrialResult*>> by_case;
  for (const auto& r : *results)
    by_case[r.case_id].push_back(&r);
  for (const auto& p : *planned) {
    CaseOutcome o;
    o.case_id = p.case_id;
    o.status = p.status;
    o.incident = p.incident;
    o.tags = p.tags;
    o.trials = p.trials;
    o.min_pass_rate = p.min_pass_rate;
    const auto& trials = by_case[p.case_id];
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
          auto outcomes = json::parse(r->assertions, nullptr, false);
          if (outcomes.is_array())
            for (const auto& a : outcomes)
              if (a.is_object() && !a.value("passed", true)) {
                o.first_failure =
                    a.value("assertion", std::string()) + ": " + a.value("reason", std::string());
                break;
              }
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
