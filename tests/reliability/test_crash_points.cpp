// Item 2: a crash inside a write. EVALKEEP_TEST_ABORT_AFTER_STEPS=N (lib/store/database.cpp)
// aborts evalkeep right after its Nth SQL step. Each writing command runs once for every N from 1
// until it completes; after each abort the suite holds the change whole or not at all (its export
// and ledger equal those from before the command or those from after it), `verify` passes and
// `PRAGMA integrity_check` is ok.

#include "reliability/reliability.hpp"

#include <csignal>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

const std::string k_now = "EVALKEEP_NOW=2026-05-01T10:00:00Z";

struct Command {
  std::string what;
  std::vector<std::string> args;
};

// The suite's content and history as evalkeep shows them: export, then the ledger.
std::string state(const Repo& repo) {
  auto exported = must_succeed(repo, {"export"}, {}, {k_now});
  auto ledger = must_succeed(repo, {"log", "--json"}, {}, {k_now});
  return exported.out + "\n--- ledger ---\n" + ledger.out;
}

// Puts the suite back to the bytes of `saved`, with no journal beside it.
void restore(const Repo& repo, const fs::path& saved) {
  fs::remove(repo.suite().string() + "-journal");
  fs::copy_file(saved, repo.suite(), fs::copy_options::overwrite_existing);
}

} // namespace

TEST_CASE("a crash after any SQL step of a write leaves the change whole or absent",
          "[reliability][crash]") {
  const int n_import = rounds(5, 200);
  Repo repo;
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "greeting", "--prompt", "Hello", "--expect", "contains:help",
                      "--provenance", "spec:greets"});
  must_succeed(repo, {"retire", "greeting", "--reason", "duplicate", "--rationale",
                      "refund-window covers the greeting"});
  write_file(repo.path() / "cases.jsonl",
             R"({"type":"incident","id":"INC-20","title":"Imported incident"})"
             "\n" +
                 cases_jsonl(n_import));
  const fs::path saved = repo.path() / "saved.db";
  fs::copy_file(repo.suite(), saved);
  const std::string before = state(repo);

  const std::vector<Command> commands{
      {"import of " + std::to_string(n_import) + " cases and an incident",
       {"import", "-q", "cases.jsonl"}},
      {"retire",
       {"retire", "refund-window", "--reason", "feature-removed", "--rationale",
        "refunds moved to the billing portal", "--revisit", "2027-01-01"}},
      {"add",
       {"add", "--id", "late-order", "--prompt", "Where is my order?", "--expect",
        "icontains:tracking", "--expect", "not-contains:unfortunately", "--incident", "INC-7",
        "--tag", "orders"}},
      {"incident add",
       {"incident", "add", "INC-9", "--title", "Wrong currency", "--date", "2026-04-01",
        "--severity", "low"}},
      {"reinstate", {"reinstate", "greeting", "--rationale", "greetings are back in scope"}},
      {"edit",
       {"edit", "refund-window", "--rationale", "also name the window", "--add-expect",
        "contains:days"}},
      {"rm", {"rm", "greeting", "--purge"}},
  };

  int total_points = 0;
  for (const auto& command : commands) {
    restore(repo, saved);
    must_succeed(repo, command.args, {}, {k_now});
    const std::string after = state(repo);
    REQUIRE(after != before);

    int points = 0, saw_before = 0, saw_after = 0;
    for (int n = 1;; ++n) {
      INFO(command.what << ", abort after SQL step " << n);
      restore(repo, saved);
      auto r = repo.evalkeep(command.args, {},
                             {k_now, "EVALKEEP_TEST_ABORT_AFTER_STEPS=" + std::to_string(n)});
      if (r.exit_code != 128 + SIGABRT) {
        // Fewer than n steps: the command ran to the end.
        INFO("exit " << r.exit_code << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(state(repo) == after);
        break;
      }
      ++points;
      // The next command sees the change whole or not at all, verify passes, the file is whole.
      auto now = state(repo);
      CHECK((now == before || now == after));
      saw_before += now == before;
      saw_after += now == after;
      must_succeed(repo, {"verify"});
      CHECK(integrity(repo.suite()) == "ok");
    }
    // The crash points cover both outcomes: before the commit and after it.
    CHECK(saw_before > 0);
    CHECK(saw_after > 0);
    FIGURE(command.what << ": " << points << " crash points, " << saw_before
                        << " left it as before, " << saw_after << " as after");
    total_points += points;
  }
  FIGURE("crash points in all: " << total_points);
}
