#include "cdrift/source/decompress.hpp"

#include <cstring>
#include <isa-l/igzip_lib.h>
#include <vector>
#include <zstd.h>

namespace cdrift {

namespace {

constexpr std::size_t input_buffer_size = 256 * 1024;

// Shared input buffering for the decompressors: refills from the inner stream and
// remembers whether it has ended.
class InputBuffer {
public:
  explicit InputBuffer(std::unique_ptr<ByteSource> inner) : m_inner(std::move(inner)) {}

  Status refill() {
    // A source that lends its buffers (a read-ahead thread) is read in place; the
    // decompressors only read their input, whatever their APIs' pointer types say.
    const std::uint8_t* view = nullptr;
    if (auto lent = m_inner->read_view(view)) {
      if (!*lent) return fail(std::move(*lent).error());
      m_data = const_cast<std::uint8_t*>(view);
      m_size = **lent;
      if (m_size == 0) m_eof = true;
      return {};
    }
    if (m_buf.empty()) m_buf.resize(input_buffer_size);
    auto n = m_inner->read(m_buf.data(), m_buf.size());
    if (!n) return fail(std::move(n).error());
    m_data = m_buf.data();
    m_size = *n;
    if (*n == 0) m_eof = true;
    return {};
  }

  ByteSource& inner() { return *m_inner; }
  std::uint8_t* m_data = nullptr;
  std::size_t m_size = 0;
  bool m_eof = false;

private:
  std::unique_ptr<ByteSource> m_inner;
  std::vector<std::uint8_t> m_buf;
};

class GzipSource : public ByteSource {
public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner)
      : m_in(std::move(inner)), m_name(m_in.inner().name()) {
    reset_member();
  }

  const std::string& name() const override { return m_name; }

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    if (m_done) return std::size_t{0};
    for (;;) {
      if (m_state.avail_in == 0 && !m_in.m_eof) {
        CDRIFT_TRY(m_in.refill());
        m_state.next_in = m_in.m_data;
        m_state.avail_in = static_cast<std::uint32_t>(m_in.m_size);
      }
      if (m_state.block_state == ISAL_BLOCK_FINISH) {
        // A member ended: another gzip member may follow (concatenated gzip), else the end.
        if (m_state.avail_in == 0 && m_in.m_eof) {
          m_done = true;
          return std::size_t{0};
        }
        if (m_state.avail_in == 0) continue;
        if (m_state.next_in[0] != 0x1f)
          return fail(ErrorKind::input,
                      m_name + ": unexpected data after the end of the gzip stream");
        auto* next = m_state.next_in;
        auto avail = m_state.avail_in;
        reset_member();
        m_state.next_in = next;
        m_state.avail_in = avail;
      }
      m_state.next_out = buf;
      m_state.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(cap, 1u << 30));
      int ret = isal_inflate(&m_state);
      if (ret < 0)
        return fail(ErrorKind::input, m_name + ": corrupt gzip data (" + describe(ret) + ")");
      std::size_t produced = static_cast<std::size_t>(m_state.next_out - buf);
      if (produced > 0) return produced;
      if (m_state.block_state != ISAL_BLOCK_FINISH && m_state.avail_in == 0 && m_in.m_eof)
        return fail(ErrorKind::input, m_name + ": truncated gzip stream");
    }
  }

private:
  void reset_member() {
    isal_inflate_init(&m_state);
    m_state.crc_flag = ISAL_GZIP;
  }

  static std::string describe(int ret) {
    switch (ret) {
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC or length check failed";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    default:
      return "inflate error " + std::to_string(ret);
    }
  }

  InputBuffer m_in;
  std::string m_name;
  inflate_state m_state;
  bool m_done = false;
};

class ZstdSource : public ByteSource {
public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : m_in(std::move(inner)), m_name(m_in.inner().name()), m_ctx(ZSTD_createDCtx()) {
    // Bound the window so a hostile frame cannot demand gigabytes of history.
    ZSTD_DCtx_setParameter(m_ctx.get(), ZSTD_d_windowLogMax, 27);
  }

  const std::string& name() const override { return m_name; }

  Result<std::size_t> read(std::uint8_t* buf, std::size_t cap) override {
    if (!m_ctx) return fail(ErrorKind::io, m_name + ": cannot allocate a zstd context");
    for (;;) {
      if (m_input.pos == m_input.size && !m_in.m_eof) {
        CDRIFT_TRY(m_in.refill());
        m_input = ZSTD_inBuffer{m_in.m_data, m_in.m_size, 0};
      }
      if (m_input.pos == m_input.size && m_in.m_eof) {
        if (m_frame_open) return fail(ErrorKind::input, m_name + ": truncated zstd stream");
        return std::size_t{0};
      }
      ZSTD_outBuffer out{buf, cap, 0};
      std::size_t ret = ZSTD_decompressStream(m_ctx.get(), &out, &m_input);
      if (ZSTD_isError(ret))
        return fail(ErrorKind::input,
                    m_name + ": corrupt zstd data (" + ZSTD_getErrorName(ret) + ")");
      m_frame_open = ret != 0;
      if (out.pos > 0) return out.pos;
    }
  }

private:
  struct FreeCtx {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  InputBuffer m_in;
  std::string m_name;
  std::unique_ptr<ZSTD_DCtx, FreeCtx> m_ctx;
  ZSTD_inBuffer m_input{nullptr, 0, 0};
  bool m_frame_open = false;
};

} // namespace

Compression detect_compression(std::string_view h) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(h[i]); };
  if (h.size() >= 2 && at(0) == 0x1f && at(1) == 0x8b) return Compression::gzip;
  if (h.size() >= 4 && at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd)
    return Compression::zstd;
  // A zstd skippable frame (magic 0x184D2A50-0x184D2A5F, little-endian), which
  // pzstd writes before its frames.
  if (h.size() >= 4 && (at(0) & 0xf0) == 0x50 && at(1) == 0x2a && at(2) == 0x4d && at(3) == 0x18)
    return Compression::zstd;
  if (h.size() >= 6 && h.substr(0, 6) == std::string_view("\xfd"
                                                          "7zXZ\0",
                                                          6))
    return Compression::unsupported;
  if (h.size() >= 3 && h.substr(0, 3) == "BZh") return Compression::unsupported;
  return Compression::none;
}

std::string_view to_string(Compression c) {
  switch (c) {
  case Compression::none:
    return "none";
  case Compression::gzip:
    return "gzip";
  case Compression::zstd:
    return "zstd";
  case Compression::unsupported:
    return "unsupported";
  }
  return "unsupported";
}

Result<SniffedStream> sniff_compression(std::unique_ptr<ByteSource> inner) {
  std::string head(8, '\0');
  auto n = read_full(*inner, reinterpret_cast<std::uint8_t*>(head.data()), head.size());
  if (!n) return fail(std::move(n).error());
  head.resize(*n);
  SniffedStream out;
  out.compression = detect_compression(head);
  out.stream = std::make_unique<PrefixSource>(head, std::move(inner));
  return out;
}

Result<std::unique_ptr<ByteSource>> decompressor_for(Compression c,
                                                     std::unique_ptr<ByteSource> stream) {
  switch (c) {
  case Compression::gzip:
    return std::unique_ptr<ByteSource>(new GzipSource(std::move(stream)));
  case Compression::zstd:
    return std::unique_ptr<ByteSource>(new ZstdSource(std::move(stream)));
  case Compression::unsupported:
    return fail(
        ErrorKind::input,
        stream->name() +
            ": compressed with xz or bzip2, which image layers do not use; decompress it first");
  case Compression::none:
    break;
  }
  return stream;
}

Result<std::unique_ptr<ByteSource>> open_decompressed(std::unique_ptr<ByteSource> inner,
                                                      Compression* detected) {
  auto sniffed = sniff_compression(std::move(inner));
  if (!sniffed) return fail(std::move(sniffed).error());
  if (detected) *detected = sniffed->compression;
  return decompressor_for(sniffed->compression, std::move(sniffed->stream));
}

} // namespace cdrift
