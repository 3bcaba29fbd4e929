#include "classify/accounts.hpp"

#include <charconv>

namespace cdrift {

namespace {

std::optional<std::uint32_t> parse_id(std::string_view s) {
  std::uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The first `n` colon-separated fields; missing ones are empty.
void split_fields(std::string_view line, std::string_view (&out)[4]) {
  for (auto& f : out) {
    std::size_t c = line.find(':');
    f = line.substr(0, c);
    line = c == std::string_view::npos ? std::string_view() : line.substr(c + 1);
  }
}

} // namespace

std::vector<AccountRecord> parse_account_file(std::string_view content) {
  std::vector<AccountRecord> out;
  while (!content.empty()) {
    std::size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') continue;
    std::string_view f[4];
    split_fields(line, f);
    if (f[0].empty()) continue;
    AccountRecord r;
    r.name = std::string(f[0]);
    r.id_field = std::string(f[2]);
    r.id = parse_id(f[2]);
    r.gid = parse_id(f[3]);
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace cdrift
