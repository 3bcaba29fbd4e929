// Which package owns a path, per the package database a manifest captured
// (dpkg: status, info/*.list, info/*.md5sums, status.d/; apk: lib/apk/db/installed).
#pragma once

#include "cdrift/manifest/manifest.hpp"

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cdrift {

class PackageDb {
public:
  // Parses whatever dpkg/apk data the manifest captured; malformed lines are skipped
  // (the data is attacker-controlled and only ever informs, never decides alone).
  // With `paths`, owner records are kept for those paths only (and their usrmerge
  // aliases): an audit asks about its changes, not about the 20,000 paths a Debian
  // image lists, and building that table every time costs more than the diff.
  static PackageDb from_captures(const Captures& captures,
                                 const std::vector<std::string>* paths = nullptr);

  // The package that lists `path`, or nullptr. usrmerge aliases are tried too: a
  // package listing /bin/x owns /usr/bin/x in an image whose /bin -> usr/bin, and the
  // other way round.
  const std::string* owner(std::string_view path) const;
  // "dpkg", "apk" or "" when no database was captured.
  std::string_view manager() const { return m_manager; }
  // True when the database recorded a checksum for `path` (dpkg md5sums or a
  // conffile hash, apk Z: line). cdrift's manifests hold SHA-256 only, so callers
  // compare against the image's content instead; see classify/context.hpp.
  bool has_checksum(std::string_view path) const;
  // The installed version of `package` ("1:1.2.13.dfsg-1"), or nullptr when unknown.
  const std::string* version(std::string_view package) const;
  // Every installed package with a recorded version (package -> version).
  const std::unordered_map<std::string, std::string>& versions() const { return m_versions; }
  bool empty() const { return m_owner.empty(); }
  std::size_t size() const { return m_owner.size(); }

private:
  struct Owned {
    std::uint32_t package = 0; // index into m_packages
    bool checksum = false;
  };
  std::uint32_t intern(std::string_view package);
  void add(std::string_view path, std::uint32_t package, bool checksum);
  const Owned* lookup(std::string_view path) const;

  void parse_dpkg_status(std::string_view text);
  void parse_dpkg_list(std::string_view package, std::string_view text);
  void parse_dpkg_md5sums(std::string_view package, std::string_view text);
  void parse_apk_installed(std::string_view text);

  std::string m_manager;
  std::vector<std::string> m_packages;
  std::unordered_map<std::string, std::uint32_t> m_package_index;
  std::unordered_map<std::string, std::string> m_versions; // package -> version
  std::unordered_map<std::string, Owned> m_owner;          // clean absolute path -> owner
  // While from_captures() runs with `paths`: the ones to keep.
  const std::unordered_set<std::string_view>* m_wanted = nullptr;
  std::string m_scratch;
};

} // namespace cdrift
