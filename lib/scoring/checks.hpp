#pragma once

// Inside scoring: which assertions evaluate() hands to scoring/checks.cpp.

#include "scoring/assertion.hpp"

namespace evalkeep::scoring {

/// True for the negated and list string checks, JSON with a schema, scripts, similar, and any
/// assertion with a transform.
bool evaluated_in_checks(const Assertion& a);

} // namespace evalkeep::scoring
