#pragma once

#include "gate/gate.hpp"

#include <map>
#include <string>

namespace evalkeep::gate {

/// Rule 4, over the cases live at HEAD: an active case that fails or errs in the run, has no
/// result there, or was not run in its HEAD version fails the gate, as does a live case (xfail
/// included) that passed in the baseline run and fails now. With a baseline, unless both runs are
/// deterministic under a strict policy, a case's drop fails only when significant at the
/// policy's alpha, and the suite fails when its paired pass rate fell by more than max_drop
/// (suite-regressed). Fills in report.run.
void check_run(const std::map<std::string, suite::Case>& head, const RunInput& in,
               const suite::Policy& policy, GateReport& report);

} // namespace evalkeep::gate
