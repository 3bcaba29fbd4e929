// passwd, group and shadow style account files, parsed once for every reader: the
// origin analysis (which uids and gids the container can name) and the rules (which
// account names are new). One parser so both agree on what a line is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

struct AccountRecord {
  std::string name;
  std::string id_field;             // third field as written ("0", "00", "1001"), may be empty
  std::optional<std::uint32_t> id;  // uid in passwd, gid in group; nullopt when not a number
  std::optional<std::uint32_t> gid; // passwd's fourth field
};

// One record per account line, in file order. Skipped: empty lines, comments, and
// NIS compat lines ("+", "+name", "-name", "+@netgroup"), which name accounts of a
// directory service rather than local ones. A trailing '\r' (a file edited on
// Windows) is not part of the last field. The content is attacker-controlled:
// malformed lines are kept with what could be read, never an error.
std::vector<AccountRecord> parse_account_file(std::string_view content);

} // namespace cdrift
