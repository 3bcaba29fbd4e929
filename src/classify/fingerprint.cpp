#include "cdrift/classify/fingerprint.hpp"

#include "cdrift/util/sha256.hpp"

#include <string>

namespace cdrift {

namespace {

// Length-prefixed so that no choice of path bytes can make two different tuples
// hash the same ("a" + "bc" vs "ab" + "c").
void feed(Sha256& hasher, std::string_view field) {
  std::string length = std::to_string(field.size());
  hasher.update(length);
  hasher.update(":");
  hasher.update(field);
}

} // namespace

std::string compute_fingerprint(const Finding& finding) {
  const Change& change = finding.change;
  Sha256 hasher;
  feed(hasher, "cdrift/v1");
  feed(hasher, finding.rule.id);
  feed(hasher, change.path);
  feed(hasher, to_string(change.kind));
  if (change.after) {
    const Entry& e = *change.after;
    feed(hasher, to_string(e.type));
    feed(hasher, format_mode(e.mode));
    feed(hasher, std::to_string(e.uid) + ":" + std::to_string(e.gid));
    switch (e.type) {
    case FileType::file:
      feed(hasher, e.sha256 ? to_hex(*e.sha256) : std::string("-"));
      break;
    case FileType::symlink:
      feed(hasher, e.target);
      break;
    case FileType::chardev:
    case FileType::blockdev:
      feed(hasher, std::to_string(e.dev_major) + "," + std::to_string(e.dev_minor));
      break;
    default:
      break;
    }
    // A file capability granted later must not hide behind an accepted baseline.
    for (const Xattr& x : e.xattrs) {
      feed(hasher, x.name);
      feed(hasher, x.value);
    }
  }
  std::string hex = to_hex(hasher.finish());
  return hex.substr(0, 32);
}

void assign_fingerprints(AuditReport& report) {
  for (Finding& f : report.findings)
    if (f.fingerprint.empty()) f.fingerprint = compute_fingerprint(f);
  for (SuppressedFinding& s : report.suppressed)
    if (s.finding.fingerprint.empty()) s.finding.fingerprint = compute_fingerprint(s.finding);
}

} // namespace cdrift
