#include "cdrift/layer/content.hpp"

#include "cdrift/manifest/capture.hpp"
#include "cdrift/manifest/sniff.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/path.hpp"

#include <algorithm>
#include <cstring>

namespace cdrift {

namespace {
// Holes of sparse files are hashed as zeros. A header can claim petabytes of holes
// in a few bytes, so each source gets a budget of hole bytes (about two seconds of
// hashing), however many entries share it.
constexpr std::uint64_t max_sparse_fill = 4ull << 30;

std::string quoted(std::string_view raw) {
  return "\"" + escape_for_terminal(raw) + "\"";
}
} // namespace

CaptureWish capture_wish(const Member& m) {
  if (m.size > capture_file_limit) return CaptureWish::skip;
  auto cleaned = clean_path(m.name);
  return cleaned && wants_capture(*cleaned) ? CaptureWish::keep : CaptureWish::skip;
}

Result<DigestedContent> ContentReader::read(MemberStream& members, const Member& m,
                                            CaptureWish wish) {
  DigestedContent out;
  Sha256 hash(members.file_hash_engine());
  std::uint8_t head[sniff_prefix_size];
  std::size_t head_size = 0;
  bool capture = wish == CaptureWish::keep;
  std::string captured;
  std::uint64_t total = 0;
  // Holes of sparse files are hashed here; real data by the stream, which may
  // digest itself in the same pass.
  enum class Bytes { hole, data };
  auto consume = [&](const std::uint8_t* data, std::size_t size, Bytes bytes) {
    if (bytes == Bytes::data)
      members.hash_block(data, size, hash);
    else
      hash.update(data, size);
    if (head_size < sizeof head) {
      std::size_t n = std::min(size, sizeof head - head_size);
      std::memcpy(head + head_size, data, n);
      head_size += n;
    }
    if (capture && captured.size() + size <= capture_file_limit)
      captured.append(reinterpret_cast<const char*>(data), size);
    else
      capture = false;
    total += size;
  };
  const std::uint8_t* data;
  std::size_t size;
  std::int64_t offset;
  for (;;) {
    auto more = members.next_block(data, size, offset);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    if (offset < 0 || static_cast<std::uint64_t>(offset) < total)
      return fail(ErrorKind::input,
                  members.name() + ": entry " + quoted(m.name) + " has overlapping data blocks");
    // Sparse members: the holes read as zeros, hashed like any content.
    if (static_cast<std::uint64_t>(offset) - total > max_sparse_fill - m_sparse_filled)
      return fail(ErrorKind::input,
                  members.name() + ": entry " + quoted(m.name) +
                      " is a sparse file whose holes exceed the 4 GiB budget for one source");
    m_sparse_filled += static_cast<std::uint64_t>(offset) - total;
    while (total < static_cast<std::uint64_t>(offset)) {
      if (m_zeros.empty()) m_zeros.resize(64 * 1024);
      std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(m_zeros.size(), static_cast<std::uint64_t>(offset) - total));
      consume(m_zeros.data(), n, Bytes::hole);
    }
    consume(data, size, Bytes::data);
    if (m_progress) m_progress->bytes.fetch_add(size, std::memory_order_relaxed);
  }
  // Only a sparse member ends in a hole: any other file holds what its data holds
  // (a size libarchive took from elsewhere, like SCHILY.realsize, adds nothing).
  std::uint64_t end = m.sparse ? m.size : total;
  if (end > total && end - total > max_sparse_fill - m_sparse_filled)
    return fail(ErrorKind::input,
                members.name() + ": entry " + quoted(m.name) +
                    " is a sparse file whose holes exceed the 4 GiB budget for one source");
  if (end > total) m_sparse_filled += end - total;
  while (total < end) { // trailing hole of a sparse file
    if (m_zeros.empty()) m_zeros.resize(64 * 1024);
    consume(m_zeros.data(),
            static_cast<std::size_t>(std::min<std::uint64_t>(m_zeros.size(), end - total)),
            Bytes::hole);
  }
  out.size = total;
  out.sha256 = hash.finish();
  out.content_class = sniff_content(head, head_size, total, out.interpreter);
  if (capture) out.captured = std::move(captured);
  return out;
}

} // namespace cdrift
