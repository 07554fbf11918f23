#include "terminal_log.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace hjbtt::cli {

TerminalLog::TerminalLog() : terminal_(isatty(fileno(stderr)) != 0) {}

void TerminalLog::finish_progress() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
}

void TerminalLog::info(const std::string& message) {
  finish_progress();
  std::fprintf(stderr, "hjbtt: %s\n", message.c_str());
}

void TerminalLog::progress(const std::string& phase, double fraction, const std::string& detail) {
  if (phase != phase_) {
    finish_progress();
    phase_ = phase;
    last_tenth_ = -1;
  }
  const int percent = static_cast<int>(std::floor(100.0 * fraction));
  if (terminal_) {
    std::fprintf(stderr, "\r%-8s %3d%%  %s\033[K", phase.c_str(), percent, detail.c_str());
    line_open_ = true;
    if (fraction >= 1.0) finish_progress();
  } else {
    const int tenth = static_cast<int>(std::floor(10.0 * fraction));
    if (tenth == last_tenth_) return;
    last_tenth_ = tenth;
    std::fprintf(stderr, "%s %3d%%  %s\n", phase.c_str(), percent, detail.c_str());
  }
  std::fflush(stderr);
}

}  // namespace hjbtt::cli
