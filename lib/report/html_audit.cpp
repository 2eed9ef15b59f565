// The audit page: what `evalkeep audit --format html` writes, in the run report's style.

#include "report/html.hpp"

#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace evalkeep::report {

namespace {

std::string cell(const std::string& text) {
  return "<td>" + html_escape(text) + "</td>";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string list_or_none(const std::string& id, const std::vector<std::string>& items) {
  if (items.empty())
    return "<p class=\"muted\">none</p>";
  std::string out = fmt::format("<ul id=\"{}\">", id);
  for (const auto& i : items)
    out += "<li>" + html_escape(i) + "</li>";
  return out + "</ul>";
}

// What the branch does against its base: the gate's violations and changes.
std::string branch_section(const gate::GateReport& g) {
  std::string out = fmt::format(
      "<section id=\"branch\"><h2>This branch against its base ({})</h2><p>{}: {} violation{}; "
      "active cases {} &rarr; {}, xfail {} &rarr; {}.</p>",
      html_escape(g.base.substr(0, 12)), g.passed() ? "the gate passes" : "the gate fails",
      g.violations.size(), g.violations.size() == 1 ? "" : "s", g.before.active, g.after.active,
      g.before.xfail, g.after.xfail);
  if (!g.violations.empty()) {
    out += "<table id=\"branch-violations\"><thead><tr><th>rule</th><th>case</th><th>problem</th>"
           "</tr></thead><tbody>";
    for (const auto& v : g.violations)
      out += "<tr>" + cell(std::string(gate::to_string(v.rule))) + cell(v.case_id) +
             cell(v.message) + "</tr>";
    out += "</tbody></table>";
  }
  std::vector<std::string> changes;
  for (const auto& e : g.edited) {
    std::vector<std::string> what;
    for (const auto& c : e.changes)
      what.push_back(suite::describe(c) + (c.weakens ? " (weakens)" : ""));
    changes.push_back(fmt::format("edited {}{}", e.case_id, what.empty() ? "" : ": " + join(what)));
  }
  for (const auto& r : g.retired)
    changes.push_back(fmt::format("{} {}", r.status, r.case_id));
  for (const auto& r : g.reinstated)
    changes.push_back("reinstated " + r.case_id);
  for (const auto& x : g.added)
    changes.push_back("added " + x.case_id);
  out += list_or_none("branch-changes", changes) + "</section>";
  return out;
}

// The page's header and the headline's counts.
std::string headline_section(const Audit& a, const std::string& today) {
  std::string out = fmt::format("<header><h1>evalkeep audit</h1><div class=\"muted\">what the "
                                "suite has given up, as of {}</div></header><main>",
                                html_escape(today));
  out += "<section id=\"headline\"><div class=\"cards\">";
  auto card = [](std::size_t n, const char* label) {
    return fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", n, label);
  };
  out += card(a.retirements.size(), "retirements");
  out += card(a.unguarded.size(), "incidents left unguarded");
  out += card(a.overdue.size(), "revisits overdue");
  out += card(a.weak_supersessions.size(), "weak supersessions");
  return out + "</div></section>";
}

// Every month from the first decision to the last, quiet months included.
std::vector<Bar> month_bars(const std::map<std::string, double>& by_month) {
  std::vector<Bar> months;
  if (by_month.empty())
    return months;
  auto month = by_month.begin()->first, last = by_month.rbegin()->first;
  for (int guard = 0; month <= last && guard < 1200; ++guard) {
    auto it = by_month.find(month);
    months.push_back({month, it == by_month.end() ? 0.0 : it->second, ""});
    int y = std::atoi(month.substr(0, 4).c_str()), m = std::atoi(month.substr(5, 2).c_str());
    if (month.size() != 7 || m < 1 || m > 12)
      break;
    month = m == 12 ? fmt::format("{:04}-01", y + 1) : fmt::format("{:04}-{:02}", y, m + 1);
  }
  return months;
}

// Retirements by reason and by month.
std::string charts_section(const Audit& a) {
  std::map<std::string, double> by_reason, by_month;
  for (const auto& r : a.retirements) {
    by_reason[std::string(suite::to_string(r.decision.reason))] += 1;
    by_month[r.decision.decided_at.substr(0, 7)] += 1;
  }
  std::vector<Bar> reasons;
  for (const auto& [k, v] : by_reason)
    reasons.push_back({k, v, ""});
  std::string out = "<section id=\"charts\"><div class=\"grid\">";
  out +=
      "<div><h2>Retirements by reason</h2>" + bar_chart_svg("reason", reasons, 0, false) + "</div>";
  return out + "<div><h2>Retirements by month</h2>" +
         column_chart_svg("month", month_bars(by_month), false) + "</div></div></section>";
}

// Incidents left unguarded, overdue revisits and weak supersessions.
std::string attention_sections(const Audit& a) {
  std::string out = "<section><h2>Incidents left unguarded</h2>";
  if (a.unguarded.empty()) {
    out += "<p class=\"muted\">none: every incident has a live guarding case</p>";
  } else {
    out += "<table id=\"unguarded\"><thead><tr><th>incident</th><th>title</th><th>severity</th>"
           "<th>date</th></tr></thead><tbody>";
    for (const auto& i : a.unguarded)
      out += "<tr>" + cell(i.id) + cell(i.title) + cell(i.severity.value_or("")) +
             cell(i.date.value_or("")) + "</tr>";
    out += "</tbody></table>";
  }
  out += "</section><section><h2>Revisits overdue</h2>" + list_or_none("overdue", a.overdue);
  return out + "</section><section><h2>Guarantees moved to a weak case</h2>" +
         list_or_none("weak", a.weak_supersessions) + "</section>";
}

// Every retirement decision, with the commit that brought it in.
std::string retirements_section(const Audit& a) {
  std::string out = "<section><h2>Retirements</h2>";
  if (a.retirements.empty())
    return out + "<p class=\"muted\">none</p></section>";
  out += "<table id=\"retirements\"><thead><tr><th>case</th><th>status</th><th>reason</th>"
         "<th>rationale</th><th>decided</th><th>by</th><th>approved by</th><th>incidents</th>"
         "<th>superseded by</th><th>revisit</th><th>landed in</th></tr></thead><tbody>";
  for (const auto& r : a.retirements) {
    const auto& d = r.decision;
    std::string incidents = join(d.incidents);
    if (r.incident_title)
      incidents += " (" + *r.incident_title + ")";
    out += "<tr>" + cell(d.case_id) + cell(r.status) +
           cell(std::string(suite::to_string(d.reason))) + cell(d.rationale) + cell(d.decided_at) +
           cell(d.decided_by) + cell(d.approved_by.value_or("")) + cell(incidents) +
           cell(join(d.superseded_by)) + cell(d.revisit.value_or("")) +
           cell(r.landed_in ? r.landed_in->id.substr(0, 10) + " " + r.landed_in->subject
                            : "not committed") +
           "</tr>";
  }
  return out + "</tbody></table></section>";
}

// The verdicts of retired cases in the latest run that included them.
std::string retired_run_section(const Audit& a) {
  std::string out = fmt::format("<section><h2>Retired cases in run {}</h2>", *a.retired_run);
  out += "<table id=\"retired-results\"><thead><tr><th>case</th><th>verdict</th></tr>"
         "</thead><tbody>";
  for (const auto& [c, v] : a.retired_results)
    out += fmt::format("<tr>{}<td><span class=\"v v-{}\">{}</span></td></tr>", cell(c), v, v);
  return out + "</tbody></table></section>";
}

} // namespace

std::string audit_html(const Audit& a, const std::string& today) {
  std::string body = headline_section(a, today) + charts_section(a) + attention_sections(a) +
                     retirements_section(a);
  if (a.retired_run)
    body += retired_run_section(a);
  if (a.against_base)
    body += branch_section(*a.against_base);
  body += "</main>";
  return html_page("evalkeep audit", body);
}

} // namespace evalkeep::report
