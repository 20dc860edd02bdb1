// Small string helpers: splitting, trimming and "did you mean" suggestions for unknown names.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ff {

std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// "[2, 3, 112, 112]": a tensor shape as messages and summaries print it.
std::string format_shape(const std::vector<std::int64_t>& shape);

// Levenshtein distance (insert, delete, substitute each cost 1).
int edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` by edit distance, or "" when none is within max(2, |name|/3).
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace ff
