#include "core/time.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace evalkeep::core {

std::string now_utc() {
  if (const char* fixed = std::getenv("EVALKEEP_NOW"); fixed && is_timestamp(fixed))
    return fixed;
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  // A run stamps every attempt and result: within a second, the text is the same.
  thread_local std::pair<std::chrono::sys_seconds, std::string> last;
  if (now == last.first)
    return last.second;
  auto day = std::chrono::floor<std::chrono::days>(now);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{now - day};
  last = {now, fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                           hms.hours().count(), hms.minutes().count(), hms.seconds().count())};
  return last.second;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

} // namespace

bool is_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d))
    return false;
  std::chrono::year_month_day ymd{std::chrono::year{y},
                                  std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  return ymd.ok();
}

bool is_timestamp(std::string_view s) {
  int h = 0, mi = 0, sec = 0;
  if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    return false;
  return is_date(s.substr(0, 10)) && digits(s, 11, 2, h) && digits(s, 14, 2, mi) &&
         digits(s, 17, 2, sec) && h < 24 && mi < 60 && sec < 61;
}

} // namespace evalkeep::core
