// How far a load has got, counted by the readers and shown by the CLI: atomic
// counters, written by the loading threads, read by a display thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace cdrift {

struct Progress {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> entries{0};
};

} // namespace cdrift
