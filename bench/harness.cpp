// Timing, output and the DGEMM yardstick shared by all benchmark subcommands.
#include "harness.hpp"

#include <armadillo>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

namespace hjbtt::bench {

bool selected(const RunOptions& options, const std::string& label) {
  return options.filter.empty() || label.find(options.filter) != std::string::npos;
}

void emit(const boost::json::object& line) {
  // Rows measured with glibc malloc tunables carry them, so they cannot be mistaken for
  // rows of a default run when result files are merged.
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr || *tunables == '\0' || line.contains("GLIBC_TUNABLES")) {
    std::cout << boost::json::serialize(line) << '\n' << std::flush;
    return;
  }
  boost::json::object tagged = line;
  tagged["GLIBC_TUNABLES"] = tunables;
  std::cout << boost::json::serialize(tagged) << '\n' << std::flush;
}

void add_timing(boost::json::object& line, const Timing& timing) {
  line["seconds"] = timing.median_seconds;
  line["min_seconds"] = timing.min_seconds;
  line["first_seconds"] = timing.first_seconds;
  line["repeats"] = timing.repeats;
}

namespace {

boost::json::value environment_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return nullptr;
  return boost::json::string(value);
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The 1-minute load average from /proc/loadavg, or -1 where that file does not exist.
double load_average() {
  std::ifstream file("/proc/loadavg");
  double one_minute = -1.0;
  if (file) file >> one_minute;
  return one_minute;
}

}  // namespace

boost::json::object run_context(const std::string& subcommand) {
  boost::json::object line;
  line["bench"] = "context";
  line["subcommand"] = subcommand;
  line["time"] = utc_timestamp();
  line["armadillo"] = arma::arma_version::as_string();
  line["compiler"] = __VERSION__;
  line["hardware_threads"] = std::thread::hardware_concurrency();
#ifdef _OPENMP
  line["omp_max_threads"] = omp_get_max_threads();
#else
  line["omp_max_threads"] = 1;
#endif
  line["OMP_NUM_THREADS"] = environment_value("OMP_NUM_THREADS");
  line["OPENBLAS_NUM_THREADS"] = environment_value("OPENBLAS_NUM_THREADS");
  line["GLIBC_TUNABLES"] = environment_value("GLIBC_TUNABLES");
  line["load_average"] = load_average();
  return line;
}

double measure_dgemm(const RunOptions& options, unsigned long long n) {
  // The matrices are never freed before exit. glibc malloc raises its mmap and trim thresholds
  // when a large mmap-ed block is freed, and with the raised thresholds the sampler later runs
  // about twice as fast, so freeing them here would change the cases measured after it.
  static arma::mat a, b, c;
  arma::arma_rng::set_seed(1);
  a.randu(n, n);
  b.randu(n, n);

  // One untimed product first, so that BLAS thread start-up and page faults on c stay out of
  // the figure.
  c = a * b;
  RunOptions dgemm_options = options;
  dgemm_options.repeats = 10;
  const Timing timing = time_median(dgemm_options, [&] { c = a * b; });
  const double flops = 2.0 * double(n) * double(n) * double(n);
  const double gflops = flops / timing.median_seconds * 1e-9;

  boost::json::object line;
  line["bench"] = "dgemm";
  line["n"] = n;
  add_timing(line, timing);
  line["gflops"] = gflops;
  line["best_gflops"] = flops / timing.min_seconds * 1e-9;  // the fastest run, least disturbed by other load
  line["check"] = c(0, 0);  // keeps the product observable
  emit(line);
  return gflops;
}

}  // namespace hjbtt::bench
