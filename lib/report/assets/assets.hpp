#pragma once

// The pages' script and style, kept in their own files beside this one and embedded at build
// time (cmake/EmbedAssets.cmake), so they read, diff and lint as JavaScript and CSS.

#include <string_view>

namespace evalkeep::report::assets {

/// The style every evalkeep page shares (page.css): no web fonts, no external resources.
std::string_view page_css();

/// The run report's script (run_report.js): renders the case table from the page's JSON blocks,
/// filters and sorts it, and reads the filter from the URL's fragment
/// (report.html#status=fail&q=refund).
std::string_view run_report_js();

} // namespace evalkeep::report::assets
