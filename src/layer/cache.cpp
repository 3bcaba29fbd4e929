#include "cdrift/layer/cache.hpp"

#include "cdrift/layer/load.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/util/atomic_file.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/hex.hpp"
#include "cdrift/util/json.hpp"
#include "cdrift/util/sha256.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cdrift {

// An entry is the saved-manifest document followed by one trailer line that holds
// the SHA-256 and length of everything before it:
//   {"cdrift_cache":"1","bytes":N,"sha256":"<hex>"}
// One file, renamed into place, so an entry and its checksum never disagree.

namespace {

constexpr std::size_t max_entry_bytes = std::size_t{2} << 30;
constexpr const char* cache_format = "1";

std::string default_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  // The XDG spec: a relative value is invalid and must be ignored.
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/cdrift";
  const char* home = std::getenv("HOME");
  std::string h = home && home[0] == '/' ? home : "";
  if (h.empty())
    if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir && pw->pw_dir[0] == '/')
      h = pw->pw_dir;
  if (h.empty()) h = "/tmp";
  return h + "/.cache/cdrift";
}

// "sha256:<64 lowercase hex>" only: the key becomes a file name.
bool valid_key(const std::string& key) {
  return key.starts_with("sha256:") && is_sha256_hex(std::string_view(key).substr(7));
}

// mkdir -p, new directories private to the user.
Status make_dirs(const std::string& path) {
  std::string cur;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
      return fail(ErrorKind::io, "manifest cache: cannot create " + escape_for_terminal(cur) +
                                     ": " + std::strerror(errno));
  }
  return {};
}

// A cache directory someone else can write to could hand us a forged manifest
// with a matching checksum; such a directory is not used at all.
bool dir_is_private(const std::string& dir, std::string* why) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (why) *why = std::strerror(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (why) *why = "not a directory";
    return false;
  }
  if (st.st_uid != ::geteuid()) {
    if (why) *why = "owned by uid " + std::to_string(st.st_uid) + ", not by us";
    return false;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    if (why) *why = "writable by group or others";
    return false;
  }
  return true;
}

} // namespace

ManifestCache::ManifestCache(std::string dir)
    : m_dir(dir.empty() ? default_dir() : std::move(dir)) {}

static std::string manifests_dir(const std::string& dir) {
  return dir + "/manifests";
}

static std::string entry_path(const std::string& dir, const std::string& key) {
  return manifests_dir(dir) + "/sha256-" + key.substr(7) + ".jsonl";
}

std::optional<Manifest> ManifestCache::load(const std::string& config_digest) {
  if (!valid_key(config_digest) || !dir_is_private(manifests_dir(m_dir), nullptr)) {
    ++m_misses;
    return std::nullopt;
  }
  const std::string path = entry_path(m_dir, config_digest);
  if (::access(path.c_str(), F_OK) != 0) {
    ++m_misses;
    return std::nullopt;
  }
  // Anything wrong from here on means the entry cannot be trusted: drop it so the
  // caller rebuilds it from the image.
  auto invalid = [&]() -> std::optional<Manifest> {
    ::unlink(path.c_str());
    ++m_invalid;
    ++m_misses;
    return std::nullopt;
  };
  // Our own directory, but an entry that is a FIFO, a device or a symlink is not
  // ours: a miss, never a hang and never a read of something else.
  auto data = read_small_file(path, max_entry_bytes, FollowSymlinks::no);
  if (!data || data->empty() || data->back() != '\n') return invalid();
  std::size_t trailer_start = data->rfind('\n', data->size() - 2);
  trailer_start = trailer_start == std::string::npos ? 0 : trailer_start + 1;
  if (trailer_start == 0) return invalid();
  std::string_view body(data->data(), trailer_start);
  std::string_view trailer(data->data() + trailer_start, data->size() - trailer_start - 1);
  auto parsed = parse_json_document(trailer, path);
  if (!parsed) return invalid();
  const nlohmann::json& t = *parsed;
  if (!t.is_object() || json_string(t, "cdrift_cache") != cache_format || !t.contains("bytes") ||
      !t["bytes"].is_number_unsigned() || t["bytes"].get<std::uint64_t>() != body.size() ||
      json_string(t, "sha256") != to_hex(sha256_of(body)))
    return invalid();

  MemorySource src(std::string(body), path);
  auto m = read_saved_manifest(src);
  if (!m || !m->image || m->image->config_digest != config_digest) return invalid();
  for (const auto& layer : m->image->layers)
    if (!layer.verified) return invalid();
  ++m_hits;
  return std::move(*m);
}

Status ManifestCache::store(const std::string& config_digest, const Manifest& manifest) {
  if (!valid_key(config_digest))
    return fail(ErrorKind::input, "manifest cache: \"" + escape_for_terminal(config_digest) +
                                      "\" is not a sha256 config digest");
  if (!manifest.image || manifest.image->config_digest != config_digest)
    return fail(ErrorKind::input, "manifest cache: manifest is not the image " + config_digest);
  for (const auto& layer : manifest.image->layers)
    if (!layer.verified)
      return fail(ErrorKind::integrity, "manifest cache: not caching " + config_digest +
                                            ": layer " + layer.digest + " was not verified");
  const std::string dir = manifests_dir(m_dir);
  CDRIFT_TRY(make_dirs(dir));
  if (std::string why; !dir_is_private(dir, &why))
    return fail(ErrorKind::io,
                "manifest cache: not using " + escape_for_terminal(dir) + ": " + why);

  AtomicFile file(entry_path(m_dir, config_digest));
  CDRIFT_TRY(file.open());
  Sha256 hash;
  std::uint64_t bytes = 0;
  Status written;
  write_manifest_jsonl(manifest, [&](std::string_view chunk) {
    if (!written) return;
    hash.update(chunk);
    bytes += chunk.size();
    written = file.write(chunk);
  });
  CDRIFT_TRY(written);
  nlohmann::json trailer = {
      {"cdrift_cache", cache_format}, {"bytes", bytes}, {"sha256", to_hex(hash.finish())}};
  CDRIFT_TRY(file.write(trailer.dump() + "\n"));
  return file.commit();
}

Result<std::size_t> ManifestCache::prune() {
  const std::string dir = manifests_dir(m_dir);
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return std::size_t{0};
    return fail(ErrorKind::io, "manifest cache: cannot open " + escape_for_terminal(dir) + ": " +
                                   std::strerror(errno));
  }
  std::size_t removed = 0;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    // Entries and the temporary files of interrupted writes; nothing else of ours.
    if (n.starts_with("sha256-") &&
        (n.ends_with(".jsonl") || n.find(".jsonl.tmp.") != std::string_view::npos))
      names.emplace_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) {
    if (::unlink((dir + "/" + n).c_str()) != 0) {
      if (errno == ENOENT) continue;
      return fail(ErrorKind::io, "manifest cache: cannot remove " +
                                     escape_for_terminal(dir + "/" + n) + ": " +
                                     std::strerror(errno));
    }
    if (n.ends_with(".jsonl")) ++removed;
  }
  return removed;
}

} // namespace cdrift
