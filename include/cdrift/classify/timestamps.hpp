// Times as the evidence shows them and as runtimes and image configs write them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdrift {

// "2023-02-14 09:12:00 UTC"
std::string format_utc(std::int64_t epoch);

// RFC 3339 with optional fractional seconds and a Z or +-HH:MM zone, as Go prints
// times (image config "created", docker/podman inspect "Created"). Go's zero time
// ("0001-01-01T00:00:00Z", "never") and anything malformed give nullopt.
std::optional<std::int64_t> parse_rfc3339(std::string_view s);

} // namespace cdrift
