#include "cli/context.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/records.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace evalkeep::cli {

namespace {

struct IncidentOptions {
  suite::Incident incident;
  suite::IncidentChanges changes;
  bool json = false;
};

Status run_add(Context& ctx, const IncidentOptions& o) {
  auto w = TRY(ctx.writer());
  TRY(suite::add_incident(w.suite, o.incident, w.origin));
  ctx.say("added incident {}", o.incident.id);
  return {};
}

Status run_edit(Context& ctx, const IncidentOptions& o) {
  auto w = TRY(ctx.writer());
  TRY(suite::edit_incident(w.suite, o.incident.id, o.changes, w.origin));
  ctx.say("updated incident {}", o.incident.id);
  return {};
}

Status run_list(Context& ctx, const IncidentOptions& o) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto incidents = TRY(suite::list_incidents(s));
  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& i : incidents) {
      auto r = suite::incident_record(i);
      r.erase("type");
      out.push_back(std::move(r));
    }
    fmt::print("{}\n", out.dump(2));
    return {};
  }
  std::string out;
  for (const auto& i : incidents)
    out += fmt::format("{:<12} {:<10} {:<8} {}\n", i.id, i.date.value_or("-"),
                       i.severity.value_or("-"), i.title);
  print_text(out);
  return {};
}

Status run_show(Context& ctx, const IncidentOptions& o) {
  auto s = TRY(ctx.open_suite(suite::Suite::Access::read));
  auto incident = TRY(suite::get_incident(s, o.incident.id));
  suite::CaseFilter filter;
  filter.incident = incident.id;
  filter.include_removed = true;
  auto guards = TRY(suite::list_cases(s, filter));
  if (o.json) {
    auto r = suite::incident_record(incident);
    r.erase("type");
    nlohmann::ordered_json cases = nlohmann::ordered_json::array();
    for (const auto& c : guards)
      cases.push_back({{"id", c.id}, {"status", suite::to_string(c.status)}});
    r["cases"] = std::move(cases);
    fmt::print("{}\n", r.dump(2));
    return {};
  }
  std::string out;
  out += fmt::format("incident {}\n", incident.id);
  out += fmt::format("Title:    {}\n", incident.title);
  if (incident.date)
    out += fmt::format("Date:     {}\n", *incident.date);
  if (incident.severity)
    out += fmt::format("Severity: {}\n", *incident.severity);
  if (incident.url)
    out += fmt::format("URL:      {}\n", *incident.url);
  if (incident.summary)
    out += fmt::format("Summary:  {}\n", *incident.summary);
  std::size_t live = 0;
  for (const auto& c : guards)
    live += suite::is_live(c.status) ? 1 : 0;
  out += fmt::format("\nGuarded by {} live case{} ({} in all):\n", live, live == 1 ? "" : "s",
                     guards.size());
  for (const auto& c : guards)
    out += fmt::format("  {:<32} {}\n", c.id, suite::to_string(c.status));
  if (live == 0)
    out += "  (no live case guards this incident)\n";
  print_text(out);
  return {};
}

void add_fields(CLI::App* cmd, IncidentOptions& o, bool for_edit) {
  if (for_edit) {
    cmd->add_option("--title", o.changes.title, "New title");
    cmd->add_option("--date", o.changes.date, "When it happened, YYYY-MM-DD ('' clears)");
    cmd->add_option("--severity", o.changes.severity, "critical, high, medium or low ('' clears)");
    cmd->add_option("--url", o.changes.url, "Link to the incident report ('' clears)");
    cmd->add_option("--summary", o.changes.summary, "What went wrong ('' clears)");
    cmd->add_option("--rationale", o.changes.rationale, "Why it changes (kept in the ledger)");
    return;
  }
  cmd->add_option("--title", o.incident.title, "What went wrong, in a line")->required();
  cmd->add_option("--date", o.incident.date, "When it happened, YYYY-MM-DD");
  cmd->add_option("--severity", o.incident.severity, "critical, high, medium or low");
  cmd->add_option("--url", o.incident.url, "Link to the incident report");
  cmd->add_option("--summary", o.incident.summary, "What went wrong, in a few sentences");
}

} // namespace

void add_incident_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("incident", "Record and look up incidents cases guard against");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n  evalkeep incident add INC-7 --title \"Refund promised outside policy\"\n"
      "  evalkeep incident show INC-7");

  auto add = std::make_shared<IncidentOptions>();
  auto* cmd = group->add_subcommand("add", "Record an incident");
  cmd->add_option("id", add->incident.id, "Incident id, e.g. INC-142")->required();
  add_fields(cmd, *add, false);
  cmd->footer("Example:\n  evalkeep incident add INC-7 --title \"Refund promised outside policy\" "
              "--date 2026-03-02 --severity high");
  cmd->callback([&ctx, add] { ctx.run([&] { return run_add(ctx, *add); }); });

  auto edit = std::make_shared<IncidentOptions>();
  cmd = group->add_subcommand("edit", "Change an incident's details");
  cmd->add_option("id", edit->incident.id, "Incident id")->required();
  add_fields(cmd, *edit, true);
  cmd->footer("Example:\n  evalkeep incident edit INC-7 --severity critical --rationale "
              "\"customer refunds were paid out\"");
  cmd->callback([&ctx, edit] { ctx.run([&] { return run_edit(ctx, *edit); }); });

  auto list = std::make_shared<IncidentOptions>();
  cmd = group->add_subcommand("list", "List incidents");
  cmd->add_flag("--json", list->json, "Print a JSON array");
  cmd->footer("Example:\n  evalkeep incident list --json");
  cmd->callback([&ctx, list] { ctx.run([&] { return run_list(ctx, *list); }); });

  auto show = std::make_shared<IncidentOptions>();
  cmd = group->add_subcommand("show", "Show an incident and the cases that guard it");
  cmd->add_option("id", show->incident.id, "Incident id")->required();
  cmd->add_flag("--json", show->json, "Print JSON");
  cmd->footer("Example:\n  evalkeep incident show INC-7");
  cmd->callback([&ctx, show] { ctx.run([&] { return run_show(ctx, *show); }); });
}

} // namespace evalkeep::cli
