// The little world origin tests build: an image and a container from Entry tables,
// with the changes declared next to the edits that cause them.
#pragma once

#include "classify/origin.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <limits>

namespace origin_test {

using namespace cdrift;

inline constexpr std::int64_t created = 1676365920; // 2023-02-14 09:12:00 UTC
inline constexpr std::int64_t day = 86400;
inline constexpr std::int64_t build_time = created - 60 * day;

inline const char* const image_passwd = "root:x:0:0:root:/root:/bin/sh\n"
                                        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                        "app:x:1001:1001::/srv/app:/bin/sh\n";
inline const char* const image_group = "root:x:0:\ndaemon:x:1:\napp:x:1001:\n";

inline Entry file(std::string path, std::string content, std::int64_t mtime, std::uint32_t uid = 0,
                  std::uint32_t gid = 0, std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::file;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.size = content.size();
  e.sha256 = sha256_of(content);
  e.mtime = mtime;
  return e;
}

inline Entry dir(std::string path, std::int64_t mtime, std::uint32_t uid = 0,
                 std::uint32_t gid = 0) {
  Entry e;
  e.path = std::move(path);
  e.type = FileType::dir;
  e.mode = 0755;
  e.uid = uid;
  e.gid = gid;
  e.mtime = mtime;
  return e;
}

inline bool has_line(const Origin& o, std::string_view needle) {
  return std::any_of(o.evidence.begin(), o.evidence.end(),
                     [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

inline std::string dump(const Origin& o) {
  std::string s = std::string(to_string(o.kind)) + "/" + std::string(to_string(o.confidence));
  for (const auto& e : o.evidence)
    s += "\n  - " + e;
  return s;
}

// An image and a container built from Entry tables; changes are declared next to the
// container edits that cause them, the way the diff would report them.
struct Scenario {
  Manifest image;
  Manifest container;
  ContainerInfo info;
  std::vector<Change> changes;

  Scenario() {
    ImageInfo ii;
    ii.user = "app";
    ii.working_dir = "/srv/app";
    ii.volumes = {"/data"};
    image.image = ii;
    for (const Entry& e :
         {dir("/etc", build_time), dir("/usr", build_time), dir("/usr/bin", build_time),
          dir("/tmp", build_time), dir("/var", build_time), dir("/var/log", build_time),
          dir("/srv", build_time), dir("/srv/app", build_time, 1001, 1001),
          file("/etc/passwd", image_passwd, build_time),
          file("/etc/group", image_group, build_time), file("/etc/motd", "hello\n", build_time),
          file("/usr/bin/find", "find-binary", build_time, 0, 0, 0755),
          file("/var/log/app.log", "line 1\n", build_time, 1001, 1001),
          file("/var/log/auth.log", "auth\n", build_time)})
      image.entries.push_back(e);
    image.captures.files["/etc/passwd"] = image_passwd;
    image.captures.files["/etc/group"] = image_group;
    container.entries = image.entries;
    container.captures = image.captures;
    container.entries.push_back(file("/.dockerenv", "", created, 0, 0, 0755));
  }

  void add(Entry e, std::string content_for_capture = {}) {
    if (!content_for_capture.empty()) container.captures.files[e.path] = content_for_capture;
    Change c;
    c.path = e.path;
    c.kind = ChangeKind::added;
    c.after = e;
    changes.push_back(c);
    container.entries.push_back(std::move(e));
  }

  void modify(Entry after, std::vector<Field> fields, std::string content_for_capture = {}) {
    if (!content_for_capture.empty()) container.captures.files[after.path] = content_for_capture;
    auto it = std::find_if(container.entries.begin(), container.entries.end(),
                           [&](const Entry& e) { return e.path == after.path; });
    REQUIRE(it != container.entries.end());
    Change c;
    c.path = after.path;
    c.kind = ChangeKind::modified;
    c.fields = std::move(fields);
    c.before = *it;
    c.after = after;
    *it = std::move(after);
    changes.push_back(c);
  }

  void remove(const std::string& path) {
    auto it = std::find_if(container.entries.begin(), container.entries.end(),
                           [&](const Entry& e) { return e.path == path; });
    REQUIRE(it != container.entries.end());
    Change c;
    c.path = path;
    c.kind = ChangeKind::deleted;
    c.before = *it;
    container.entries.erase(it);
    changes.push_back(c);
  }

  void history(const std::string& path, const std::string& text) {
    add(file(path, text, created + 900), text);
  }

  void finish() {
    auto by_path = [](const auto& a, const auto& b) { return a.path < b.path; };
    std::sort(image.entries.begin(), image.entries.end(), by_path);
    std::sort(container.entries.begin(), container.entries.end(), by_path);
    std::sort(changes.begin(), changes.end(), by_path);
    image_db = PackageDb::from_captures(image.captures);
    container_db = PackageDb::from_captures(container.captures);
    analyzer = std::make_unique<OriginAnalyzer>(
        OriginInputs{image, container, info, image_db, container_db, changes});
  }

  Origin origin(std::string_view path) {
    if (!analyzer) finish();
    for (const auto& c : changes)
      if (c.path == path) {
        Origin o = analyzer->attribute(c);
        INFO(path << ": " << dump(o));
        return o;
      }
    FAIL("no change for " << path);
    return {};
  }

  PackageDb image_db;
  PackageDb container_db;
  std::unique_ptr<OriginAnalyzer> analyzer;
};

} // namespace origin_test
