// `hjbtt run`: load the pipeline and its plugins, validate everything, solve the HJB equation,
// sample, post-process, and write samples.npy and report.json. Errors in the pipeline exit with
// status 2 before any work; failures during the run exit with 1 and leave no samples behind.
// SIGINT and SIGTERM stop a run with status 128 + the signal number, no samples and a report
// whose status is "interrupted".
#include "run.hpp"

#include "terminal_log.hpp"

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/pipeline.hpp"
#include "hjbtt/core/solution.hpp"
#include "hjbtt/errors.hpp"

#include <boost/json.hpp>
#include <boost/version.hpp>

#include <semaphore.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#ifndef HJBTT_VERSION
#define HJBTT_VERSION "unknown"
#endif

// OpenBLAS's own threads would compete with the OpenMP threads that process sample blocks.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace hjbtt::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

PluginRegistry load_registry(const Pipeline& pipeline) {
  PluginRegistry registry;
  for (const auto& directory : pipeline.plugin_paths) registry.load_directory(directory);
  for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
  return registry;
}

boost::json::array to_json(const std::vector<arma::uword>& values) {
  boost::json::array out;
  for (auto v : values) out.push_back(static_cast<std::uint64_t>(v));
  return out;
}

boost::json::object versions() {
  boost::json::object v;
  v["hjbtt"] = HJBTT_VERSION;
  v["abi"] = HJBTT_ABI_TAG;
  v["armadillo"] = arma::arma_version::as_string();
  v["boost"] = BOOST_LIB_VERSION;
  v["pipeline_format"] = pipeline_format_version;
  return v;
}

// Interruption. The signal handler only records the signal and posts a semaphore, both of which
// are async-signal-safe. The solve checks the record after every accepted step and unwinds with
// Interrupted, so its report keeps the history up to the signal. Sampling and postprocessing run
// inside the plugins' parallel loops, which have no point at which the host could stop them, so
// InterruptWatch ends the process itself when the run has not stopped within a grace period.
std::atomic<int> received_signal{0};
sem_t signal_semaphore;

void record_signal(int signal) {
  int none = 0;
  if (received_signal.compare_exchange_strong(none, signal)) {
    sem_post(&signal_semaphore);
    return;
  }
  // A second signal ends the process at once, as it would without the handler.
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

class Interrupted : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

const char* signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "a signal";
}

// The exit status of an interrupted run, the one shells report for a process a signal ended.
int interrupted_status(int signal) { return 128 + signal; }

void throw_if_interrupted() {
  if (const int signal = received_signal.load()) throw Interrupted(std::string("interrupted by ") + signal_name(signal));
}

// Stores every accepted state and its record; the records become the report's history.
class SolutionRecorder : public IntegrationObserver {
public:
  explicit SolutionRecorder(Solution& solution) : solution_(solution) {}

  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    solution_.append(record.t, v);
    boost::json::object step;
    step["t"] = record.t;
    step["tau"] = record.step;
    step["ranks"] = to_json(record.ranks);
    step["degrees"] = to_json(record.degrees);
    step["projection_error"] = record.projection_error;
    step["retraction_error"] = record.retraction_error;
    step["stiffness"] = record.stiffness;
    step["rejected"] = record.rejected;
    history_.push_back(std::move(step));
    max_rank_ = std::max(max_rank_, v.coefficients().max_rank());
    throw_if_interrupted();
  }

  boost::json::array& history() { return history_; }
  arma::uword max_rank() const { return max_rank_; }

private:
  Solution& solution_;
  boost::json::array history_;
  arma::uword max_rank_ = 0;
};

void write_text_atomically(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text << '\n';
    if (!out) throw std::runtime_error("writing " + partial.string() + " failed");
  }
  std::filesystem::rename(partial, file);
}

// Builds the initial condition v(0) = Phi from the potential's exact polynomial form.
FunctionalTT initial_condition(const Potential& potential, const BasisSet& bases, double tolerance) {
  const auto polynomial = potential.polynomial();
  if (!polynomial)
    throw ConfigurationError("/potential", "this potential has no polynomial form; black-box potentials need TT-cross "
                                           "interpolation, which this version does not implement yet");
  const auto degree = polynomial_degrees(*polynomial, potential.dimension());
  for (std::size_t k = 0; k < degree.size(); ++k)
    if (degree[k] > bases[k]->degree())
      throw ConfigurationError("/basis/params/degree", "the potential has degree " + std::to_string(degree[k]) + " in x_" +
                                                           std::to_string(k + 1) + " but the basis has degree " +
                                                           std::to_string(bases[k]->degree()) + "; raise the degree to at least " +
                                                           std::to_string(degree[k]));
  return ftt_from_polynomial(*polynomial, bases, tolerance);
}

// Evaluates sum_j c(j) x^j at every entry of x by Horner's rule.
arma::rowvec evaluate_power_series(const arma::vec& c, const arma::rowvec& x) {
  arma::rowvec y(x.n_elem, arma::fill::zeros);
  for (arma::uword j = c.n_elem; j-- > 0;) y = y % x + c(j);
  return y;
}

arma::vec derivative_coefficients(const arma::vec& c) {
  arma::vec derivative(std::max<arma::uword>(c.n_elem, 2) - 1, arma::fill::zeros);
  for (arma::uword j = 1; j < c.n_elem; ++j) derivative(j - 1) = static_cast<double>(j) * c(j);
  return derivative;
}

// Value and gradient of a separable polynomial at the columns of X, evaluated directly rather
// than through the rounded tensor train, so the comparison below does not depend on
// hjb.initial_tolerance.
void evaluate_polynomial(const SeparablePolynomial& polynomial, const arma::mat& X, arma::rowvec& value, arma::mat& gradient) {
  value.zeros(X.n_cols);
  gradient.zeros(X.n_rows, X.n_cols);
  for (const SeparableTerm& term : polynomial) {
    std::vector<arma::rowvec> factors;
    for (const PolynomialFactor& factor : term.factors)
      factors.push_back(evaluate_power_series(factor.coefficients, X.row(factor.coordinate)));

    arma::rowvec product(X.n_cols, arma::fill::value(term.weight));
    for (const arma::rowvec& f : factors) product %= f;
    value += product;

    for (std::size_t i = 0; i < factors.size(); ++i) {
      arma::rowvec others(X.n_cols, arma::fill::value(term.weight));
      for (std::size_t l = 0; l < factors.size(); ++l)
        if (l != i) others %= factors[l];
      const PolynomialFactor& factor = term.factors[i];
      gradient.row(factor.coordinate) += others % evaluate_power_series(derivative_coefficients(factor.coefficients), X.row(factor.coordinate));
    }
  }
}

std::string format_point(const arma::vec& x) {
  std::string out = "(";
  for (arma::uword k = 0; k < x.n_elem && k < 8; ++k) out += (k ? ", " : "") + format_number(x(k));
  return out + (x.n_elem > 8 ? ", ...)" : ")");
}

// Compares value() and gradient() with the potential's polynomial form at random points of the
// basis box. The solve starts from the polynomial form while the Langevin corrector calls value()
// and gradient(), so a plugin whose two forms disagree would have its samples corrected towards
// another target. The shipped potentials agree with their polynomial forms to 1e-15 relative on
// the bundled examples. The tolerance 1e-6 leaves room for potentials that evaluate Phi less
// accurately, and a wrong coefficient is still off by far more.
// NOTE: 64 points find a defect on a sizeable part of the box, not one confined to a small region.
void check_polynomial_form(const Potential& potential, const BasisSet& bases, const std::string& description) {
  const auto polynomial = potential.polynomial();
  if (!polynomial) return;
  polynomial_degrees(*polynomial, potential.dimension());  // rejects coordinates beyond the dimension

  const arma::uword d = potential.dimension();
  const arma::uword points = 64;
  RandomStream random(0, {0x636865636bULL});
  arma::mat X(d, points);
  for (arma::uword j = 0; j < points; ++j)
    for (arma::uword k = 0; k < d; ++k) X(k, j) = bases[k]->lower() + (bases[k]->upper() - bases[k]->lower()) * random.uniform();

  arma::rowvec exact_value;
  arma::mat exact_gradient;
  evaluate_polynomial(*polynomial, X, exact_value, exact_gradient);
  const arma::rowvec value = potential.value(X);
  const arma::mat gradient = potential.gradient(X);
  if (value.n_elem != points || gradient.n_rows != d || gradient.n_cols != points)
    throw ConfigurationError("/potential", description + " returned value() or gradient() of the wrong size for " +
                                               std::to_string(points) + " points in d = " + std::to_string(d) + "; fix the plugin");

  const double value_tolerance = 1e-6 * (1.0 + arma::abs(exact_value).max());
  const double gradient_tolerance = 1e-6 * (1.0 + arma::abs(exact_gradient).max());
  for (arma::uword j = 0; j < points; ++j) {
    const bool value_agrees = std::abs(value(j) - exact_value(j)) <= value_tolerance;
    const bool gradient_agrees = arma::abs(gradient.col(j) - exact_gradient.col(j)).max() <= gradient_tolerance;
    if (value_agrees && gradient_agrees) continue;

    const std::string found = value_agrees ? "gradient() returns " + format_point(gradient.col(j)) + " and its polynomial form gives " +
                                                 format_point(exact_gradient.col(j))
                                           : "value() returns " + format_number(value(j)) + " and its polynomial form gives " +
                                                 format_number(exact_value(j));
    throw ConfigurationError("/potential", description + " contradicts its own polynomial form at x = " + format_point(X.col(j)) +
                                               " in the basis box: " + found +
                                               ". The solve starts from the polynomial form and the Langevin corrector "
                                               "calls value() and gradient(), so the two must agree on the whole box; fix the plugin.");
  }
}

void print_error(const char* prefix, const std::exception& error) {
  std::fprintf(stderr, "hjbtt: %s: %s\n", prefix, error.what());
}

// Waits for SIGINT or SIGTERM during a run, and ends the process when the run has not stopped
// within interrupt_grace_period after the signal, writing a report with status "interrupted".
// The main thread writes its results under finish(), so the watchdog never cuts them off halfway.
class InterruptWatch {
public:
  static constexpr std::chrono::seconds interrupt_grace_period{3};

  InterruptWatch(std::filesystem::path report_file, boost::json::object report)
      : report_file_(std::move(report_file)), report_(std::move(report)) {
    // Initialised once, because a handler from an earlier run may still be posting to it.
    static const bool initialised = sem_init(&signal_semaphore, 0, 0) == 0;
    if (!initialised) throw std::runtime_error("sem_init failed; cannot watch for SIGINT and SIGTERM");
    thread_ = std::thread([this] { watch(); });
    install(SIGINT, previous_interrupt_);
    install(SIGTERM, previous_terminate_);
  }

  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  ~InterruptWatch() {
    sigaction(SIGINT, &previous_interrupt_, nullptr);
    sigaction(SIGTERM, &previous_terminate_, nullptr);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    finished_changed_.notify_all();
    sem_post(&signal_semaphore);
    thread_.join();
  }

  // Sets the phase that the watchdog's report names, and the report of the phases before it.
  void enter(const std::string& phase, const boost::json::object& report) {
    std::lock_guard<std::mutex> lock(mutex_);
    phase_ = phase;
    report_ = report;
  }

  // Locks out the watchdog for good; the caller writes its output files while it holds the lock.
  std::unique_lock<std::mutex> finish() {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_ = true;
    return lock;
  }

private:
  static void install(int signal, struct sigaction& previous) {
    struct sigaction action {};
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(signal, &action, &previous);
    // A signal the parent ignores, as a non-interactive shell does SIGINT for background jobs,
    // stays ignored.
    if (previous.sa_handler == SIG_IGN) sigaction(signal, &previous, nullptr);
  }

  void watch() {
    while (sem_wait(&signal_semaphore) != 0 && errno == EINTR) {
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (finished_) return;
    const int signal = received_signal.load();
    std::fprintf(stderr, "hjbtt: %s received, stopping the run (send it again to stop at once)\n", signal_name(signal));
    if (finished_changed_.wait_for(lock, interrupt_grace_period, [this] { return finished_; })) return;

    const std::string message = std::string("interrupted by ") + signal_name(signal) + " in " + phase_ +
                                ", which cannot stop between its steps, so the process was ended " +
                                std::to_string(interrupt_grace_period.count()) + " s after the signal";
    report_["status"] = "interrupted";
    report_["signal"] = signal_name(signal);
    report_["phase"] = phase_;
    report_["error"] = message;
    try {
      write_text_atomically(report_file_, boost::json::serialize(report_));
    } catch (const std::exception& error) {
      print_error("could not write the report of the interrupted run", error);
    }
    std::fprintf(stderr, "hjbtt: %s; no samples were written\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(interrupted_status(signal));
  }

  std::filesystem::path report_file_;
  boost::json::object report_;
  std::mutex mutex_;
  std::condition_variable finished_changed_;
  bool finished_ = false;
  std::string phase_ = "the start of the run";
  std::thread thread_;
  struct sigaction previous_interrupt_ {};
  struct sigaction previous_terminate_ {};
};

bool directory_has_files(const std::filesystem::path& directory) {
  std::error_code error;
  return std::filesystem::is_directory(directory, error) && !std::filesystem::is_empty(directory, error);
}

// Creates the output folder and checks that results can be written there, so that a bad --out
// is reported before any work rather than after it.
void prepare_output(const RunOptions& options) {
  const std::filesystem::path& out = options.output;
  if (out.empty()) throw ConfigurationError("", "--out is empty; give an output folder");
  std::error_code error;
  if (std::filesystem::exists(out, error) && !std::filesystem::is_directory(out, error))
    throw ConfigurationError("", "--out " + out.string() + " exists and is not a folder; choose another --out");
  if (directory_has_files(out) && !options.force)
    throw ConfigurationError("", "output folder " + out.string() +
                                     " is not empty; choose another --out or pass --force to replace its results");
  std::filesystem::create_directories(out, error);
  if (error)
    throw ConfigurationError("", "cannot create output folder " + out.string() + ": " + error.message() + "; choose another --out");
  for (const char* name : {"samples.npy", "report.json"})
    if (std::filesystem::is_directory(out / name, error))
      throw ConfigurationError("", (out / name).string() + " is a folder; remove it or choose another --out");

  const std::filesystem::path probe = out / ".hjbtt-write-check";
  {
    std::ofstream test(probe, std::ios::trunc);
    test << "hjbtt";
    if (!test) throw ConfigurationError("", "output folder " + out.string() + " is not writable; choose another --out");
  }
  std::filesystem::remove(probe, error);
}


}  // namespace

// The potential as messages name it: plugin name and library file.
std::string describe_potential(const Pipeline& pipeline, const PluginRegistry& registry) {
  const RegisteredPlugin& plugin = registry.find(PluginKind::potential, pipeline.potential.name, "/potential/plugin");
  return "potential '" + pipeline.potential.name + "' (" + plugin.library.string() + ")";
}

int run_command(const RunOptions& options) {
  TerminalLog log;
  boost::json::object report;
  report["status"] = "running";
  report["versions"] = versions();
  boost::json::object timings;

  Pipeline pipeline;
  RunObjects run;
  FunctionalTT v0;
  double initial_seconds = 0.0;
  std::filesystem::path report_file = options.output / "report.json";
  try {
    pipeline = load_pipeline(options.pipeline, options.overrides);
    const PluginRegistry registry = load_registry(pipeline);
    run = instantiate(pipeline, registry);
    check_polynomial_form(*run.potential, run.bases, describe_potential(pipeline, registry));

    // The initial condition also checks the basis degree against the potential, so it is built
    // before the output folder is touched.
    const auto start = Clock::now();
    v0 = initial_condition(*run.potential, run.bases, pipeline.initial_tolerance);
    initial_seconds = seconds_since(start);

    prepare_output(options);
    // A forced rerun keeps the earlier results until the new ones are complete. If it fails, its
    // report goes beside them instead of replacing theirs.
    if (std::filesystem::exists(options.output / "samples.npy")) report_file = options.output / "report.failed.json";
  } catch (const ConfigurationError& error) {
    print_error("invalid pipeline", error);
    return 2;
  } catch (const PluginLoadError& error) {
    print_error("plugin error", error);
    return 2;
  } catch (const std::exception& error) {
    print_error("error", error);
    return 2;
  }

  report["pipeline"] = pipeline.document;
  report["seed"] = pipeline.seed;
  if (openblas_set_num_threads) openblas_set_num_threads(1);

  const auto run_start = Clock::now();
  Solution solution;
  SolutionRecorder recorder(solution);

  // Every message about a failure names the phase, so the user knows which plugin to look at.
  InterruptWatch watch(report_file, report);
  std::string phase;
  const auto enter_phase = [&](const std::string& name) {
    phase = name;
    watch.enter(name, report);
    throw_if_interrupted();
  };

  // Writes the report of a run that failed or was interrupted, and returns the exit status.
  const auto run_attempt_ended = [&](const std::string& what, bool configuration_error) {
    log.finish_progress();
    auto lock = watch.finish();
    const int signal = received_signal.load();
    if (signal) {
      std::fprintf(stderr, "hjbtt: run interrupted by %s in %s; no samples were written\n", signal_name(signal), phase.c_str());
      report["status"] = "interrupted";
      report["signal"] = signal_name(signal);
    } else {
      std::fprintf(stderr, "hjbtt: %s in %s: %s\n", configuration_error ? "invalid pipeline" : "run failed", phase.c_str(),
                   what.c_str());
      report["status"] = "failed";
    }
    report["phase"] = phase;
    report["error"] = what;
    timings["total"] = seconds_since(run_start);
    report["timings"] = timings;
    try {
      write_text_atomically(report_file, boost::json::serialize(report));
      if (report_file.filename() != "report.json")
        std::fprintf(stderr, "hjbtt: the earlier results in %s are unchanged; this run's report is %s\n",
                     options.output.string().c_str(), report_file.string().c_str());
    } catch (const std::exception& write_error) {
      print_error("could not write the report", write_error);
    }
    if (signal) return interrupted_status(signal);
    return configuration_error ? 2 : 1;
  };

  try {
    // Initial condition.
    enter_phase("initial condition of potential '" + pipeline.potential.name + "' (/potential)");
    auto start = Clock::now();
    timings["initial_condition"] = initial_seconds;
    log.info("potential '" + pipeline.potential.name + "' in d = " + std::to_string(v0.dimension()) +
             ", initial TT max rank " + std::to_string(v0.coefficients().max_rank()));

    // HJB solve.
    enter_phase("solve by integrator '" + pipeline.integrator.name + "' (/integrator)");
    start = Clock::now();
    solution.append(0.0, v0);
    RunContext solve_context{pipeline.seed, 0, &log};
    run.integrator->integrate(v0, 0.0, pipeline.final_time, recorder, solve_context);
    timings["solve"] = seconds_since(start);
    report["history"] = std::move(recorder.history());
    log.info("solved to T = " + std::to_string(pipeline.final_time) + " in " + std::to_string(solution.size() - 1) +
             " steps, max rank " + std::to_string(recorder.max_rank()) + ", " + std::to_string(seconds_since(start)) + " s");

    // Sampling.
    enter_phase("sampling by sampler '" + pipeline.sampler.name + "' (/sampler)");
    start = Clock::now();
    boost::json::object sampler_report;
    RunContext sample_context{pipeline.seed, 1, &log};
    arma::mat samples = run.sampler->sample(solution, sample_context, sampler_report);
    timings["sample"] = seconds_since(start);
    sampler_report["plugin"] = pipeline.sampler.name;
    report["sampler"] = std::move(sampler_report);
    log.info("drew " + std::to_string(samples.n_cols) + " samples in " + std::to_string(seconds_since(start)) + " s");

    // Post-processing chain.
    boost::json::array post_reports;
    boost::json::array post_timings;
    for (std::size_t i = 0; i < run.postprocessors.size(); ++i) {
      enter_phase("postprocessor '" + pipeline.postprocessors[i].name + "' (" + pipeline.postprocessors[i].pointer + ")");
      start = Clock::now();
      boost::json::object post_report;
      RunContext post_context{pipeline.seed, 2 + i, &log};
      run.postprocessors[i]->process(samples, *run.potential, post_context, post_report);
      post_report["plugin"] = pipeline.postprocessors[i].name;
      post_reports.push_back(std::move(post_report));
      post_timings.push_back(seconds_since(start));
    }
    timings["postprocessors"] = std::move(post_timings);
    report["postprocessors"] = std::move(post_reports);

    if (!samples.is_finite())
      throw NumericalFailure("the post-processed samples contain non-finite values; no samples were written");

    // Results. The watchdog is locked out first so that it never cuts the files off halfway; a
    // signal that arrived before still stops the run here.
    enter_phase("writing the results");
    auto lock = watch.finish();
    throw_if_interrupted();
    start = Clock::now();
    write_npy(options.output / "samples.npy", samples);
    timings["write"] = seconds_since(start);
    timings["total"] = seconds_since(run_start);
    report["timings"] = timings;
    report["status"] = "complete";
    write_text_atomically(options.output / "report.json", boost::json::serialize(report));
    std::filesystem::remove(options.output / "report.failed.json");

    std::cout << "samples: " << (options.output / "samples.npy").string() << " (" << samples.n_cols << " x " << samples.n_rows
              << ", float64)\nreport:  " << (options.output / "report.json").string() << "\n";
    return 0;
  } catch (const std::exception& error) {
    // The steps accepted before a failure show how it developed (step sizes, stiffness, norms).
    if (!report.contains("history")) report["history"] = std::move(recorder.history());
    return run_attempt_ended(error.what(), dynamic_cast<const ConfigurationError*>(&error) != nullptr);
  } catch (...) {
    if (!report.contains("history")) report["history"] = std::move(recorder.history());
    return run_attempt_ended("unknown exception: a plugin threw a value not derived from std::exception", false);
  }
}

int validate_command(const RunOptions& options) {
  try {
    const Pipeline pipeline = load_pipeline(options.pipeline, options.overrides);
    const PluginRegistry registry = load_registry(pipeline);
    const RunObjects run = instantiate(pipeline, registry);
    check_polynomial_form(*run.potential, run.bases, describe_potential(pipeline, registry));
    // Builds the initial condition as run does: it rejects potentials without a polynomial form
    // and bases of too low a degree.
    initial_condition(*run.potential, run.bases, 1e-2);
    std::cout << options.pipeline.string() << ": valid (potential '" << pipeline.potential.name << "' in d = "
              << run.potential->dimension() << ", " << run.postprocessors.size() << " postprocessors)\n";
    return 0;
  } catch (const std::exception& error) {
    print_error("invalid pipeline", error);
    return 2;
  }
}

int plugins_command() {
  try {
    PluginRegistry registry;
    for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
    for (const auto& plugin : registry.all())
      std::cout << to_string(plugin.info->kind) << "\t" << plugin.info->name << "\t" << plugin.info->version << "\t"
                << plugin.info->summary << "\t" << plugin.library.string() << "\n";
    return 0;
  } catch (const std::exception& error) {
    print_error("plugin error", error);
    return 2;
  }
}

int describe_command(const std::string& name) {
  try {
    PluginRegistry registry;
    for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
    bool found = false;
    std::vector<std::string> all;
    for (const auto& plugin : registry.all()) {
      all.push_back(plugin.info->name);
      if (plugin.info->name != name) continue;
      found = true;
      std::cout << plugin.info->name << " (" << to_string(plugin.info->kind) << ", version " << plugin.info->version
                << ")\n  " << plugin.info->summary << "\n  file: " << plugin.library.string() << "\nparameters:\n";
      for (const auto& p : plugin.info->parameters) {
        std::cout << "  " << p.name << " (" << to_string(p.type) << (p.required() ? ", required" : ", default " + format_value(p.default_value));
        if (p.minimum || p.maximum)
          std::cout << ", range [" << (p.minimum ? format_number(*p.minimum) : "-inf") << ", "
                    << (p.maximum ? format_number(*p.maximum) : "inf") << "]";
        std::cout << ")\n      " << p.description << "\n";
      }
    }
    if (!found) {
      std::string message = "no plugin named '" + name + "'";
      const std::string near = nearest_name(name, all);
      if (!near.empty()) message += "; did you mean '" + near + "'?";
      std::fprintf(stderr, "hjbtt: %s (run 'hjbtt plugins' for the list)\n", message.c_str());
      return 2;
    }
    return 0;
  } catch (const std::exception& error) {
    print_error("plugin error", error);
    return 2;
  }
}

}  // namespace hjbtt::cli
