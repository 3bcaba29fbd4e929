#include "layer/image_manifest.hpp"

#include "cdrift/layer/tree_builder.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/source/threaded_source.hpp"
#include "cdrift/util/escape.hpp"
#include "layer/scan.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace cdrift {

namespace {

// Streams one layer blob through its digests into `consume`, then checks the blob
// digest, size and diff_id: nothing from the layer counts until this returns.
Result<LayerInfo> read_layer(BlobStore& store, const LayerPlan& lp, const std::string& what,
                             const std::function<Status(MemberStream&)>& consume) {
  auto raw = store.open(lp.member);
  if (!raw) return fail(std::move(raw).error());
  auto sniffed = sniff_compression(std::move(*raw));
  if (!sniffed) return fail(with_context(std::move(sniffed).error(), what));
  Compression compression = sniffed->compression;
  std::unique_ptr<ByteSource> tar = std::move(sniffed->stream);
  // An uncompressed blob is its own tar stream, whose digest serves as both.
  DigestSource* blob_digest = nullptr;
  if (compression != Compression::none) {
    auto blob = std::make_unique<DigestSource>(std::move(tar));
    blob_digest = blob.get();
    // Three stages on three threads, each handing large reused chunks to the next:
    // read and digest the blob, decompress, parse and hash. Decompressing the
    // largest layer is the longest chain of the whole audit; nothing else runs on
    // its thread.
    auto read_ahead = std::make_unique<ThreadedSource>(std::move(blob), 1u << 20, 3);
    auto inflated = decompressor_for(compression, std::move(read_ahead));
    if (!inflated) return fail(with_context(std::move(inflated).error(), what));
    tar = std::make_unique<ThreadedSource>(std::move(*inflated));
  }
  Sha256Digest diff_digest;
  std::uint64_t tar_bytes = 0;
  {
    TarReader reader(*tar, what, StreamDigest::sha256);
    CDRIFT_TRY(reader.open());
    CDRIFT_TRY(consume(reader));
    // Digests cover every byte, including padding after the tar's end marker.
    CDRIFT_TRY(reader.finish_stream());
    diff_digest = reader.stream_digest();
    tar_bytes = reader.stream_bytes();
  }
  LayerInfo info;
  info.media_type = lp.media_type;
  std::string diff_actual = "sha256:" + to_hex(diff_digest);
  std::string blob_actual = diff_actual;
  info.size = tar_bytes;
  if (blob_digest) {
    CDRIFT_TRY(blob_digest->drain());
    info.size = blob_digest->bytes();
    blob_actual = "sha256:" + to_hex(blob_digest->finish());
  }
  if (lp.size && *lp.size != info.size)
    return fail(ErrorKind::integrity, what + ": blob size mismatch: descriptor says " +
                                          std::to_string(*lp.size) + " bytes, read " +
                                          std::to_string(info.size));
  if (!lp.digest.empty() && lp.digest != blob_actual)
    return fail(ErrorKind::integrity,
                what + ": blob digest mismatch: expected " + lp.digest + ", got " + blob_actual);
  if (lp.diff_id != diff_actual)
    return fail(ErrorKind::integrity, what + ": diff_id mismatch: config says " +
                                          escape_for_terminal(lp.diff_id) +
                                          ", uncompressed layer is " + diff_actual);
  info.digest = blob_actual;
  info.diff_id = diff_actual;
  info.verified = true;
  return info;
}

// Scans layers on a small pool of threads, in order of index, while the caller
// applies them in order as each completes. Joins its threads on every path.
class LayerScanner {
public:
  LayerScanner(BlobStore& store, const std::vector<LayerPlan>& layers,
               const std::vector<std::string>& names, Progress* progress)
      : m_store(store), m_layers(layers), m_names(names), m_progress(progress),
        m_slots(layers.size()) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::size_t workers = std::min<std::size_t>(layers.size(), std::min(cores, 2u));
    for (std::size_t w = 0; w < workers; ++w)
      m_threads.emplace_back([this] { work(); });
  }
  ~LayerScanner() {
    m_stop = true;
    for (auto& t : m_threads)
      t.join();
  }

  // Blocks until layer i is scanned and verified.
  Result<std::pair<std::unique_ptr<ScannedLayer>, LayerInfo>> take(std::size_t i) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [&] { return m_slots[i].done; });
    Slot& slot = m_slots[i];
    if (!*slot.outcome) return fail(std::move(*slot.outcome).error());
    return std::make_pair(std::move(slot.scanned), std::move(**slot.outcome));
  }

private:
  struct Slot {
    bool done = false;
    std::unique_ptr<ScannedLayer> scanned;
    std::optional<Result<LayerInfo>> outcome;
  };

  void work() {
    for (;;) {
      std::size_t i = m_next.fetch_add(1);
      if (i >= m_layers.size()) return;
      Slot result;
      if (m_stop) {
        result.outcome.emplace(fail(ErrorKind::io, m_names[i] + ": cancelled"));
      } else {
        result.scanned = std::make_unique<ScannedLayer>(m_names[i]);
        ScannedLayer* scanned = result.scanned.get();
        result.outcome.emplace(read_layer(m_store, m_layers[i], m_names[i], [&](MemberStream& in) {
          return scanned->scan(in, m_progress);
        }));
      }
      result.done = true;
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_slots[i] = std::move(result);
      }
      m_cv.notify_all();
    }
  }

  BlobStore& m_store;
  const std::vector<LayerPlan>& m_layers;
  const std::vector<std::string>& m_names;
  Progress* m_progress;
  std::vector<Slot> m_slots;
  std::atomic<std::size_t> m_next{0};
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::thread> m_threads;
};

} // namespace

Result<Manifest> build_image_manifest(ImagePlan& plan, const std::string& source,
                                      Progress* progress) {
  TreeBuilder builder(progress);
  // Layer i's history step: the i-th history entry that made a layer.
  std::vector<std::string> steps;
  for (const auto& h : plan.info.history)
    if (!h.empty_layer) steps.push_back(h.created_by);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& lp = plan.layers[i];
    names.push_back(escape_for_terminal(source) + ": layer " + std::to_string(i) + " (" +
                    (lp.digest.empty() ? escape_for_terminal(lp.member) : lp.digest) + ")");
  }
  auto record = [&](std::size_t i, LayerInfo info) {
    if (i < steps.size()) info.created_by = steps[i];
    plan.info.layers.push_back(std::move(info));
  };
  if (plan.layers.size() == 1) {
    // One layer: apply while reading, nothing to overlap and no copy to hold.
    auto info = read_layer(*plan.store, plan.layers[0], names[0], [&](MemberStream& in) {
      return builder.apply(in, 0, Whiteouts::apply);
    });
    if (!info) return fail(std::move(info).error());
    record(0, std::move(*info));
  } else if (!plan.layers.empty()) {
    LayerScanner scanner(*plan.store, plan.layers, names, progress);
    for (std::size_t i = 0; i < plan.layers.size(); ++i) {
      auto layer = scanner.take(i);
      if (!layer) return fail(std::move(layer).error());
      CDRIFT_TRY(builder.apply(*layer->first, static_cast<int>(i), Whiteouts::apply));
      record(i, std::move(layer->second));
    }
  }
  Manifest m = builder.finish(source, plan.kind);
  m.image = plan.info;
  for (auto& w : plan.warnings)
    m.warnings.push_back(std::move(w));
  return m;
}

} // namespace cdrift
