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

} // namespace

std::string audit_html(const Audit& a, const std::string& today) {
  std::map<std::string, double> by_reason, by_month;
  for (const auto& r : a.retirements) {
    by_reason[std::string(suite::to_string(r.decision.reason))] += 1;
    by_month[r.decision.decided_at.substr(0, 7)] += 1;
  }
  std::vector<Bar> reasons, months;
  for (const auto& [k, v] : by_reason)
    reasons.push_back({k, v, ""});
  // Every month from the first decision to the last, quiet months included.
  if (!by_month.empty()) {
    auto month = by_month.begin()->first, last = by_month.rbegin()->first;
    for (int guard = 0; month <= last && guard < 1200; ++guard) {
      auto it = by_month.find(month);
      months.push_back({month, it == by_month.end() ? 0.0 : it->second, ""});
      int y = std::atoi(month.substr(0, 4).c_str()), m = std::atoi(month.substr(5, 2).c_str());
      if (month.size() != 7 || m < 1 || m > 12)
        break;
      month = m == 12 ? fmt::format("{:04}-01", y + 1) : fmt::format("{:04}-{:02}", y, m + 1);
    }
  }

  std::string body = fmt::format("<header><h1>evalkeep audit</h1><div class=\"muted\">what the "
                                 "suite has given up, as of {}</div></header><main>",
                                 html_escape(today));
  body += "<section id=\"headline\"><div class=\"cards\">";
  auto card = [](std::size_t n, const char* label) {
    return fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", n, label);
  };
  body += card(a.retirements.size(), "retirements");
  body += card(a.unguarded.size(), "incidents left unguarded");
  body += card(a.overdue.size(), "revisits overdue");
  body += card(a.weak_supersessions.size(), "weak supersessions");
  body += "</div></section>";

  body += "<section id=\"charts\"><div class=\"grid\">";
  body +=
      "<div><h2>Retirements by reason</h2>" + bar_chart_svg("reason", reasons, 0, false) + "</div>";
  body += "<div><h2>Retirements by month</h2>" + column_chart_svg("month", months, false) +
          "</div></div></section>";

  body += "<section><h2>Incidents left unguarded</h2>";
  if (a.unguarded.empty()) {
    body += "<p class=\"muted\">none: every incident has a live guarding case</p>";
  } else {
    body += "<table id=\"unguarded\"><thead><tr><th>incident</th><th>title</th><th>severity</th>"
            "<th>date</th></tr></thead><tbody>";
    for (const auto& i : a.unguarded)
      body += "<tr>" + cell(i.id) + cell(i.title) + cell(i.severity.value_or("")) +
              cell(i.date.value_or("")) + "</tr>";
    body += "</tbody></table>";
  }
  body += "</section><section><h2>Revisits overdue</h2>" + list_or_none("overdue", a.overdue);
  body += "</section><section><h2>Guarantees moved to a weak case</h2>" +
          list_or_none("weak", a.weak_supersessions) + "</section>";

  body += "<section><h2>Retirements</h2>";
  if (a.retirements.empty()) {
    body += "<p class=\"muted\">none</p>";
  } else {
    body += "<table id=\"retirements\"><thead><tr><th>case</th><th>status</th><th>reason</th>"
            "<th>rationale</th><th>decided</th><th>by</th><th>approved by</th><th>incidents</th>"
            "<th>superseded by</th><th>revisit</th><th>landed in</th></tr></thead><tbody>";
    for (const auto& r : a.retirements) {
      const auto& d = r.decision;
      std::string incidents = join(d.incidents);
      if (r.incident_title)
        incidents += " (" + *r.incident_title + ")";
      body += "<tr>" + cell(d.case_id) + cell(r.status) +
              cell(std::string(suite::to_string(d.reason))) + cell(d.rationale) +
              cell(d.decided_at) + cell(d.decided_by) + cell(d.approved_by.value_or("")) +
              cell(incidents) + cell(join(d.superseded_by)) + cell(d.revisit.value_or("")) +
              cell(r.landed_in ? r.landed_in->id.substr(0, 10) + " " + r.landed_in->subject
                               : "not committed") +
              "</tr>";
    }
    body += "</tbody></table>";
  }
  body += "</section>";
  if (a.retired_run) {
    body += fmt::format("<section><h2>Retired cases in run {}</h2>", *a.retired_run);
    body += "<table id=\"retired-results\"><thead><tr><th>case</th><th>verdict</th></tr>"
            "</thead><tbody>";
    for (const auto& [c, v] : a.retired_results)
      body += "<tr>" + cell(c) + "<td><span class=\"v v-" + html_escape(v) + "\">" +
              html_escape(v) + "</span></td></tr>";
    body += "</tbody></table></section>";
  }
  body += "</main>";
  return html_page("evalkeep audit", body);
}

} // namespace evalkeep::report
