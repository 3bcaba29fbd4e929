#include "cdrift/util/exit_status.hpp"
#include "cli/app.hpp"

#include <clocale>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // libarchive converts pax UTF-8 names through the locale; a UTF-8 locale keeps
  // them byte-exact, raw ustar names pass through either way.
  if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "");
  try {
    return cdrift::run_cli(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "cdrift: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cdrift: internal error: %s\n", e.what());
  }
  return static_cast<int>(cdrift::ExitStatus::internal);
}
