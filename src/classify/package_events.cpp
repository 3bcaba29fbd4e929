#include "cdrift/classify/package_events.hpp"

#include "classify/path_classes.hpp"

#include <algorithm>

namespace cdrift {

std::string_view to_string(PackageAction a) {
  switch (a) {
  case PackageAction::installed:
    return "installed";
  case PackageAction::removed:
    return "removed";
  case PackageAction::upgraded:
    return "upgraded";
  }
  return "?";
}

PackageEvents::PackageEvents(const PackageDb& image, const PackageDb& container)
    : m_image(image), m_container(container) {
  m_manager = std::string(container.manager().empty() ? image.manager() : container.manager());
  if (image.manager().empty() || container.manager().empty() ||
      image.manager() != container.manager())
    return;
  // A database without versions (an apk file cut short, a distroless status.d without
  // Version lines) cannot tell an upgrade from nothing.
  if (image.versions().empty() || container.versions().empty()) return;
  for (const auto& [name, v] : container.versions()) {
    const std::string* old = image.version(name);
    if (!old)
      m_events.push_back({PackageAction::installed, name, "", v});
    else if (*old != v)
      m_events.push_back({PackageAction::upgraded, name, *old, v});
  }
  for (const auto& [name, v] : image.versions())
    if (!container.version(name)) m_events.push_back({PackageAction::removed, name, v, ""});
  std::sort(m_events.begin(), m_events.end(),
            [](const PackageEvent& a, const PackageEvent& b) { return a.name < b.name; });
}

const PackageEvent* PackageEvents::find(std::string_view package) const {
  auto it = std::lower_bound(m_events.begin(), m_events.end(), package,
                             [](const PackageEvent& e, std::string_view n) { return e.name < n; });
  return it != m_events.end() && it->name == package ? &*it : nullptr;
}

std::string PackageEvents::summary(std::size_t max_items) const {
  std::vector<std::string> items;
  for (PackageAction a :
       {PackageAction::installed, PackageAction::upgraded, PackageAction::removed})
    for (const auto& e : m_events) {
      if (e.action != a) continue;
      items.push_back(std::string(to_string(a)) + " " + e.name + " " +
                      (a == PackageAction::installed ? e.to
                       : a == PackageAction::removed ? e.from
                                                     : e.from + " -> " + e.to));
    }
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i)
    out += (i ? ", " : "") + items[i];
  if (items.size() > max_items) out += " and " + std::to_string(items.size() - max_items) + " more";
  return out;
}

PackageFacts PackageEvents::facts(const Change& c) const {
  PackageFacts f;
  f.manager = m_manager;
  const bool gone = c.kind == ChangeKind::deleted || !c.after;
  // A present file is the container's package's; a deleted one was the image's.
  const std::string* owner = gone ? m_image.owner(c.path) : m_container.owner(c.path);
  if (!owner && !gone) owner = m_image.owner(c.path);
  if (owner) f.package = *owner;
  if (!m_events.empty()) {
    if (is_package_db_path(c.path) || is_package_bookkeeping(c.path)) {
      f.database = c.path == "/var/lib/dpkg/status" || c.path == "/lib/apk/db/installed" ||
                   c.path == "/usr/lib/apk/db/installed";
      f.bookkeeping = !f.database;
    }
    if (owner) {
      const PackageEvent* e = find(*owner);
      // An upgraded package must still list a present file (or have listed a deleted
      // one); a removed package explains only deletions, an installed one only
      // additions and replacements.
      if (e && gone && e->action != PackageAction::installed && !m_container.owner(c.path))
        f.event = e;
      if (e && !gone && e->action != PackageAction::removed && m_container.owner(c.path) == owner)
        f.event = e;
    }
  }
  return f;
}

} // namespace cdrift
