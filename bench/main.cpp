// hjbtt_bench: performance measurements of the tensor-train core, the HJB right-hand side and
// the sampler. Output is JSON Lines: a "context" object, a "dgemm" object, then one object per
// case. docs/performance.md describes the cases and records results; scripts/bench.sh runs
// every subcommand with the thread settings used there.
#include "subcommands.hpp"

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

using hjbtt::bench::RunOptions;

constexpr const char* usage =
    "usage: hjbtt_bench SUBCOMMAND [options]\n"
    "\n"
    "subcommands:\n"
    "  round      TensorTrain::round, rank 2r to r, d in {10,20,40}, n in {5,9}, r in {8,16,32}\n"
    "  rhs        HjbOperator::evaluate, Euler retraction and spectral_radius at d=20 r=8 and d=10 r=16\n"
    "  gradient   FunctionalTT::gradient at d=20, n=9, r in {4,8,16,32}, 20000 points\n"
    "  sampler    reverse-SDE point-steps per second on the gaussian-20 solution\n"
    "  linear-d   HjbOperator::evaluate at r=8, n=5, d in {10,20,40,80}, with the fitted exponent in d\n"
    "\n"
    "options:\n"
    "  --repeats N        minimum timed runs per case, median reported (default 5); cases under\n"
    "                     0.2 s in total keep repeating up to 50 runs\n"
    "  --budget SECONDS   stop repeating a case once its runs exceed this time (default 60)\n"
    "  --filter TEXT      run only the cases whose label contains TEXT, e.g. rhs/evaluate/d20\n"
    "  --threads LIST     comma-separated OpenMP thread counts for `sampler` (default 1,2)\n"
    "  --no-dgemm         skip the DGEMM reference measurement (for profiling one case)\n";

[[noreturn]] void fail_usage(const std::string& message) {
  std::cerr << "hjbtt_bench: " << message << "\n\n" << usage;
  std::exit(2);
}

double parse_number(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(value > 0.0)) fail_usage(option + " expects a positive number, got '" + text + "'");
  return value;
}

std::vector<int> parse_threads(const std::string& text) {
  std::vector<int> threads;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const double count = parse_number("--threads", item);
    if (count != static_cast<int>(count)) fail_usage("--threads expects whole numbers, got '" + item + "'");
    threads.push_back(static_cast<int>(count));
  }
  if (threads.empty()) fail_usage("--threads expects a comma-separated list such as 1,2");
  return threads;
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, std::function<void(const RunOptions&, double)>> subcommands = {
      {"round", hjbtt::bench::run_round},       {"rhs", hjbtt::bench::run_rhs},
      {"gradient", hjbtt::bench::run_gradient}, {"sampler", hjbtt::bench::run_sampler},
      {"linear-d", hjbtt::bench::run_linear_d},
  };

  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << usage;
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  const auto subcommand = subcommands.find(name);
  if (subcommand == subcommands.end()) fail_usage("unknown subcommand '" + name + "'");

  RunOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string option = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) fail_usage(option + " expects a value");
      return argv[++i];
    };
    if (option == "--repeats") {
      const double repeats = parse_number(option, next());
      if (repeats != static_cast<int>(repeats)) fail_usage("--repeats expects a whole number");
      options.repeats = static_cast<int>(repeats);
    } else if (option == "--budget") {
      options.budget_seconds = parse_number(option, next());
    } else if (option == "--filter") {
      options.filter = next();
    } else if (option == "--threads") {
      options.threads = parse_threads(next());
    } else if (option == "--no-dgemm") {
      options.measure_dgemm = false;
    } else {
      fail_usage("unknown option '" + option + "'");
    }
  }

  hjbtt::bench::emit(hjbtt::bench::run_context(name));
  const double dgemm_gflops = options.measure_dgemm ? hjbtt::bench::measure_dgemm(options) : 0.0;
  try {
    subcommand->second(options, dgemm_gflops);
  } catch (const std::exception& error) {
    std::cerr << "hjbtt_bench " << name << ": " << error.what() << '\n';
    return 1;
  }
  return 0;
}
