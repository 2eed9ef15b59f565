#include "run/diff.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace evalkeep::run {

namespace {

using scoring::Verdict;

// A diff counts an xfail case failing as expected as neither good nor bad.
bool good(Verdict v) {
  return scoring::held(v);
}
bool bad(Verdict v) {
  return v == Verdict::fail || v == Verdict::error;
}

void count(std::map<std::string, std::pair<Rate, Rate>>& rates, const std::string& key, bool second,
           const CaseOutcome& o) {
  Rate& r = second ? rates[key].second : rates[key].first;
  ++r.total;
  r.passed += good(o.verdict) ? 1 : 0;
}

VerdictOf verdict_of(const CaseOutcome* o) {
  if (!o)
    return {Verdict::not_run, 0, 0, false};
  return {o->verdict, o->passes, o->trials, o->flaky};
}

// The trials each case of a run had: "3", or "1-3" when cases differ.
std::string trials_of(const RunSummary& s) {
  int low = 0, high = 0;
  for (const auto& c : s.cases) {
    low = low == 0 ? c.trials : std::min(low, c.trials);
    high = std::max(high, c.trials);
  }
  if (high == 0)
    return "-";
  return low == high ? std::to_string(low) : fmt::format("{}-{}", low, high);
}

} // namespace

std::string to_text(const VerdictOf& v) {
  if (v.flaky)
    return fmt::format("flaky ({} of {} passed)", v.passes, v.trials);
  if (v.trials > 1 && v.verdict != Verdict::missing)
    return fmt::format("{} ({} of {} passed)", v.verdict, v.passes, v.trials);
  return std::string(diff_name(v.verdict));
}

std::string_view diff_name(Verdict v) {
  return v == Verdict::not_run ? "absent" : scoring::to_string(v);
}

RunDiff diff_runs(const RunSummary& a, const RunSummary& b) {
  RunDiff d;
  d.a = a.run.id;
  d.b = b.run.id;
  d.cost_a = a.answers_cost;
  d.cost_b = b.answers_cost;
  std::map<std::string, const CaseOutcome*> in_a, in_b;
  std::vector<std::pair<scoring::CaseScore, scoring::CaseScore>> pairs;
  for (const auto& o : a.cases)
    if (o.status != "retired")
      in_a[o.case_id] = &o;
  for (const auto& o : b.cases)
    if (o.status != "retired")
      in_b[o.case_id] = &o;
  for (const auto& [id, ob] : in_b) {
    auto it = in_a.find(id);
    const CaseOutcome* oa = it == in_a.end() ? nullptr : it->second;
    CaseChange c{id, ob->incident, ob->first_failure, verdict_of(oa), verdict_of(ob), {}};
    Verdict was = c.was_in.verdict, now = c.now_in.verdict;
    auto sa = oa ? score_of(*oa) : std::nullopt, sb = score_of(*ob);
    if (sa && sb) {
      pairs.emplace_back(*sa, *sb);
      if (sb->score < sa->score)
        c.drop_p = scoring::drop_p_value(oa->passes, oa->trials, ob->passes, ob->trials);
    }
    if (!oa)
      d.added.push_back(c);
    else if (good(was) && bad(now) && ob->flaky)
      d.flaky.push_back(c);
    else if (good(was) && bad(now))
      d.regressions.push_back(c);
    else if (bad(was) && good(now))
      d.fixes.push_back(c);
    else if (bad(was) && bad(now))
      d.still_failing.push_back(c);
  }
  for (const auto& [id, oa] : in_a)
    if (!in_b.contains(id))
      d.dropped.push_back({id, oa->incident, {}, verdict_of(oa), verdict_of(nullptr), {}});
  d.difference = scoring::paired_difference(pairs);
  for (auto [outcomes, second] : {std::pair{&in_a, false}, std::pair{&in_b, true}})
    for (const auto& [id, o] : *outcomes) {
      if (o->incident)
        count(d.by_incident, *o->incident, second, *o);
      for (const auto& t : o->tags)
        count(d.by_tag, t, second, *o);
    }
  auto compare = [&](const std::string& key, const std::string& va, const std::string& vb) {
    if (va != vb)
      d.settings[key] = {va, vb};
  };
  compare("provider", a.run.provider, b.run.provider);
  compare("model", a.run.model, b.run.model);
  compare("base_url", a.run.base_url.value_or(""), b.run.base_url.value_or(""));
  for (const char* key : {"temperature", "max_tokens", "seed"})
    compare(key, a.run.params.value(key, nlohmann::json()).dump(),
            b.run.params.value(key, nlohmann::json()).dump());
  compare("trials", trials_of(a), trials_of(b));
  compare("suite_hash", a.run.suite_hash, b.run.suite_hash);
  compare("git_commit", a.run.git_commit.value_or(""), b.run.git_commit.value_or(""));
  // An exec agent's program (run/program.hpp): "I changed the agent" shows here.
  auto program = [](const RunSummary& s) {
    auto p =
        s.run.settings.is_object() ? s.run.settings.find("exec_program") : s.run.settings.end();
    return p != s.run.settings.end() && p->is_string() ? p->get<std::string>() : std::string();
  };
  compare("exec_program", program(a), program(b));
  return d;
}

} // namespace evalkeep::run
