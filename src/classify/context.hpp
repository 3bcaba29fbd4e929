// Where the original of a changed path came from: the image layer that last wrote
// it, that layer's Dockerfile step, and the package that owns it.
#pragma once

#include "cdrift/classify/finding.hpp"
#include "cdrift/classify/package_events.hpp"
#include "cdrift/classify/packages.hpp"
#include "cdrift/diff/change.hpp"
#include "cdrift/manifest/manifest.hpp"

namespace cdrift {

// package_checksum_ok is set only for regular files the image's package database
// lists with a recorded checksum (dpkg md5sums or conffile hash, apk Z:). Manifests
// carry SHA-256 only and the database records MD5/SHA-1, so the image's own content
// stands in for the packaged content: true when the container's content is
// byte-identical to the image's, false when it differs, the type changed, or the
// file is gone. The assumption: the image shipped the package's file unmodified;
// an image that altered a packaged file at build time is not detected here.
//
// The package named is the container's own database's for present paths (so a file
// a package installed at run time names it) and the image's for deleted ones (the
// package it was removed with); `facts` carries both (OriginAnalyzer::package_facts).
// A deleted file has no content left to compare: package_checksum_ok stays unset.
FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages, const PackageFacts& facts);
// The same with the image's database alone (no container database, no events).
FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages);

} // namespace cdrift
