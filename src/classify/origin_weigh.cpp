// The weighing: every signal a change carries adds to (or takes from) the origins it
// speaks for; the heaviest origin wins when it is heavy enough, and its lead over the
// runner-up sets the confidence. docs/origin.md has the table of weights.
#include "cdrift/util/path.hpp"
#include "classify/evidence_text.hpp"
#include "classify/origin.hpp"
#include "classify/origin_state.hpp"
#include "classify/path_classes.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace cdrift {

using evidence::join_list;
using evidence::owner_string;
using evidence::relative_to;

namespace {

// A copy's source mtime must be this much older than its directory's change to count:
// a shell writing two files a few minutes apart leaves the same pattern on a smaller scale.
constexpr std::int64_t copy_gap_seconds = 600;

// How long after its birth a copy may still be setting a file's times: a copy (docker
// cp's tar, an overlay copy-up) writes the data first and dates the file last, so big
// files take longer; 8 MiB/s is far below what either does on a loaded machine.
std::int64_t settle_seconds(std::uint64_t size) {
  return 2 + static_cast<std::int64_t>(size / (8u << 20));
}

// Weights (docs/origin.md, "Weights"); an origin needs min_weight to be named at all.
namespace weight {
constexpr int package_listed = 6; // decisive: returned before weighing
constexpr int old_mtime_copy = 3;
constexpr int old_mtime_in_place = 1;
constexpr int timestomp_in_place = 2;
constexpr int foreign_owner = 3;
constexpr int foreign_owner_against_app = -2;
constexpr int older_than_directory = 2;
constexpr int copied_tree = 2;
constexpr int history_full_path = 4;
constexpr int history_file_name = 2;
constexpr int leftovers = 2;
constexpr int shell_ran = 1;
constexpr int root_over_app_shell = 2;
constexpr int root_over_app_copy = 1;
constexpr int root_over_app_against_app = -4;
constexpr int data_dir = 2;
constexpr int app_owner = 2;
constexpr int root_default_owner = 1;
constexpr int new_in_data_dir = 1;
constexpr int other_owner_against_app = -2;
constexpr int new_outside_data = 2;
constexpr int metadata_on_system_path = 2;
constexpr int cluster = 1;
constexpr int mtime_restored = 1;
constexpr int live_dated_at_birth = 1;
constexpr int live_dated_later = 2;
constexpr int live_dated_later_no_meta = 3;
constexpr int live_metadata_in_container = 1;
constexpr int min_weight = 2;
} // namespace weight

struct Weighing {
  struct Line {
    OriginKind kind;
    int weight;
    std::string text;
  };
  std::vector<Line> lines;
  std::vector<std::string> context; // facts that weigh nothing, shown last

  void add(OriginKind k, int w, std::string text) { lines.push_back({k, w, std::move(text)}); }
  // One fact that speaks for one origin and against another, shown once.
  void add2(OriginKind k, int w, OriginKind k2, int w2, std::string text) {
    lines.push_back({k, w, std::move(text)});
    lines.push_back({k2, w2, {}});
  }

  Origin decide() const {
    std::array<int, 4> total{};
    for (const auto& l : lines)
      total[static_cast<std::size_t>(l.kind)] += l.weight;
    std::size_t best = 0;
    for (std::size_t k = 1; k < total.size(); ++k)
      if (total[k] > total[best]) best = k;
    int runner = 0;
    for (std::size_t k = 0; k < total.size(); ++k)
      if (k != best) runner = std::max(runner, total[k]);
    const int top = total[best];
    Origin o;
    if (top >= weight::min_weight) {
      o.kind = static_cast<OriginKind>(best);
      const int lead = top - runner;
      o.confidence = top >= 5 && lead >= 3   ? Confidence::high
                     : top >= 3 && lead >= 2 ? Confidence::medium
                                             : Confidence::low;
    }
    // What speaks for the verdict first, then what speaks against it or for others.
    for (const auto& l : lines)
      if (!l.text.empty() && static_cast<std::size_t>(l.kind) == best && l.weight > 0 &&
          o.kind != OriginKind::unknown)
        o.evidence.push_back(l.text);
    for (const auto& l : lines)
      if (!l.text.empty() && !(static_cast<std::size_t>(l.kind) == best && l.weight > 0 &&
                               o.kind != OriginKind::unknown))
        o.evidence.push_back(l.text);
    o.evidence.insert(o.evidence.end(), context.begin(), context.end());
    return o;
  }
};

} // namespace

namespace {

using State = OriginAnalyzer::State;

std::optional<Origin> package_origin(const State& s, const Change& c,
                                     std::vector<std::string>& notes) {
  if (c.after && c.after->mtime == npm_fixed_mtime && c.kind != ChangeKind::deleted &&
      (c.kind == ChangeKind::added || (c.before && c.before->mtime != c.after->mtime))) {
    Origin o{OriginKind::package_manager, Confidence::medium, {}};
    o.evidence.push_back("mtime " + format_utc(npm_fixed_mtime) +
                         " is the fixed timestamp npm gives every file it unpacks");
    return o;
  }
  if (s.package_db_changes.empty()) return std::nullopt;
  const std::string manager(s.in.container_packages.manager().empty()
                                ? s.in.image_packages.manager()
                                : s.in.container_packages.manager());
  if (is_package_db_path(c.path) || is_package_bookkeeping(c.path)) {
    // The database that records the operation is its own best witness.
    const PackageFacts facts = s.packages.facts(c);
    Origin o{
        OriginKind::package_manager, facts.database ? Confidence::high : Confidence::medium, {}};
    if (facts.database)
      o.evidence.push_back("packages " + s.packages.summary(8) + " (" +
                           std::string(s.packages.manager()) +
                           " database of the image vs the container's)");
    o.evidence.push_back(c.path + " is package-manager bookkeeping");
    o.evidence.push_back(s.package_db_line());
    return o;
  }
  auto ver = [](const std::string* v) { return v ? *v : std::string("version unknown"); };
  if (c.kind == ChangeKind::deleted) {
    const std::string* ipkg = s.in.image_packages.owner(c.path);
    if (!ipkg) return std::nullopt;
    const std::string* cpkg = s.in.container_packages.owner(c.path);
    const std::string* iver = s.in.image_packages.version(*ipkg);
    const std::string* cver = s.in.container_packages.version(*ipkg);
    if (cpkg && *cpkg == *ipkg && (!iver || !cver || *iver == *cver)) {
      notes.push_back("the package database changed, but " + manager + " still lists it under " +
                      *ipkg + ": no package removal explains the deletion");
      return std::nullopt;
    }
    Origin o{OriginKind::package_manager, Confidence::medium, {}};
    o.evidence.push_back(s.package_db_line());
    if (!cver) {
      o.confidence = Confidence::high;
      o.evidence.push_back("package " + *ipkg + " (" + ver(iver) +
                           "), which listed it in the image, is no longer installed");
    } else {
      o.evidence.push_back("package " + *ipkg + " went from " + ver(iver) + " to " + *cver +
                           " and no longer lists it");
    }
    return o;
  }
  const std::string* cpkg = s.in.container_packages.owner(c.path);
  if (!cpkg) return std::nullopt;
  const std::string* ipkg = s.in.image_packages.owner(c.path);
  const std::string* cver = s.in.container_packages.version(*cpkg);
  const std::string* iver = s.in.image_packages.version(*cpkg);
  Origin o{OriginKind::package_manager, Confidence::high, {}};
  o.evidence.push_back(s.package_db_line());
  if (!ipkg || *ipkg != *cpkg) {
    o.evidence.push_back("the container's " + manager + " database lists it under package " +
                         *cpkg + " (" + ver(cver) + "); the image's did not" +
                         (ipkg ? " (it listed it under " + *ipkg + ")" : std::string()));
    return o;
  }
  if (cver && iver && *cver != *iver) {
    o.evidence.push_back("package " + *cpkg + " went from " + *iver + " in the image to " + *cver +
                         " in the container, and lists it");
    return o;
  }
  if (!cver || !iver) {
    o.confidence = Confidence::low;
    o.evidence.push_back("listed under package " + *cpkg +
                         " in both databases; its versions are not recorded, so an upgrade "
                         "cannot be confirmed");
    return o;
  }
  notes.push_back("the package database changed, but package " + *cpkg + " is still at " + *cver +
                  ": installing packages does not explain this change");
  return std::nullopt;
}

Origin attribute_deleted(const State& s, const Change& c) {
  std::vector<std::string> notes;
  if (auto o = package_origin(s, c, notes)) return *o;

  std::vector<std::string> context;
  // Removing an entry updates its directory's mtime.
  if (const Entry* parent = s.in.container.find(parent_path(c.path))) {
    if (auto ref = s.reference(); ref && parent->mtime >= *ref)
      context.push_back("its directory " + parent->path + " was last modified " +
                        format_utc(parent->mtime) + ", " + relative_to(parent->mtime, *ref) + " " +
                        s.reference_phrase());
  }

  auto removals = s.history.mentions(c.path, true);
  auto above = s.history.removals_of_ancestors(c.path);
  if (!removals.empty() || !above.empty()) {
    Origin o{OriginKind::shell_edit, Confidence::medium, {}};
    bool full = false;
    for (const auto& m : removals)
      full = full || m.full_path;
    if (full) o.confidence = Confidence::high;
    std::size_t shown = 0;
    for (const auto* list : {&removals, &above}) {
      for (const auto& m : *list) {
        if (shown++ == 2) break;
        o.evidence.push_back(m.line->file + " line " + std::to_string(m.line->number) +
                             " removes it: " + quote_line(m.line->text));
      }
    }
    o.evidence.insert(o.evidence.end(), context.begin(), context.end());
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }
  Origin o;
  o.evidence.push_back(s.history.empty() ? "no shell history added or changed in the container"
                                         : "no line of the container's shell history removes it");
  if (s.package_db_changes.empty()) o.evidence.push_back("the package database did not change");
  o.evidence.insert(o.evidence.end(), context.begin(), context.end());
  o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
  if (!s.creation) o.evidence.push_back(s.creation_evidence);
  return o;
}

// What the owner says, as context for a change no owner signal decided.
void owner_context(const State& s, const Change& c, std::vector<std::string>& out) {
  if (!c.after) return;
  const std::string owner = owner_string(c.after->uid, c.after->gid);
  if (!s.have_passwd)
    out.push_back("no /etc/passwd captured from the container: owner " + owner +
                  " could not be checked");
  else if (c.before && c.before->uid == c.after->uid && c.before->gid == c.after->gid)
    out.push_back("owner " + owner + " is unchanged from the image");
  else if (!s.foreign_uid(c) && !s.foreign_gid(c))
    out.push_back("owner " + owner +
                  " is known to the container's /etc/passwd and /etc/group: no sign of a "
                  "copy that kept a host owner");
}

// What a live writable layer adds to an old mtime: ctime and birth time, which no
// tool can set back (exports and saved manifests have neither: ctime is 0).
enum class LiveDating : std::uint8_t {
  none,     // not from a live layer, or its ctime predates the reference
  no_birth, // ctime only (the filesystem has no birth time)
  at_birth, // dated within settle_seconds of its birth: in one go
  later,    // ctime well after its birth: its times or status were set afterwards
};

LiveDating live_dating(const State& s, const Entry& after) {
  const auto ref = s.reference();
  if (after.ctime == 0 || !ref || std::max(after.ctime, after.btime) < *ref)
    return LiveDating::none;
  if (after.btime == 0) return LiveDating::no_birth;
  return evidence::saturating_sub(after.ctime, after.btime) <= settle_seconds(after.size)
             ? LiveDating::at_birth
             : LiveDating::later;
}

std::string reference_short(const State& s) {
  return s.creation ? "the container was " + s.creation_word : std::string("the image was built");
}

// "mtime M is before the container was created, but its ctime C is after it"
std::string live_prefix(const State& s, const Entry& after) {
  return "mtime " + format_utc(after.mtime) + " is before " + reference_short(s) +
         ", but its ctime " + format_utc(after.ctime) + " is after it";
}

bool metadata_changed(const Change& c) {
  return c.has(Field::mode) || c.has(Field::uid) || c.has(Field::gid) || c.has(Field::xattrs);
}

// Copy signatures: an mtime older than the container (or the build), a foreign
// owner, an mtime much older than the directory's change, membership of a copied tree.
void weigh_copy(const State& s, const Change& c, Weighing& w) {
  const Entry& after = *c.after;
  const Entry* parent = s.in.container.find(parent_path(c.path));
  const Entry* image_parent = s.in.image.find(parent_path(c.path));
  // The directory changed in the container: away from the image's own directory mtime
  // (a build step may have touched it as late as the build bound), and not before the
  // reference time.
  const auto ref = s.reference();
  const bool parent_changed = parent && (!image_parent || image_parent->mtime != parent->mtime) &&
                              (!ref || parent->mtime >= *ref);
  const bool old = s.old_mtime(c);
  if (old) {
    std::string line = "mtime " + format_utc(after.mtime) + " is " +
                       relative_to(after.mtime, *ref) + " " + s.reference_phrase();
    if (c.before) line += ", and differs from the image's " + format_utc(c.before->mtime);
    const LiveDating live = live_dating(s, after);
    const bool copy_shape = c.kind == ChangeKind::added || parent_changed || !parent;
    // Dated well after it was made, with no chmod or chown in the diff to explain the
    // later ctime: the copy explanation would need a status change that left nothing.
    const bool dated_after_edit =
        live == LiveDating::later && c.kind == ChangeKind::modified && !metadata_changed(c);
    if (copy_shape) {
      w.add(OriginKind::copied_in,
            dated_after_edit ? weight::old_mtime_in_place : weight::old_mtime_copy,
            line + ": a copy keeps its source's mtime");
    } else {
      // Rewritten in place (its directory never changed) and dated back: a copy would
      // have replaced the entry and touched the directory.
      w.add(OriginKind::copied_in, weight::old_mtime_in_place, line);
      w.add(OriginKind::shell_edit, weight::timestomp_in_place,
            "its directory " + std::string(parent_path(c.path)) +
                " did not change, so the file was rewritten in place and its mtime set back "
                "(touch -d/-r): timestomping");
    }
    const std::string birth = after.btime ? format_utc(after.btime) : std::string();
    switch (live) {
    case LiveDating::none:
      break;
    case LiveDating::no_birth:
      w.context.insert(w.context.begin(),
                       live_prefix(s, after) +
                           ": the mtime was set back (touch -d/-r) or kept by a copy (docker cp, "
                           "tar, cp -p); ctime cannot be set");
      break;
    case LiveDating::at_birth: {
      const std::string when =
          " (its birth time " + birth + " is " + relative_to(after.btime, after.ctime) + " it)";
      if (copy_shape)
        w.add(OriginKind::copied_in, weight::live_dated_at_birth,
              live_prefix(s, after) + when +
                  ": it was made and dated in one go, as a copy that keeps its source's mtime "
                  "does (docker cp, tar, cp -p) or a script that sets the mtime right after "
                  "writing; ctime cannot be set");
      else
        w.context.insert(w.context.begin(),
                         live_prefix(s, after) + when +
                             ": rewritten and dated back in one go (touch -d/-r right after "
                             "writing); ctime cannot be set");
      break;
    }
    case LiveDating::later:
      w.add(OriginKind::shell_edit,
            dated_after_edit ? weight::live_dated_later_no_meta : weight::live_dated_later,
            live_prefix(s, after) + " and " + relative_to(after.ctime, after.btime) +
                " its birth time " + birth +
                ": its times were set after it was written, as touch -d/-r after an edit does" +
                (dated_after_edit ? std::string("; a copy dates a file as it makes it, and no "
                                                "mode or owner change explains the later ctime")
                                  : std::string(" (or a later chmod, chown or mv changed it)")) +
                "; ctime cannot be set");
      break;
    }
  } else if (parent_changed && after.type != FileType::dir &&
             (c.kind == ChangeKind::added || (c.before && c.before->mtime != after.mtime)) &&
             evidence::saturating_sub(parent->mtime, after.mtime) > copy_gap_seconds) {
    w.add(OriginKind::copied_in, weight::older_than_directory,
          "mtime " + format_utc(after.mtime) + " is " + relative_to(after.mtime, parent->mtime) +
              " its directory's change (" + format_utc(parent->mtime) +
              "): a copy keeps its source's mtime while the directory gets the time of the copy");
  }
  const bool fu = s.foreign_uid(c);
  const bool fg = s.foreign_gid(c);
  if (fu || fg) {
    std::string line;
    if (fu && fg)
      line = "owner " + owner_string(after.uid, after.gid) +
             " has no entry in the container's /etc/passwd or /etc/group";
    else if (fu)
      line =
          "owner uid " + std::to_string(after.uid) + " has no entry in the container's /etc/passwd";
    else
      line =
          "group gid " + std::to_string(after.gid) + " has no entry in the container's /etc/group";
    w.add2(OriginKind::copied_in, weight::foreign_owner, OriginKind::runtime_write,
           weight::foreign_owner_against_app, line + " (docker cp keeps the host's owner)");
  }
  // The topmost added directory above (or at) this path.
  std::string_view top;
  for (std::string_view p = c.path; p.size() > 1; p = parent_path(p))
    if (s.added_dirs.count(std::string(p))) top = p;
  if (!top.empty()) {
    const auto& t = s.added_dirs.at(std::string(top));
    if (t.signalled >= 2 && t.signalled * 2 >= t.total)
      w.add(OriginKind::copied_in, weight::copied_tree,
            "part of " + std::string(top) + ", an added tree where " + std::to_string(t.signalled) +
                " of " + std::to_string(t.total) +
                " entries carry copy signals (old mtime or foreign owner)");
  }
}

// Shell traces: history that ran, lines naming the path, editor and sed leftovers.
// Returns whether something names the path itself.
bool weigh_shell_traces(const State& s, const Change& c, Weighing& w) {
  bool named = false;
  if (!s.history_changes.empty())
    w.add(OriginKind::shell_edit, weight::shell_ran,
          "shell history " + join_list(s.history_changes, 2) +
              " (an interactive shell ran in the container)");
  auto mentions = s.history.mentions(c.path, false);
  if (!mentions.empty()) {
    named = true;
    // Full-path mentions first: they are the stronger evidence.
    std::stable_sort(mentions.begin(), mentions.end(),
                     [](const auto& a, const auto& b) { return a.full_path && !b.full_path; });
    const bool full = mentions.front().full_path;
    for (std::size_t i = 0; i < mentions.size() && i < 2; ++i) {
      const auto& m = mentions[i];
      std::string what = m.full_path ? c.path : std::string(base_name(c.path));
      w.add(OriginKind::shell_edit,
            i > 0  ? 0
            : full ? weight::history_full_path
                   : weight::history_file_name,
            m.line->file + " line " + std::to_string(m.line->number) + " mentions " + what + ": " +
                quote_line(m.line->text));
    }
  }
  std::string dir(parent_path(c.path));
  std::string name(base_name(c.path));
  std::string prefix = dir == "/" ? "/" : dir + "/";
  std::vector<std::string> found;
  for (const std::string& cand :
       {prefix + "." + name + ".swp", prefix + "." + name + ".swo", prefix + "." + name + ".swx",
        prefix + name + "~", prefix + "#" + name + "#", prefix + ".#" + name,
        prefix + name + ".bak", prefix + name + ".orig", prefix + name + ".save",
        prefix + name + "-"}) {
    if (s.present_changed.count(cand)) found.push_back(cand);
  }
  if (auto it = s.sed_leftovers.find(dir); it != s.sed_leftovers.end() && it->second != c.path)
    found.push_back(it->second + " (sed -i's temporary file)");
  if (!found.empty()) {
    named = true;
    w.add(OriginKind::shell_edit, weight::leftovers,
          "editor or sed leftovers beside it: " + join_list(found, 3));
  }
  return named;
}

// Other changes within the same minute, outside data directories: one session.
void weigh_cluster(const State& s, const Change& c, Weighing& w) {
  const Entry& after = *c.after;
  auto ref = s.reference();
  if (after.type == FileType::dir || s.data_dir_of(c.path) ||
      after.mtime <= std::numeric_limits<std::int64_t>::min() + 60 ||
      after.mtime >= std::numeric_limits<std::int64_t>::max() - 60 || (ref && after.mtime < *ref))
    return;
  const std::int64_t m = after.mtime;
  auto it = std::lower_bound(s.timeline.begin(), s.timeline.end(), m - 59,
                             [](const auto& e, std::int64_t t) { return e.first < t; });
  std::vector<std::string> near;
  for (; it != s.timeline.end() && it->first <= m + 59; ++it)
    if (it->second != c.path) near.emplace_back(it->second);
  if (!near.empty())
    w.add(OriginKind::shell_edit, weight::cluster,
          std::to_string(near.size()) + (near.size() == 1 ? " other change" : " other changes") +
              " within the same minute: " + join_list(near, 3));
}

// Who could have written it: the application's user in its data directories, or not.
void weigh_owner(const State& s, const Change& c, bool meta_only, Weighing& w) {
  const Entry& after = *c.after;
  const auto* data = s.data_dir_of(c.path);
  if (!data) return;
  w.add(OriginKind::runtime_write, weight::data_dir, "under " + data->first + ", " + data->second);
  if (s.root_over_app_user(c)) {
    w.add(OriginKind::shell_edit, weight::root_over_app_shell,
          "owner " + owner_string(after.uid, after.gid) +
              " is root, which the application cannot be (it runs as " + s.run_user_desc +
              "): written with root's rights, as docker exec and copies do");
    w.add(OriginKind::copied_in, weight::root_over_app_copy, {});
    w.add(OriginKind::runtime_write, weight::root_over_app_against_app, {});
    return;
  }
  if (s.foreign_uid(c)) return; // weighed with the copy signatures
  if (s.run_uid && after.uid == *s.run_uid) {
    w.add(OriginKind::runtime_write,
          s.run_user_explicit && *s.run_uid != 0 ? weight::app_owner : weight::root_default_owner,
          "owned by uid " + std::to_string(after.uid) + ", " + s.run_user_desc);
    if (!meta_only && (s.new_mtime(c) || !s.reference()))
      w.add(OriginKind::runtime_write, weight::new_in_data_dir, {});
  } else {
    w.add(OriginKind::runtime_write, weight::other_owner_against_app,
          "owner " + owner_string(after.uid, after.gid) +
              " is not the user the application runs as: " + s.run_user_desc);
  }
}

} // namespace

Origin OriginAnalyzer::attribute(const Change& c) const {
  const State& s = *m_state;
  if (c.kind == ChangeKind::deleted || !c.after) return attribute_deleted(s, c);
  const Entry& after = *c.after;

  std::vector<std::string> notes;
  if (auto o = package_origin(s, c, notes)) return *o;

  // The history file itself: a shell wrote it when an interactive session ended.
  if (is_history_path(c.path) && after.type == FileType::file) {
    Origin o{OriginKind::shell_edit, s.new_mtime(c) ? Confidence::high : Confidence::medium, {}};
    o.evidence.push_back(c.path +
                         " is a shell history file, written when an interactive shell exits");
    if (s.new_mtime(c))
      o.evidence.push_back("mtime " + format_utc(after.mtime) + " is " +
                           relative_to(after.mtime, *s.reference()) + " " + s.reference_phrase());
    o.evidence.insert(o.evidence.end(), notes.begin(), notes.end());
    return o;
  }

  const bool meta_only = c.kind == ChangeKind::modified && c.before && !c.has(Field::content) &&
                         !c.has(Field::type) && !c.has(Field::size) && !c.has(Field::target) &&
                         c.before->mtime == after.mtime;
  const auto* data = s.data_dir_of(c.path);
  Weighing w;
  if (meta_only) {
    std::string what;
    if (c.has(Field::mode))
      what = "mode " + format_mode(c.before->mode) + " -> " + format_mode(after.mode);
    if (c.has(Field::uid) || c.has(Field::gid))
      what += std::string(what.empty() ? "" : ", ") + "owner " +
              owner_string(c.before->uid, c.before->gid) + " -> " +
              owner_string(after.uid, after.gid);
    if (c.has(Field::xattrs)) what += std::string(what.empty() ? "" : ", ") + "xattrs";
    const auto ref = s.reference();
    if (after.ctime != 0 && ref && after.ctime >= *ref) {
      // The layer's ctime dates the chmod/chown/setcap itself (a copy-up on chmod makes
      // the birth time the same moment, so it adds nothing).
      w.context.push_back("only metadata changed (" + what +
                          "); content and mtime are the image's");
      w.add(OriginKind::shell_edit, weight::live_metadata_in_container,
            "its ctime " + format_utc(after.ctime) + " is " + relative_to(after.ctime, *ref) + " " +
                reference_short(s) + ": the change (" + what +
                ") was made in the running container");
    } else {
      w.context.push_back("only metadata changed (" + what +
                          "); content and mtime are the image's, and chmod/chown/setcap leave no "
                          "time trace");
    }
    if (is_system_path(c.path))
      w.add(OriginKind::shell_edit, weight::metadata_on_system_path,
            c.path + " is a system path, outside any application data directory");
  } else {
    if (s.new_mtime(c))
      w.context.insert(w.context.begin(), "mtime " + format_utc(after.mtime) + " is " +
                                              relative_to(after.mtime, *s.reference()) + " " +
                                              s.reference_phrase());
    weigh_copy(s, c, w);
  }
  const bool named = weigh_shell_traces(s, c, w);
  weigh_owner(s, c, meta_only, w);
  if (!meta_only) {
    if (s.new_mtime(c) && !data)
      w.add(OriginKind::shell_edit, weight::new_outside_data,
            "outside the application's data directories");
    if (s.new_mtime(c) && data && named)
      w.context.push_back("under " + data->first + ", " + data->second +
                          ", but shell history or leftovers name it");
    weigh_cluster(s, c, w);
    if (c.before && c.before->mtime == after.mtime && s.reference())
      w.add(OriginKind::shell_edit, weight::mtime_restored,
            "content changed but the mtime is still the image's (" + format_utc(after.mtime) +
                "): restored with touch -r or a timestamp-keeping tool");
  }
  if (!s.creation)
    w.context.push_back(s.build_bound ? "container creation time unknown; mtimes are compared "
                                        "with when the image was built instead"
                                      : s.creation_evidence);
  if (s.creation || s.build_bound) owner_context(s, c, w.context);
  if (!meta_only && !data && s.package_db_changes.empty() && !s.creation)
    w.context.push_back("the package database did not change");
  if (s.history.empty() && s.history_changes.empty())
    w.context.push_back("no shell history added or changed in the container");
  if (meta_only && !data && !is_system_path(c.path) && !named)
    w.context.push_back(
        "not a system path, not under an application data directory, no shell traces");
  w.context.insert(w.context.end(), notes.begin(), notes.end());
  return w.decide();
}

} // namespace cdrift
