// Runs a source on its own thread, handing its output over in large reused
// buffers: decompression on one core, tar parsing and hashing on the other. Large
// chunks keep the cross-core handoff cheap; reuse avoids first-touch page faults.
#pragma once

#include "cdrift/source/byte_source.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cdrift {

class ThreadedSource : public ByteSource {
public:
  explicit ThreadedSource(std::unique_ptr<ByteSource> inner, std::size_t chunk = 4u << 20,
                          std::size_t chunks = 3);
  ~ThreadedSource() override;
  ThreadedSource(const ThreadedSource&) = delete;
  ThreadedSource& operator=(const ThreadedSource&) = delete;

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override;
  std::optional<Result<std::size_t>> read_view(const std::uint8_t*& data) override;
  const std::string& name() const override { return m_name; }

private:
  struct Chunk {
    std::vector<std::uint8_t> data;
    std::size_t size = 0;
  };
  void produce();
  // Blocks until the next filled chunk is there (or the end, or an error).
  Result<bool> next_chunk();

  std::unique_ptr<ByteSource> m_inner;
  std::string m_name;
  std::vector<Chunk> m_chunks;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::size_t m_filled = 0;   // chunks produced (monotonic)
  std::size_t m_consumed = 0; // chunks released by the consumer (monotonic)
  bool m_holding = false;     // the consumer holds chunk m_consumed
  bool m_end = false;
  bool m_stop = false;
  std::optional<Error> m_error;
  std::size_t m_pos = 0; // read() position within the held chunk
  std::thread m_thread;
};

} // namespace cdrift
