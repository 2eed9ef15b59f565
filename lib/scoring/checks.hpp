#pragma once

// Inside scoring: which assertions evaluate() hands to scoring/checks.cpp.

#include "scoring/assertion.hpp"
#include "scoring/evaluate.hpp"

namespace evalkeep::scoring {

/// True for the negated and list string checks, JSON with a schema, scripts, similar, the
/// assertions on tool calls, and any assertion with a transform.
bool evaluated_in_checks(const Assertion& a);

/// The verdict of an assertion on tool calls (is_tool_assertion) on the answer's calls, with the
/// case's tool definitions for tool-args-valid (scoring/tool_checks.cpp).
Outcome tool_check(const Assertion& a, const Answer& answer, const EvaluationContext& context);

} // namespace evalkeep::scoring
