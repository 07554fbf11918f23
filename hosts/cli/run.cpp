// `hjbtt run`: load the pipeline and its plugins, validate everything, solve the HJB equation,
// sample, post-process, and write samples.npy, solution.bin and report.json. Errors in the
// pipeline exit with status 2 before any work; failures during the run exit with 1 and leave no
// samples behind. SIGINT and SIGTERM stop a run with status 128 + the signal number, no samples
// and a report whose status is "interrupted". The solve writes checkpoints that `run --resume`
// continues from, and `hjbtt sample` samples a saved solution again without solving.
#include "run.hpp"

#include "terminal_log.hpp"

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/pipeline.hpp"
#include "hjbtt/core/premap.hpp"
#include "hjbtt/core/solution.hpp"
#include "hjbtt/core/solution_io.hpp"
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
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
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

// Monotonic time of the first signal in nanoseconds; clock_gettime is async-signal-safe.
std::atomic<long long> first_signal_nanoseconds{0};

// A repeat within this time counts as the same request: GNU timeout, for one, signals the
// process and then its process group, so a single timeout delivers SIGTERM twice.
constexpr long long duplicate_signal_window = 1'000'000'000;

long long monotonic_nanoseconds() {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void record_signal(int signal) {
  int none = 0;
  if (received_signal.compare_exchange_strong(none, signal)) {
    first_signal_nanoseconds.store(monotonic_nanoseconds());
    sem_post(&signal_semaphore);
    return;
  }
  if (monotonic_nanoseconds() - first_signal_nanoseconds.load() < duplicate_signal_window) return;

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

// Stores every accepted state in memory and in the solution file, and keeps the records as the
// report's history. With checkpoints on, it writes one whenever a trigger of the pipeline's
// "checkpoint" section fires, when a signal stops the solve and when the solve ends.
class SolutionRecorder : public IntegrationObserver {
public:
  SolutionRecorder(Solution& solution, boost::json::object& report) : solution_(solution), report_(report) {}

  // Starts recording into `writer`, after `solve_seconds` of earlier solving when resuming.
  // Checkpoints go to `file` when `options` enable them. `base` carries what every checkpoint of
  // this run repeats (pipeline, integrator name, time of the initial condition).
  void start(SolutionWriter& writer, double solve_seconds, const CheckpointOptions& options, bool integrator_resumable,
             std::filesystem::path file, Checkpoint base) {
    writer_ = &writer;
    solve_start_ = Clock::now();
    last_checkpoint_ = solve_start_;
    base_ = std::move(base);
    base_.solve_seconds = solve_seconds;
    options_ = options;
    file_ = std::move(file);
    // An integrator that cannot hand over its state still gets the checkpoint at the end of the
    // solve, so that an interrupted sampling phase need not solve again.
    stepwise_ = options.enabled && integrator_resumable;
  }

  // Continues the history and maximum rank of the solve that a checkpoint saved.
  void restore(boost::json::array history) {
    history_ = std::move(history);
    for (std::size_t i = 1; i < solution_.size(); ++i) max_rank_ = std::max(max_rank_, solution_.state(i).coefficients().max_rank());
  }

  void record_initial(const FunctionalTT& v0) {
    solution_.append(0.0, v0);
    writer_->append(0.0, v0);
  }

  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    solution_.append(record.t, v);
    writer_->append(record.t, v);
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
    ++steps_since_checkpoint_;
    // A resumable integrator calls checkpoint_due() next, and checkpoint() stops it after saving.
    if (!stepwise_) throw_if_interrupted();
  }

  bool checkpoint_due() override {
    if (!stepwise_) return false;
    if (received_signal.load()) return true;
    if (options_.every_steps > 0 && steps_since_checkpoint_ >= options_.every_steps) return true;
    return options_.every_seconds > 0.0 && seconds_since(last_checkpoint_) >= options_.every_seconds;
  }

  void checkpoint(const IntegratorState& state) override {
    write(state, false);
    throw_if_interrupted();
  }

  // Writes the checkpoint that lets a resumed run skip the solve.
  void solve_finished() {
    if (options_.enabled) write(IntegratorState(), true);
  }

  double solve_seconds() const { return base_.solve_seconds + seconds_since(solve_start_); }
  bool checkpoint_written() const { return checkpoint_written_; }
  double checkpoint_time() const { return checkpoint_time_; }
  const std::filesystem::path& checkpoint_file() const { return file_; }
  boost::json::array& history() { return history_; }
  arma::uword max_rank() const { return max_rank_; }

private:
  void write(const IntegratorState& state, bool solve_complete) {
    Checkpoint checkpoint = base_;
    checkpoint.solution_states = writer_->states();
    checkpoint.solution_bytes = writer_->flush();
    checkpoint.solve_complete = solve_complete;
    checkpoint.solve_seconds = solve_seconds();
    boost::json::object entries;
    entries["history"] = history_;
    if (const auto* initial = report_.if_contains("initial_condition")) entries["initial_condition"] = *initial;
    checkpoint.report = boost::json::serialize(entries);
    checkpoint.integrator_state = state;
    write_checkpoint(file_, checkpoint);

    last_checkpoint_ = Clock::now();
    steps_since_checkpoint_ = 0;
    checkpoint_written_ = true;
    checkpoint_time_ = solution_.final_time();
  }

  Solution& solution_;
  boost::json::object& report_;
  SolutionWriter* writer_ = nullptr;
  boost::json::array history_;
  arma::uword max_rank_ = 0;

  CheckpointOptions options_;
  bool stepwise_ = false;
  std::filesystem::path file_;
  Checkpoint base_;
  Clock::time_point solve_start_;
  Clock::time_point last_checkpoint_;
  std::int64_t steps_since_checkpoint_ = 0;
  bool checkpoint_written_ = false;
  double checkpoint_time_ = 0.0;
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

// Builds the initial condition v(0) = Phi, from the potential's polynomial form or by TT-cross
// interpolation as the pipeline's "initial_condition" section selects, and logs how it went. A
// cross that stopped short of its tolerance is logged with the settings that would help, since
// the run goes on with the interpolant it has.
FunctionalTT initial_condition(const Potential& potential, const BasisSet& bases, const Pipeline& pipeline,
                               const std::string& description, InitialConditionReport& report, RunLog& log) {
  FunctionalTT v0 = build_initial_condition(potential, bases, pipeline.initial_condition, description, report);
  std::string line = "potential '" + pipeline.potential.name + "' in d = " + std::to_string(v0.dimension()) +
                     ", initial TT max rank " + std::to_string(v0.coefficients().max_rank()) + " by " +
                     (report.cross ? "TT-cross" : "its polynomial form");
  if (report.cross) {
    const CrossReport& cross = *report.cross;
    line += ": " + std::to_string(cross.sweeps) + " sweeps, " + std::to_string(cross.evaluations) +
            " evaluations, relative L2 error " + format_number(cross.relative_l2_error) + " on " +
            std::to_string(cross.check_points) + " box points (" + format_number(cross.node_relative_error) +
            " on grid points), " + format_number(cross.seconds) + " s";
  }
  log.info(line);

  if (report.cross && !report.cross->converged)
    log.info("warning: TT-cross stopped after " + std::to_string(report.cross->sweeps) +
             " sweeps with a relative change of " + format_number(report.cross->sweep_change) + " above its tolerance " +
             format_number(pipeline.initial_condition.cross.tolerance) +
             (report.cross->rank_capped ? "; the rank reached /initial_condition/max_rank, so raise it"
                                        : "; raise /initial_condition/max_sweeps"));
  return v0;
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

// Checks, before any work, that the initial condition can be built: the method against the
// potential and the basis degree against a polynomial form. With the pre-map, v(0) comes from the
// whitened potential by TT-cross, so the target's polynomial form is neither used nor checked.
void check_initial_condition_inputs(const Pipeline& pipeline, const RunObjects& run, const std::string& description) {
  if (pipeline.premap.enabled) {
    check_premap(pipeline.premap, *run.potential, pipeline.initial_condition);
    return;
  }
  check_polynomial_form(*run.potential, run.bases, description);
  check_initial_condition(*run.potential, run.bases, pipeline.initial_condition);
}

// Finds the pre-map of "domain": "auto" and logs it. A run computes it before the initial
// condition, and `hjbtt sample` and --resume compute it again from the saved pipeline.
// NOTE: the map is derived again rather than read back. The search is deterministic, so the same
// build and potential plugin give the same map, but a changed potential plugin would change it
// without notice.
Premap derive_premap(const Pipeline& pipeline, const Potential& target, const std::string& description, RunLog& log) {
  Premap premap = find_premap(target, pipeline.premap, description);
  const arma::vec scales = arma::sqrt(arma::diagvec(premap.cholesky * premap.cholesky.t()));
  std::string mode = "(";
  for (arma::uword k = 0; k < premap.mode.n_elem && k < 6; ++k)
    mode += (k ? ", " : "") + format_number(premap.mode(k)) + " +- " + format_number(scales(k));
  mode += premap.mode.n_elem > 6 ? ", ...)" : ")";
  log.info("pre-map: mode " + mode + " after " + std::to_string(premap.iterations) + " Newton iterations (decrement " +
           format_number(premap.newton_decrement) + "), whitened box [-" + format_number(premap.width) + ", " +
           format_number(premap.width) + "], " + format_number(premap.seconds) + " s");
  return premap;
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
    std::fprintf(stderr, "hjbtt: %s received, stopping the run (send it again after a second to stop at once)\n", signal_name(signal));
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
  if (directory_has_files(out) && !options.force && !options.resume) {
    const bool interrupted = std::filesystem::exists(out / "checkpoint.bin", error);
    const std::string hint = interrupted ? " (it contains the checkpoint of an unfinished run: pass --resume to continue that run)" : "";
    throw ConfigurationError("", "output folder " + out.string() +
                                     " is not empty; choose another --out or pass --force to replace its results" + hint);
  }
  std::filesystem::create_directories(out, error);
  if (error)
    throw ConfigurationError("", "cannot create output folder " + out.string() + ": " + error.message() + "; choose another --out");
  for (const char* name : {"samples.npy", "report.json", "solution.bin"})
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

// The pipeline document with plugin_paths made absolute, as solution files and checkpoints store
// it. `hjbtt sample` then finds the plugins from any working folder, and a resume compares the
// folders that are actually searched.
boost::json::object resolved_document(const Pipeline& pipeline) {
  boost::json::object document = pipeline.document;
  if (document.contains("plugin_paths")) {
    boost::json::array paths;
    for (const auto& path : pipeline.plugin_paths)
      paths.push_back(boost::json::string(std::filesystem::absolute(path).lexically_normal().string()));
    document["plugin_paths"] = std::move(paths);
  }
  return document;
}

std::string escape_pointer_token(const std::string& token) {
  std::string out;
  for (const char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// The JSON pointer of the first place where `a` and `b` differ, or nothing when they are equal.
std::optional<std::string> first_difference(const boost::json::value& a, const boost::json::value& b, const std::string& pointer = "") {
  if (a == b) return std::nullopt;
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.as_object()) {
      const std::string child = pointer + "/" + escape_pointer_token(std::string(key));
      const auto* other = b.as_object().if_contains(key);
      if (!other) return child;
      if (auto found = first_difference(value, *other, child)) return found;
    }
    for (const auto& [key, value] : b.as_object())
      if (!a.as_object().contains(key)) return pointer + "/" + escape_pointer_token(std::string(key));
  }
  if (a.is_array() && b.is_array()) {
    const auto& x = a.as_array();
    const auto& y = b.as_array();
    const std::size_t common = std::min(x.size(), y.size());
    for (std::size_t i = 0; i < common; ++i)
      if (auto found = first_difference(x[i], y[i], pointer + "/" + std::to_string(i))) return found;
    return pointer + "/" + std::to_string(common);
  }
  return pointer;
}

// The value at `pointer` in `document` for messages, shortened when long.
std::string describe_value(const boost::json::value& document, const std::string& pointer) {
  boost::system::error_code error;
  const boost::json::value* value = document.find_pointer(pointer, error);
  if (!value) return "no value";
  std::string text = format_value(*value);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// Reads the saved solution that `hjbtt sample` names and returns the pipeline it was solved for,
// with the --set values applied. Sections that the solution depends on cannot be changed.
Pipeline load_saved_pipeline(const RunOptions& options, std::filesystem::path& file, StoredSolution& stored) {
  std::error_code error;
  file = std::filesystem::is_directory(options.solution, error) ? options.solution / "solution.bin" : options.solution;
  stored = read_solution(file);
  const std::filesystem::path base = file.parent_path();
  const Pipeline saved = parse_pipeline(stored.pipeline, base);
  Pipeline pipeline = parse_pipeline(stored.pipeline, base, options.overrides);
  pipeline.file = file;

  const boost::json::value saved_document = saved.document;
  const boost::json::value document = pipeline.document;
  for (const std::string section : {"potential", "basis", "hjb", "initial_condition", "integrator", "premap"}) {
    const boost::json::value* before = saved.document.if_contains(section);
    const boost::json::value* after = pipeline.document.if_contains(section);
    const auto where = first_difference(before ? *before : boost::json::value(), after ? *after : boost::json::value(), "/" + section);
    if (where)
      throw ConfigurationError(*where, "--set changes the " + section + " section from " + describe_value(saved_document, *where) +
                                           " to " + describe_value(document, *where) + ", but the solution in " + file.string() +
                                           " was solved with the saved section; drop this --set, or solve again with 'hjbtt run'");
  }
  return pipeline;
}

// Reads the checkpoint of an unfinished run in `output` and the solution states that it covers,
// after checking that both belong to this pipeline.
Checkpoint load_checkpoint(const std::filesystem::path& output, const std::string& resolved_pipeline, const Pipeline& pipeline,
                           const RunObjects& run, Solution& solution) {
  const std::filesystem::path file = output / "checkpoint.bin";
  std::error_code error;
  if (!std::filesystem::exists(file, error))
    throw ConfigurationError("", "--resume: " + file.string() + " does not exist, so " + output.string() +
                                     " holds no unfinished run to continue; run without --resume to start one");
  Checkpoint checkpoint = read_checkpoint(file);

  boost::system::error_code parse_error;
  boost::json::value saved = boost::json::parse(checkpoint.pipeline, parse_error);
  const boost::json::value entries = boost::json::parse(checkpoint.report, parse_error);
  if (parse_error || !saved.is_object() || !entries.is_object() || !entries.as_object().contains("history"))
    throw SolutionFileError(file.string() + ": its pipeline or report entries are not the JSON objects the format requires");

  // The checkpoint settings do not change the results, so they may differ between the runs.
  boost::json::value current = boost::json::parse(resolved_pipeline);
  saved.as_object().erase("checkpoint");
  current.as_object().erase("checkpoint");
  if (const auto where = first_difference(saved, current))
    throw ConfigurationError(*where, "--resume: the pipeline has " + describe_value(current, *where) + " here, but the checkpoint " +
                                         file.string() + " was written for " + describe_value(saved, *where) +
                                         "; resume with the same pipeline file and --set values, or start a new run with --force");
  if (!checkpoint.solve_complete && !run.integrator->resumable())
    throw ConfigurationError("/integrator", "--resume: integrator '" + pipeline.integrator.name +
                                                "' cannot resume a solve, so this run must start again; run with --force");

  const std::filesystem::path partial = output / "solution.bin.partial";
  const StoredSolution stored = read_partial_solution(partial, checkpoint.solution_bytes, checkpoint.solution_states);
  if (stored.pipeline != checkpoint.pipeline)
    throw SolutionFileError(partial.string() + ": written for another pipeline than the checkpoint " + file.string() +
                            "; start a new run with --force");
  solution = rebuild_solution(stored, run.bases, partial);
  return checkpoint;
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
  std::string potential_description;
  std::filesystem::path report_file = options.output / "report.json";

  // `hjbtt sample` loads a saved solution instead of solving, and --resume continues the solve
  // that a checkpoint in the output folder saved.
  const bool sampling_saved = !options.solution.empty();
  Solution solution;
  StoredSolution stored;
  std::filesystem::path loaded_from;
  double load_seconds = 0.0;
  std::optional<Checkpoint> checkpoint;
  std::string resolved_pipeline;
  try {
    const auto load_start = Clock::now();
    pipeline = sampling_saved ? load_saved_pipeline(options, loaded_from, stored) : load_pipeline(options.pipeline, options.overrides);
    const PluginRegistry registry = load_registry(pipeline);
    run = instantiate(pipeline, registry);
    check_initial_condition_inputs(pipeline, run, describe_potential(pipeline, registry));
    resolved_pipeline = boost::json::serialize(resolved_document(pipeline));
    if (sampling_saved) {
      solution = rebuild_solution(stored, run.bases, loaded_from);
      stored = StoredSolution();
      load_seconds = seconds_since(load_start);
    }
    if (options.resume) checkpoint = load_checkpoint(options.output, resolved_pipeline, pipeline, run, solution);

    // The initial condition was checked above, before the output folder is touched. It is built in
    // the run, because TT-cross interpolation and the pre-map's mode search are work that can fail.
    potential_description = describe_potential(pipeline, registry);

    prepare_output(options);
    // A forced rerun keeps the earlier results until the new ones are complete. If it fails, its
    // report goes beside them instead of replacing theirs.
    if (std::filesystem::exists(options.output / "samples.npy")) report_file = options.output / "report.failed.json";
  } catch (const SolutionFileError& error) {
    print_error(sampling_saved ? "invalid solution file" : "invalid checkpoint", error);
    return 2;
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
  SolutionRecorder recorder(solution, report);
  std::optional<SolutionWriter> writer;
  const std::filesystem::path solution_partial = options.output / "solution.bin.partial";

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
    if (recorder.checkpoint_written()) {
      boost::json::object saved;
      saved["file"] = recorder.checkpoint_file().string();
      saved["t"] = recorder.checkpoint_time();
      report["checkpoint"] = std::move(saved);
      if (signal)
        std::fprintf(stderr, "hjbtt: the solve up to t = %s is saved in %s; continue this run with 'hjbtt run %s --out %s --resume' "
                             "and the same --set values\n",
                     format_number(recorder.checkpoint_time()).c_str(), recorder.checkpoint_file().string().c_str(),
                     options.pipeline.string().c_str(), options.output.string().c_str());
    }
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
    auto start = Clock::now();

    // The pre-map of "domain": "auto". The solve and the sampler work in the whitened coordinates
    // z, and the samples go back to x = mu + L z before the postprocessors.
    std::optional<Premap> premap;
    if (pipeline.premap.enabled) {
      enter_phase("pre-map of potential '" + pipeline.potential.name + "' (/premap)");
      premap = derive_premap(pipeline, *run.potential, potential_description, log);
      report["premap"] = to_json(*premap);
      timings["premap"] = premap->seconds;
    }

    if (sampling_saved) {
      timings["load_solution"] = load_seconds;
      boost::json::object loaded;
      loaded["loaded_from"] = std::filesystem::absolute(loaded_from).lexically_normal().string();
      loaded["states"] = solution.size();
      loaded["final_time"] = solution.final_time();
      report["solution"] = std::move(loaded);
      log.info("loaded the solution " + loaded_from.string() + " (" + std::to_string(solution.size()) + " states up to T = " +
               format_number(solution.final_time()) + ") in " + format_number(load_seconds) + " s, so there is no solve");
    } else {
      // Every accepted state also goes to the solution file, which the results step renames.
      Checkpoint base;
      base.pipeline = resolved_pipeline;
      base.integrator = pipeline.integrator.name;
      const std::filesystem::path checkpoint_file = options.output / "checkpoint.bin";
      RunContext solve_context{pipeline.seed, 0, &log};

      if (checkpoint) {
        // The rest of an unfinished solve.
        enter_phase("solve by integrator '" + pipeline.integrator.name + "' (/integrator)");
        const boost::json::object entries = boost::json::parse(checkpoint->report).as_object();
        if (const auto* initial = entries.if_contains("initial_condition")) report["initial_condition"] = *initial;
        timings["initial_condition"] = checkpoint->initial_seconds;
        base.initial_seconds = checkpoint->initial_seconds;
        writer.emplace(solution_partial, checkpoint->solution_bytes, checkpoint->solution_states);
        recorder.start(*writer, checkpoint->solve_seconds, pipeline.checkpoint, run.integrator->resumable(), checkpoint_file, base);
        recorder.restore(entries.at("history").as_array());

        boost::json::object resumed;
        resumed["checkpoint"] = std::filesystem::absolute(checkpoint_file).lexically_normal().string();
        resumed["t"] = solution.final_time();
        resumed["states"] = solution.size();
        resumed["solve_complete"] = checkpoint->solve_complete;
        report["resumed_from"] = std::move(resumed);
        log.info("resuming from the checkpoint at t = " + format_number(solution.final_time()) + " (" + std::to_string(solution.size()) +
                 " states" + (checkpoint->solve_complete ? ", the solve had finished)" : ")"));
        if (!checkpoint->solve_complete)
          run.integrator->resume(solution.state(solution.size() - 1), solution.final_time(), pipeline.final_time,
                                 checkpoint->integrator_state, recorder, solve_context);
      } else {
        // Initial condition.
        enter_phase("initial condition of potential '" + pipeline.potential.name + "' (/potential)");
        start = Clock::now();
        InitialConditionReport initial_report;
        std::shared_ptr<const Potential> initial_potential = run.potential;
        std::string initial_description = potential_description;
        if (premap) {
          initial_potential = std::make_shared<WhitenedPotential>(run.potential, *premap);
          initial_description += " in whitened coordinates";
        }
        v0 = initial_condition(*initial_potential, run.bases, pipeline, initial_description, initial_report, log);
        timings["initial_condition"] = seconds_since(start);
        report["initial_condition"] = to_json(initial_report);
        base.initial_seconds = seconds_since(start);

        // HJB solve. A checkpoint left by an earlier run in a forced output folder is stale now.
        enter_phase("solve by integrator '" + pipeline.integrator.name + "' (/integrator)");
        std::filesystem::remove(checkpoint_file);
        writer.emplace(solution_partial, resolved_pipeline, v0.dimension());
        recorder.start(*writer, 0.0, pipeline.checkpoint, run.integrator->resumable(), checkpoint_file, base);
        recorder.record_initial(v0);
        if (pipeline.checkpoint.enabled && !run.integrator->resumable())
          log.info("integrator '" + pipeline.integrator.name + "' cannot hand over its state, so only the end of the solve is checkpointed");
        run.integrator->integrate(v0, 0.0, pipeline.final_time, recorder, solve_context);
      }
      recorder.solve_finished();
      writer->finish();
      timings["solve"] = recorder.solve_seconds();
      report["history"] = std::move(recorder.history());
      log.info("solved to T = " + std::to_string(pipeline.final_time) + " in " + std::to_string(solution.size() - 1) +
               " steps, max rank " + std::to_string(recorder.max_rank()) + ", " + std::to_string(recorder.solve_seconds()) + " s");
    }

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
    if (premap) {
      samples = map_to_target(*premap, samples);
      log.info("mapped the samples from the whitened coordinates back to x = mu + L z");
    }

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
    if (writer) {
      std::filesystem::rename(solution_partial, options.output / "solution.bin");
      boost::json::object saved;
      saved["file"] = (options.output / "solution.bin").string();
      saved["states"] = solution.size();
      report["solution"] = std::move(saved);
    }
    timings["write"] = seconds_since(start);
    timings["total"] = seconds_since(run_start);
    report["timings"] = timings;
    report["status"] = "complete";
    write_text_atomically(options.output / "report.json", boost::json::serialize(report));
    std::filesystem::remove(options.output / "report.failed.json");
    std::filesystem::remove(options.output / "checkpoint.bin");

    std::cout << "samples:  " << (options.output / "samples.npy").string() << " (" << samples.n_cols << " x " << samples.n_rows
              << ", float64)\nreport:   " << (options.output / "report.json").string() << "\n";
    if (writer) std::cout << "solution: " << (options.output / "solution.bin").string() << "\n";
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
    // Checks the initial condition as run does before any work, without running a TT-cross or
    // the pre-map's mode search.
    check_initial_condition_inputs(pipeline, run, describe_potential(pipeline, registry));
    std::cout << options.pipeline.string() << ": valid (potential '" << pipeline.potential.name << "' in d = "
              << run.potential->dimension() << ", " << run.postprocessors.size() << " postprocessors"
              << (pipeline.premap.enabled ? ", automatic pre-map" : "") << ")\n";
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
