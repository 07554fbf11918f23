// The run log of the command-line host: one line per decision or finished phase, and progress
// that redraws one line on a terminal and prints every tenth of a phase otherwise.
#pragma once

#include "hjbtt/run_context.hpp"

#include <string>

namespace hjbtt::cli {

class TerminalLog : public RunLog {
public:
  TerminalLog();
  void info(const std::string& message) override;
  void progress(const std::string& phase, double fraction, const std::string& detail) override;
  void finish_progress();

private:
  bool terminal_ = false;
  bool line_open_ = false;
  std::string phase_;
  int last_tenth_ = -1;
};

}  // namespace hjbtt::cli
