// Turns a diff into findings: drops what the runtime itself injects and what the
// user ignores, then rates, attributes and contextualises every other change.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/classify/rules.hpp"
#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"

#include <string>
#include <vector>

namespace cdrift {

struct ClassifyOptions {
  std::vector<std::string> ignore_globs; // --ignore
};

AuditReport classify_diff(const Manifest& image, const Manifest& container, DiffResult diff,
                          const RulePack& rules, ContainerInfo container_info,
                          const ClassifyOptions& options);

// Most severe first, then by path bytes.
void sort_findings(std::vector<Finding>& findings);

} // namespace cdrift
