// Image manifests cached by config digest under $XDG_CACHE_HOME/cdrift (default
// ~/.cache/cdrift), so fifty containers of one image read that image once. Entries
// are written atomically and checked on load: a corrupt or tampered entry is
// detected, discarded and rebuilt, never trusted.
#pragma once

#include "cdrift/manifest/manifest.hpp"
#include "cdrift/util/error.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cdrift {

class ManifestCache {
public:
  // `dir` empty: $XDG_CACHE_HOME/cdrift or ~/.cache/cdrift.
  explicit ManifestCache(std::string dir = {});

  // The cached manifest of the image whose config has `config_digest`, if a valid
  // entry exists. Invalid entries are removed (and counted in invalid()).
  std::optional<Manifest> load(const std::string& config_digest);
  // Stores a verified image manifest (only ones whose layers were all verified).
  Status store(const std::string& config_digest, const Manifest& manifest);
  // Removes every entry; returns how many were removed.
  Result<std::size_t> prune();

  const std::string& dir() const { return m_dir; }
  std::uint64_t hits() const { return m_hits; }
  std::uint64_t misses() const { return m_misses; }
  std::uint64_t invalid() const { return m_invalid; }

private:
  std::string m_dir;
  std::uint64_t m_hits = 0;
  std::uint64_t m_misses = 0;
  std::uint64_t m_invalid = 0;
};

} // namespace cdrift
