#include "run/diff.hpp"

namespace evalkeep::run {

namespace {

bool good(const std::string& v) {
  return v == "pass" || v == "xpass";
}
bool bad(const std::string& v) {
  return v == "fail" || v == "error";
}

void count(std::map<std::string, std::pair<Rate, Rate>>& rates, const std::string& key, bool second,
           const CaseOutcome& o) {
  Rate& r = second ? rates[key].second : rates[key].first;
  ++r.total;
  r.passed += good(o.verdict) ? 1 : 0;
}

} // namespace

RunDiff diff_runs(const RunSummary& a, const RunSummary& b) {
  RunDiff d;
  d.a = a.run.id;
  d.b = b.run.id;
  std::map<std::string, const CaseOutcome*> in_a, in_b;
  for (const auto& o : a.cases)
    if (o.status != "retired")
      in_a[o.case_id] = &o;
  for (const auto& o : b.cases)
    if (o.status != "retired")
      in_b[o.case_id] = &o;
  for (const auto& [id, ob] : in_b) {
    auto it = in_a.find(id);
    CaseChange c{id, ob->incident, it == in_a.end() ? "absent" : it->second->verdict, ob->verdict,
                 ob->first_failure};
    if (it == in_a.end())
      d.added.push_back(c);
    else if (good(c.was) && bad(c.now))
      d.regressions.push_back(c);
    else if (bad(c.was) && good(c.now))
      d.fixes.push_back(c);
    else if (bad(c.was) && bad(c.now))
      d.still_failing.push_back(c);
  }
  for (const auto& [id, oa] : in_a)
    if (!in_b.contains(id))
      d.dropped.push_back({id, oa->incident, oa->verdict, "absent", {}});
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
  compare("suite_hash", a.run.suite_hash, b.run.suite_hash);
  compare("git_commit", a.run.git_commit.value_or(""), b.run.git_commit.value_or(""));
  return d;
}

} // namespace evalkeep::run
