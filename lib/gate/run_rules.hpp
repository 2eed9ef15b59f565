#pragma once

#include "gate/gate.hpp"

#include <map>
#include <string>

namespace evalkeep::gate {

/// Rule 4, over the cases live at HEAD: an active case that fails or errs in the run, has no
/// result there, or was not run in its HEAD version fails the gate, as does a live case (xfail
/// included) that passed in the baseline run and fails now. Fills in report.run.
void check_run(const std::map<std::string, suite::Case>& head, const RunInput& in,
               GateReport& report);

} // namespace evalkeep::gate
