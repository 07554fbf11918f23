// The run context every phase gets from the host: the seed all random streams derive from,
// and a log for the few lines a user needs to follow a long run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace hjbtt {

class RunLog {
public:
  virtual ~RunLog() = default;
  // One line for a decision or phase the user would want to see (a degree change, a phase end).
  virtual void info(const std::string& message) = 0;
  // Progress of the current phase in [0, 1]; shown on a terminal, throttled otherwise.
  virtual void progress(const std::string& phase, double fraction, const std::string& detail) = 0;
};

struct RunContext {
  std::uint64_t seed = 0;
  // Distinguishes the random streams of different phases (sampler, each postprocessor) that
  // share one seed: a phase keys its streams as RandomStream(seed, {phase, block, ...}).
  std::uint64_t phase = 0;
  RunLog* log = nullptr;
};

// Samples are processed in blocks of this many columns, each with its own random stream, so a
// run gives the same numbers however blocks are spread over threads.
constexpr unsigned long long sample_block_size = 4096;

}  // namespace hjbtt
