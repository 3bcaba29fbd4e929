// Progress on stderr, only for people watching a terminal; scripts and CI logs
// never see it. A mostly sleeping thread reads the readers' atomic counters.
#pragma once

#include "cdrift/layer/progress.hpp"

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace cdrift {

class ProgressDisplay {
public:
  ProgressDisplay(Progress* image, Progress* container); // container may be null
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;
  void stop(); // clears the line; idempotent

private:
  void loop();

  Progress* m_image;
  Progress* m_container;
  bool m_enabled;
  bool m_shown = false;
  bool m_done = false;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

} // namespace cdrift
