// A layer read ahead of its application: every member's header and, for regular
// files, its digested content. Layers scan concurrently (each on a core, each
// verified at its own end) and are applied strictly in order.
#pragma once

#include "cdrift/layer/content.hpp"
#include "cdrift/source/member_stream.hpp"

#include <string>
#include <vector>

namespace cdrift {

class ScannedLayer : public MemberStream {
public:
  explicit ScannedLayer(std::string name) : m_name(std::move(name)) {}

  // Reads all of `in`; content of regular files (not hardlinks) is hashed here.
  Status scan(MemberStream& in, Progress* progress);

  Result<bool> next(Member& out) override;
  Result<bool> next_block(const std::uint8_t*&, std::size_t&, std::int64_t&) override {
    return false;
  }
  const std::string& name() const override { return m_name; }
  const DigestedContent* digested() const override;

private:
  struct Item {
    Member member;
    std::optional<DigestedContent> content;
  };
  std::string m_name;
  std::vector<Item> m_items;
  std::size_t m_next = 0;
};

} // namespace cdrift
