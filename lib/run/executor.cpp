#include "run/executor.hpp"

#include "core/json_text.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "providers/agent.hpp"
#include "providers/bedrock.hpp"
#include "providers/embeddings.hpp"
#include "providers/gemini.hpp"
#include "providers/pacing.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "run/worker_pool.hpp"
#include "scoring/evaluate.hpp"
#include "suite/records.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <numeric>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

extern char** environ;

namespace evalkeep::run {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

providers::ChatInput chat_input(const suite::Case& c) {
  providers::ChatInput in;
  if (c.prompt) {
    if (c.system)
      in.messages.push_back({.role = "system", .content = *c.system});
    in.messages.push_back({.role = "user", .content = *c.prompt});
  } else {
    for (const auto& m : c.messages)
      in.messages.push_back({m.role, m.content, m.tool_calls, m.tool_call_id});
  }
  in.tools = c.tools;
  in.tool_choice = c.tool_choice;
  return in;
}

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The messages as an exec program reads them: {"role","content"}, with an assistant's
// "tool_calls" ({"id","name","arguments"}) and a tool result's "tool_call_id" when set.
json exec_messages(const providers::ChatInput& in) {
  json msgs = json::array();
  for (const auto& m : in.messages) {
    json msg{{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& call : m.tool_calls)
        calls.push_back(core::to_json(call));
      msg["tool_calls"] = std::move(calls);
    }
    if (!m.tool_call_id.empty())
      msg["tool_call_id"] = m.tool_call_id;
    msgs.push_back(std::move(msg));
  }
  return msgs;
}

// How many steps an agent's trajectory (a JSON array) holds; 0 for none.
std::size_t step_count(const std::string& steps) {
  if (steps.empty())
    return 0;
  auto j = json::parse(steps, nullptr, false);
  return j.is_array() ? j.size() : 0;
}

// An exec call's cache key: the canonical JSON of the settings, the messages and the purpose, and
// what identifies the program (see program.hpp): a changed agent is a new program.
core::Digest exec_cache_key(const providers::ProviderConfig& p, const providers::ChatInput& in,
                            const std::string& purpose, const core::Digest& program) {
  json j = providers::answer_params(p);
  j["program"] = core::to_hex(program);
  j["messages"] = exec_messages(in);
  if (!in.tools.is_null())
    j["tools"] = in.tools;
  if (!in.tool_choice.is_null())
    j["tool_choice"] = in.tool_choice;
  j["purpose"] = purpose; // "trial N" for answers, "judge" for judge calls
  return core::sha256(dump(j));
}

// An HTTP call's cache key: what shapes its answer (the API, the endpoint and the request body,
// which holds the model, the messages, the sampling settings and whatever a later field adds to
// the body) and its purpose, and the headers that can change an answer: the configured ones and
// Anthropic's API version. Without such headers the key is what it was before they counted.
core::Digest http_cache_key(const providers::ProviderConfig& p, const std::string& body,
                            const std::string& purpose) {
  std::string headers;
  for (const auto& [name, value] : p.headers)
    headers += fmt::format("{}: {}\n", name, value);
  if (p.kind == providers::Kind::anthropic)
    headers += fmt::format("anthropic-version: {}\n", p.anthropic_version);
  if (p.kind == providers::Kind::azure) // the deployment, in the URL, decides the model
    headers += fmt::format("deployment: {}\napi-version: {}\n", p.deployment, p.api_version);
  auto text =
      fmt::format("{}\n{}\n{}\n{}", providers::to_string(p.kind), p.base_url, purpose, body);
  if (!headers.empty())
    text += "\nheaders\n" + headers;
  if (p.kind == providers::Kind::bedrock) // Converse names the model in the URL, not the body
    text += "\nmodel\n" + p.model;
  return core::sha256(text);
}

std::string question_of(const suite::Case& c) {
  if (c.prompt)
    return *c.prompt;
  return c.messages.empty() ? std::string() : c.messages.back().content;
}

// The assertions scored by a call to the judge provider once the answer is in: a judge's
// verdict, or the embeddings a similar assertion compares.
bool graded_by_call(const scoring::Assertion& a) {
  return a.type == scoring::AssertionType::judge || a.type == scoring::AssertionType::similar;
}

// The embedding model a similar assertion names, or the default.
std::string embedding_model(const scoring::Assertion& a) {
  return a.model.empty() ? std::string(scoring::k_default_embedding_model) : a.model;
}

// The graders that call the judge twice: g-eval (its steps, then its score) and relevance (the
// question the answer answers, then the embeddings).
bool two_calls(const scoring::Assertion& a) {
  return a.type == scoring::AssertionType::judge &&
         (a.grader == scoring::Grader::geval || a.grader == scoring::Grader::relevance);
}

// A call to a model: the answer of a trial (slot 0), or the judge's verdict or the embeddings
// (similar) of its assertion slot - 1; stage 1 is the second call of a grader that makes two.
struct Call {
  std::size_t trial;
  std::size_t slot;
  std::size_t stage = 0;
};

// A call's token for the transport and the exec threads: the trial in the high 32 bits, the
// stage in bit 31 and the slot below it. Distinct for every call: a run holds fewer than 2^32
// trials (execute checks) and a case at most k_max_assertions. (trial * 1024 + slot took a
// 1,025th assertion's judge call for the next trial's.)
std::uint64_t token(Call c) {
  return (static_cast<std::uint64_t>(c.trial) << 32) | (static_cast<std::uint64_t>(c.stage) << 31) |
         static_cast<std::uint64_t>(c.slot);
}
Call call_of(std::uint64_t token) {
  return {static_cast<std::size_t>(token >> 32), static_cast<std::size_t>(token & 0x7FFFFFFFu),
          static_cast<std::size_t>((token >> 31) & 1u)};
}

// What is known about a trial while its calls are in flight.
struct TrialState {
  // By call (Executor::at): the slots, then the second calls of their assertions.
  std::vector<int> attempts;                     // attempts made
  std::vector<std::optional<core::Digest>> keys; // cache keys, computed once
  std::vector<std::string> bodies;               // HTTP request bodies, written once
  std::vector<Attempt> log;
  std::optional<providers::Reply> answer;
  double latency_ms = 0;
  bool cached = false;
  std::vector<std::optional<scoring::Outcome>> judged; // by assertion index
  std::vector<std::string> first_calls; // by assertion: what a two-call grader's first gave
  std::size_t pending = 0;              // judge calls still running
  std::optional<std::pair<std::string, std::string>> error; // class, message
  std::vector<std::pair<core::Digest, CachedAnswer>> cache_puts;
  std::vector<std::string> idempotency_keys; // by call, made when the call first starts
  std::string started_at;
  bool batched = false; // answered through a batch: costs the provider's batch_price_factor
  std::optional<double> judge_cost; // what its fresh judge calls cost, when priced
};

class Executor {
public:
  Executor(RunsStore& store, const ExecutorSettings& s, const std::vector<Trial>& trials,
           const ProgressFn& progress)
      : m_store(store), m_s(s), m_trials(trials), m_state(trials.size()), m_progress(progress),
        m_once_sent(s.once_sent), m_rng(std::random_device{}()) {}

  Result<ExecutorResult> run(std::size_t total_trials) {
    m_stats.total = total_trials;
    m_stats.done = total_trials - m_trials.size();
    m_started = Clock::now();
    auto transport = TRY(providers::Transport::make(
        std::max(1, m_s.concurrency), m_s.provider.connect_timeout_s, m_s.provider.timeout_s));
    m_transport = std::move(transport);
    if (m_s.provider.kind != providers::Kind::exec)
      m_pacers[0].emplace(m_s.concurrency);
    if (m_s.judge && m_s.judge->kind != providers::Kind::exec)
      m_pacers[1].emplace(m_s.concurrency);
    TRY(read_key(m_s.provider, m_key, m_aws[0]));
    if (m_s.judge)
      TRY(read_key(*m_s.judge, m_judge_key, m_aws[1]));
    // An exec program is code of the repository: it gets no key it was not given, and what it
    // writes is cleared of the keys it was given.
    for (std::size_t k = 0; k < 2; ++k) {
      const auto* p = k == 0 ? &m_s.provider : m_s.judge ? &*m_s.judge : nullptr;
      if (!p || p->kind != providers::Kind::exec)
        continue;
      m_withheld[k] = providers::withheld_from_exec(*p, environ, m_s.key_variables);
      m_exec_secrets[k] = passed_secrets(*p);
      if (!m_exec_pool)
        m_exec_pool = std::make_unique<WorkerPool>(static_cast<std::size_t>(m_s.concurrency));
    }
    auto driven = drive();
    m_exec_pool.reset(); // joins the exec threads: a stopped run stores nothing more from them
    // Whatever ended the loop, store the trials that finished before it.
    auto stored = flush(true);
    if (!driven)
      return std::unexpected(driven.error());
    if (!stored)
      return std::unexpected(stored.error());
    report(true);
    return ExecutorResult{m_stop, m_stats.requests, m_stats.replayed};
  }

private:
  // Starts every trial (replaying cached answers) and runs the calls until all are done.
  Status drive() {
    for (std::size_t i : start_order()) {
      const auto& t = m_trials[i];
      auto& st = m_state[i];
      if (t.c->expect.size() > k_max_assertions) {
        st.error = {"too-many-assertions",
                    fmt::format("case {} has {} assertions, more than the {} a case may hold",
                                t.c->id, t.c->expect.size(), k_max_assertions)};
        TRY(finish(i));
        continue;
      }
      auto calls = 2 * (t.c->expect.size() + 1);
      st.attempts.assign(calls, 0);
      st.keys.resize(calls);
      st.bodies.resize(calls);
      st.idempotency_keys.resize(calls);
      st.judged.resize(t.c->expect.size());
      st.first_calls.resize(t.c->expect.size());
      TRY(begin(i));
      // The first calls go out as soon as there are enough to fill the slots, while the rest
      // are prepared.
      if (!m_s.batch && m_ready.size() >= static_cast<std::size_t>(m_s.concurrency) &&
          in_flight() == 0) {
        refill(Clock::now());
        m_transport->send();
        TRY(sent());
      }
    }
    if (m_s.batch)
      TRY(batch());
    TRY(flush(false));
    while (!m_stop && (!m_ready.empty() || !m_delayed.empty() || in_flight() > 0)) {
      auto now = Clock::now();
      refill(now);
      int timeout = 100;
      auto wake = [&](Clock::time_point at) {
        // Rounded up: a wait cut short would spin until the time came.
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
        timeout = std::min(timeout, static_cast<int>(std::clamp<long long>(ms, 0, 100)));
      };
      if (!m_delayed.empty())
        wake(m_delayed.top().first);
      if (m_paced_until)
        wake(*m_paced_until);
      if (in_flight() == 0) {
        if (timeout > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(timeout));
        continue;
      }
      auto responses = m_transport->wait(timeout);
      // Their places in the window are free before they are read, like their slots below.
      for (const auto& r : responses)
        if (m_tickets.contains(r.token))
          --m_http_in_flight[pacer_index(call_of(r.token))];
      // When every response of the round is a 2xx, none of them can stop the run: their slots go
      // back to work before the answers are read, scored and stored, so no slot sits idle
      // meanwhile. Otherwise each slot is refilled once its response is handled, so that a
      // response that stops the run (a bad key, an empty account) sends nothing more.
      bool all_ok = std::ranges::all_of(responses, [](const providers::HttpResponse& r) {
        return r.transport_error == providers::ErrorClass::none && r.status / 100 == 2;
      });
      if (all_ok) {
        refill(Clock::now());
        m_transport->send();
      }
      for (auto& response : responses) {
        TRY(handle(std::move(response)));
        if (!m_stop)
          refill(Clock::now());
      }
      for (auto& response : take_exec_done())
        TRY(handle(std::move(response)));
      // The requests that refilled the slots go out now, not after the commit below.
      m_transport->send();
      // One transaction for the trials finished in this round: each is stored before the loop
      // waits on the network again.
      TRY(flush(false));
      report(false);
      // Nothing is left to send and the last answers are a round trip away: what the run wrote
      // so far goes from the WAL into the database now, not when the store closes after the
      // summary. A failure here leaves it for the close.
      if (!m_checkpointed && m_ready.empty() && m_delayed.empty() && in_flight() > 0) {
        m_checkpointed = true;
        (void)m_store.checkpoint();
      }
    }
    return collected_batches();
  }

  // Trials that wait on a judge call go first: a judge call can start only once its answer is
  // in, so left for the end they would add a round trip after the last answer.
  std::vector<std::size_t> start_order() const {
    std::vector<std::size_t> order(m_trials.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (m_s.judge)
      std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
        return std::ranges::any_of(m_trials[i].c->expect, graded_by_call);
      });
    return order;
  }

  // The values of the key variables an exec program's pass_env lets it have: whatever it
  // writes may echo them.
  static std::vector<std::string> passed_secrets(const providers::ProviderConfig& p) {
    std::vector<std::string> out;
    for (const auto& name : p.pass_env)
      if (const char* v = std::getenv(name.c_str()); v && *v)
        out.emplace_back(v);
    return out;
  }

  // The key of a provider; for Bedrock its AWS credentials, whose secret key is `key`.
  Status read_key(const providers::ProviderConfig& p, std::string& key,
                  providers::bedrock::Credentials& aws) {
    if (p.kind == providers::Kind::exec)
      return {};
    if (p.kind == providers::Kind::bedrock) {
      if (m_s.cache == CacheMode::offline)
        return {};
      TRY(providers::bedrock::check_signable(p));
      auto found = providers::bedrock::credentials_from_environment(p);
      if (!found)
        return std::unexpected(found.error());
      aws = std::move(*found);
      key = aws.secret_access_key;
      return {};
    }
    if (const char* k = std::getenv(p.api_key_env.c_str()); k && *k) {
      key = k;
      return {};
    }
    if (providers::is_local(p.base_url) || m_s.cache == CacheMode::offline)
      return {};
    return with_hint(
        fail(ExitCode::environment, "{} is not set (provider {})", p.api_key_env, p.name),
        fmt::format("export {}=... (keys are read from the environment only)", p.api_key_env));
  }

  std::size_t in_flight() const { return m_transport->active() + m_exec_running; }

  // Starts queued calls (and retries whose wait is over) while there is room.
  void refill(Clock::time_point now) {
    while (!m_delayed.empty() && m_delayed.top().first <= now) {
      m_ready.push_back(m_delayed.top().second);
      m_delayed.pop();
    }
    m_paced_until.reset();
    while (!m_ready.empty() && in_flight() < static_cast<std::size_t>(m_s.concurrency)) {
      Call c = m_ready.front();
      if (auto* pacer = pacer_for(c)) {
        std::size_t k = pacer_index(c);
        if (pacer->window_full(m_http_in_flight[k]))
          break; // an answer frees a place
        std::size_t bytes = body_for(c).size();
        if (auto at = pacer->ready_at(now, bytes, m_told.contains(token(c))); at > now) {
          m_paced_until = at;
          break;
        }
        m_tickets[token(c)] = pacer->sent(now, bytes);
        m_told.erase(token(c));
        ++m_http_in_flight[k];
      }
      start(c);
      m_ready.pop_front();
    }
  }

  // The account a call's requests count against: the judge's own, unless it is the provider.
  std::size_t pacer_index(Call c) const {
    return c.slot == 0 || (m_s.judge->name == m_s.provider.name &&
                           m_s.judge->base_url == m_s.provider.base_url)
               ? 0
               : 1;
  }
  // The pacer of an HTTP call; an exec program has none.
  providers::Pacer* pacer_for(Call c) {
    auto& p = m_pacers[pacer_index(c)];
    return p ? &*p : nullptr;
  }

  // The wait a response asks for, in milliseconds: retry-after-ms, else Retry-After.
  static std::optional<double> told_wait_ms(const providers::HttpResponse& response) {
    if (auto ms = providers::parse_retry_after_ms(response.retry_after_ms))
      return *ms;
    if (auto sec = providers::parse_retry_after(response.retry_after, std::time(nullptr)))
      return *sec * 1000;
    return std::nullopt;
  }

  // Tells the call's pacer how its request went.
  void paced(Call c, const providers::HttpResponse& response, const providers::Reply& reply) {
    auto* pacer = pacer_for(c);
    auto ticket = m_tickets.find(response.token);
    if (!pacer || ticket == m_tickets.end())
      return;
    providers::Pacer::Answer a;
    a.limits = response.rate;
    a.rate_limited = reply.error == providers::ErrorClass::rate_limited;
    a.retry_after_ms = told_wait_ms(response);
    // A wait past max_retry_wait_s ends that call (retry_delay_ms); it holds no other.
    if (a.retry_after_ms && *a.retry_after_ms > provider_for(c).max_retry_wait_s * 1000)
      a.retry_after_ms.reset();
    if (reply.tokens_in)
      a.tokens_in = static_cast<double>(*reply.tokens_in);
    if (reply.tokens_out)
      a.tokens_out = static_cast<double>(*reply.tokens_out);
    pacer->answered(Clock::now(), ticket->second, a);
    m_tickets.erase(ticket);
  }

  const providers::ProviderConfig& provider_for(Call c) const {
    return c.slot == 0 ? m_s.provider : *m_s.judge;
  }

  // The index of a call in a trial's per-call state.
  std::size_t at(Call c) const {
    return c.slot + c.stage * (m_trials[c.trial].c->expect.size() + 1);
  }

  // Whether the call fetches embeddings from the judge provider's POST /embeddings, two texts in
  // one request: a similar assertion's text and the answer, or (relevance's second call) the
  // case's question and the question the judge wrote.
  bool embeds(Call c) const {
    if (c.slot == 0)
      return false;
    const auto& a = m_trials[c.trial].c->expect[c.slot - 1];
    return a.type == scoring::AssertionType::similar ||
           (c.stage == 1 && a.grader == scoring::Grader::relevance);
  }

  providers::ChatInput input_for(Call c) const {
    const auto& t = m_trials[c.trial];
    if (c.slot == 0)
      return chat_input(*t.c);
    const auto& st = m_state[c.trial];
    const auto& a = t.c->expect[c.slot - 1];
    std::string answer = st.answer ? st.answer->text : "";
    if (c.stage == 1) // g-eval's score, by the steps its first call wrote
      return {{{"user",
                scoring::geval_prompt(a, st.first_calls[c.slot - 1], question_of(*t.c), answer)}}};
    return {{{"user", scoring::judge_prompt(a, question_of(*t.c), answer)}}};
  }

  // An exec program that cannot be identified (outside a git repository) has its answers
  // neither replayed nor cached: nothing could tell a changed program from the one cached.
  bool cacheable(Call c) const {
    return provider_for(c).kind != providers::Kind::exec || m_s.program.has_value();
  }

  // The call's cache key; only for a cacheable call.
  const core::Digest& key_for(Call c) {
    auto& key = m_state[c.trial].keys[at(c)];
    if (!key) {
      std::string purpose = c.slot == 0 ? fmt::format("trial {}", m_trials[c.trial].trial)
                            : embeds(c) ? std::string("embedding")
                                        : std::string("judge");
      const auto& p = provider_for(c);
      key = p.kind == providers::Kind::exec ? exec_cache_key(p, input_for(c), purpose, *m_s.program)
                                            : http_cache_key(p, body_for(c), purpose);
    }
    return *key;
  }

  const std::string& body_for(Call c) {
    auto& body = m_state[c.trial].bodies[at(c)];
    if (body.empty() && embeds(c)) {
      const auto& t = m_trials[c.trial];
      const auto& a = t.c->expect[c.slot - 1];
      const auto& answer = m_state[c.trial].answer;
      body = a.type == scoring::AssertionType::similar
                 ? providers::embeddings_body(embedding_model(a),
                                              {a.text, answer ? answer->text : std::string()})
                 : providers::embeddings_body(embedding_model(a),
                                              {a.rubric.empty() ? question_of(*t.c) : a.rubric,
                                               m_state[c.trial].first_calls[c.slot - 1]});
    } else if (body.empty()) {
      body = providers::request_body(provider_for(c), input_for(c));
    }
    return body;
  }

  // Replays the answer from the cache, or queues the call.
  Status begin(std::size_t i) {
    Call call{i, 0};
    auto hit = TRY(lookup(call));
    if (hit) {
      auto& st = m_state[i];
      st.cached = true;
      return answered(call, *hit, m_cached_latency);
    }
    if (m_s.cache == CacheMode::offline) {
      m_state[i].error = {
          "offline", cacheable(call) ? "no cached answer, and --offline forbids calling the model"
                                     : "exec answers are not cached outside a git repository, and "
                                       "--offline forbids calling the program"};
      return finish(i);
    }
    m_ready.push_back(call);
    return {};
  }

  // The cached answer of a call, if the run reads the cache, counted as replayed from where it
  // came from: the trusted cache file the run was given alone, else this store's cache (what a
  // plain run may replay, or with --offline anything). With --no-cache, the call's key is only
  // computed once its answer is stored, not before the first requests go out.
  Result<std::optional<providers::Reply>> lookup(Call c) {
    if (m_s.cache == CacheMode::refresh || !cacheable(c))
      return std::optional<providers::Reply>();
    auto hit = TRY(m_s.replay_from ? m_s.replay_from->get(key_for(c))
                                   : m_store.cache_get(key_for(c), m_s.cache == CacheMode::offline
                                                                       ? CacheRead::any
                                                                       : CacheRead::replayable));
    if (!hit)
      return std::optional<providers::Reply>();
    ++m_stats.replayed;
    auto& n = m_round.replays[hit->provenance];
    n.from = hit->provenance;
    ++(c.slot == 0 ? n.answers : n.judge_verdicts);
    providers::Reply r;
    r.text = hit->answer;
    r.tool_calls = hit->tool_calls;
    r.steps = hit->steps;
    r.served_model = hit->served_model.value_or("");
    r.fingerprint = hit->fingerprint.value_or("");
    r.tokens_in = hit->tokens_in;
    r.tokens_out = hit->tokens_out;
    r.tokens_cached = hit->tokens_cached;
    r.tokens_cache_write = hit->tokens_cache_write;
    m_cached_latency = hit->latency_ms;
    return std::optional(std::move(r));
  }

  void start(Call c) {
    auto& st = m_state[c.trial];
    auto& idempotency_key = st.idempotency_keys[at(c)];
    if (idempotency_key.empty())
      idempotency_key = idempotency_key_of(c);
    ++st.attempts[at(c)];
    ++m_stats.requests;
    ++(c.slot == 0 ? m_round.answer_requests : m_round.judge_requests);
    st.started_at = core::now_utc();
    const auto& p = provider_for(c);
    if (p.kind == providers::Kind::exec) {
      start_exec(c, p, input_for(c));
      return;
    }
    auto request =
        embeds(c)
            ? providers::build_embeddings_request(p, body_for(c), m_judge_key, idempotency_key)
            : providers::build_request(p, body_for(c), c.slot == 0 ? m_key : m_judge_key,
                                       idempotency_key);
    if (p.kind == providers::Kind::bedrock)
      providers::bedrock::sign(request, p, m_aws[c.slot == 0 ? 0 : 1]);
    m_transport->start(token(c), std::move(request));
  }

  // One key per logical request, the same for each of its attempts: the run (its number and
  // nonce: numbers start again at 1 in a new runs store), the case, the trial, and which call
  // (the answer, or the judge of an assertion). A run stored without a nonce, by an older
  // version, keeps the keys it started with.
  std::string idempotency_key_of(Call c) const {
    const auto& t = m_trials[c.trial];
    std::string text = fmt::format("{}:{}:{}", m_s.run, t.planned->case_id, t.trial);
    if (!m_s.nonce.empty())
      text += ":" + m_s.nonce;
    if (c.slot > 0)
      text += fmt::format(":judge:{}", c.slot - 1);
    if (c.stage > 0)
      text += fmt::format(":call:{}", c.stage + 1);
    return core::to_hex(core::sha256(text)).substr(0, 32);
  }

  // What an exec program reads on stdin: what a model would get (the messages and the sampling
  // settings), the case id and the trial, and whether it answers or judges; never the case's
  // assertions (docs/USAGE.md, "exec").
  json exec_payload(Call c, const providers::ProviderConfig& p,
                    const providers::ChatInput& input) const {
    const auto& t = m_trials[c.trial];
    json payload{{"id", t.c->id},
                 {"trial", t.trial},
                 {"purpose", c.slot == 0 ? "answer" : "judge"},
                 {"messages", exec_messages(input)},
                 {"model", p.model},
                 {"temperature", p.temperature ? json(*p.temperature) : json()},
                 {"max_tokens", p.max_tokens ? json(*p.max_tokens) : json()},
                 {"seed", p.seed ? json(*p.seed) : json()}};
    if (!input.tools.is_null())
      payload["tools"] = input.tools;
    if (!input.tool_choice.is_null())
      payload["tool_choice"] = input.tool_choice;
    return payload;
  }

  // Runs an exec call on the pool; its response comes back through take_exec_done(). It has
  // no HTTP status: success is an exit code of 0.
  void start_exec(Call c, const providers::ProviderConfig& p, const providers::ChatInput& input) {
    ++m_exec_running;
    std::size_t k = c.slot == 0 ? 0 : 1;
    bool queued = m_exec_pool->submit(
        [this, tok = token(c), stdin_data = dump(exec_payload(c, p, input)), command = p.command,
         unset = &m_withheld[k], secrets = &m_exec_secrets[k],
         timeout_ms = static_cast<int>(p.timeout_s * 1000)] {
          auto started = Clock::now();
          core::ProcessOptions options;
          options.stdin_data = stdin_data;
          options.unset = *unset;
          options.timeout_ms = timeout_ms;
          options.max_output = providers::k_max_response_bytes; // an answer, as over HTTP
          auto r = core::run_process(command, options);
          auto resp = exec_response(std::move(r), timeout_ms, *secrets);
          resp.token = tok;
          resp.latency_ms =
              std::chrono::duration<double, std::milli>(Clock::now() - started).count();
          exec_done(std::move(resp));
        });
    if (!queued) {
      providers::HttpResponse resp;
      resp.token = token(c);
      resp.transport_error = providers::ErrorClass::exec_failed;
      resp.transport_message = "cannot start a thread to run the command";
      exec_done(std::move(resp));
    }
  }

  // What an exec call came to. Its stderr, quoted in the error of a failed call, is cleared of
  // the keys the program was given before it is cut to 300 bytes (a cut key would keep its
  // start) and made valid UTF-8.
  static providers::HttpResponse exec_response(Result<core::ProcessResult> r, int timeout_ms,
                                               const std::vector<std::string>& secrets) {
    providers::HttpResponse resp;
    if (!r) {
      resp.transport_error = providers::ErrorClass::exec_failed;
      resp.transport_message = r.error().message;
    } else if (r->output_too_large) {
      resp.transport_error = providers::ErrorClass::bad_response;
      resp.transport_message =
          fmt::format("the command wrote more than {}", megabytes(providers::k_max_response_bytes));
    } else if (r->timed_out) {
      resp.transport_error = providers::ErrorClass::timeout;
      resp.transport_message = fmt::format("the command ran longer than {} ms", timeout_ms);
    } else if (r->exit_code != 0) {
      std::string err = r->err;
      for (const auto& secret : secrets)
        providers::redact(err, secret);
      resp.transport_error = providers::ErrorClass::exec_failed;
      resp.transport_message =
          fmt::format("exit code {}: {}", r->exit_code,
                      core::valid_utf8(std::string(core::utf8_prefix(err, 300))));
    } else {
      resp.body = std::move(r->out);
    }
    return resp;
  }

  void exec_done(providers::HttpResponse resp) {
    std::lock_guard lock(m_exec_mutex);
    m_exec_done.push_back(std::move(resp));
    m_transport->wakeup();
  }

  std::vector<providers::HttpResponse> take_exec_done() {
    std::lock_guard lock(m_exec_mutex);
    std::vector<providers::HttpResponse> out;
    out.swap(m_exec_done);
    m_exec_running -= out.size();
    return out;
  }

  // The attempt a response ends, before its outcome is known.
  Attempt attempt_of(Call c, const providers::HttpResponse& response) const {
    const auto& st = m_state[c.trial];
    Attempt a;
    a.case_id = m_trials[c.trial].planned->case_id;
    a.trial = m_trials[c.trial].trial;
    a.attempt = st.attempts[at(c)];
    a.purpose = c.slot == 0 ? std::string("answer")
                : embeds(c) ? fmt::format("embedding:{}", c.slot - 1)
                            : fmt::format("judge:{}", c.slot - 1);
    if (c.slot > 0 && c.stage == 0 && two_calls(m_trials[c.trial].c->expect[c.slot - 1]))
      a.purpose += ":first"; // g-eval's steps, or the question relevance's judge wrote
    a.started_at = st.started_at;
    a.latency_ms = response.latency_ms;
    a.idempotency_key = st.idempotency_keys[at(c)];
    if (response.status)
      a.http_status = response.status;
    return a;
  }

  // The reply in a response, cleared of keys before anything is read from it (see
  // providers::redact); an exec program's output also of the keys its pass_env gave it.
  providers::Reply reply_of(Call c, providers::HttpResponse& response,
                            const providers::ProviderConfig& p) const {
    const auto& key = c.slot == 0 ? m_key : m_judge_key;
    providers::redact(response.body, key);
    providers::redact(response.transport_message, key);
    const auto& token = m_aws[c.slot == 0 ? 0 : 1].session_token;
    providers::redact(response.body, token);
    providers::redact(response.transport_message, token);
    if (p.kind == providers::Kind::exec)
      for (const auto& secret : m_exec_secrets[c.slot == 0 ? 0 : 1]) {
        providers::redact(response.body, secret);
        providers::redact(response.transport_message, secret);
      }
    providers::Reply reply;
    if (response.transport_error != providers::ErrorClass::none) {
      reply.error = response.transport_error;
      reply.error_message = response.transport_message;
    } else if (p.kind == providers::Kind::exec && p.agent_output && c.slot == 0) {
      reply = providers::parse_agent_output(response.body);
    } else if (p.kind == providers::Kind::exec) {
      reply.text = std::move(response.body);
      while (!reply.text.empty() && reply.text.back() == '\n')
        reply.text.pop_back();
    } else if (embeds(c)) {
      reply = similarity_reply(response);
    } else {
      reply = p.kind == providers::Kind::bedrock
                  ? providers::bedrock::parse_response(response.status, response.body,
                                                       response.error_type)
                  : providers::parse_response(p.kind, response.status, response.body);
      providers::redact(reply, key); // decoding undoes JSON's \u escapes of it
      providers::redact(reply, token);
    }
    return reply;
  }

  // An embeddings response (already cleared of keys: it holds only numbers and an error message)
  // as a reply whose text is the cosine similarity of the assertion's text and the answer.
  static providers::Reply similarity_reply(const providers::HttpResponse& response) {
    providers::Reply reply;
    auto e = providers::parse_embeddings(response.status, response.body, 2);
    reply.tokens_in = e.tokens_in;
    if (e.error != providers::ErrorClass::none) {
      reply.error = e.error;
      reply.error_message = std::move(e.error_message);
      return reply;
    }
    auto sim = scoring::cosine_similarity(e.vectors[0], e.vectors[1]);
    if (!sim) {
      reply.error = providers::ErrorClass::bad_response;
      reply.error_message = fmt::format("the embeddings cannot be compared (lengths {} and {}, or "
                                        "a zero vector)",
                                        e.vectors[0].size(), e.vectors[1].size());
      return reply;
    }
    reply.text = fmt::format("{}", *sim);
    return reply;
  }

  // How long to wait before retrying a failed call, or nullopt when it is not retried: its error
  // is final, its attempts are spent, or the provider asks for a wait longer than
  // max_retry_wait_s (then recorded as rate limited, with the wait in its message).
  std::optional<double> retry_delay_ms(Call c, const providers::HttpResponse& response,
                                       providers::Reply& reply,
                                       const providers::ProviderConfig& p) {
    if (m_in_batch || !providers::is_retryable(response.status, reply.error) ||
        m_state[c.trial].attempts[at(c)] >= p.max_attempts)
      return std::nullopt;
    std::optional<double> told = told_wait_ms(response);
    if (told && *told > p.max_retry_wait_s * 1000) {
      reply.error_message +=
          fmt::format(" (told to wait {:.0f} s, more than max_retry_wait_s)", *told / 1000);
      return std::nullopt;
    }
    return told.value_or(providers::backoff_ms(m_state[c.trial].attempts[at(c)], m_unit(m_rng)));
  }

  Status handle(providers::HttpResponse response) {
    Call c = call_of(response.token);
    auto& st = m_state[c.trial];
    const auto& p = provider_for(c);
    Attempt a = attempt_of(c, response);
    providers::Reply reply = reply_of(c, response, p);
    if (p.kind == providers::Kind::gemini && response.retry_after.empty() &&
        response.retry_after_ms.empty())
      if (auto ms = providers::gemini::retry_delay_ms(response.body))
        response.retry_after_ms = fmt::format("{:.0f}", *ms);
    paced(c, response, reply);
    if (reply.error == providers::ErrorClass::none) {
      a.outcome = "answer";
      st.log.push_back(std::move(a));
      if (cacheable(c))
        st.cache_puts.emplace_back(key_for(c), CachedAnswer{reply.text,
                                                            opt(reply.served_model),
                                                            opt(reply.fingerprint),
                                                            reply.tokens_in,
                                                            reply.tokens_out,
                                                            response.latency_ms,
                                                            {},
                                                            reply.tool_calls,
                                                            reply.steps,
                                                            reply.tokens_cached,
                                                            reply.tokens_cache_write});
      return answered(c, reply, response.latency_ms);
    }
    a.error_class = std::string(providers::to_string(reply.error));
    if (auto delay_ms = retry_delay_ms(c, response, reply, p)) {
      if (told_wait_ms(response))
        m_told.insert(token(c));
      a.outcome = "retry";
      st.log.push_back(std::move(a));
      m_delayed.emplace(
          Clock::now() + std::chrono::microseconds(static_cast<long long>(*delay_ms * 1000)), c);
      return {};
    }
    a.outcome = "error";
    st.log.push_back(std::move(a));
    if (reply.error == providers::ErrorClass::auth || reply.error == providers::ErrorClass::quota)
      m_stop = fmt::format("{} from provider {}: stopping instead of failing every case",
                           reply.error_message, p.name);
    else if (reply.error == providers::ErrorClass::connection && m_answers == 0 &&
             ++m_unreachable >= std::min(8, m_s.concurrency))
      m_stop = fmt::format("provider {} is unreachable: {}", p.name, reply.error_message);
    std::string cls(providers::to_string(reply.error));
    if (embeds(c)) { // the similar assertion fails, saying why; the trial is still scored
      st.judged[c.slot - 1] =
          scoring::Outcome{false,
                           fmt::format("fetching embeddings from provider {} failed ({}): {}",
                                       p.name, cls, reply.error_message),
                           std::nullopt};
      return --st.pending == 0 ? finish(c.trial) : Status{};
    }
    st.error = {c.slot == 0 ? cls : "judge-" + cls, reply.error_message};
    if (c.slot > 0 && --st.pending > 0)
      return {}; // wait for the other judges before storing
    return finish(c.trial);
  }

  static std::optional<std::string> opt(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional(s);
  }

  // An answer (slot 0) or a judge's verdict (slot > 0) arrived, fresh or from the cache.
  Status answered(Call c, const providers::Reply& reply, double latency_ms) {
    auto& st = m_state[c.trial];
    const auto& t = m_trials[c.trial];
    if (c.slot > 0) {
      // A judge call made now (a cached verdict is read below); embeddings are not priced: they
      // have prices of their own.
      if (!embeds(c))
        if (auto cost = providers::cost_of(*m_s.judge, reply)) // a batch line: its batch price
          st.judge_cost = st.judge_cost.value_or(0) +
                          *cost * (m_in_batch ? m_s.judge->batch_price_factor : 1.0);
      TRY(judged(c, reply.text));
      return st.pending == 0 ? finish(c.trial) : Status{};
    }
    ++m_answers;
    st.answer = reply;
    st.latency_ms = latency_ms;
    if (!m_s.judge)
      return finish(c.trial);
    for (std::size_t k = 0; k < t.c->expect.size(); ++k) {
      const auto& a = t.c->expect[k];
      if (!graded_by_call(a))
        continue;
      if (auto why = cannot_embed(a)) {
        st.judged[k] = scoring::Outcome{false, std::move(*why), std::nullopt};
        continue;
      }
      Call judge{c.trial, k + 1};
      ++st.pending;
      auto hit = TRY(lookup(judge));
      if (hit)
        TRY(judged(judge, hit->text));
      else
        queue_judge(judge);
    }
    return st.pending == 0 ? finish(c.trial) : Status{};
  }

  // Queues a judge call its trial waits on, ahead of new answers: its trial is nearly done. With
  // --offline, a call not in the cache is the trial's error instead, as an answer's is.
  void queue_judge(Call c) {
    if (m_s.cache != CacheMode::offline) {
      m_ready.push_front(c);
      return;
    }
    auto& st = m_state[c.trial];
    st.error = {"offline", cacheable(c) ? "no cached judge verdict, and --offline forbids calling "
                                          "the judge"
                                        : "exec answers are not cached outside a git repository, "
                                          "and --offline forbids calling the program"};
    --st.pending;
  }

  // Reads the reply of a judge call (fresh or cached) into its assertion's verdict, counting the
  // assertion done; the first call of a two-call grader starts its second instead (from the
  // cache when it is there). Never finishes the trial: its caller does, once nothing is pending.
  Status judged(Call c, const std::string& text) {
    auto& st = m_state[c.trial];
    std::size_t k = c.slot - 1;
    const auto& a = m_trials[c.trial].c->expect[k];
    if (c.stage == 0 && two_calls(a)) {
      auto first = scoring::parse_first_stage(a, text);
      if (!first) {
        st.judged[k] = scoring::Outcome{false,
                                        fmt::format("the judge's first reply was not {}: {}",
                                                    scoring::first_stage_asked(a),
                                                    core::utf8_prefix(text, 200)),
                                        std::nullopt};
        --st.pending;
        return {};
      }
      st.first_calls[k] = std::move(*first);
      Call second{c.trial, c.slot, 1};
      auto hit = TRY(lookup(second));
      if (!hit) {
        queue_judge(second);
        return {};
      }
      return judged(second, hit->text);
    }
    st.judged[k] = graded_outcome(a, text, st.first_calls[k]);
    --st.pending;
    return {};
  }

  // Why a similar or relevance assertion cannot have its embeddings fetched, if it cannot: the
  // judge provider must speak OpenAI's embeddings endpoint, and the answer must be embedded as
  // it is.
  std::optional<std::string> cannot_embed(const scoring::Assertion& a) const {
    bool similar = a.type == scoring::AssertionType::similar;
    if (!similar && a.grader != scoring::Grader::relevance)
      return std::nullopt;
    if (!a.transforms.empty())
      return "similar after a transform is not scored by evalkeep run: the embeddings compare the "
             "answer as it is";
    if (auto why = providers::embeddings_refusal(*m_s.judge); !why.empty())
      return fmt::format("{} needs embeddings from the judge provider, but {}",
                         similar ? "similar" : "answer-relevance", why);
    return std::nullopt;
  }

  // The verdict of a judge or similar assertion from its last call's reply (fresh or cached):
  // the judge's reply, or the cosine similarity of the embeddings; `first` is what the first of
  // a two-call grader's calls gave.
  static scoring::Outcome graded_outcome(const scoring::Assertion& a, const std::string& text,
                                         const std::string& first) {
    bool similar = a.type == scoring::AssertionType::similar;
    if (similar || a.grader == scoring::Grader::relevance) {
      auto sim = core::parse_number(text);
      if (!sim)
        return {false, "the stored similarity is unreadable", std::nullopt};
      return similar ? scoring::similar_outcome(a, *sim)
                     : scoring::relevance_outcome(a, *sim, first);
    }
    auto v = scoring::parse_judge_reply(a, text);
    return v ? scoring::judge_outcome(a, v->first, v->second)
             : scoring::Outcome{false,
                                fmt::format("the judge's reply was not {}: {}",
                                            scoring::judge_reply_asked(a),
                                            core::utf8_prefix(text, 200)),
                                std::nullopt};
  }

  // Scores the trial and stores its result with every attempt, in one transaction.
  Status finish(std::size_t i) {
    auto& st = m_state[i];
    const auto& t = m_trials[i];
    TrialResult r;
    r.case_id = t.planned->case_id;
    r.trial = t.trial;
    r.latency_ms = st.latency_ms;
    r.cached = st.cached;
    r.finished_at = core::now_utc();
    r.judge_cost = st.judge_cost;
    if (st.answer) {
      const auto& reply = *st.answer;
      r.answer = reply.text;
      r.tool_calls = reply.tool_calls;
      r.steps = reply.steps;
      r.served_model = opt(reply.served_model);
      r.fingerprint = opt(reply.fingerprint);
      r.tokens_in = reply.tokens_in;
      r.tokens_out = reply.tokens_out;
      r.tokens_cached = reply.tokens_cached;
      r.tokens_cache_write = reply.tokens_cache_write;
      r.cost = providers::cost_of(m_s.provider, reply);
      if (r.cost && st.batched)
        *r.cost *= m_s.provider.batch_price_factor;
    }
    if (st.error) {
      r.verdict = scoring::Verdict::error;
      r.error_class = st.error->first;
      r.error = st.error->second;
      if (!st.answer && !st.log.empty())
        r.latency_ms = st.log.back().latency_ms;
    } else {
      scoring::Answer answer{st.answer->text, st.latency_ms, r.cost, st.answer->tool_calls,
                             step_count(st.answer->steps)};
      // A script assertion reads the case's input as context.prompt; it runs with a minimal
      // environment, so no key reaches it. Tool assertions check calls against the case's tools.
      scoring::EvaluationContext context{question_of(*t.c), {}, {}, t.c->tools};
      std::string outcomes = "[";
      bool all = true;
      for (std::size_t k = 0; k < t.c->expect.size(); ++k) {
        const auto& a = t.c->expect[k];
        scoring::Outcome o;
        if (!graded_by_call(a))
          o = scoring::evaluate(a, answer, context);
        else if (st.judged[k])
          o = *st.judged[k];
        else if (a.type == scoring::AssertionType::similar)
          o = {false,
               "similar needs embeddings, fetched from the judge provider: set judge = \"NAME\" "
               "in evalkeep.toml or pass --judge",
               {}};
        else
          o = {false,
               "no judge provider: set judge = \"NAME\" in evalkeep.toml or pass --judge",
               {}};
        all = all && o.passed;
        // A provider's filter stopped or blocked the answer: every reason says so, for the
        // reports and `why` (a replay from the cache no longer knows it).
        if (!st.answer->finish_reason.empty())
          o.reason += fmt::format(" (the provider's filter: {})", st.answer->finish_reason);
        // {"assertion","passed","reason","score"}, as nlohmann::json would dump the object.
        outcomes += k == 0 ? "{\"assertion\":" : ",{\"assertion\":";
        core::append_json_string(outcomes, scoring::to_spec(a));
        outcomes += o.passed ? ",\"passed\":true,\"reason\":" : ",\"passed\":false,\"reason\":";
        core::append_json_string(outcomes, o.reason);
        if (o.score)
          outcomes += ",\"score\":" + json(*o.score).dump();
        outcomes += '}';
      }
      r.verdict = all ? scoring::Verdict::pass : scoring::Verdict::fail;
      r.assertions = outcomes + ']';
    }
    ++m_stats.done;
    ++(r.verdict == scoring::Verdict::pass   ? m_stats.passed
       : r.verdict == scoring::Verdict::fail ? m_stats.failed
                                             : m_stats.errored);
    m_finished.push_back({std::move(r), std::move(st.log), std::move(st.cache_puts)});
    st = TrialState{}; // free the answer: a long run keeps only what is still in flight
    // The loop stores each round's trials; this bounds a round of replays from the cache.
    return m_finished.size() >= 256 ? flush(false) : Status{};
  }

  // The answer requests queued so far go through the provider's batch API; each result is
  // handled as a synchronous response would be (a line's error is final: no retry). The judge
  // calls their answers queue then go in a second batch (judge_batch). The batches stay
  // uncollected in the store until the run's trials are stored (collected_batches): a run
  // resumed meanwhile collects them again instead of asking again.
  Status batch() {
    std::vector<BatchItem> items;
    std::deque<Call> rest;
    for (Call c : m_ready) {
      if (c.slot == 0 && provider_for(c).kind != providers::Kind::exec)
        items.push_back(
            {c.trial, m_trials[c.trial].planned->case_id, m_trials[c.trial].trial, body_for(c)});
      else
        rest.push_back(c);
    }
    if (!items.empty()) {
      m_ready = std::move(rest);
      BatchSink sink = batch_sink();
      sink.answered = [this](std::size_t i, long status, std::string body) -> Status {
        Call c{i, 0};
        auto& st = begin_batch_line(c);
        st.batched = status / 100 == 2;
        return batch_line(c, status, std::move(body));
      };
      sink.failed = [this](std::size_t i, std::string cls, std::string message) -> Status {
        Call c{i, 0};
        auto& st = begin_batch_line(c);
        Attempt a = attempt_of(c, providers::HttpResponse{});
        a.outcome = "error";
        a.error_class = cls;
        st.log.push_back(std::move(a));
        st.error = {std::move(cls), std::move(message)};
        return finish(i);
      };
      if (!ran_batches(run_batches(m_store, m_s.run, m_s.provider, m_key, *m_s.batch, items,
                                   *m_transport, sink)))
        return {};
    }
    return judge_batch();
  }

  // The judge calls queued once the answers were in (verdicts found in the cache are not
  // queued) go through the judge provider's batch API when it has one, each line handled as a
  // synchronous judge reply is and priced at the judge's batch price. Embeddings (similar) and
  // a judge without a batch API stay synchronous.
  Status judge_batch() {
    if (m_stop || !m_s.judge || !providers::batch_wire::supports_batch(m_s.judge->kind))
      return {};
    std::vector<BatchItem> items;
    std::deque<Call> rest;
    for (Call c : m_ready) {
      if (c.slot > 0 && c.stage == 0 && !embeds(c)) // second calls stay synchronous
        items.push_back({static_cast<std::size_t>(token(c)), m_trials[c.trial].planned->case_id,
                         m_trials[c.trial].trial, body_for(c), c.slot});
      else
        rest.push_back(c);
    }
    if (items.empty())
      return {};
    m_ready = std::move(rest);
    BatchSink sink = batch_sink();
    sink.answered = [this](std::size_t i, long status, std::string body) -> Status {
      Call c = call_of(i);
      begin_batch_line(c);
      return batch_line(c, status, std::move(body));
    };
    sink.failed = [this](std::size_t i, std::string cls, std::string message) -> Status {
      Call c = call_of(i);
      auto& st = begin_batch_line(c);
      Attempt a = attempt_of(c, providers::HttpResponse{});
      a.outcome = "error";
      a.error_class = cls;
      st.log.push_back(std::move(a));
      st.error = {"judge-" + cls, std::move(message)};
      return --st.pending > 0 ? Status{} : finish(c.trial);
    };
    ran_batches(run_batches(m_store, m_s.run, *m_s.judge, m_judge_key, *m_s.batch, items,
                            *m_transport, sink));
    return {};
  }

  // What both batches share: the plan stored once the first is out, the finished trials stored
  // once a batch is collected, the progress.
  BatchSink batch_sink() {
    BatchSink sink;
    sink.submitted = [this] { return sent(); };
    sink.collected = [this] { return flush(false); };
    sink.progress = [this](const std::string& line) {
      m_stats.batch = line;
      report(true);
    };
    sink.defer_collected = true;
    return sink;
  }

  // A batch line's answer or API error, handled as the synchronous response (no retry).
  Status batch_line(Call c, long status, std::string body) {
    providers::HttpResponse response;
    response.token = token(c);
    response.status = status;
    response.body = std::move(body);
    m_in_batch = true;
    auto handled = handle(std::move(response));
    m_in_batch = false;
    report(false);
    return handled;
  }

  // Whether the batches ran to the end; if not, the batch goes on at the provider: the run
  // stops, and --resume picks it up.
  bool ran_batches(Result<std::vector<std::string>> ran) {
    if (!ran) {
      m_stop = ran.error().message;
      m_ready.clear();
      return false;
    }
    m_batch_ids.insert(m_batch_ids.end(), ran->begin(), ran->end());
    return true;
  }

  // Every trial is stored: the run's batches are collected for good.
  Status collected_batches() {
    if (m_stop || m_batch_ids.empty())
      return {};
    TRY(flush(false));
    return mark_collected(m_store, m_s.run, std::exchange(m_batch_ids, {}));
  }

  // A batch line counts as one request of its call.
  TrialState& begin_batch_line(Call c) {
    auto& st = m_state[c.trial];
    if (st.idempotency_keys[at(c)].empty())
      st.idempotency_keys[at(c)] = idempotency_key_of(c);
    ++st.attempts[at(c)];
    ++m_stats.requests;
    ++(c.slot == 0 ? m_round.answer_requests : m_round.judge_requests);
    st.started_at = core::now_utc();
    return st;
  }

  // The first requests are out: the settings' once_sent, once.
  Status sent() {
    auto once = std::exchange(m_once_sent, nullptr);
    return once ? once() : Status{};
  }

  // Stores the finished trials not yet stored, with the requests made and the answers replayed
  // since the last time, in one transaction. The counts wait for a round that stores trials (a
  // round of retries or judge calls in flight writes nothing) but not past the `last` flush: a
  // run killed between two loses no more of its counts than of its trials.
  Status flush(bool last) {
    TRY(sent());
    if (m_finished.empty() && !last)
      return {};
    auto stored = m_store.record(m_s.run, m_finished, m_round);
    m_finished.clear();
    m_round = CallCounts{};
    return stored;
  }

  void report(bool last) {
    if (!m_progress)
      return;
    auto now = Clock::now();
    if (!last && now - m_last_report < std::chrono::milliseconds(100))
      return;
    m_last_report = now;
    m_stats.elapsed_s = std::chrono::duration<double>(now - m_started).count();
    if (auto& pacer = m_pacers[0]) {
      m_stats.pace = pacer->pace(now);
      m_stats.request_limit = pacer->request_limit();
      m_stats.token_limit = pacer->token_limit();
      m_stats.window = pacer->window();
      m_stats.ceiling = pacer->ceiling();
      m_stats.rate_limited = pacer->rate_limited();
    }
    m_progress(m_stats);
  }

  RunsStore& m_store;
  const ExecutorSettings& m_s;
  const std::vector<Trial>& m_trials;
  std::vector<TrialState> m_state;
  std::vector<TrialRecord> m_finished; // finished, not yet stored
  CallCounts m_round;                  // requests and replays not yet stored
  const ProgressFn& m_progress;
  std::function<Status()> m_once_sent;
  std::unique_ptr<providers::Transport> m_transport;
  std::string m_key, m_judge_key;
  // By the provider's and the judge's exec programs: the variables they run without, and the
  // values of those their pass_env lets through.
  std::vector<std::string> m_withheld[2], m_exec_secrets[2];
  providers::bedrock::Credentials m_aws[2]; // Bedrock's credentials, by slot (answer, judge)
  std::deque<Call> m_ready;
  // By account: the provider's (0) and a judge with an account of its own (1); none for exec.
  std::array<std::optional<providers::Pacer>, 2> m_pacers;
  std::array<std::size_t, 2> m_http_in_flight{};
  std::unordered_map<std::uint64_t, providers::Pacer::Ticket> m_tickets; // by call token
  std::optional<Clock::time_point> m_paced_until; // when the next paced request may go
  std::unordered_set<std::uint64_t> m_told;       // retries that wait what their 429 told them
  using Delayed = std::pair<Clock::time_point, Call>;
  struct Later {
    bool operator()(const Delayed& a, const Delayed& b) const { return a.first > b.first; }
  };
  std::priority_queue<Delayed, std::vector<Delayed>, Later> m_delayed;
  std::mt19937_64 m_rng;
  std::uniform_real_distribution<double> m_unit{0.0, 1.0};
  std::optional<std::string> m_stop;
  bool m_checkpointed = false;
  bool m_in_batch = false;              // handling a batch line, whose error is final
  std::vector<std::string> m_batch_ids; // batches handed over, to mark collected at the end
  std::size_t m_answers = 0;
  int m_unreachable = 0;
  double m_cached_latency = 0;
  Progress m_stats;
  Clock::time_point m_started, m_last_report;
  std::mutex m_exec_mutex;
  std::vector<providers::HttpResponse> m_exec_done;
  std::size_t m_exec_running = 0;
  std::unique_ptr<WorkerPool> m_exec_pool; // last: its threads use the members above
};

} // namespace

Result<ExecutorResult> execute(RunsStore& store, const ExecutorSettings& settings,
                               const std::vector<Trial>& trials, std::size_t total_trials,
                               const ProgressFn& progress) {
  if (trials.size() > 0xFFFFFFFFu)
    return invalid("a run of {} trials is more than one run can hold", trials.size());
  Executor e(store, settings, trials, progress);
  return e.run(total_trials);
}

} // namespace evalkeep::run
