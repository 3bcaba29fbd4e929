// Reading one regular file's data: SHA-256, content class and, for the few files
// later stages read, the bytes themselves, all in the single pass over the data.
#pragma once

#include "cdrift/layer/progress.hpp"
#include "cdrift/source/member_stream.hpp"

#include <cstdint>
#include <vector>

namespace cdrift {

enum class CaptureWish { skip, keep };

class ContentReader {
public:
  explicit ContentReader(Progress* progress = nullptr) : m_progress(progress) {}
  Result<DigestedContent> read(MemberStream& members, const Member& m, CaptureWish capture);

private:
  Progress* m_progress;
  std::vector<std::uint8_t> m_zeros;
  std::uint64_t m_sparse_filled = 0; // hole bytes hashed as zeros so far (one budget per source)
};

// Whether a member at raw name `name` is one whose bytes later stages read.
CaptureWish capture_wish(const Member& m);

} // namespace cdrift
