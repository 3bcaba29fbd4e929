#include "cdrift/source/threaded_source.hpp"

#include <cstring>

namespace cdrift {

ThreadedSource::ThreadedSource(std::unique_ptr<ByteSource> inner, std::size_t chunk,
                               std::size_t chunks)
    : m_inner(std::move(inner)), m_name(m_inner->name()), m_chunks(chunks) {
  for (auto& c : m_chunks)
    c.data.resize(chunk);
  m_thread = std::thread([this] { produce(); });
}

ThreadedSource::~ThreadedSource() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void ThreadedSource::produce() {
  for (;;) {
    std::size_t slot;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      // A slot is free when fewer than all chunks are produced-but-unreleased.
      m_cv.wait(lock, [this] { return m_stop || m_filled - m_consumed < m_chunks.size(); });
      if (m_stop) return;
      slot = m_filled % m_chunks.size();
    }
    Chunk& c = m_chunks[slot];
    // Fill the chunk completely (inner reads may be small) unless the stream ends.
    std::size_t got = 0;
    std::optional<Error> error;
    bool end = false;
    while (got < c.data.size()) {
      auto n = m_inner->read(c.data.data() + got, c.data.size() - got);
      if (!n) {
        error = std::move(n).error();
        break;
      }
      if (*n == 0) {
        end = true;
        break;
      }
      got += *n;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    c.size = got;
    if (got > 0) ++m_filled;
    if (error) m_error = std::move(error);
    if (end || m_error) m_end = true;
    m_cv.notify_all();
    if (m_end) return;
  }
}

Result<bool> ThreadedSource::next_chunk() {
  std::unique_lock<std::mutex> lock(m_mutex);
  if (m_holding) {
    ++m_consumed;
    m_holding = false;
    m_pos = 0;
    m_cv.notify_all();
  }
  m_cv.wait(lock, [this] { return m_filled > m_consumed || m_end; });
  if (m_filled > m_consumed) {
    m_holding = true;
    return true;
  }
  // Data produced before an error is delivered first; the error comes at the end.
  if (m_error) return fail(*m_error);
  return false;
}

std::optional<Result<std::size_t>> ThreadedSource::read_view(const std::uint8_t*& data) {
  auto more = next_chunk();
  if (!more) return Result<std::size_t>(fail(std::move(more).error()));
  if (!*more) return Result<std::size_t>(std::size_t{0});
  Chunk& c = m_chunks[m_consumed % m_chunks.size()];
  data = c.data.data() + m_pos;
  std::size_t n = c.size - m_pos;
  m_pos = c.size;
  return Result<std::size_t>(n);
}

Result<std::size_t> ThreadedSource::read(std::uint8_t* buf, std::size_t cap) {
  if (!m_holding || m_pos == m_chunks[m_consumed % m_chunks.size()].size) {
    auto more = next_chunk();
    if (!more) return fail(std::move(more).error());
    if (!*more) return std::size_t{0};
  }
  Chunk& c = m_chunks[m_consumed % m_chunks.size()];
  std::size_t n = std::min(cap, c.size - m_pos);
  std::memcpy(buf, c.data.data() + m_pos, n);
  m_pos += n;
  return n;
}

} // namespace cdrift
