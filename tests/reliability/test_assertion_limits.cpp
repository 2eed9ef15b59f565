// Item 12: assertions that cannot be evaluated sensibly -- an unknown type, a threshold or a
// bound out of range, a regex RE2 refuses -- are refused when the case is added, imported or
// edited, naming the flag or FILE:LINE and field. A pattern that is catastrophic for a
// backtracking engine, (a+)+$, runs in linear time on a 1 MB answer (RE2, the only regex engine
// evalkeep uses).

#include "reliability/reliability.hpp"
#include "scoring/evaluate.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::test;
using Clock = std::chrono::steady_clock;
namespace scoring = evalkeep::scoring;

namespace {

struct Refusal {
  std::vector<std::string> flags; // added to `evalkeep add`
  std::string says;               // on stderr
};

const std::vector<Refusal> k_add_refusals{
    {{"--expect", "fuzzy:x"}, "--expect 'fuzzy:x': unknown assertion type 'fuzzy'"},
    {{"--expect", "judge@1.5:polite"}, "judge threshold must be between 0 and 1, got 1.5"},
    {{"--expect", "judge@-0.1:polite"}, "judge threshold must be between 0 and 1, got -0.1"},
    {{"--expect", "judge@nan:polite"}, "invalid judge threshold in 'judge@nan:polite'"},
    {{"--expect", "max-length:-5"}, "max-length needs a whole number of at least 0, got -5"},
    {{"--expect", "min-length:2.5"}, "min-length needs a whole number of at least 0, got 2.5"},
    {{"--expect", "max-latency-ms:-1"}, "max-latency-ms needs a whole number of at least 0"},
    {{"--expect", "number-close:3,-1"}, "number-close needs a tolerance of at least 0, got -1"},
    {{"--expect", "max-cost:-0.01"}, "max-cost needs a cost of at least 0, got -0.01"},
    {{"--expect", "regex:(a+"}, "--expect 'regex:(a+': invalid regex '(a+': missing )"},
    {{"--expect", "regex:(a)\\1"}, "invalid regex '(a)\\1': invalid escape sequence"},
    {{"--expect", "regex:(?=a)b"}, "invalid regex '(?=a)b': invalid perl operator"},
    {{"--expect", "regex:((a{100}){100}){100}"}, "invalid repetition size: {100}"},
    {{"--expect", "contains:help", "--min-pass-rate", "2"},
     "--min-pass-rate: Value 2 not in range"},
    {{"--expect", "contains:help", "--min-pass-rate", "0"},
     "case bad: --min-pass-rate: must be in (0, 1], got 0"},
    {{"--expect", "contains:help", "--trials", "0"}, "--trials: Value 0 not in range 1 to 1000"},
};

struct ImportRefusal {
  std::string expect_and_more; // the case record's "expect" array and any fields after it
  std::string says;            // after "bad.jsonl:2: "
};

const std::vector<ImportRefusal> k_import_refusals{
    {R"([{"type":"fuzzy","value":"x"}])", R"(field "expect[0]": unknown assertion type 'fuzzy')"},
    {R"([{"type":"contains","value":"a"},{"type":"judge","rubric":"polite","threshold":1.5}])",
     R"(field "expect[1]": judge threshold must be between 0 and 1, got 1.5)"},
    {R"([{"type":"max-length","value":-5}])",
     R"(field "expect[0]": max-length needs a whole number of at least 0, got -5)"},
    {R"([{"type":"number-close","value":3,"tolerance":-1}])",
     R"(field "expect[0]": number-close needs a tolerance of at least 0, got -1)"},
    {R"([{"type":"regex","value":"(a)\\1"}])", R"(field "expect[0]": invalid regex '(a)\1')"},
    {R"([{"type":"contains","value":"a"}],"min_pass_rate":2)",
     R"(field "min_pass_rate": must be in (0, 1], got 2)"},
    {R"([{"type":"contains","value":"a"}],"trials":0)",
     R"(field "trials": must be between 1 and 1000, got 0)"},
};

// Best of `n` timings of evaluating `a` on `answer`, in ms.
double time_evaluate(const scoring::Assertion& a, const scoring::Answer& answer, bool& passed,
                     int n = 9) {
  double best = 1e18;
  for (int i = 0; i < n; ++i) {
    auto start = Clock::now();
    passed = scoring::evaluate(a, answer).passed;
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return best;
}

} // namespace

TEST_CASE("invalid assertions are refused by add, import and edit, naming the flag or the line "
          "and field",
          "[reliability][assertions]") {
  Repo repo;
  init_with_cases(repo, 1);
  for (const auto& r : k_add_refusals) {
    std::vector<std::string> args{"add",   "--id",         "bad",        "--prompt",
                                  "Hello", "--provenance", "spec:limits"};
    args.insert(args.end(), r.flags.begin(), r.flags.end());
    auto out = must_fail(repo, 2, args);
    CHECK_THAT(out.err, Catch::Contains(r.says));
  }
  for (const auto& r : k_import_refusals) {
    write_file(repo.path() / "bad.jsonl",
               R"({"type":"incident","id":"INC-1","title":"An incident"})"
               "\n"
               R"({"type":"case","id":"bad","prompt":"Hello","incident":"INC-1","expect":)" +
                   r.expect_and_more + "}\n");
    auto out = must_fail(repo, 2, {"import", "bad.jsonl"});
    CHECK_THAT(out.err, Catch::StartsWith("evalkeep: error: bad.jsonl:2: " + r.says));
  }
  auto edit = must_fail(
      repo, 2,
      {"edit", "case-0000", "--add-expect", "judge@1.5:polite", "--rationale", "stricter"});
  CHECK_THAT(edit.err, Catch::Contains("judge threshold must be between 0 and 1, got 1.5"));
  edit =
      must_fail(repo, 2, {"edit", "case-0000", "--min-pass-rate", "2", "--rationale", "stricter"});
  CHECK_THAT(edit.err, Catch::Contains("--min-pass-rate: Value 2 not in range"));
  edit = must_fail(repo, 2, {"edit", "case-0000", "--min-pass-rate", "0", "--rationale", "looser"});
  CHECK_THAT(edit.err, Catch::Contains("--min-pass-rate: must be in (0, 1], got 0"));
  CHECK(listed_cases(repo) == 1);
  must_succeed(repo, {"verify", "-q"});
  FIGURE("assertion limits: " << k_add_refusals.size() << " add, " << k_import_refusals.size()
                              << " import and 3 edit refusals, each exit 2 with the suite "
                                 "unchanged");
}

TEST_CASE("a regex catastrophic for backtracking, (a+)+$, takes linear time on a 1 MB answer",
          "[reliability][assertions][regex]") {
  constexpr std::size_t k_mb = 1 << 20;
  const std::string no_match = std::string(k_mb - 1, 'a') + "b"; // the worst case
  const std::string match(k_mb, 'a');

  // Through the real binary: added, run on 1 MB answers from the stand-in, scored.
  StandIn server(nlohmann::json{
      {"rules",
       {{{"match", "no match"}, {"answer", no_match}}, {{"match", "all a"}, {"answer", match}}}}}
                     .dump());
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  must_succeed(repo, {"add", "--id", "no-match", "--prompt", "no match", "--expect", "regex:(a+)+$",
                      "--provenance", "spec:regex"});
  must_succeed(repo, {"add", "--id", "all-a", "--prompt", "all a", "--expect", "regex:(a+)+$",
                      "--provenance", "spec:regex"});
  must_succeed(repo, {"add", "--id", "no-b", "--prompt", "all a again", "--expect", "regex:(a+)+b",
                      "--provenance", "spec:regex"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto start = Clock::now();
  auto r = repo.evalkeep({"run", "--provider", "local", "--json"});
  double run_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(run_ms < 30'000); // three 1 MB answers scored; a backtracking engine would never end
  auto s = parse_json(r.out);
  CHECK(s["passed"] == 1);
  CHECK(s["failed"] == 2);
  REQUIRE(s["failures"].size() == 2);
  CHECK(s["failures"][0]["case"] == "no-b");
  CHECK(s["failures"][0]["reason"] == "regex:(a+)+b: does not match /(a+)+b/");
  CHECK(s["failures"][1]["case"] == "no-match");
  CHECK(s["failures"][1]["reason"] == "regex:(a+)+$: does not match /(a+)+$/");

  // In this process, on 1, 2 and 4 MB answers that make a backtracking engine explode: the time
  // grows with the length (a backtracking engine never finishes even 40 characters). RE2 reads
  // (a+)+$ backwards from the end, so (a+)+b and (x+x+)+y, which it must scan forwards, are
  // timed too.
  struct Catastrophic {
    std::string pattern;
    char fill;
    std::string tail;
  };
  std::string figures;
  for (const auto& c : {Catastrophic{"(a+)+$", 'a', "b"}, Catastrophic{"(a+)+b", 'a', ""},
                        Catastrophic{"(x+x+)+y", 'x', ""}}) {
    INFO(c.pattern);
    auto a = scoring::parse_assertion("regex:" + c.pattern);
    REQUIRE(a);
    double t[3];
    for (int i = 0; i < 3; ++i) {
      std::size_t length = (k_mb << i) - c.tail.size();
      scoring::Answer answer{std::string(length, c.fill) + c.tail, 0, std::nullopt};
      bool passed = true;
      t[i] = time_evaluate(*a, answer, passed);
      CHECK_FALSE(passed);
      CHECK(t[i] < 2'000); // milliseconds for up to 4 MB, sanitizer builds included
    }
    figures += fmt::format("{} on 1/2/4 MB: {:.4f}/{:.4f}/{:.4f} ms (x{:.1f} for 4x the length); ",
                           c.pattern, t[0], t[1], t[2], t[2] / t[0]);
    // Linear: 4x the text takes about 4x the time (up to 7x seen on a busy machine); quadratic
    // would take 16x. (a+)+$ takes microseconds whatever the length: nothing to compare.
    if (t[0] > 0.1)
      CHECK(t[2] / t[0] < 10);
  }
  FIGURE("regex: " << figures << "the run of 3 cases with 1 MB answers " << run_ms << " ms");
}
