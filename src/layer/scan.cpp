#include "layer/scan.hpp"

namespace cdrift {

Status ScannedLayer::scan(MemberStream& in, Progress* progress) {
  ContentReader reader(progress);
  Member m;
  for (;;) {
    auto more = in.next(m);
    if (!more) return fail(std::move(more).error());
    if (!*more) return {};
    Item item;
    if (m.type == FileType::file && !m.is_hardlink) {
      auto content = reader.read(in, m, capture_wish(m));
      if (!content) return fail(std::move(content).error());
      item.content = std::move(*content);
    }
    item.member = std::move(m);
    m_items.push_back(std::move(item));
    m = Member{};
  }
}

Result<bool> ScannedLayer::next(Member& out) {
  if (m_next > 0) m_items[m_next - 1] = Item{}; // applied: free it now
  if (m_next == m_items.size()) return false;
  out = std::move(m_items[m_next].member);
  ++m_next;
  return true;
}

const DigestedContent* ScannedLayer::digested() const {
  if (m_next == 0 || m_next > m_items.size()) return nullptr;
  const auto& c = m_items[m_next - 1].content;
  return c ? &*c : nullptr;
}

} // namespace cdrift
