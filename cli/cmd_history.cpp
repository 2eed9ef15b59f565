#include "cli/context.hpp"
#include "suite/verify.hpp"
#include "suite/weakening.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace evalkeep::cli {

using ojson = nlohmann::ordered_json;

namespace {

struct LogOptions {
  std::optional<std::string> subject;
  std::size_t limit = 0;
  bool json = false;
};

struct VerifyOptions {
  bool json = false;
};

ojson event_json(const suite::LedgerEvent& e) {
  ojson j;
  j["seq"] = e.seq;
  j["at"] = e.at;
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["subject"] = e.subject;
  j["rationale"] = e.rationale ? ojson(*e.rationale) : ojson();
  j["before"] = e.before ? ojson(core::to_hex(*e.before)) : ojson();
  j["after"] = e.after ? ojson(core::to_hex(*e.after)) : ojson();
  j["git_head"] = e.git_head ? ojson(*e.git_head) : ojson();
  j["detail"] = e.detail ? ojson::parse(*e.detail, nullptr, false) : ojson();
  j["hash"] = core::to_hex(e.hash);
  return j;
}

Status run_log(Context& ctx, const LogOptions& o) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto events = TRY(suite::read_ledger(s.db(), o.subject));
  if (o.subject && events.empty())
    return invalid("no ledger events for '{}'", *o.subject);
  std::size_t shown = 0;
  if (o.json) {
    std::string out = "[";
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (o.limit && shown++ == o.limit)
        break;
      out += it == events.rbegin() ? "\n  " : ",\n  ";
      out += event_json(*it).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    out += events.empty() ? "]\n" : "\n]\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return {};
  }
  std::string out;
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (o.limit && shown++ == o.limit)
      break;
    const auto& e = *it;
    out += fmt::format("event {} {} {}\n", e.seq, e.action, e.subject);
    out += fmt::format("Actor: {}\nDate:  {}\n", e.actor, e.at);
    if (e.git_head)
      out += fmt::format("Head:  {}\n", e.git_head->substr(0, 12));
    if (e.rationale)
      out += fmt::format("\n    {}\n", *e.rationale);
    if (auto edit = suite::recorded_edit(e)) {
      if (const auto& d = edit->decision)
        out += fmt::format("    decision: {}, decided by {}{}\n", d->reason, d->decided_by,
                           d->approved_by ? ", approved by " + *d->approved_by : "");
      for (const auto& c : edit->changes)
        out += fmt::format("    {}: {}\n", c.weakens ? "weakens" : "changes", suite::describe(c));
    } else if (e.detail && e.action == "edit") {
      out += fmt::format("    changes: {}\n", *e.detail); // recorded before edits listed changes
    }
    out += "\n";
  }
  print_text(out);
  return {};
}

Status run_verify(Context& ctx, const VerifyOptions& o) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto report = TRY(suite::verify(s));
  if (o.json) {
    ojson j;
    j["ok"] = report.ok();
    j["schema_version"] = report.schema_version;
    j["events"] = report.events;
    j["cases"] = report.cases;
    j["incidents"] = report.incidents;
    ojson problems = ojson::array();
    for (const auto& p : report.problems)
      problems.push_back({{"kind", suite::to_string(p.kind)},
                          {"seq", p.seq ? ojson(*p.seq) : ojson()},
                          {"subject", p.subject ? ojson(*p.subject) : ojson()},
                          {"message", p.message}});
    j["problems"] = std::move(problems);
    fmt::print("{}\n", j.dump(2));
  } else if (report.ok()) {
    ctx.say(
        "ok: schema {}, {} ledger event{} chained, {} case{} and {} incident{} match the ledger",
        report.schema_version, report.events, report.events == 1 ? "" : "s", report.cases,
        report.cases == 1 ? "" : "s", report.incidents, report.incidents == 1 ? "" : "s");
  } else {
    for (const auto& p : report.problems)
      fmt::print(stderr, "evalkeep: verify: {}\n", core::for_terminal(p.message));
  }
  if (!report.ok()) {
    if (!o.json)
      print_error({ExitCode::refused,
                   fmt::format("the suite failed verification ({} problem{})",
                               report.problems.size(), report.problems.size() == 1 ? "" : "s"),
                   {}});
    ctx.set_exit_code(ExitCode::refused);
  }
  return {};
}

} // namespace

void add_history_commands(CLI::App& app, Context& ctx) {
  auto log = std::make_shared<LogOptions>();
  auto* cmd = app.add_subcommand("log", "Show the ledger, newest first");
  cmd->add_option("case", log->subject, "Only events about this case (or incident)");
  cmd->add_option("-n,--max-count", log->limit, "Show at most this many events");
  cmd->add_flag("--json", log->json, "Print a JSON array");
  cmd->footer("Examples:\n  evalkeep log refund-window\n  evalkeep log -n 20 --json");
  cmd->callback([&ctx, log] { ctx.run([&] { return run_log(ctx, *log); }); });

  auto verify = std::make_shared<VerifyOptions>();
  cmd = app.add_subcommand("verify", "Check the suite's integrity, schema, triggers and ledger");
  cmd->add_flag("--json", verify->json, "Print a JSON report");
  cmd->footer("Exits 1 and names the first bad event when anything was changed outside "
              "evalkeep.\nExample:\n  evalkeep verify");
  cmd->callback([&ctx, verify] { ctx.run([&] { return run_verify(ctx, *verify); }); });
}

} // namespace evalkeep::cli
