#pragma once

#include "core/error.hpp"
#include "scoring/assertion.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::interop {

/// A program a configuration names as file://PATH or file://PATH:FUNCTION, read.
struct ScriptFile {
  std::optional<scoring::Script> script; // nullopt: a file evalkeep cannot run (.ts, .rb, ...)
  std::filesystem::path dir;             // the folder it was read from
};
/// The programs read, by the reference as the configuration writes it.
using ScriptFiles = std::map<std::string, ScriptFile, std::less<>>;

/// What a test's programs see besides its vars.
struct ScriptSources {
  const ScriptFiles* files = nullptr; // the file:// programs read; null: none
  bool text_prompt = false;           // the prompt is text (context.prompt), not a chat
  nlohmann::json description{};       // the test's own description (context.test.description)
  nlohmann::json metadata{}; // its metadata, defaultTest's under it (context.test.metadata)
};

/// Reads the program `reference` (file://PATH, with :FUNCTION after the path) names, relative to
/// `base`: JavaScript (.js, .cjs, .mjs) or Python (.py), whose function is FUNCTION or by default
/// the module's export (JavaScript), get_assert or get_transform (Python). An assertion's
/// reference splits at its first ':', a transform's at its last, as promptfoo does. A missing
/// file or function is an error naming `where`.
Result<ScriptFile> read_script_file(std::string_view reference, bool transform,
                                    const std::filesystem::path& base, const std::string& where);

/// The file:// references to programs in an assertion (its javascript or python value, its
/// transform) or, for a string, that string when it is one.
std::vector<std::string> script_references(const nlohmann::json& assertion_or_transform);

/// The evalkeep assertions a promptfoo assertion (its value already rendered) stands for: one for
/// most types, one per value for contains-all and not-contains-any. `vars` are the test's vars,
/// kept with a program (a javascript or python assertion, a transform) whose code reads
/// context.vars (or context.test.vars); the test's description and metadata (`sources`) with a
/// program reading context.test.description or context.test.metadata. `test_transform` is the
/// test's options.transform (null: none), run before the assertion's own transform. An error says
/// why there is no exact counterpart (a type evalkeep lacks, code that reads the provider, a
/// transform in front of an llm-rubric,
/// ...). Programs read from files are taken from `sources.files`; code reading context.prompt is
/// mapped when `sources.text_prompt` says the prompt is text.
Result<std::vector<scoring::Assertion>> from_promptfoo(const nlohmann::json& assertion,
                                                       const nlohmann::json& vars = {},
                                                       const nlohmann::json& test_transform = {},
                                                       const ScriptSources& sources = {});

/// Whether a promptfoo assertion type is graded by a model (llm-rubric, factuality,
/// model-graded-factuality, model-graded-closedqa, g-eval, answer-relevance): its `provider` (an
/// id, or {id, config}) names a grading provider, which evalkeep does not keep, grading with the
/// run's judge provider; the importer reports it (grading_provider_name). `similar` is not one:
/// its provider names the embedding model.
bool graded_by_model(std::string_view promptfoo_type);

/// How a grading provider (an assertion's `provider`, a test's options.provider) is named in the
/// import's report: its id, or its JSON when it has no id.
std::string grading_provider_name(const nlohmann::json& provider);

/// Whether from_promptfoo maps assertions of this promptfoo type at all (some values of it may
/// still be refused).
bool has_counterpart(std::string_view promptfoo_type);

/// The promptfoo assertion for an evalkeep one, its text kept literal, a program read from a file
/// written as its file:// reference (the exporter writes the file); nullopt when promptfoo has
/// no exact counterpart (json-path, min-length, max-length, number-close, more than one
/// transform, a program that reads the test's vars or what promptfoo gives differently).
/// `text_prompt`: the exported prompt is the case's input as text, which code may read as
/// context.prompt.
std::optional<nlohmann::ordered_json> to_promptfoo(const scoring::Assertion& a,
                                                   bool text_prompt = false);

/// A transform as promptfoo writes it: inline JavaScript, or file://FILE[:FUNCTION]; nullopt for
/// inline Python (promptfoo's inline transforms are JavaScript) or code that reads its context
/// beyond what promptfoo gives it alike.
std::optional<std::string> transform_to_promptfoo(const scoring::Script& t);

/// The assertion a promptfoo CSV `__expected` cell stands for, read as promptfoo reads it
/// ("contains: Paris", "llm-rubric: ...", "not-icontains: x", a plain value for equals).
nlohmann::json assertion_from_cell(std::string_view cell);

} // namespace evalkeep::interop
