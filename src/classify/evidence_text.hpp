// Wording shared by the origin analysis's evidence lines; not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cdrift::evidence {

// Export mtimes are attacker-controlled; differences must not overflow.
std::int64_t saturating_sub(std::int64_t a, std::int64_t b);
// "41 days before" / "18 minutes after" / "the same second as".
std::string relative_to(std::int64_t t, std::int64_t ref);
std::string owner_string(std::uint32_t uid, std::uint32_t gid);
// "a, b, c and 4 more"
std::string join_list(const std::vector<std::string>& items, std::size_t max_items);

} // namespace cdrift::evidence
