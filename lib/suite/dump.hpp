#pragma once

#include "core/error.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"

#include <ostream>
#include <string>

namespace evalkeep::suite {

// The text form of a whole suite, for `git diff` (the textconv `evalkeep dump`) and for people.
// A header line with the schema version, then one block per record, blocks separated by a blank
// line: incidents, cases and retirement decisions sorted by id, then the ledger's events in seq
// order. A block is a head line ("case refund-window") followed by "  key: value" lines; a value
// holding newlines continues on lines starting with the field's indent and "| " ("|" alone for an
// empty line), so that every line of the text belongs to exactly one field:
//
//   case refund-window
//     status: active
//     incident: INC-7
//     prompt: first line
//     | second line
//     expect: icontains:30 days
//
// The same logical content always gives the same bytes; nothing about the dump itself (time,
// file name) is in it.

/// How the dump writes the suite's text.
enum class DumpText {
  exact,   // the bytes the suite holds
  visible, // control characters in caret notation, as core::for_terminal shows them ("^[" for
           // ESC), so that a diff a reviewer reads cannot drive their terminal or hide a line
};

/// Writes the dump of the suite to `out`, reading it in one snapshot.
Status dump(Suite& s, std::ostream& out, DumpText text = DumpText::exact);

/// The dump as a string.
Result<std::string> dump(Suite& s);

/// One case's blocks, with its retirement decision when it has one, as the dump shows them.
std::string dump_case(const Case& c, const RetirementDecision* decision);
/// One incident's block, as the dump shows it.
std::string dump_incident(const Incident& i);

} // namespace evalkeep::suite
