#pragma once

// Whether one assertion is at least as strict as another, for the assertion types and fields
// added for other tools' suites (the original types keep the rules of suite/weakening.cpp).

#include "scoring/assertion.hpp"

#include <optional>

namespace evalkeep::scoring {

/// True when `a` has only what the original assertion types have: one of their types, and no
/// schema, values, script, vars, config, embedding model or transform.
bool is_classic(const Assertion& a);

/// Whether every answer that passes `after` also passes `before`, so that replacing `before` with
/// `after` keeps a case at least as strict. nullopt when both are classic (is_classic): the
/// caller's own rules decide. Otherwise true only when it can be proved from the assertions'
/// meaning, and false whenever unsure: a changed script, transform, regex or schema is never
/// provably stricter, and a classic check that gains a transform reads another text than before.
std::optional<bool> stricter_or_equal(const Assertion& after, const Assertion& before);

} // namespace evalkeep::scoring
