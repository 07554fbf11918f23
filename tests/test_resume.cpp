// Saved solutions and resumed solves. In process: the solution file format (round trip, every
// truncation and every corrupted byte rejected) and an explicit Euler solve stopped at a
// checkpoint and resumed from the file. Through the real host: `hjbtt sample` reproduces the
// samples of the run that saved the solution, and a run stopped by SIGTERM or SIGKILL and
// resumed with --resume reproduces the samples of an uninterrupted run bit for bit.
#include <doctest/doctest.h>

#include "explicit_euler.hpp"
#include "legendre.hpp"

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/solution_io.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace hjbtt;
using Clock = std::chrono::steady_clock;

fs::path scratch_directory(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("hjbtt-test-resume-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes a new file rather than truncating the old one. ext4 (auto_da_alloc) forces the data of a
// truncated and rewritten file to disk, which made the byte loops below take 4.5 s instead of 0.1 s.
void write_text(const fs::path& file, const std::string& text) {
  fs::remove(file);
  std::ofstream(file, std::ios::binary) << text;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool same_tensor_train(const TensorTrain& a, const TensorTrain& b) {
  if (a.dimension() != b.dimension()) return false;
  for (std::size_t k = 0; k < a.dimension(); ++k)
    if (arma::size(a.core(k)) != arma::size(b.core(k)) || !arma::approx_equal(a.core(k), b.core(k), "absdiff", 0.0))
      return false;
  return true;
}

// Phi = (x1^2 - 2)^2 + x2^2 / 2 + x1 x2 / 2: a double well coupled to a Gaussian. |grad Phi|^2
// has degree 6 in x1, so on a degree-4 basis degree adaptivity raises the degree.
FunctionalTT coupled_double_well(const BasisPtr& basis) {
  const SeparablePolynomial terms{{1.0, {{0, arma::vec{4.0, 0.0, -4.0, 0.0, 1.0}}}},
                                  {0.5, {{1, arma::vec{0.0, 0.0, 1.0}}}},
                                  {0.5, {{0, arma::vec{0.0, 1.0}}, {1, arma::vec{0.0, 1.0}}}}};
  return ftt_from_polynomial(terms, BasisSet{basis, basis}, 1e-14);
}

// On [-3, 3] up to t = 0.3 these raise the degree from 4 to 6 before the first step and to 8
// before the fourth (measured), so a solve can be stopped on either side of a raise.
ExplicitEulerOptions adaptive_options() {
  ExplicitEulerOptions options;
  options.projection_tolerance = 1e-2;
  options.max_degree = 8;
  options.degree_increment = 2;
  return options;
}

struct StopAtCheckpoint : std::exception {};

// Records every accepted state and, after `stop_after` steps, takes the checkpoint and stops the
// solve the way the host does after a signal: by throwing from checkpoint().
class Recorder : public IntegrationObserver {
public:
  explicit Recorder(std::size_t stop_after = std::numeric_limits<std::size_t>::max()) : stop_after_(stop_after) {}

  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    states.push_back(v);
    records.push_back(record);
  }
  bool checkpoint_due() override { return records.size() == stop_after_; }
  void checkpoint(const IntegratorState& state) override {
    saved = state;
    throw StopAtCheckpoint();
  }

  std::vector<FunctionalTT> states;
  std::vector<StepRecord> records;
  IntegratorState saved;

private:
  std::size_t stop_after_;
};

}  // namespace

TEST_CASE("solution file round trip") {
  const fs::path dir = scratch_directory("round-trip");
  const fs::path file = dir / "solution.bin";
  const auto basis = std::make_shared<LegendreBasis>(4, -3.0, 3.0);
  const FunctionalTT v0 = coupled_double_well(basis);
  const FunctionalTT v1 = v0.with_bases({basis->with_degree(6), basis->with_degree(6)});
  const std::string pipeline = R"({"hjbtt": 1, "seed": 3})";
  {
    SolutionWriter writer(file, pipeline, 2);
    writer.append(0.0, v0);
    writer.append(0.25, v1);
    writer.finish();
  }

  const StoredSolution stored = read_solution(file);
  CHECK(stored.pipeline == pipeline);
  CHECK(stored.dimension == 2);
  REQUIRE(stored.states.size() == 2);
  CHECK(stored.states[1].time == 0.25);
  CHECK(stored.states[1].degrees == std::vector<arma::uword>{6, 6});
  CHECK(stored.states[1].lower == std::vector<double>{-3.0, -3.0});
  CHECK(stored.states[1].upper == std::vector<double>{3.0, 3.0});
  CHECK(same_tensor_train(stored.states[0].coefficients, v0.coefficients()));
  CHECK(same_tensor_train(stored.states[1].coefficients, v1.coefficients()));

  // The rebuilt states evaluate exactly as the written ones: same coefficients on bases of the
  // same degree and domain.
  const Solution solution = rebuild_solution(stored, BasisSet{basis, basis}, file);
  const arma::mat X = {{-1.0, 0.3, 2.5}, {0.5, -2.0, 1.0}};
  CHECK(arma::approx_equal(solution.state(1).gradient(X), v1.gradient(X), "absdiff", 0.0));
  CHECK(solution.state(1).degrees() == std::vector<arma::uword>{6, 6});

  // Another domain in the pipeline's basis would give the coefficients another meaning.
  const auto wider = std::make_shared<LegendreBasis>(4, -4.0, 4.0);
  try {
    rebuild_solution(stored, BasisSet{wider, wider}, file);
    FAIL("a basis with another domain was accepted");
  } catch (const SolutionFileError& error) {
    CHECK(contains(error.what(), file.string() + ": state 1 was solved on [-3, 3] in mode 1"));
  }
}

TEST_CASE("solution file defects are rejected") {
  const fs::path dir = scratch_directory("defects");
  const fs::path file = dir / "solution.bin";
  const auto basis = std::make_shared<LegendreBasis>(4, -3.0, 3.0);
  {
    SolutionWriter writer(file, R"({"hjbtt": 1})", 2);
    writer.append(0.0, coupled_double_well(basis));
    writer.append(0.5, coupled_double_well(basis));
    writer.finish();
  }
  const std::string good = read_text(file);
  const fs::path bad = dir / "bad.bin";

  // Every truncation: each must fail with a message that names the file, and none may crash.
  for (std::size_t length = 0; length < good.size(); ++length) {
    CAPTURE(length);
    write_text(bad, good.substr(0, length));
    try {
      read_solution(bad);
      FAIL_CHECK("a truncated file was accepted");
    } catch (const SolutionFileError& error) {
      CHECK(contains(error.what(), bad.string() + ": "));
    }
  }

  // Every single corrupted byte: the FNV-1a checksums detect any one-byte change, and corrupted
  // lengths are caught before they are used.
  for (std::size_t at = 0; at < good.size(); ++at) {
    CAPTURE(at);
    std::string corrupt = good;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x5a);
    write_text(bad, corrupt);
    CHECK_THROWS_AS(read_solution(bad), SolutionFileError);
  }

  // Specific defects and their messages.
  std::string version = good;
  version[8] = 9;
  write_text(bad, version);
  CHECK_THROWS_WITH(read_solution(bad), (bad.string() + ": solution format version 9 is not supported; this build reads version 1").c_str());
  write_text(bad, "{\"hjbtt\": 1}");
  CHECK_THROWS_WITH(read_solution(bad), (bad.string() + ": not an hjbtt solution file (it does not start with 'HJBTTSOL')").c_str());
  std::string flipped = good;
  flipped[good.size() - 100] = static_cast<char>(flipped[good.size() - 100] ^ 1);
  write_text(bad, flipped);
  CHECK_THROWS_WITH(read_solution(bad), doctest::Contains("checksum mismatch in state record 2"));
  write_text(bad, good + "x");
  CHECK_THROWS_WITH(read_solution(bad), doctest::Contains("1 unexpected bytes follow the end record"));
}

TEST_CASE("explicit Euler resumes bit for bit") {
  // The solve is stopped at a checkpoint after `stop` steps and resumed from the states read back
  // from the solution file. Stops before and after the first degree raise both cover the state
  // that decides the next step: step-size guess, power-iteration direction, degrees, counters.
  const auto basis = std::make_shared<LegendreBasis>(4, -3.0, 3.0);
  const FunctionalTT v0 = coupled_double_well(basis);
  const double t_end = 0.3;

  Recorder full;
  ExplicitEuler(adaptive_options()).integrate(v0, 0.0, t_end, full, RunContext{});
  REQUIRE(full.records.size() > 20);
  // The first step after which the degree is raised: records[raise] has a higher degree.
  std::size_t raise = 1;
  while (raise < full.records.size() && full.records[raise].degrees == full.records[raise - 1].degrees) ++raise;
  REQUIRE(raise >= 2);
  REQUIRE(raise + 2 < full.records.size());

  const fs::path dir = scratch_directory("integrator");
  for (const std::size_t stop : {std::size_t(1), raise - 1, raise, raise + 1, full.records.size() - 1}) {
    CAPTURE(stop);
    Recorder first(stop);
    const fs::path file = dir / "solution.bin.partial";
    std::uint64_t bytes = 0;
    {
      SolutionWriter writer(file, "{}", 2);
      writer.append(0.0, v0);
      CHECK_THROWS_AS(ExplicitEuler(adaptive_options()).integrate(v0, 0.0, t_end, first, RunContext{}), StopAtCheckpoint);
      for (std::size_t i = 0; i < first.states.size(); ++i) writer.append(first.records[i].t, first.states[i]);
      bytes = writer.flush();
    }
    REQUIRE(first.states.size() == stop);

    const StoredSolution stored = read_partial_solution(file, bytes, stop + 1);
    const Solution solution = rebuild_solution(stored, BasisSet{basis, basis}, file);
    Recorder second;
    ExplicitEuler(adaptive_options())
        .resume(solution.state(stop), solution.final_time(), t_end, first.saved, second, RunContext{});

    REQUIRE(stop + second.records.size() == full.records.size());
    for (std::size_t i = 0; i < second.records.size(); ++i) {
      CAPTURE(i);
      const std::size_t j = stop + i;
      CHECK(second.records[i].t == full.records[j].t);
      CHECK(second.records[i].step == full.records[j].step);
      CHECK(second.records[i].stiffness == full.records[j].stiffness);
      CHECK(second.records[i].degrees == full.records[j].degrees);
      CHECK(same_tensor_train(second.states[i].coefficients(), full.states[j].coefficients()));
    }
  }
}

TEST_CASE("explicit Euler rejects a foreign checkpoint") {
  const auto basis = std::make_shared<LegendreBasis>(4, -3.0, 3.0);
  Recorder recorder;
  IntegratorState state;
  state.numbers = {{"t_begin", 0.0}, {"tau", 0.01}};
  CHECK_THROWS_WITH(ExplicitEuler(adaptive_options()).resume(coupled_double_well(basis), 0.1, 0.5, state, recorder, RunContext{}),
                    "/integrator: explicit_euler: the checkpoint has no value 'scale'; it was not written by this integrator");
}

// ---------------------------------------------------------------------------------------------
// The real host.

namespace {

struct HostResult {
  bool exited = false;  // false when a signal ended the process
  int status = -1;      // exit status when `exited`
  int signal = 0;       // the signal that ended it otherwise
  std::string output;   // stdout and stderr together
};

// The host as a child process that a test can signal. Its output goes to `log`; SIGINT and
// SIGTERM start with their default action even when the test runner ignores them.
class Host {
public:
  Host(const std::vector<std::string>& arguments, fs::path log) : log_(std::move(log)) {
    std::vector<std::string> words{HJBTT_HOST};
    words.insert(words.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    const int error = posix_spawn(&pid_, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    REQUIRE_MESSAGE(error == 0, "posix_spawn of " << argv[0] << " failed with error " << error);
  }

  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  ~Host() {
    if (running_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool running() {
    if (running_ && waitpid(pid_, &status_, WNOHANG) == pid_) running_ = false;
    return running_;
  }

  void send(int signal) { REQUIRE(kill(pid_, signal) == 0); }

  // Waits until `condition` holds; false when the host ended or `timeout` seconds passed first.
  template <class Condition>
  bool wait_until(Condition condition, double timeout) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (Clock::now() < deadline && running()) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  HostResult wait(double timeout) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      running_ = false;
      FAIL_CHECK("the host was still running after " << timeout << " s and was killed");
    }
    HostResult result;
    result.exited = WIFEXITED(status_);
    result.status = result.exited ? WEXITSTATUS(status_) : -1;
    result.signal = WIFSIGNALED(status_) ? WTERMSIG(status_) : 0;
    result.output = read_text(log_);
    return result;
  }

private:
  fs::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool running_ = true;
};

HostResult run_host(const std::vector<std::string>& arguments, const fs::path& log) { return Host(arguments, log).wait(120.0); }

// A 6-d target (a 2-d double well, a banana, a correlated Gaussian pair) whose solve takes about
// 310 steps and 0.75 s of CPU time, long enough to be stopped in the middle. Checkpoints every
// 20 steps make the first appear early.
const char* pipeline_text = R"({
  "hjbtt": 1, "seed": 11,
  "potential": {"plugin": "blocks", "params": {"blocks": [
    {"plugin": "double_well", "params": {"dimension": 2, "delta": 2.0}},
    {"plugin": "banana", "params": {"a": 1.0, "b": 0.5}},
    {"plugin": "gaussian", "params": {"mean": [0, 0], "covariance": [[1, 0.5], [0.5, 1]]}}]}},
  "basis": {"plugin": "legendre", "params": {"degree": 8, "domain": [-4, 4]}},
  "hjb": {"final_time": 5.0},
  "integrator": {"plugin": "explicit_euler"},
  "sampler": {"plugin": "reverse_sde", "params": {"samples": 1000, "steps": 50}},
  "postprocessors": [{"plugin": "langevin", "params": {"steps": 5, "step_size": 0.05}}],
  "checkpoint": {"every_steps": 20}
})";

boost::json::object read_report(const fs::path& file) { return boost::json::parse(read_text(file)).as_object(); }

// The uninterrupted run that the other host tests compare with, made once.
struct ReferenceRun {
  fs::path pipeline;
  fs::path out;
};

const ReferenceRun& reference_run() {
  static const ReferenceRun cached = [] {
    const fs::path dir = scratch_directory("reference");
    ReferenceRun r{dir / "pipeline.json", dir / "out"};
    write_text(r.pipeline, pipeline_text);
    const HostResult result = run_host({"run", r.pipeline.string(), "--out", r.out.string()}, dir / "host.log");
    INFO(result.output);
    REQUIRE(result.status == 0);
    return r;
  }();
  return cached;
}

bool same_file(const fs::path& a, const fs::path& b) { return fs::exists(a) && fs::exists(b) && read_text(a) == read_text(b); }

std::vector<double> history_times(const boost::json::object& report) {
  std::vector<double> times;
  for (const auto& step : report.at("history").as_array()) times.push_back(step.at("t").to_number<double>());
  return times;
}

// Starts the reference pipeline in `out` and stops it with `signal` after the first checkpoint,
// once `ready` holds as well.
template <class Ready>
HostResult interrupt_run(const fs::path& out, const fs::path& log, int signal, Ready ready) {
  Host host({"run", reference_run().pipeline.string(), "--out", out.string()}, log);
  const bool checkpointed = host.wait_until([&] { return fs::exists(out / "checkpoint.bin") && ready(); }, 60.0);
  REQUIRE_MESSAGE(checkpointed, "the run ended before its first checkpoint: " << read_text(log));
  host.send(signal);
  return host.wait(30.0);
}

}  // namespace

TEST_CASE("run saves a solution that sample reproduces") {
  const ReferenceRun& r = reference_run();
  CHECK(fs::exists(r.out / "solution.bin"));
  CHECK_FALSE(fs::exists(r.out / "solution.bin.partial"));
  CHECK_FALSE(fs::exists(r.out / "checkpoint.bin"));
  const auto run_report = read_report(r.out / "report.json");
  CHECK(run_report.at("solution").at("states").to_number<std::size_t>() == run_report.at("history").as_array().size() + 1);

  // The same seed gives the same samples, bit for bit, without a solve.
  const fs::path dir = scratch_directory("sample");
  const HostResult same = run_host({"sample", "--solution", r.out.string(), "--out", (dir / "same").string()}, dir / "same.log");
  INFO(same.output);
  REQUIRE(same.status == 0);
  CHECK(same_file(dir / "same" / "samples.npy", r.out / "samples.npy"));
  const auto report = read_report(dir / "same" / "report.json");
  CHECK(report.at("status").as_string() == "complete");
  CHECK(report.at("solution").at("loaded_from").as_string() == fs::absolute(r.out / "solution.bin").lexically_normal().string());
  CHECK(report.at("solution").at("states") == run_report.at("solution").at("states"));
  CHECK(report.at("timings").as_object().contains("load_solution"));
  CHECK(report.at("timings").as_object().contains("sample"));
  CHECK_FALSE(report.at("timings").as_object().contains("solve"));
  CHECK_FALSE(report.contains("history"));
  CHECK_FALSE(fs::exists(dir / "same" / "solution.bin"));

  // Another seed and sample count are allowed and change the samples.
  const HostResult other = run_host({"sample", "--solution", (r.out / "solution.bin").string(), "--out", (dir / "other").string(),
                                     "--set", "/seed=12", "--set", "/sampler/params/samples=300"},
                                    dir / "other.log");
  INFO(other.output);
  REQUIRE(other.status == 0);
  const arma::mat samples = read_npy(dir / "other" / "samples.npy");
  CHECK(samples.n_rows == 6);
  CHECK(samples.n_cols == 300);
  CHECK_FALSE(arma::approx_equal(samples, read_npy(r.out / "samples.npy").cols(0, 299), "absdiff", 1e-12));
}

TEST_CASE("sample rejects changes the solution depends on") {
  const ReferenceRun& r = reference_run();
  const fs::path dir = scratch_directory("sample-reject");
  struct Case {
    const char* set;
    const char* message;
  };
  const Case cases[] = {
      {"/basis/params/degree=6", "/basis/params/degree: --set changes the basis section from 8 to 6"},
      {"/hjb/final_time=3", "/hjb/final_time: --set changes the hjb section from 5 to 3"},
      {"/potential/params/blocks/0/params/delta=3", "/potential/params/blocks/0/params/delta: --set changes the potential section from 2 to 3"},
      {"/integrator/params/max_rank=5", "/integrator/params: --set changes the integrator section from no value to {\"max_rank\":5}"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.set);
    const HostResult result =
        run_host({"sample", "--solution", r.out.string(), "--out", (dir / "out").string(), "--set", c.set}, dir / "host.log");
    CHECK(result.status == 2);
    CHECK(contains(result.output, c.message));
    CHECK(contains(result.output, "but the solution in " + (r.out / "solution.bin").string() + " was solved with the saved section"));
    CHECK_FALSE(fs::exists(dir / "out" / "samples.npy"));
  }
}

TEST_CASE("sample rejects a damaged solution file") {
  const ReferenceRun& r = reference_run();
  const fs::path dir = scratch_directory("sample-damaged");
  const std::string good = read_text(r.out / "solution.bin");
  const fs::path file = dir / "solution.bin";
  struct Case {
    std::string name;
    std::string content;
    std::string message;
  };
  // The file ends with the last state's cores, its checksum (8 bytes) and the end record (20
  // bytes), so byte size - 30 is an entry of the last core.
  std::string flipped = good;
  flipped[good.size() - 30] = static_cast<char>(flipped[good.size() - 30] ^ 0x10);
  const std::vector<Case> cases = {
      {"truncated", good.substr(0, good.size() / 2), ": the file is truncated: "},
      {"corrupted byte", flipped, ": checksum mismatch in state record "},
      {"another format", "not a solution", ": not an hjbtt solution file"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    write_text(file, c.content);
    const HostResult result = run_host({"sample", "--solution", dir.string(), "--out", (dir / "out").string()}, dir / "host.log");
    CHECK(result.status == 2);
    CHECK(contains(result.output, "hjbtt: invalid solution file: " + file.string() + c.message));
    CHECK_FALSE(fs::exists(dir / "out" / "samples.npy"));
  }

  fs::remove(file);
  const HostResult missing = run_host({"sample", "--solution", dir.string(), "--out", (dir / "out").string()}, dir / "host.log");
  CHECK(missing.status == 2);
  CHECK(contains(missing.output, file.string() + ": not found or not a regular file"));
}

TEST_CASE("run stopped by SIGTERM resumes bit for bit") {
  const ReferenceRun& r = reference_run();
  const fs::path dir = scratch_directory("sigterm");
  const fs::path out = dir / "out";

  const HostResult stopped = interrupt_run(out, dir / "first.log", SIGTERM, [] { return true; });
  INFO(stopped.output);
  CHECK(stopped.status == 128 + SIGTERM);
  CHECK(contains(stopped.output, "continue this run with 'hjbtt run " + r.pipeline.string() + " --out " + out.string() + " --resume'"));
  CHECK_FALSE(fs::exists(out / "samples.npy"));
  CHECK_FALSE(fs::exists(out / "solution.bin"));
  const auto stopped_report = read_report(out / "report.json");
  CHECK(stopped_report.at("status").as_string() == "interrupted");
  CHECK(stopped_report.at("phase").as_string() == "solve by integrator 'explicit_euler' (/integrator)");
  const double saved_t = stopped_report.at("checkpoint").at("t").to_number<double>();
  CHECK(saved_t < 5.0);

  // A resume with another pipeline is rejected and leaves the checkpoint as it was.
  const HostResult other = run_host({"run", r.pipeline.string(), "--out", out.string(), "--resume", "--set", "/seed=12"}, dir / "other.log");
  CHECK(other.status == 2);
  CHECK(contains(other.output, "/seed: --resume: the pipeline has 12 here, but the checkpoint " + (out / "checkpoint.bin").string() +
                                   " was written for 11"));

  // A damaged checkpoint is rejected with its file and defect, and the intact one still resumes.
  const std::string checkpoint = read_text(out / "checkpoint.bin");
  // The checkpoint ends with the power-iteration direction's cores and the checksum (8 bytes).
  std::string damaged = checkpoint;
  damaged[damaged.size() - 9] = static_cast<char>(damaged[damaged.size() - 9] ^ 0x01);
  write_text(out / "checkpoint.bin", damaged);
  const HostResult corrupt = run_host({"run", r.pipeline.string(), "--out", out.string(), "--resume"}, dir / "corrupt.log");
  CHECK(corrupt.status == 2);
  CHECK(contains(corrupt.output, "hjbtt: invalid checkpoint: " + (out / "checkpoint.bin").string() + ": checksum mismatch in the checkpoint"));
  write_text(out / "checkpoint.bin", checkpoint);

  const HostResult resumed = run_host({"run", r.pipeline.string(), "--out", out.string(), "--resume"}, dir / "resumed.log");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(same_file(out / "samples.npy", r.out / "samples.npy"));
  CHECK(same_file(out / "solution.bin", r.out / "solution.bin"));
  CHECK_FALSE(fs::exists(out / "checkpoint.bin"));
  CHECK_FALSE(fs::exists(out / "solution.bin.partial"));
  const auto report = read_report(out / "report.json");
  CHECK(report.at("status").as_string() == "complete");
  CHECK(report.at("resumed_from").at("t").to_number<double>() == saved_t);
  CHECK(report.at("resumed_from").at("solve_complete").as_bool() == false);
  CHECK(history_times(report) == history_times(read_report(r.out / "report.json")));
}

TEST_CASE("run killed by SIGKILL resumes from its last checkpoint") {
  // SIGKILL gives the host no chance to save: the states written after the last checkpoint are
  // dropped and solved again. The kill waits until the solution file has grown past the length
  // the checkpoint records, so that there are such states.
  const ReferenceRun& r = reference_run();
  const fs::path dir = scratch_directory("sigkill");
  const fs::path out = dir / "out";
  const auto grown_past_checkpoint = [&] {
    try {
      return fs::file_size(out / "solution.bin.partial") > read_checkpoint(out / "checkpoint.bin").solution_bytes;
    } catch (const std::exception&) {
      return false;
    }
  };
  const HostResult killed = interrupt_run(out, dir / "first.log", SIGKILL, grown_past_checkpoint);
  CHECK_FALSE(killed.exited);
  CHECK(killed.signal == SIGKILL);
  CHECK_FALSE(fs::exists(out / "samples.npy"));

  // The checkpoint interval may change between the runs because it does not change the results.
  const HostResult resumed = run_host(
      {"run", r.pipeline.string(), "--out", out.string(), "--resume", "--set", "/checkpoint/every_steps=1000"}, dir / "resumed.log");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(same_file(out / "samples.npy", r.out / "samples.npy"));
  CHECK(same_file(out / "solution.bin", r.out / "solution.bin"));
}

TEST_CASE("resume needs a checkpoint") {
  const fs::path dir = scratch_directory("no-checkpoint");
  const fs::path pipeline = dir / "pipeline.json";
  write_text(pipeline, pipeline_text);
  const HostResult result = run_host({"run", pipeline.string(), "--out", (dir / "out").string(), "--resume"}, dir / "host.log");
  CHECK(result.status == 2);
  CHECK(contains(result.output, "--resume: " + (dir / "out" / "checkpoint.bin").string() + " does not exist"));
}

TEST_CASE("checkpoint section is validated") {
  const fs::path dir = scratch_directory("checkpoint-section");
  const fs::path pipeline = dir / "pipeline.json";
  write_text(pipeline, pipeline_text);
  struct Case {
    std::string set;
    std::string message;
  };
  const Case cases[] = {
      {"/checkpoint/every_steps=1.5", "/checkpoint/every_steps: expected an integer, found 1.5"},
      {"/checkpoint/every_seconds=-1", "/checkpoint/every_seconds: value -1 is out of range [0, 1e+07]"},
      {"/checkpoint/enabled=1", "/checkpoint/enabled: expected true or false, found an integer"},
      {"/checkpoint/every_step=3", "/checkpoint/every_step: unknown key 'every_step'; did you mean 'every_steps'?"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.set);
    const HostResult result = run_host({"validate", pipeline.string(), "--set", c.set}, dir / "host.log");
    CHECK(result.status == 2);
    CHECK(contains(result.output, c.message));
  }
  const HostResult disabled = run_host({"validate", pipeline.string(), "--set", "/checkpoint={\"enabled\": false}"}, dir / "host.log");
  CHECK(disabled.status == 0);
}
