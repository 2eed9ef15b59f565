#pragma once

#include "store/database.hpp"
#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::test {

/// A fixed identity and time for ledger events: "Test <t@example.com>" at 2026-05-01T10:00:00Z.
suite::Origin origin();

/// A case asking `prompt` and expecting each assertion spec (e.g. "icontains:30 days"). It is
/// linked to `incident` when that is non-empty, else it has spec provenance with a note.
suite::Case make_case(std::string id, std::string incident,
                      std::string prompt = "Can I get a refund after 45 days?",
                      std::vector<std::string> expect = {"icontains:30 days"});

/// Where the fixture puts the suite inside `dir`: evals/suite.db.
std::filesystem::path suite_path(const TempDir& dir);

/// A new, empty suite file in `dir`.
suite::Suite empty_suite(const TempDir& dir);

/// A suite file in `dir` holding the incident `incident` ("Refund promised outside policy") and
/// one active case `id` linked to it.
suite::Suite suite_with_case(const TempDir& dir, const std::string& id,
                             const std::string& incident);

/// Adds the incident, with a title derived from its id, through the library.
void add_incident(suite::Suite& s, const std::string& id, const std::string& title);
/// Adds the case through the library with the default policy and origin.
void add_case(suite::Suite& s, const suite::Case& c);

/// Counts the rows `sql` returns as its first column (e.g. "SELECT count(*) FROM cases").
std::int64_t count(store::Database& db, std::string_view sql);

/// Runs `sql` on the suite file through a separate raw connection, with the trigger `trigger`
/// dropped for the duration and then recreated exactly as it was, as someone editing the file by
/// hand would. Throws when any step fails.
void tamper_without_trigger(const std::filesystem::path& suite_file, const std::string& trigger,
                            const std::string& sql);

/// Puts a suite file back at an older schema `version`, as an older evalkeep left it: drops every
/// object and column a later migration added (the data of the older columns stays) and sets
/// user_version. Throws when a step fails.
void set_schema_version(const std::filesystem::path& suite_file, int version);

} // namespace evalkeep::test
