#include "report/html.hpp"

#include "core/text.hpp"
#include "report/assets/assets.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

namespace evalkeep::report {

std::string json_for_script(const nlohmann::json& j) {
  // Invalid UTF-8 in a model's answer is replaced rather than failing the whole page.
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  // Inside JSON these characters can only occur in strings, where \uXXXX means the same.
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

namespace {

// At most `width` bytes of text, cut at a character boundary, with an ellipsis when cut.
std::string shorten(const std::string& s, std::size_t width) {
  if (s.size() <= width)
    return s;
  return std::string(core::utf8_prefix(s, width - 1)) + "…";
}

std::string value_label(double v, bool percent) {
  return percent ? fmt::format("{:.0f}%", 100 * v) : fmt::format("{:g}", v);
}

} // namespace

std::string bar_chart_svg(const std::string& name, const std::vector<Bar>& bars, double max,
                          bool percent) {
  constexpr int k_row = 22, k_label = 200, k_plot = 380, k_width = 660;
  if (max <= 0)
    for (const auto& b : bars)
      max = std::max(max, b.value);
  if (max <= 0)
    max = 1;
  int height = std::max<int>(k_row, static_cast<int>(bars.size()) * k_row) + 4;
  std::string svg = fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" data-bars=\"{}\" role=\"img\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\">",
      html_escape(name), bars.size(), k_width, height, k_width, height);
  if (bars.empty())
    svg += fmt::format("<text x=\"0\" y=\"16\" class=\"muted\">nothing to show</text>");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    int y = static_cast<int>(i) * k_row + 2;
    double w = std::clamp(b.value / max, 0.0, 1.0) * k_plot;
    std::string label = shorten(b.label, 28);
    std::string ci, whisker;
    if (b.interval) {
      auto [low, high] = *b.interval;
      ci = fmt::format(", 95% CI {}–{}", value_label(low, percent), value_label(high, percent));
      double x1 = k_label + std::clamp(low / max, 0.0, 1.0) * k_plot;
      double x2 = k_label + std::clamp(high / max, 0.0, 1.0) * k_plot;
      int mid = y + 2 + (k_row - 6) / 2;
      whisker = fmt::format("<path class=\"whisker\" d=\"M{0:.1f} {1}H{2:.1f}M{0:.1f} {3}V{4}"
                            "M{2:.1f} {3}V{4}\"/>",
                            x1, mid, x2, mid - 4, mid + 4);
    }
    svg += fmt::format(
        "<g><title>{}: {}{}{}</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
        "<rect class=\"track\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"/>{}"
        "<text x=\"{:.1f}\" y=\"{}\">{}</text></g>",
        html_escape(b.label), value_label(b.value, percent), ci,
        b.note.empty() ? "" : " (" + html_escape(b.note) + ")", k_label - 6, y + 15,
        html_escape(label), k_label, y + 2, k_plot, k_row - 6, k_label, y + 2, w, k_row - 6,
        whisker,
        k_label +
            std::max(w,
                     b.interval ? (std::clamp(b.interval->second / max, 0.0, 1.0) * k_plot) : 0.0) +
            6,
        y + 15,
        value_label(b.value, percent) + (b.note.empty() ? "" : " · ") + html_escape(b.note));
  }
  return svg + "</svg>";
}

std::string column_chart_svg(const std::string& name, const std::vector<Bar>& bars, bool percent) {
  constexpr int k_width = 660, k_plot = 150, k_top = 16, k_bottom = 40;
  double max = 0;
  for (const auto& b : bars)
    max = std::max(max, b.value);
  if (percent || max <= 0)
    max = 1;
  int n = std::max<int>(1, static_cast<int>(bars.size()));
  double slot = static_cast<double>(k_width) / n;
  std::string svg = fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" data-bars=\"{}\" role=\"img\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\">",
      html_escape(name), bars.size(), k_width, k_top + k_plot + k_bottom, k_width,
      k_top + k_plot + k_bottom);
  svg += fmt::format("<line class=\"axis\" x1=\"0\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", k_width,
                     k_top + k_plot, k_top + k_plot);
  if (bars.empty())
    svg += "<text x=\"0\" y=\"40\" class=\"muted\">nothing to show</text>";
  // Label every column when the labels fit, else every second, third...: at most ten labels
  // (seventeen months labelled every month overlapped), each with room for its text at about
  // 7 px a character.
  constexpr std::size_t k_max_labels = 10;
  std::size_t longest = 0;
  for (const auto& b : bars)
    longest = std::max(longest, core::utf8_length(b.label));
  auto room = static_cast<std::size_t>(std::ceil((7.0 * static_cast<double>(longest) + 6) / slot));
  std::size_t every =
      std::max({std::size_t{1}, (bars.size() + k_max_labels - 1) / k_max_labels, room});
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    double h = std::clamp(b.value / max, 0.0, 1.0) * k_plot;
    double x = static_cast<double>(i) * slot;
    double cx = x + slot / 2;
    svg += fmt::format("<g><title>{}: {}{}</title>"
                       "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
                       "height=\"{:.1f}\"/>",
                       html_escape(b.label), value_label(b.value, percent),
                       b.note.empty() ? "" : " (" + html_escape(b.note) + ")", x + slot * 0.1,
                       k_top + k_plot - h, slot * 0.8, h);
    if (b.value > 0 && slot >= 24)
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", cx,
                         k_top + k_plot - h - 3, value_label(b.value, percent));
    if ((bars.size() - 1 - i) % every == 0) { // the last column, the latest, always labelled
      // Kept inside the chart: the first and last labels were cut at its edges.
      double half = 3.5 * static_cast<double>(core::utf8_length(b.label)) + 2;
      double lx = 2 * half < k_width ? std::clamp(cx, half, k_width - half) : cx;
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" "
                         "class=\"tick\">{}</text>",
                         lx, k_top + k_plot + 14, html_escape(b.label));
    }
    svg += "</g>";
  }
  return svg + "</svg>";
}

std::string html_page(const std::string& title, const std::string& body,
                      const std::string& script) {
  std::string page = fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                                 "charset=\"utf-8\">\n<meta name=\"viewport\" "
                                 "content=\"width=device-width, initial-scale=1\">\n"
                                 "<title>{}</title>\n<style>\n{}\n</style></head>\n<body>\n",
                                 html_escape(title), assets::page_css());
  page += body;
  if (!script.empty())
    page += "\n<script>\n" + script + "\n</script>";
  page += "\n</body></html>\n";
  return page;
}

namespace {

// Writes all of `text` to an open descriptor, through short writes and signals.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    auto n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::unexpected<Error> write_error(const std::filesystem::path& path, int err) {
  return fail(ExitCode::environment, "cannot write '{}': {}", path.string(),
              std::generic_category().message(err));
}

} // namespace

Status write_page(const std::filesystem::path& path, std::string_view page) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A link is followed: the page it points to is replaced, not the link.
  fs::path target = fs::is_symlink(path, ec) ? fs::weakly_canonical(path, ec) : path;
  if (ec)
    target = path;
  struct stat old {};
  bool exists = ::stat(target.c_str(), &old) == 0;
  if (exists && !S_ISREG(old.st_mode)) {
    int fd = ::open(target.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
      return write_error(path, errno);
    bool ok = write_all(fd, page);
    int err = errno;
    ::close(fd);
    if (!ok)
      return write_error(path, err);
    return {};
  }
  // Beside the page, so the rename stays within one file system; hidden, and named after this
  // process so two writers never share one.
  fs::path tmp = target.parent_path() / fmt::format(".{}.{}.tmp", target.filename().string(),
                                                    static_cast<long>(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return write_error(path, errno);
  // A page replaced keeps its permissions (a private report stays private).
  bool ok = (!exists || ::fchmod(fd, old.st_mode & 07777) == 0) && write_all(fd, page) &&
            ::fsync(fd) == 0;
  int err = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), target.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return write_error(path, err);
  }
  return {};
}

} // namespace evalkeep::report
