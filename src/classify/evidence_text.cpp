#include "classify/evidence_text.hpp"

#include <limits>

namespace cdrift::evidence {

namespace {

std::string num(std::int64_t v) {
  return std::to_string(v);
}

std::string format_duration(std::int64_t seconds) {
  auto unit = [](std::int64_t n, const char* one, const char* many) {
    return num(n) + " " + (n == 1 ? one : many);
  };
  if (seconds < 120) return unit(seconds, "second", "seconds");
  if (seconds < 3600) return unit(seconds / 60, "minute", "minutes");
  if (seconds < 2 * 86400) {
    std::string out = unit(seconds / 3600, "hour", "hours");
    if (std::int64_t minutes = seconds % 3600 / 60) out += " " + unit(minutes, "minute", "minutes");
    return out;
  }
  return unit(seconds / 86400, "day", "days");
}

} // namespace

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out))
    return a < b ? std::numeric_limits<std::int64_t>::min()
                 : std::numeric_limits<std::int64_t>::max();
  return out;
}

std::string relative_to(std::int64_t t, std::int64_t ref) {
  std::int64_t d = saturating_sub(t, ref);
  if (d == 0) return "the same second as";
  if (d < 0) {
    std::int64_t ad = d == std::numeric_limits<std::int64_t>::min()
                          ? std::numeric_limits<std::int64_t>::max()
                          : -d;
    return format_duration(ad) + " before";
  }
  return format_duration(d) + " after";
}

std::string owner_string(std::uint32_t uid, std::uint32_t gid) {
  return std::to_string(uid) + ":" + std::to_string(gid);
}

std::string join_list(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > max_items)
    out += " and " + num(static_cast<std::int64_t>(items.size() - max_items)) + " more";
  return out;
}

} // namespace cdrift::evidence
