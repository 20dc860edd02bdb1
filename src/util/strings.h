// Small string helpers: splitting, trimming and "did you mean" suggestions for unknown names.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ff {

std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// Levenshtein distance (insert, delete, substitute each cost 1).
int edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` by edit distance, or "" when none is within max(2, |name|/3).
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace ff
