#include "cdrift/layer/load.hpp"

#include "cdrift/layer/scan.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/dir_reader.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/source/threaded_source.hpp"
#include "cdrift/util/escape.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace cdrift {

namespace {

constexpr std::size_t peek_size = 1024 * 1024;
constexpr int peek_headers = 16;

struct Prefix {
  std::string_view text;
  SourceForm form;
};

constexpr Prefix prefixes[] = {
    {"oci:", SourceForm::oci_layout},
    {"oci-archive:", SourceForm::oci_archive},
    {"docker-archive:", SourceForm::docker_archive},
    {"rootfs:", SourceForm::rootfs_tar},
    {"tar:", SourceForm::rootfs_tar},
    {"dir:", SourceForm::directory},
    {"manifest:", SourceForm::saved_manifest},
};

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_image_archive_member(std::string_view name) {
  while (name.starts_with("./"))
    name.remove_prefix(2);
  while (name.ends_with("/"))
    name.remove_suffix(1);
  if (name == "oci-layout" || name == "index.json" || name == "manifest.json" ||
      name == "repositories" || name == "blobs" || name.starts_with("blobs/"))
    return true;
  // docker save: "<id>.json" configs, "<id>/layer.tar|VERSION|json"; podman: "<diffid>.tar".
  // A bare hex-named directory is not a marker: any container can make one.
  std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    std::string_view stem = name;
    if (stem.ends_with(".json"))
      stem.remove_suffix(5);
    else if (stem.ends_with(".tar"))
      stem.remove_suffix(4);
    else
      return false;
    return is_hex64(stem);
  }
  std::string_view rest = name.substr(slash + 1);
  return is_hex64(name.substr(0, slash)) &&
         (rest == "layer.tar" || rest == "VERSION" || rest == "json");
}

std::uint64_t parse_octal(std::string_view field) {
  std::uint64_t v = 0;
  for (char c : field) {
    if (c == ' ' || c == '\0') {
      if (v) break;
      continue;
    }
    if (c < '0' || c > '7') break;
    v = v * 8 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Result<std::string> peek(ByteSource& src, std::size_t size) {
  std::string head(size, '\0');
  auto n = read_full(src, reinterpret_cast<std::uint8_t*>(head.data()), head.size());
  if (!n) return fail(std::move(n).error());
  head.resize(*n);
  return head;
}

// A copy of a non-seekable stream in an unlinked temporary file, so archive
// members can be read in any order; gone when the descriptor closes.
Result<int> spool(ByteSource& src) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string tmpl = dir + "/cdrift-spool-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(tmpl.c_str());
  }
  if (fd < 0)
    return fail(ErrorKind::io, src.name() + ": cannot create a temporary file in " + dir + ": " +
                                   std::strerror(errno));
  std::vector<std::uint8_t> buf(1024 * 1024);
  for (;;) {
    auto n = src.read(buf.data(), buf.size());
    if (!n) {
      ::close(fd);
      return fail(std::move(n).error());
    }
    if (*n == 0) break;
    std::size_t off = 0;
    while (off < *n) {
      ssize_t w = ::write(fd, buf.data() + off, *n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        std::string why = std::strerror(errno);
        ::close(fd);
        return fail(ErrorKind::io, src.name() + ": cannot spool to " + dir + ": " + why);
      }
      off += static_cast<std::size_t>(w);
    }
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

Result<Manifest> load_tar_stream(ByteSource& src, const std::string& source, Side side,
                                 Progress* progress) {
  // A container's export cut short hides every change after the cut: it must be
  // complete. A root filesystem on the image side that lacks the marker (test
  // archives often do) is read with a warning the report carries.
  bool container = side == Side::container;
  TarReader reader(src, escape_for_terminal(source), StreamDigest::none,
                   container ? EndMarker::exact : EndMarker::warn);
  CDRIFT_TRY(reader.open());
  TreeBuilder builder(progress);
  CDRIFT_TRY(builder.apply(reader, -1, container ? Whiteouts::literal : Whiteouts::apply));
  // To the end of the source: a decompressor checks its trailer there, and
  // nothing may follow the end marker.
  CDRIFT_TRY(reader.finish_stream());
  if (container && builder.size() <= 1)
    return fail(ErrorKind::input, escape_for_terminal(source) +
                                      ": holds no entry besides the root (an empty export)");
  Manifest m =
      builder.finish(source, container ? SourceKind::container_export : SourceKind::rootfs_tar);
  for (const auto& w : reader.warnings())
    m.warnings.push_back(w);
  return m;
}

Result<Manifest> load_image_store(std::unique_ptr<BlobStore> store, SourceForm form,
                                  const std::string& source, const LoadOptions& options,
                                  ArchiveIndex index = ArchiveIndex::prefer_oci) {
  Result<ImagePlan> plan =
      form == SourceForm::docker_archive
          ? read_docker_archive(std::move(store), options.image, index)
          : read_oci_image(std::move(store),
                           form == SourceForm::oci_layout ? SourceKind::oci_layout
                                                          : SourceKind::oci_archive,
                           options.image);
  if (!plan) return fail(std::move(plan).error());
  return build_image_manifest(*plan, source, options.progress);
}

// Decides what a stream holds once it is decompressed: an image archive (spooled
// when it cannot seek), a saved manifest, or a plain tree (rootfs or export).
// `named` is the form the user wrote as a prefix: it is read as that form, never
// refined by content.
Result<Manifest> load_stream(std::unique_ptr<ByteSource> raw, int seekable_fd, SourceForm form,
                             const std::string& source, Side side, const LoadOptions& options,
                             SourceForm named = SourceForm::auto_detect) {
  Compression compression = Compression::none;
  auto src = open_decompressed(std::move(raw), &compression);
  if (!src) return fail(std::move(src).error());
  auto head = peek(**src, peek_size);
  if (!head) return fail(std::move(head).error());
  if (head->empty()) return fail(ErrorKind::input, source + ": empty input (0 bytes)");

  if (form == SourceForm::auto_detect) {
    bool tree_only = side == Side::container && options.detection == Detection::container_tree;
    if (looks_like_saved_manifest(*head))
      form = SourceForm::saved_manifest;
    else if (!tree_only && looks_like_image_archive(*head))
      form = SourceForm::oci_archive; // refined below
    else
      form = SourceForm::rootfs_tar;
  }
  auto stream = std::make_unique<PrefixSource>(std::move(*head), std::move(*src));

  if (form == SourceForm::saved_manifest) return read_saved_manifest(*stream);
  if (form == SourceForm::rootfs_tar)
    return load_tar_stream(*stream, source, side, options.progress);
  // An image archive: random access needed.
  int fd = -1;
  if (compression == Compression::none && seekable_fd >= 0) {
    fd = ::dup(seekable_fd);
    if (fd < 0) return fail(ErrorKind::io, source + ": dup failed: " + std::strerror(errno));
    ::lseek(fd, 0, SEEK_SET);
  } else {
    auto spooled = spool(*stream);
    if (!spooled) return fail(std::move(spooled).error());
    fd = *spooled;
  }
  stream.reset();
  auto store = open_tar_store(fd, escape_for_terminal(source));
  if (!store) return fail(std::move(store).error());
  if (named == SourceForm::auto_detect && form == SourceForm::oci_archive &&
      (*store)->exists("manifest.json"))
    form = SourceForm::docker_archive; // Docker 25+: both; reported as docker-archive
  return load_image_store(std::move(*store), form, source, options,
                          named == SourceForm::docker_archive ? ArchiveIndex::manifest_json
                                                              : ArchiveIndex::prefer_oci);
}

// "oci:DIR:REF": DIR is the longest prefix before a ':' that is a directory (a
// reference may hold ':' itself: "alpine:3.19", "sha256:...").
void split_layout_ref(std::string& path, std::string& ref) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return;
  for (std::size_t colon = path.rfind(':'); colon != std::string::npos && colon > 0;
       colon = path.rfind(':', colon - 1)) {
    std::string dir = path.substr(0, colon);
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      ref = path.substr(colon + 1);
      path = std::move(dir);
      return;
    }
    if (colon == 0) break;
  }
}

Result<Manifest> load_path(const SourceSpec& spec, Side side, const LoadOptions& options_in) {
  std::string path = spec.location;
  LoadOptions options = options_in;
  if (spec.form == SourceForm::oci_layout) split_layout_ref(path, options.image.ref);
  if (path == "-") {
    auto in = std::make_unique<FdSource>(0, std::string("stdin"), FdSource::Ownership::borrow);
    int fd = -1;
    struct stat st;
    if (::fstat(0, &st) == 0 && S_ISREG(st.st_mode)) fd = 0;
    return load_stream(std::move(in), fd, spec.form, "stdin", side, options, spec.form);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return fail(ErrorKind::input, escape_for_terminal(path) + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    bool tree_only = side == Side::container && options.detection == Detection::container_tree;
    SourceForm form = spec.form;
    if (form == SourceForm::auto_detect && side == Side::image) {
      // The image side of an audit is an image unless the user says otherwise:
      // a directory taken for a root filesystem would be audited against silently.
      if (::access((path + "/oci-layout").c_str(), F_OK) != 0 &&
          ::access((path + "/index.json").c_str(), F_OK) != 0)
        return fail(ErrorKind::input,
                    escape_for_terminal(path) +
                        ": not an OCI image layout (use dir: or rootfs: to audit against a "
                        "root filesystem)");
      form = SourceForm::oci_layout;
    }
    if (form == SourceForm::auto_detect) {
      bool layout = !tree_only && ::access((path + "/oci-layout").c_str(), F_OK) == 0;
      form = layout ? SourceForm::oci_layout : SourceForm::directory;
    }
    if (form == SourceForm::oci_layout) {
      auto store = open_dir_store(path);
      if (!store) return fail(std::move(store).error());
      return load_image_store(std::move(*store), form, path, options);
    }
    if (form != SourceForm::directory)
      return fail(ErrorKind::usage, escape_for_terminal(path) + ": is a directory, not a " +
                                        std::string(spec.text.substr(0, spec.text.find(':'))) +
                                        " file");
    DirReader reader(path);
    CDRIFT_TRY(reader.open());
    TreeBuilder builder(options.progress);
    CDRIFT_TRY(builder.apply(reader, -1, Whiteouts::literal));
    if (builder.size() <= 1)
      return fail(ErrorKind::input,
                  escape_for_terminal(path) +
                      ": empty directory: neither an OCI image layout nor a root filesystem");
    return builder.finish(path, SourceKind::directory);
  }
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
    return fail(ErrorKind::input, escape_for_terminal(path) + ": not a file or directory");
  if (spec.form == SourceForm::oci_layout || spec.form == SourceForm::directory)
    return fail(ErrorKind::usage, escape_for_terminal(path) + ": is a file, not a directory");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(ErrorKind::input, escape_for_terminal(path) + ": " + std::strerror(errno));
  auto src = std::make_unique<FdSource>(fd, escape_for_terminal(path), FdSource::Ownership::own);
  return load_stream(std::move(src), S_ISREG(st.st_mode) ? fd : -1, spec.form, path, side, options,
                     spec.form);
}

} // namespace

SourceSpec parse_source_spec(std::string_view text) {
  SourceSpec spec;
  spec.text = std::string(text);
  for (const auto& p : prefixes)
    if (text.starts_with(p.text)) {
      spec.form = p.form;
      spec.location = std::string(text.substr(p.text.size()));
      return spec;
    }
  for (std::string_view rt : {"docker:", "podman:", "nerdctl:", "containerd:"})
    if (text.starts_with(rt)) {
      spec.form = SourceForm::runtime;
      spec.runtime = std::string(rt.substr(0, rt.size() - 1));
      spec.location = std::string(text.substr(rt.size()));
      return spec;
    }
  spec.location = std::string(text);
  return spec;
}

bool looks_like_image_archive(std::string_view head) {
  std::size_t off = 0;
  std::string long_name;
  for (int i = 0; i < peek_headers && off + 512 <= head.size(); ++i) {
    std::string_view h = head.substr(off, 512);
    if (h.find_first_not_of('\0') == std::string_view::npos) return false;
    char type = h[156];
    std::uint64_t size = parse_octal(h.substr(124, 12));
    std::string name;
    if (!long_name.empty()) {
      name = std::move(long_name);
      long_name.clear();
    } else {
      std::string_view n = h.substr(0, 100);
      n = n.substr(0, n.find('\0'));
      name = std::string(n);
      if (h.substr(257, 5) == "ustar") {
        std::string_view prefix = h.substr(345, 155);
        prefix = prefix.substr(0, prefix.find('\0'));
        if (!prefix.empty()) name = std::string(prefix) + "/" + name;
      }
    }
    std::uint64_t data = (size + 511) / 512 * 512;
    if (type == 'L' && off + 512 + size <= head.size()) {
      std::string_view ln = head.substr(off + 512, size);
      long_name = std::string(ln.substr(0, ln.find('\0')));
    } else if (type != 'x' && type != 'g' && type != 'K' && type != 'L') {
      if (is_image_archive_member(name)) return true;
    }
    if (data > head.size()) return false;
    off += 512 + data;
  }
  return false;
}

Result<Manifest> read_saved_manifest(ByteSource& src) {
  std::vector<std::uint8_t> buf(256 * 1024);
  std::size_t pos = 0, end = 0;
  bool eof = false;
  constexpr std::size_t max_line = 64u << 20;
  auto next_line = [&](std::string& line) -> Result<bool> {
    line.clear();
    for (;;) {
      for (std::size_t i = pos; i < end; ++i)
        if (buf[i] == '\n') {
          line.append(reinterpret_cast<const char*>(buf.data() + pos), i - pos);
          pos = i + 1;
          return true;
        }
      line.append(reinterpret_cast<const char*>(buf.data() + pos), end - pos);
      pos = end = 0;
      if (line.size() > max_line)
        return fail(ErrorKind::input, src.name() + ": a manifest line is longer than 64 MiB");
      if (eof) return !line.empty();
      auto n = src.read(buf.data(), buf.size());
      if (!n) return fail(std::move(n).error());
      if (*n == 0) eof = true;
      end = *n;
    }
  };
  return read_manifest_jsonl(next_line, src.name());
}

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

Result<Manifest> load_manifest(const SourceSpec& spec, Side side, const LoadOptions& options) {
  if (spec.location.empty())
    return fail(ErrorKind::usage,
                "source \"" + escape_for_terminal(spec.text) + "\" names nothing");
  if (spec.form == SourceForm::runtime) {
    if (!options.runtime)
      return fail(ErrorKind::usage,
                  escape_for_terminal(spec.text) + ": container runtimes are not available here");
    auto rs = options.runtime(spec, side);
    if (!rs) return fail(std::move(rs).error());
    if (rs->store)
      return load_image_store(std::move(rs->store), SourceForm::oci_layout, rs->description,
                              options);
    if (!rs->directory.empty())
      return load_path(SourceSpec{SourceForm::directory, rs->directory, "", rs->description}, side,
                       options);
    return load_stream(std::move(rs->stream), -1, rs->form, rs->description, side, options);
  }
  return load_path(spec, side, options);
}

} // namespace cdrift
