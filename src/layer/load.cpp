#include "cdrift/layer/load.hpp"

#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/source/decompress.hpp"
#include "cdrift/source/detect.hpp"
#include "cdrift/source/dir_reader.hpp"
#include "cdrift/source/tar_reader.hpp"
#include "cdrift/util/escape.hpp"
#include "layer/image_manifest.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

namespace {

struct Prefix {
  std::string_view text;
  SourceKind kind;
};

constexpr Prefix prefixes[] = {
    {"oci:", SourceKind::oci_layout},
    {"oci-archive:", SourceKind::oci_archive},
    {"docker-archive:", SourceKind::docker_archive},
    {"rootfs:", SourceKind::rootfs_tar},
    {"tar:", SourceKind::rootfs_tar},
    {"dir:", SourceKind::directory},
    {"manifest:", SourceKind::saved_manifest},
};

// A copy of a non-seekable stream in an unlinked temporary file, so archive
// members can be read in any order; gone when the descriptor closes.
Result<Fd> spool(ByteSource& src) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  Fd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) {
    std::string tmpl = dir + "/cdrift-spool-XXXXXX";
    fd.reset(::mkostemp(tmpl.data(), O_CLOEXEC));
    if (fd) ::unlink(tmpl.c_str());
  }
  if (!fd)
    return fail(ErrorKind::io, src.name() + ": cannot create a temporary file in " + dir + ": " +
                                   std::strerror(errno));
  std::vector<std::uint8_t> buf(1024 * 1024);
  for (;;) {
    auto n = src.read(buf.data(), buf.size());
    if (!n) return fail(std::move(n).error());
    if (*n == 0) break;
    std::size_t off = 0;
    while (off < *n) {
      ssize_t w = ::write(fd.get(), buf.data() + off, *n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(ErrorKind::io,
                    src.name() + ": cannot spool to " + dir + ": " + std::strerror(errno));
      }
      off += static_cast<std::size_t>(w);
    }
  }
  ::lseek(fd.get(), 0, SEEK_SET);
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

Result<Manifest> load_image_store(std::unique_ptr<BlobStore> store, SourceKind kind,
                                  const std::string& source, const LoadOptions& options,
                                  ArchiveIndex index = ArchiveIndex::prefer_oci) {
  Result<ImagePlan> plan = kind == SourceKind::docker_archive
                               ? read_docker_archive(std::move(store), options.image, index)
                               : read_oci_image(std::move(store), kind, options.image);
  if (!plan) return fail(std::move(plan).error());
  return build_image_manifest(*plan, source, options.progress);
}

// Decides what a stream holds once it is decompressed: an image archive (spooled
// when it cannot seek), a saved manifest, or a plain tree (rootfs or export).
// `named` is the form the user wrote as a prefix: it is read as that form, never
// refined by content.
Result<Manifest> load_stream(std::unique_ptr<ByteSource> raw, int seekable_fd,
                             std::optional<SourceKind> form, const std::string& source, Side side,
                             const LoadOptions& options,
                             std::optional<SourceKind> named = std::nullopt) {
  Compression compression = Compression::none;
  auto src = open_decompressed(std::move(raw), &compression);
  if (!src) return fail(std::move(src).error());
  auto head = peek(**src, detect_peek_size);
  if (!head) return fail(std::move(head).error());
  if (head->empty()) return fail(ErrorKind::input, source + ": empty input (0 bytes)");

  if (!form) {
    bool tree_only = side == Side::container && options.detection == Detection::container_tree;
    if (looks_like_saved_manifest(*head))
      form = SourceKind::saved_manifest;
    else if (!tree_only && looks_like_image_archive(*head))
      form = SourceKind::oci_archive; // refined below
    else
      form = SourceKind::rootfs_tar;
  }
  auto stream = std::make_unique<PrefixSource>(std::move(*head), std::move(*src));

  if (form == SourceKind::saved_manifest) return read_saved_manifest(*stream);
  if (form == SourceKind::rootfs_tar)
    return load_tar_stream(*stream, source, side, options.progress);
  // An image archive: random access needed.
  Fd fd;
  if (compression == Compression::none && seekable_fd >= 0) {
    fd.reset(::dup(seekable_fd));
    if (!fd) return fail(ErrorKind::io, source + ": dup failed: " + std::strerror(errno));
    ::lseek(fd.get(), 0, SEEK_SET);
  } else {
    auto spooled = spool(*stream);
    if (!spooled) return fail(std::move(spooled).error());
    fd = std::move(*spooled);
  }
  stream.reset();
  auto store = open_tar_store(std::move(fd), escape_for_terminal(source));
  if (!store) return fail(std::move(store).error());
  if (!named && form == SourceKind::oci_archive && (*store)->exists("manifest.json"))
    form = SourceKind::docker_archive; // Docker 25+: both; reported as docker-archive
  return load_image_store(std::move(*store), *form, source, options,
                          named == SourceKind::docker_archive ? ArchiveIndex::manifest_json
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
  if (spec.form == SourceKind::oci_layout) split_layout_ref(path, options.image.ref);
  if (path == "-") {
    auto in = std::make_unique<FdSource>(0, std::string("stdin"));
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
    std::optional<SourceKind> form = spec.form;
    if (!form && side == Side::image) {
      // The image side of an audit is an image unless the user says otherwise:
      // a directory taken for a root filesystem would be audited against silently.
      if (::access((path + "/oci-layout").c_str(), F_OK) != 0 &&
          ::access((path + "/index.json").c_str(), F_OK) != 0)
        return fail(ErrorKind::input,
                    escape_for_terminal(path) +
                        ": not an OCI image layout (use dir: or rootfs: to audit against a "
                        "root filesystem)");
      form = SourceKind::oci_layout;
    }
    if (!form) {
      bool layout = !tree_only && ::access((path + "/oci-layout").c_str(), F_OK) == 0;
      form = layout ? SourceKind::oci_layout : SourceKind::directory;
    }
    if (form == SourceKind::oci_layout) {
      auto store = open_dir_store(path);
      if (!store) return fail(std::move(store).error());
      return load_image_store(std::move(*store), SourceKind::oci_layout, path, options);
    }
    if (form != SourceKind::directory)
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
  if (spec.form == SourceKind::oci_layout || spec.form == SourceKind::directory)
    return fail(ErrorKind::usage, escape_for_terminal(path) + ": is a file, not a directory");
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(ErrorKind::input, escape_for_terminal(path) + ": " + std::strerror(errno));
  // The source owns the descriptor; an image archive reads it again through a dup.
  int seekable_fd = S_ISREG(st.st_mode) ? fd.get() : -1;
  auto src = std::make_unique<FdSource>(std::move(fd), escape_for_terminal(path));
  return load_stream(std::move(src), seekable_fd, spec.form, path, side, options, spec.form);
}

} // namespace

SourceSpec parse_source_spec(std::string_view text) {
  SourceSpec spec;
  spec.text = std::string(text);
  for (const auto& p : prefixes)
    if (text.starts_with(p.text)) {
      spec.form = p.kind;
      spec.location = std::string(text.substr(p.text.size()));
      return spec;
    }
  for (std::string_view rt : {"docker:", "podman:", "nerdctl:", "containerd:"})
    if (text.starts_with(rt)) {
      spec.form = SourceKind::runtime;
      spec.runtime = std::string(rt.substr(0, rt.size() - 1));
      spec.location = std::string(text.substr(rt.size()));
      return spec;
    }
  spec.location = std::string(text);
  return spec;
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

Result<Manifest> load_manifest(const SourceSpec& spec, Side side, const LoadOptions& options) {
  if (spec.location.empty())
    return fail(ErrorKind::usage,
                "source \"" + escape_for_terminal(spec.text) + "\" names nothing");
  if (spec.form == SourceKind::runtime) {
    if (!options.runtime)
      return fail(ErrorKind::usage,
                  escape_for_terminal(spec.text) + ": container runtimes are not available here");
    auto rs = options.runtime(spec, side);
    if (!rs) return fail(std::move(rs).error());
    if (rs->store)
      return load_image_store(std::move(rs->store), SourceKind::oci_layout, rs->description,
                              options);
    if (!rs->directory.empty())
      return load_path(SourceSpec{SourceKind::directory, rs->directory, "", rs->description}, side,
                       options);
    return load_stream(std::move(rs->stream), -1, rs->form, rs->description, side, options);
  }
  return load_path(spec, side, options);
}

} // namespace cdrift
