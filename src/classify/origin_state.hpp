// The per-audit facts the origin analysis weighs, computed once by OriginAnalyzer's
// constructor (origin.cpp) and read by the weighing (origin_weigh.cpp). Internal.
#pragma once

#include "cdrift/classify/package_events.hpp"
#include "classify/origin.hpp"
#include "classify/shell_history.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace cdrift {

struct OriginAnalyzer::State {
  explicit State(const OriginInputs& i) : in(i), packages(i.image_packages, i.container_packages) {}

  OriginInputs in;
  PackageEvents packages;

  // The reference time mtimes are compared with: the container's creation (runtime
  // metadata or a placeholder) when known, else a lower bound for "after the build"
  // (the image config's created time or the newest mtime in the image).
  std::optional<std::int64_t> creation;
  std::string creation_word = "created"; // podman's placeholders date the start
  std::string creation_from;             // "/.dockerenv", "runtime metadata"
  std::string creation_evidence;
  std::optional<std::int64_t> build_bound; // used when creation is unknown
  std::string build_from;

  bool have_passwd = false;
  bool have_group = false;
  std::unordered_set<std::uint32_t> uids;
  std::unordered_set<std::uint32_t> gids;

  std::optional<std::uint32_t> run_uid;
  std::optional<std::uint32_t> run_gid;
  std::string run_user_desc; // "the image's USER app (uid 1000)"
  bool run_user_explicit = false;

  std::vector<std::pair<std::string, std::string>> data_dirs; // dir, why it is one

  HistoryIndex history;
  std::vector<std::string> history_changes; // "/root/.ash_history was added"

  std::vector<std::string> package_db_changes; // "/var/lib/dpkg/status modified"

  // Everything below is copied out of all_changes, so a caller may move the changes
  // away (into findings) while it keeps attributing.
  std::unordered_set<std::string> present_changed;            // added or modified paths
  std::unordered_map<std::string, std::string> sed_leftovers; // dir -> leftover path
  std::vector<std::pair<std::int64_t, std::string>> timeline;
  struct TreeCount {
    std::uint64_t total = 0;
    std::uint64_t signalled = 0;
  };
  std::unordered_map<std::string, TreeCount> added_dirs;

  void find_creation_time();
  void find_build_bound();
  void load_accounts();
  void resolve_user();
  void collect_data_dirs();
  void load_history();
  void index_changes();

  const std::pair<std::string, std::string>* data_dir_of(std::string_view path) const;

  // The time mtimes are weighed against, and how to say it.
  std::optional<std::int64_t> reference() const { return creation ? creation : build_bound; }
  std::string reference_phrase() const;
  bool old_mtime(const Change& c) const;
  bool new_mtime(const Change& c) const;
  bool foreign_uid(const Change& c) const;
  bool foreign_gid(const Change& c) const;
  // The application runs as a known non-root user and the entry is root's: written
  // by someone with root (docker exec, a copy), not by the application.
  bool root_over_app_user(const Change& c) const;
  std::string package_db_line() const;
};

} // namespace cdrift
