// Nunjucks templates: any bytes render or are refused with a message, never crash, loop without
// end or make more than the size limit; what renders is rendered the same way twice.

#include "interop/template.hpp"

#include "fuzz_support.hpp"

using namespace evalkeep;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const json vars = {{"name", "Ada"},
                            {"n", 3},
                            {"items", {"a", "b", "c"}},
                            {"pairs", json::array({json::array({"k", 1})})},
                            {"order", {{"id", "NW-1"}}},
                            {"raw", R"({"a": [1, 2]})"},
                            {"empty", ""},
                            {"nothing", nullptr}};
  std::string_view text = fuzz::as_text(data, size);
  auto first = interop::render_template(text, vars);
  auto again = interop::render_template(text, vars);
  fuzz::require(first.has_value() == again.has_value(), "rendered once and refused once");
  if (first) {
    fuzz::require(first->size() <= (std::size_t{4} << 20) + text.size(),
                  "rendered past the size limit");
    fuzz::require(*first == *again, "rendered differently twice");
  } else {
    fuzz::require(!first.error().message.empty(), "refused without a message");
  }
  interop::template_variables(text);
  return 0;
}
