#include "cli/output.hpp"

#include "cdrift/util/atomic_file.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace cdrift {

int report_error(const Error& e) {
  // Messages escape the input names they quote; this is the net for any that
  // slipped through, so an error is always one line with no terminal sequences.
  bool raw = !is_valid_utf8(e.message) ||
             std::any_of(e.message.begin(), e.message.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  std::fprintf(stderr, "cdrift: %s\n",
               raw ? escape_for_terminal(e.message).c_str() : e.message.c_str());
  return status(exit_status_for(e.kind));
}

Status write_stdout(std::string_view data) {
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), stdout) != data.size())
    return fail(ErrorKind::io, "stdout: write failed");
  if (std::fflush(stdout) != 0) return fail(ErrorKind::io, "stdout: write failed");
  return {};
}

Status emit(const std::string& file, std::string_view data) {
  if (file.empty() || file == "-") return write_stdout(data);
  return write_file_atomic(file, data);
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings)
    std::fprintf(stderr, "cdrift: warning: %s\n", escape_for_terminal(w).c_str());
}

ColorMode resolve_color(const std::string& choice) {
  if (choice == "always") return ColorMode::always;
  if (choice == "never") return ColorMode::never;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return ColorMode::never;
  return ::isatty(1) == 1 ? ColorMode::always : ColorMode::never;
}

namespace {

std::string format_now(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

} // namespace

std::string today_utc() {
  return format_now("%Y-%m-%d");
}

std::string now_rfc3339() {
  return format_now("%Y-%m-%dT%H:%M:%SZ");
}

} // namespace cdrift
