// Fault handling of the hjbtt command line: broken plugin libraries, misbehaving potentials and
// signals, each given to the real host as a user would. Every rejection must exit with the
// documented status, name the file or plugin and the place, and leave no samples.npy behind.
// The fixture libraries are built from tests/fixtures/ into folders of their own, which the
// pipelines here reach through plugin_paths.
#include <doctest/doctest.h>

#include "hjbtt/abi.hpp"
#include "hjbtt/core/npy.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path fixtures = HJBTT_FIXTURE_PLUGIN_DIR;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct HostResult {
  bool exited = false;  // false when a signal ended the process
  int status = -1;      // exit status when `exited`
  std::string output;   // stdout and stderr together
};

// The host as a child process, so that a test can signal it while it runs. Its stdout and
// stderr go to `log`. HJBTT_PLUGIN_PATH is removed from its environment so that only the
// pipeline's plugin_paths and the build's plugin folder are searched, and SIGINT and SIGTERM
// start with their default action even when the test runner ignores them.
class HostProcess {
public:
  HostProcess(const std::vector<std::string>& arguments, fs::path log) : log_(std::move(log)) {
    std::vector<std::string> words{HJBTT_HOST};
    words.insert(words.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    std::vector<char*> environment;
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("HJBTT_PLUGIN_PATH=", 0) != 0) environment.push_back(*e);
    environment.push_back(nullptr);

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

    const int error = posix_spawn(&pid_, argv[0], &actions, &attributes, argv.data(), environment.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    REQUIRE_MESSAGE(error == 0, "posix_spawn of " << argv[0] << " failed with error " << error);
  }

  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  // A host still running here is a test failure already reported; it must not outlive the test.
  ~HostProcess() {
    if (running_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void send(int signal) { REQUIRE(kill(pid_, signal) == 0); }

  // Waits until the host's output contains `text`; false when it ended or `timeout` passed first.
  bool wait_for_output(const std::string& text, double timeout) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (Clock::now() < deadline) {
      if (read_text(log_).find(text) != std::string::npos) return true;
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        running_ = false;
        return read_text(log_).find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Waits up to `timeout` seconds for the host to end; a host still running then is killed
  // and the test fails.
  HostResult wait(double timeout) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (running_ && Clock::now() < deadline) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) running_ = false;
      else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (running_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      running_ = false;
      FAIL_CHECK("the host was still running after " << timeout << " s and was killed");
    }
    HostResult result;
    result.exited = WIFEXITED(status_);
    result.status = result.exited ? WEXITSTATUS(status_) : -1;
    result.output = read_text(log_);
    return result;
  }

private:
  fs::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool running_ = true;
};

fs::path scratch_directory(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("hjbtt-test-faults-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A small pipeline on a 2-d target: the solve takes a fraction of a second.
struct PipelineText {
  std::vector<fs::path> plugin_paths;
  std::string potential = R"({"plugin": "gaussian", "params": {"mean": [0, 0], "covariance": [[1, 0], [0, 1]]}})";
  std::string domain = "[-4, 4]";
  long samples = 500;
  long sampler_steps = 100;
  std::string postprocessors = R"([{"plugin": "langevin", "params": {"steps": 10, "step_size": 0.5}}])";

  std::string text() const {
    std::string paths;
    for (const auto& p : plugin_paths) paths += (paths.empty() ? "\"" : ", \"") + p.string() + "\"";
    return R"({"hjbtt": 1, "seed": 5, "plugin_paths": [)" + paths + R"(],
      "potential": )" + potential + R"(,
      "basis": {"plugin": "legendre", "params": {"degree": 4, "domain": )" + domain + R"(}},
      "integrator": {"plugin": "explicit_euler"},
      "sampler": {"plugin": "reverse_sde", "params": {"samples": )" + std::to_string(samples) +
           R"(, "steps": )" + std::to_string(sampler_steps) + R"(}},
      "postprocessors": )" + postprocessors + "}";
  }
};

// Runs `hjbtt run` on `pipeline` in a fresh scratch folder; its output folder is <folder>/out.
HostResult run_pipeline(const std::string& name, const PipelineText& pipeline, fs::path& out) {
  const fs::path dir = scratch_directory(name);
  const fs::path file = dir / "pipeline.json";
  std::ofstream(file) << pipeline.text();
  out = dir / "out";
  HostProcess host({"run", file.string(), "--out", out.string()}, dir / "host.log");
  return host.wait(60.0);
}

boost::json::object read_report(const fs::path& file) { return boost::json::parse(read_text(file)).as_object(); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("missing plugin folder or unknown plugin") {
  fs::path out;

  SUBCASE("plugin_paths folder that does not exist") {
    const fs::path missing = fixtures / "does-not-exist";
    PipelineText pipeline;
    pipeline.plugin_paths = {missing};
    pipeline.potential = R"({"plugin": "mystery"})";
    const HostResult result = run_pipeline("missing-folder", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, missing.string()));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }

  SUBCASE("unknown plugin lists the folders searched") {
    PipelineText pipeline;
    pipeline.plugin_paths = {fixtures / "empty"};
    pipeline.potential = R"({"plugin": "mystery"})";
    const HostResult result = run_pipeline("unknown-plugin", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential/plugin: unknown potential plugin 'mystery'"));
    CHECK(contains(result.output, "Folders searched: " + (fixtures / "empty").string() + ", "));
    CHECK(contains(result.output, HJBTT_PLUGIN_DIR));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
}

TEST_CASE("plugin files that cannot be loaded") {
  struct Case {
    const char* folder;
    const char* file;
    const char* cause;
  };
  const Case cases[] = {
      {"not_a_library", "libhjbtt_text.so", "is not a shared library (no ELF header)"},
      {"truncated_elf", "libhjbtt_truncated.so", "file too short"},
      {"no_manifest", "libhjbtt_no_manifest.so", "has no hjbtt manifest (symbols hjbtt_abi_tag and hjbtt_plugin_manifest)"},
      // Bound at load time: a lazily bound library would load and end the process at the call.
      {"undefined_symbol", "libhjbtt_undefined_symbol.so", "undefined symbol: hjbtt_fixture_missing_function"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.folder);
    PipelineText pipeline;
    pipeline.plugin_paths = {fixtures / c.folder};
    fs::path out;
    const HostResult result = run_pipeline(c.folder, pipeline, out);
    INFO(result.output);
    CHECK(result.exited);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "plugin library " + (fixtures / c.folder / c.file).string()));
    CHECK(contains(result.output, c.cause));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
}

TEST_CASE("plugin built for another ABI") {
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "wrong_abi"};
  fs::path out;
  const HostResult result = run_pipeline("wrong-abi", pipeline, out);
  INFO(result.output);
  CHECK(result.status == 2);
  CHECK(contains(result.output, (fixtures / "wrong_abi" / "libhjbtt_wrong_abi.so").string()));
  CHECK(contains(result.output, "plugin: hjbtt-sdk 0; gcc 4; libstdc++ 4; armadillo 1.0; boost 100000"));
  CHECK(contains(result.output, std::string("host:   ") + HJBTT_ABI_TAG));
  CHECK_FALSE(fs::exists(out / "samples.npy"));
}

TEST_CASE("potential factory failures") {
  const std::string library = (fixtures / "potentials" / "libhjbtt_faulty_potentials.so").string();
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "potentials"};
  fs::path out;

  SUBCASE("factory throws") {
    pipeline.potential = R"({"plugin": "throwing_factory"})";
    const HostResult result = run_pipeline("throwing-factory", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential: plugin 'throwing_factory' (" + library + ") failed to start"));
    CHECK(contains(result.output, "cannot open the coefficient table (simulated failure)"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
  SUBCASE("factory throws inside blocks") {
    pipeline.potential = R"({"plugin": "blocks", "params": {"blocks": [{"plugin": "gaussian", "params":
        {"mean": [0], "covariance": [[1]]}}, {"plugin": "throwing_factory"}]}})";
    const HostResult result = run_pipeline("throwing-factory-nested", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential/params/blocks/1: plugin 'throwing_factory' (" + library + ") failed to start"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
  SUBCASE("factory returns another kind") {
    pipeline.potential = R"({"plugin": "wrong_kind"})";
    const HostResult result = run_pipeline("wrong-kind", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential: plugin 'wrong_kind' (" + library + ") declares kind potential"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
  SUBCASE("factory returns another kind inside blocks") {
    // Without the check in the host, the blocks factory received a null block.
    pipeline.potential = R"({"plugin": "blocks", "params": {"blocks": [{"plugin": "wrong_kind"}]}})";
    const HostResult result = run_pipeline("wrong-kind-nested", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential/params/blocks/0: plugin 'wrong_kind' (" + library + ") declares kind potential"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
}

TEST_CASE("potential that disagrees with its polynomial form") {
  const std::string library = (fixtures / "potentials" / "libhjbtt_faulty_potentials.so").string();
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "potentials"};
  fs::path out;

  SUBCASE("NaN on part of the box") {
    // NaN for x_1 > 1.5 covers 5/16 of the box [-4, 4]^2, so the 64 check points find it.
    pipeline.potential = R"({"plugin": "nan_beyond", "params": {"threshold": 1.5}})";
    const HostResult result = run_pipeline("nan-in-box", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "/potential: potential 'nan_beyond' (" + library + ") contradicts its own polynomial form"));
    CHECK(contains(result.output, "value() returns nan"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
  SUBCASE("wrong gradient") {
    pipeline.potential = R"({"plugin": "wrong_gradient"})";
    const HostResult result = run_pipeline("wrong-gradient", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(contains(result.output, "potential 'wrong_gradient' (" + library + ") contradicts its own polynomial form"));
    CHECK(contains(result.output, "gradient() returns"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
}

TEST_CASE("NaN potential outside the box") {
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "potentials"};
  fs::path out;

  SUBCASE("samples start where the potential is NaN") {
    // The box [-2, 2] passes the check, but N(0, 1) puts 0.6 % of its draws beyond x_1 = 2.5
    // (about 12 of 2000), where the Langevin corrector cannot start.
    pipeline.potential = R"({"plugin": "nan_beyond", "params": {"threshold": 2.5}})";
    pipeline.domain = "[-2, 2]";
    pipeline.samples = 2000;
    const HostResult result = run_pipeline("nan-start", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 1);
    CHECK(contains(result.output, "run failed in postprocessor 'langevin' (/postprocessors/0)"));
    CHECK(contains(result.output, "give a non-finite potential or gradient"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
    const auto report = read_report(out / "report.json");
    CHECK(report.at("status").as_string() == "failed");
    CHECK(report.at("phase").as_string() == "postprocessor 'langevin' (/postprocessors/0)");
  }

  SUBCASE("MALA rejects proposals where the potential is NaN") {
    // With h = 2 a MALA proposal is -x + 2 xi ~ N(0, 5), beyond 4.5 with probability 0.022,
    // so about 110 of the 5000 proposals meet NaN; exact draws pass 4.5 with probability 3e-6.
    pipeline.potential = R"({"plugin": "nan_beyond", "params": {"threshold": 4.5}})";
    pipeline.postprocessors = R"([{"plugin": "langevin", "params": {"steps": 10, "step_size": 2.0}}])";
    const HostResult result = run_pipeline("nan-proposals", pipeline, out);
    INFO(result.output);
    REQUIRE(result.status == 0);
    const arma::mat samples = hjbtt::read_npy(out / "samples.npy");
    CHECK(samples.n_cols == 500);
    CHECK(samples.is_finite());
    CHECK(samples.row(0).max() <= 4.5);
    const auto report = read_report(out / "report.json");
    const auto& langevin = report.at("postprocessors").as_array().at(0).as_object();
    CHECK(langevin.at("nonfinite_proposals").to_number<std::int64_t>() > 20);
    CHECK(contains(result.output, "non-finite proposals rejected"));
  }
}

TEST_CASE("potential gradient throws while sampling") {
  // The Langevin corrector calls gradient() once per block before its steps and once per step,
  // so with one block call 3 is in its second step.
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "potentials"};
  fs::path out;

  SUBCASE("std::runtime_error") {
    pipeline.potential = R"({"plugin": "throwing_gradient", "params": {"fail_on_call": 3}})";
    const HostResult result = run_pipeline("throwing-gradient", pipeline, out);
    INFO(result.output);
    CHECK(result.status == 1);
    CHECK(contains(result.output, "run failed in postprocessor 'langevin' (/postprocessors/0)"));
    CHECK(contains(result.output, "throwing_gradient: simulated failure in gradient call 3"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
    const auto report = read_report(out / "report.json");
    CHECK(report.at("status").as_string() == "failed");
    CHECK(contains(std::string(report.at("error").as_string()), "simulated failure in gradient call 3"));
  }
  SUBCASE("exception not derived from std::exception") {
    pipeline.potential = R"({"plugin": "throwing_gradient", "params": {"fail_on_call": 3, "foreign_exception": true}})";
    const HostResult result = run_pipeline("throwing-gradient-int", pipeline, out);
    INFO(result.output);
    CHECK(result.exited);
    CHECK(result.status == 1);
    CHECK(contains(result.output, "run failed in postprocessor 'langevin' (/postprocessors/0)"));
    CHECK(contains(result.output, "not derived from std::exception"));
    CHECK_FALSE(fs::exists(out / "samples.npy"));
  }
}

TEST_CASE("two folders provide the same potential") {
  PipelineText pipeline;
  pipeline.plugin_paths = {fixtures / "potentials", fixtures / "potentials_copy"};
  fs::path out;
  const HostResult result = run_pipeline("duplicate", pipeline, out);
  INFO(result.output);
  CHECK(result.status == 2);
  CHECK(contains(result.output, "two plugins of kind potential are named"));
  CHECK(contains(result.output, (fixtures / "potentials" / "libhjbtt_faulty_potentials.so").string()));
  CHECK(contains(result.output, (fixtures / "potentials_copy" / "libhjbtt_faulty_potentials.so").string()));
  CHECK_FALSE(fs::exists(out / "samples.npy"));
}

TEST_CASE("double SIGTERM stops the solve") {
  // mixed-20 solves for about 10 s on 2 cores, with an accepted step about every 10 ms, and the
  // host checks for a signal after every step.
  const fs::path dir = scratch_directory("sigterm");
  const fs::path out = dir / "out";
  HostProcess host({"run", std::string(HJBTT_SOURCE_DIR) + "/examples/mixed-20.json", "--out", out.string()}, dir / "host.log");
  REQUIRE(host.wait_for_output("initial TT max rank", 30.0));
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // Twice at once, as GNU timeout signals the process and then its group: one request to stop,
  // not a second one that would end the process before it writes its report.
  host.send(SIGTERM);
  host.send(SIGTERM);
  const auto signalled = Clock::now();
  const HostResult result = host.wait(20.0);
  const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  INFO(result.output);
  CHECK(result.exited);
  CHECK(result.status == 128 + SIGTERM);
  CHECK(seconds < 2.0);
  CHECK(contains(result.output, "run interrupted by SIGTERM in solve by integrator 'explicit_euler' (/integrator)"));
  CHECK_FALSE(fs::exists(out / "samples.npy"));

  const auto report = read_report(out / "report.json");
  CHECK(report.at("status").as_string() == "interrupted");
  CHECK(report.at("signal").as_string() == "SIGTERM");
  CHECK(report.at("history").as_array().size() > 10);
}

TEST_CASE("SIGINT stops the sampler") {
  // Two million samples of 1000 steps would take about half an hour (500 samples of 100 steps
  // take 0.04 s). The sampler's parallel loop has no point to stop at, so the host ends the
  // process 3 s (its grace period) after the signal.
  PipelineText pipeline;
  pipeline.samples = 2000000;
  pipeline.sampler_steps = 1000;
  const fs::path dir = scratch_directory("sigint");
  const fs::path file = dir / "pipeline.json";
  std::ofstream(file) << pipeline.text();
  const fs::path out = dir / "out";
  HostProcess host({"run", file.string(), "--out", out.string()}, dir / "host.log");
  REQUIRE(host.wait_for_output("solved to T", 30.0));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  host.send(SIGINT);
  const auto signalled = Clock::now();
  const HostResult result = host.wait(20.0);
  const double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  INFO(result.output);
  CHECK(result.exited);
  CHECK(result.status == 128 + SIGINT);
  CHECK(seconds > 2.5);
  CHECK(seconds < 6.0);
  CHECK(contains(result.output, "interrupted by SIGINT in sampling by sampler 'reverse_sde' (/sampler)"));
  CHECK_FALSE(fs::exists(out / "samples.npy"));
  CHECK_FALSE(fs::exists(out / "samples.npy.partial"));

  const auto report = read_report(out / "report.json");
  CHECK(report.at("status").as_string() == "interrupted");
  CHECK(report.at("signal").as_string() == "SIGINT");
  CHECK(report.at("phase").as_string() == "sampling by sampler 'reverse_sde' (/sampler)");
}
