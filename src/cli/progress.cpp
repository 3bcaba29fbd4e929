#include "cli/progress.hpp"

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace cdrift {

namespace {

std::string side(const char* name, const Progress* p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %.1f MB, %llu entries", name,
                static_cast<double>(p->bytes.load()) / 1e6,
                static_cast<unsigned long long>(p->entries.load()));
  return buf;
}

} // namespace

ProgressDisplay::ProgressDisplay(Progress* image, Progress* container)
    : m_image(image), m_container(container), m_enabled(::isatty(2) == 1) {
  if (m_enabled) m_thread = std::thread([this] { loop(); });
}

ProgressDisplay::~ProgressDisplay() {
  stop();
}

void ProgressDisplay::stop() {
  if (!m_thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_done = true;
  }
  m_cv.notify_all();
  m_thread.join();
  if (m_shown) std::fprintf(stderr, "\r\033[K");
}

void ProgressDisplay::loop() {
  std::unique_lock<std::mutex> lock(m_mutex);
  // Short audits finish before anything is drawn.
  if (m_cv.wait_for(lock, std::chrono::milliseconds(500), [this] { return m_done; })) return;
  while (!m_done) {
    std::string line = "reading: " + side("image", m_image);
    if (m_container) line += " · " + side("container", m_container);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    m_shown = true;
    m_cv.wait_for(lock, std::chrono::milliseconds(200), [this] { return m_done; });
  }
}

} // namespace cdrift
