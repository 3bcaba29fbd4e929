// What every command shares on the way out: errors as one line and an exit
// status, stdout and atomic report files, colour, dates.
#pragma once

#include "cdrift/report/text.hpp"
#include "cdrift/util/error.hpp"
#include "cdrift/util/exit_status.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

inline int status(ExitStatus s) {
  return static_cast<int>(s);
}

// Prints "cdrift: MESSAGE" (escaped if anything slipped through) and returns the
// exit status of the error's kind.
int report_error(const Error& e);

Status write_stdout(std::string_view data);
// Writes to FILE atomically, or to stdout when FILE is empty or "-".
Status emit(const std::string& file, std::string_view data);

// "cdrift: warning: ..." on stderr, escaped.
void print_warnings(const std::vector<std::string>& warnings);

// --color auto|always|never with NO_COLOR and whether stdout is a terminal.
ColorMode resolve_color(const std::string& choice);

std::string today_utc();   // YYYY-MM-DD
std::string now_rfc3339(); // for --timestamp

} // namespace cdrift
