// libFuzzer: one rule file through the pack loader, then lint, the examples'
// self-test and the listing (what `cdrift rules lint|test|list` run on it).
#include "cdrift/classify/rules.hpp"
#include "cdrift/util/fd.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace cdrift;

namespace {

// One private file per process (parallel fuzzing jobs each get their own), removed
// at exit; rewritten in place for every input.
struct RuleFile {
  std::string path;
  RuleFile() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/cdrift-rules-fuzz-XXXXXX.json";
    Fd fd(::mkstemps(path.data(), 5)); // only the name is kept
    if (!fd) {
      std::perror("mkstemps");
      std::abort();
    }
  }
  ~RuleFile() { ::unlink(path.c_str()); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RuleFile file;
  std::FILE* f = std::fopen(file.path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  auto pack = load_rule_pack({file.path}, {});
  if (!pack) return 0;
  (void)lint_rule_pack(*pack);
  (void)test_rule_examples(*pack);
  (void)format_rule_list(*pack);
  return 0;
}
