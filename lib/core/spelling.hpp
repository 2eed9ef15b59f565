#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::core {

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`: the
/// Damerau-Levenshtein distance in its optimal-string-alignment form.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate `word` was most likely meant to be: the nearest one by edit distance, when it
/// is within a third of the word's length (at least one edit, and fewer edits than the word has
/// letters, leading dashes not counted). Ties go to the earlier candidate.
std::optional<std::string> closest_spelling(std::string_view word,
                                            const std::vector<std::string>& candidates);

} // namespace evalkeep::core
