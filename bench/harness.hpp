// Benchmark harness: median wall time over a few repetitions, a DGEMM rate measured in the same
// run as the yardstick for every GFLOP/s figure, and output as one JSON object per line.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace hjbtt::bench {

// Settings shared by every subcommand, from the command line.
struct RunOptions {
  int repeats = 5;               // minimum timed runs per case, unless the budget ends them
  double budget_seconds = 60.0;  // a case stops repeating once its timed runs exceed this
  std::string filter;            // run only cases whose label contains this text
  bool measure_dgemm = true;     // off when profiling one case
  std::vector<int> threads{1, 2};  // OpenMP thread counts for the sampler
};

struct Timing {
  double median_seconds = 0.0;
  double min_seconds = 0.0;
  // The first run alone. It can be much slower than the median, because glibc malloc adapts
  // its mmap and trim thresholds to the allocations it has seen, and a program such as the
  // hjbtt host calls the sampler only once.
  double first_seconds = 0.0;
  int repeats = 0;
};

// Cases faster than this in total keep repeating (up to max_fast_repeats runs), because the
// median of a few sub-millisecond runs on a shared machine is mostly noise.
constexpr double min_total_seconds = 0.2;
constexpr int max_fast_repeats = 50;

// Times `work` at least options.repeats times, calling the untimed `setup` before each run
// (for work that consumes its input, such as rounding in place), and keeps repeating fast
// cases until min_total_seconds. At least one run is always made, and no further run starts
// once the next one would push the total past the budget.
template <class Setup, class Work>
Timing time_median(const RunOptions& options, Setup&& setup, Work&& work) {
  using clock = std::chrono::steady_clock;
  std::vector<double> seconds;
  double total = 0.0;
  const int repeats = std::max(options.repeats, 1);
  for (int done = 1;; ++done) {
    setup();
    const auto start = clock::now();
    work();
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    seconds.push_back(elapsed);
    total += elapsed;
    if (total + elapsed > options.budget_seconds) break;
    if (done >= repeats && (total >= min_total_seconds || done >= std::max(repeats, max_fast_repeats))) break;
  }

  Timing timing;
  timing.first_seconds = seconds.front();
  std::sort(seconds.begin(), seconds.end());
  const std::size_t half = seconds.size() / 2;
  timing.repeats = static_cast<int>(seconds.size());
  timing.min_seconds = seconds.front();
  timing.median_seconds = seconds.size() % 2 == 1 ? seconds[half] : 0.5 * (seconds[half - 1] + seconds[half]);
  return timing;
}

template <class Work>
Timing time_median(const RunOptions& options, Work&& work) {
  return time_median(options, [] {}, std::forward<Work>(work));
}

// True when the case label passes the --filter option.
bool selected(const RunOptions& options, const std::string& label);

// Prints one JSON object on its own line of standard output and flushes it, so a long run can
// be followed with `tail -f` and a killed run keeps the lines already written. When the
// environment sets GLIBC_TUNABLES, the line carries its value.
void emit(const boost::json::object& line);

// The machine and thread settings of this run: Armadillo and compiler versions, thread
// environment variables, OpenMP's maximum thread count and the load average (the machine may
// be shared, and a busy neighbour lowers every rate in the file).
boost::json::object run_context(const std::string& subcommand);

// Measures C = A * B for n x n matrices (2 n^3 flops) and returns GFLOP/s, the rate that the
// other figures of the run are compared with. Uses the BLAS thread count of the environment.
double measure_dgemm(const RunOptions& options, unsigned long long n = 1000);

// Adds "seconds" (the median), "min_seconds", "first_seconds" and "repeats" to a result line.
void add_timing(boost::json::object& line, const Timing& timing);

}  // namespace hjbtt::bench
