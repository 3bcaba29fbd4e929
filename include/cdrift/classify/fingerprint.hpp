// A finding's identity across runs, for baselines and code-scanning deduplication.
#pragma once

#include "cdrift/classify/finding.hpp"

#include <string>

namespace cdrift {

// 32 hex digits of SHA-256 over the rule id, the path bytes, the change kind and
// the state the container now has: the content digest of a file, the target of a
// symlink, and type, mode, owner and xattrs of any entry. Timestamps are left out, so a
// re-run over the same container gives the same value, while the same path with
// different content (or newly setuid) is a new finding.
std::string compute_fingerprint(const Finding& finding);

// Fills every empty Finding::fingerprint in findings and suppressed.
void assign_fingerprints(AuditReport& report);

} // namespace cdrift
