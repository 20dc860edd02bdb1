// Aligned text tables for terminal output (`faceforge results ...`).
#pragma once
#include <string>
#include <vector>

namespace ff {

// Columns padded to their widest cell (UTF-8 aware), two spaces apart; a cell that parses as a
// number is right-aligned. Every row must have header.size() cells.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// CSV field quoting (RFC 4180): quoted when it holds a comma, quote, CR or LF.
std::string csv_field(const std::string& text);

}  // namespace ff
