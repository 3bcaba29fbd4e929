// Where the original of a changed path came from: the image layer that last wrote
// it, that layer's Dockerfile step, and the package that owns it.
#pragma once

#include "cdrift/classify/finding.hpp"
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
FindingContext describe_context(const Change& change, const Manifest& image,
                                const PackageDb& image_packages);

} // namespace cdrift
