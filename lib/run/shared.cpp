#include "run/shared.hpp"

#include "core/hash.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evalkeep::run {

namespace {

using nlohmann::json;

constexpr const char* k_format = "evalkeep-run/1";

json optional(const std::optional<std::string>& s) {
  return s ? json(*s) : json();
}

json run_json(const RunRecord& r) {
  return {{"started_at", r.started_at},
          {"finished_at", optional(r.finished_at)},
          {"state", scoring::to_string(r.state)},
          {"stop_reason", optional(r.stop_reason)},
          {"git_commit", optional(r.git_commit)},
          {"git_branch", optional(r.git_branch)},
          {"git_dirty", r.git_dirty ? json(*r.git_dirty) : json()},
          {"suite_path", r.suite_path},
          {"suite_hash", r.suite_hash},
          {"provider", r.provider},
          {"provider_kind", r.provider_kind},
          {"base_url", optional(r.base_url)},
          {"model", r.model},
          {"params", r.params},
          {"settings", r.settings},
          {"evalkeep_version", r.evalkeep_version},
          {"answer_requests", r.answer_requests},
          {"judge_requests", r.judge_requests}};
}

// Reading a document that came from a remote: each field checked, the error naming it.
struct Reader {
  const json& j;
  std::string where;

  Error bad(std::string_view field, std::string_view want) const {
    return {ExitCode::usage, fmt::format("{}: field '{}' must be {}", where, field, want)};
  }
  Result<std::string> text(std::string_view field) const {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string())
      return std::unexpected(bad(field, "a string"));
    return it->get<std::string>();
  }
  Result<std::optional<std::string>> optional_text(std::string_view field) const {
    auto it = j.find(field);
    if (it == j.end() || it->is_null())
      return std::nullopt;
    if (!it->is_string())
      return std::unexpected(bad(field, "a string or null"));
    return it->get<std::string>();
  }
  Result<std::int64_t> integer(std::string_view field, std::int64_t low, std::int64_t high) const {
    auto it = j.find(field);
    if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < low ||
        it->get<std::int64_t>() > high)
      return std::unexpected(bad(field, fmt::format("an integer from {} to {}", low, high)));
    return it->get<std::int64_t>();
  }
  Result<json> object(std::string_view field) const {
    auto it = j.find(field);
    if (it == j.end() || !it->is_object())
      return std::unexpected(bad(field, "an object"));
    return *it;
  }
};

Result<RunRecord> read_run(const json& j) {
  Reader r{j, "run"};
  RunRecord run;
  run.started_at = TRY(r.text("started_at"));
  run.finished_at = TRY(r.optional_text("finished_at"));
  auto state = scoring::run_state_from(TRY(r.text("state")));
  if (!state || *state == scoring::RunState::running)
    return std::unexpected(r.bad("state", "\"finished\" or \"stopped\""));
  run.state = *state;
  run.stop_reason = TRY(r.optional_text("stop_reason"));
  run.git_commit = TRY(r.text("git_commit"));
  run.git_branch = TRY(r.optional_text("git_branch"));
  if (auto it = j.find("git_dirty"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean())
      return std::unexpected(r.bad("git_dirty", "true, false or null"));
    run.git_dirty = it->get<bool>();
  }
  run.suite_path = TRY(r.text("suite_path"));
  run.suite_hash = TRY(r.text("suite_hash"));
  run.provider = TRY(r.text("provider"));
  run.provider_kind = TRY(r.text("provider_kind"));
  run.base_url = TRY(r.optional_text("base_url"));
  run.model = TRY(r.text("model"));
  run.params = TRY(r.object("params"));
  run.settings = TRY(r.object("settings"));
  run.evalkeep_version = TRY(r.text("evalkeep_version"));
  constexpr std::int64_t k_many = std::int64_t{1} << 40;
  run.answer_requests = TRY(r.integer("answer_requests", 0, k_many));
  run.judge_requests = TRY(r.integer("judge_requests", 0, k_many));
  return run;
}

// One case of a shared run: its plan and its trials' results.
Status read_case(const json& j, std::size_t index, PlannedCase& plan,
                 std::vector<TrialRecord>& trials) {
  if (!j.is_object())
    return invalid("cases[{}] must be an object", index);
  Reader r{j, fmt::format("cases[{}]", index)};
  plan.case_id = TRY(r.text("id"));
  if (plan.case_id.empty())
    return std::unexpected(r.bad("id", "a case id"));
  r.where = fmt::format("case {}", plan.case_id);
  if (!core::from_hex(TRY(r.text("hash")), plan.case_hash))
    return std::unexpected(r.bad("hash", "a SHA-256 in hex"));
  plan.status = TRY(r.text("status"));
  if (plan.status != "active" && plan.status != "xfail" && plan.status != "retired")
    return std::unexpected(r.bad("status", "active, xfail or retired"));
  plan.incident = TRY(r.optional_text("incident"));
  plan.trials = static_cast<int>(TRY(r.integer("trials", 1, 1000)));
  auto rate = j.find("min_pass_rate");
  if (rate == j.end() || !rate->is_number() || rate->get<double>() < 0 || rate->get<double>() > 1)
    return std::unexpected(r.bad("min_pass_rate", "a number from 0 to 1"));
  plan.min_pass_rate = rate->get<double>();
  auto tags = j.find("tags");
  if (tags != j.end()) {
    if (!tags->is_array())
      return std::unexpected(r.bad("tags", "an array of strings"));
    for (const auto& t : *tags) {
      if (!t.is_string())
        return std::unexpected(r.bad("tags", "an array of strings"));
      plan.tags.push_back(t.get<std::string>());
    }
  }
  auto record = j.find("record");
  plan.case_json = record != j.end() && record->is_object() ? record->dump() : "{}";
  auto results = j.find("trials_run");
  if (results == j.end() || !results->is_array() ||
      results->size() > static_cast<std::size_t>(plan.trials))
    return std::unexpected(r.bad("trials_run", "an array of at most 'trials' results"));
  for (std::size_t t = 0; t < results->size(); ++t) {
    const json& tj = (*results)[t];
    if (!tj.is_object())
      return std::unexpected(r.bad("trials_run", "an array of objects"));
    Reader tr{tj, fmt::format("case {}, trials_run[{}]", plan.case_id, t)};
    TrialRecord rec;
    rec.result.case_id = plan.case_id;
    rec.result.trial = static_cast<int>(TRY(tr.integer("trial", 0, 1000)));
    auto verdict = scoring::verdict_from(TRY(tr.text("verdict")));
    if (!verdict || (*verdict != scoring::Verdict::pass && *verdict != scoring::Verdict::fail &&
                     *verdict != scoring::Verdict::error))
      return std::unexpected(tr.bad("verdict", "pass, fail or error"));
    rec.result.verdict = *verdict;
    rec.result.answer = TRY(tr.optional_text("answer"));
    if (auto calls = tj.find("tool_calls"); calls != tj.end()) {
      if (!calls->is_array())
        return std::unexpected(tr.bad("tool_calls", "an array of tool calls"));
      for (std::size_t k = 0; k < calls->size(); ++k) {
        auto call = core::tool_call_from_json((*calls)[k], fmt::format("tool_calls[{}]", k));
        if (!call)
          return std::unexpected(tr.bad("tool_calls", call.error().message));
        rec.result.tool_calls.push_back(std::move(*call));
      }
    }
    if (auto steps = tj.find("steps"); steps != tj.end()) {
      if (!steps->is_array())
        return std::unexpected(tr.bad("steps", "an array of steps"));
      rec.result.steps = steps->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    rec.result.error = TRY(tr.optional_text("error"));
    if (auto a = tj.find("assertions"); a != tj.end() && a->is_array())
      rec.result.assertions = a->dump();
    rec.result.finished_at = TRY(tr.text("finished_at"));
    trials.push_back(std::move(rec));
  }
  return {};
}

} // namespace

Result<json> shared_run(RunsStore& store, std::int64_t id, bool full) {
  auto run = TRY(store.get_run(id));
  if (run.state == scoring::RunState::running)
    return refuse("run {} has not finished; finish it with 'evalkeep run --resume {}' first", id,
                  id);
  if (!run.git_commit)
    return refuse("run {} was not made in a git repository: it has no commit to be stored "
                  "under",
                  id);
  auto results = TRY(store.results(id));
  json cases = json::array();
  std::size_t next = 0;
  for (const auto& c : TRY(store.planned(id, full))) {
    json trials = json::array();
    for (; next < results.size() && results[next].case_id < c.case_id; ++next) {
    }
    for (; next < results.size() && results[next].case_id == c.case_id; ++next) {
      const auto& r = results[next];
      json t{{"trial", r.trial},
             {"verdict", scoring::to_string(r.verdict)},
             {"finished_at", r.finished_at}};
      if (full) {
        t["answer"] = optional(r.answer);
        if (!r.tool_calls.empty())
          t["tool_calls"] = json::parse(core::tool_calls_text(r.tool_calls));
        if (!r.steps.empty())
          t["steps"] = json::parse(r.steps, nullptr, false);
        t["error"] = optional(r.error);
        t["assertions"] = json::parse(r.assertions, nullptr, false);
      }
      trials.push_back(std::move(t));
    }
    json cj{{"id", c.case_id},
            {"hash", core::to_hex(c.case_hash)},
            {"status", c.status},
            {"incident", optional(c.incident)},
            {"tags", c.tags},
            {"trials", c.trials},
            {"min_pass_rate", c.min_pass_rate},
            {"trials_run", std::move(trials)}};
    if (full)
      cj["record"] = json::parse(c.case_json, nullptr, false);
    cases.push_back(std::move(cj));
  }
  return json{{"format", k_format}, {"run", run_json(run)}, {"cases", std::move(cases)}};
}

namespace {

// A short hash of what a run asked of which model: runs with the same one are comparable.
std::string settings_key(const RunRecord& run) {
  json settings{{"provider", run.provider},
                {"kind", run.provider_kind},
                {"base_url", optional(run.base_url)},
                {"model", run.model},
                {"params", run.params}};
  return core::to_hex(core::sha256(settings.dump())).substr(0, 12);
}

} // namespace

std::string shared_run_ref(const RunRecord& run) {
  return fmt::format("refs/evalkeep/runs/{}/{}", run.git_commit.value_or("none"),
                     settings_key(run));
}

Result<std::optional<std::int64_t>> nearest_run(RunsStore& store, const RunRecord& like,
                                                const std::vector<std::string>& ancestors) {
  auto key = settings_key(like);
  std::map<std::string, std::int64_t> newest; // commit -> newest comparable run made there
  for (const auto& r : TRY(store.list_runs())) {
    if (r.id == like.id || r.state != scoring::RunState::finished || !r.git_commit ||
        r.git_dirty.value_or(true) || settings_key(r) != key)
      continue;
    auto& best = newest[*r.git_commit];
    best = std::max(best, r.id);
  }
  for (const auto& commit : ancestors)
    if (auto it = newest.find(commit); it != newest.end())
      return std::optional(it->second);
  return std::optional<std::int64_t>();
}

Result<SharedRun> read_shared_run(const json& doc) {
  if (!doc.is_object() || doc.value("format", "") != k_format)
    return invalid("not a run evalkeep shared: field 'format' must be \"{}\"", k_format);
  auto rj = doc.find("run");
  if (rj == doc.end() || !rj->is_object())
    return invalid("field 'run' must be an object");
  SharedRun shared;
  shared.run = TRY(read_run(*rj));
  auto cj = doc.find("cases");
  if (cj == doc.end() || !cj->is_array())
    return invalid("field 'cases' must be an array");
  shared.cases.resize(cj->size());
  for (std::size_t i = 0; i < cj->size(); ++i) {
    TRY(read_case((*cj)[i], i, shared.cases[i], shared.trials));
    if (i > 0 && shared.cases[i].case_id <= shared.cases[i - 1].case_id)
      return invalid("cases[{}]: case {} is out of order or twice", i, shared.cases[i].case_id);
  }
  return shared;
}

Result<std::int64_t> store_shared_run(RunsStore& store, SharedRun shared,
                                      const std::string& source) {
  RunRecord& run = shared.run;
  run.settings["fetched_from"] = source;
  CallCounts counts;
  counts.answer_requests = run.answer_requests;
  counts.judge_requests = run.judge_requests;
  // One transaction: the run, its cases and its results, or nothing.
  auto tx = TRY(store.begin_run(run));
  TRY(store.plan_run(run, shared.cases));
  TRY(store.write_trials(run.id, shared.trials, counts));
  TRY(store.finish_run(run.id, run.state, run.stop_reason,
                       run.finished_at.value_or(run.started_at)));
  TRY(tx.commit());
  return run.id;
}

Result<bool> fetched_before(RunsStore& store, const std::string& source) {
  auto q = TRY(store.db().prepare("SELECT 1 FROM runs WHERE json_valid(settings) AND "
                                  "json_extract(settings, '$.fetched_from') = ?"));
  q.bind(1, source);
  return TRY(q.step());
}

} // namespace evalkeep::run
