#pragma once

#include <string>
#include <string_view>

namespace evalkeep::core {

/// The current UTC time as "YYYY-MM-DDTHH:MM:SSZ"; EVALKEEP_NOW overrides it (tests, demos).
std::string now_utc();

/// True for a real calendar date written "YYYY-MM-DD".
bool is_date(std::string_view s);

/// True for a UTC timestamp written "YYYY-MM-DDTHH:MM:SSZ" with a real date and time.
bool is_timestamp(std::string_view s);

} // namespace evalkeep::core
