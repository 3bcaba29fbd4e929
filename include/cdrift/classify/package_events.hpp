// What the package manager did in the container, read from the two package
// databases: packages installed, removed or upgraded, with their versions. One
// story told once (on the database's finding) and referred to by every file a
// changed package lists.
#pragma once

#include "cdrift/classify/packages.hpp"
#include "cdrift/diff/change.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

enum class PackageAction : std::uint8_t { installed, removed, upgraded };

std::string_view to_string(PackageAction a); // "installed", "removed", "upgraded"

struct PackageEvent {
  PackageAction action = PackageAction::installed;
  std::string name;
  std::string from; // image's version; empty when installed
  std::string to;   // container's version; empty when removed
};

// What the databases say about one changed path.
struct PackageFacts {
  std::string package;                 // owner: the container's database for present paths,
                                       // the image's for deleted ones
  std::string manager;                 // "dpkg", "apk"
  const PackageEvent* event = nullptr; // set when that package was installed, removed or
                                       // upgraded and (still or formerly) lists the path
  bool database = false;               // the path is the package database itself, and the
                                       // set of installed packages changed
  bool bookkeeping = false;            // a file a package operation writes beside its packages
};

class PackageEvents {
public:
  // Both databases parsed from the same manager; no events when either is missing
  // (a database that was not captured says nothing about what was installed).
  PackageEvents(const PackageDb& image, const PackageDb& container);

  const std::vector<PackageEvent>& events() const { return m_events; }
  const PackageEvent* find(std::string_view package) const;
  // "installed at 3.2.5a-2.1, removed cdrift-demo 1.0-1, upgraded zlib1g 1.2 -> 1.3"
  std::string summary(std::size_t max_items) const;
  std::string_view manager() const { return m_manager; }

  PackageFacts facts(const Change& change) const;

private:
  const PackageDb& m_image;
  const PackageDb& m_container;
  std::string m_manager;
  std::vector<PackageEvent> m_events; // sorted by name
};

} // namespace cdrift
