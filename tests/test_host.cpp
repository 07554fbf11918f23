// The hjbtt command line driven as a user drives it: real plugin libraries loaded at run time,
// real pipelines, exit statuses, messages and output files.
#include <doctest/doctest.h>

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/registry.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
};

Result run_host(const std::string& arguments, const std::string& environment = "") {
  const std::string command = environment + " " + std::string(HJBTT_HOST) + " " + arguments + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

fs::path scratch_directory(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("hjbtt-test-host-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

fs::path write_pipeline(const fs::path& dir, const std::string& text) {
  const fs::path file = dir / "pipeline.json";
  std::ofstream(file) << text;
  return file;
}

boost::json::object read_report(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

const std::string example(const std::string& name) { return std::string(HJBTT_SOURCE_DIR) + "/examples/" + name; }

}  // namespace

TEST_CASE("host loads every shipped plugin") {
  hjbtt::PluginRegistry registry;
  registry.load_directory(HJBTT_PLUGIN_DIR);
  using hjbtt::PluginKind;
  const std::vector<std::pair<PluginKind, std::string>> expected = {
      {PluginKind::basis, "legendre"},          {PluginKind::potential, "gaussian"},
      {PluginKind::potential, "double_well"},   {PluginKind::potential, "banana"},
      {PluginKind::potential, "many_well"},     {PluginKind::potential, "blocks"},
      {PluginKind::potential, "gaussian_mixture"},
      {PluginKind::integrator, "explicit_euler"}, {PluginKind::integrator, "exponential_euler"},
      {PluginKind::sampler, "reverse_sde"},
      {PluginKind::postprocessor, "langevin"},  {PluginKind::postprocessor, "statistics"}};
  for (const auto& [kind, name] : expected) {
    CAPTURE(name);
    CHECK_NOTHROW(registry.find(kind, name, "/test"));
  }

  const Result listing = run_host("plugins");
  CHECK(listing.status == 0);
  for (const auto& [kind, name] : expected) CHECK(listing.output.find("\t" + name + "\t") != std::string::npos);
}

TEST_CASE("host validates the bundled examples") {
  for (const char* name : {"gaussian-20.json", "mixed-20.json", "many-well-32.json", "mixture-2.json"}) {
    CAPTURE(name);
    const Result result = run_host("validate " + example(name));
    CHECK(result.status == 0);
    CHECK(result.output.find("valid") != std::string::npos);
  }
}

TEST_CASE("host rejects pipeline mistakes with exit status 2") {
  const fs::path dir = scratch_directory("mistakes");

  SUBCASE("unknown top-level key suggests the nearest one") {
    const Result result = run_host("validate " + example("gaussian-20.json") + " --set /sead=3");
    CHECK(result.status == 2);
    CHECK(result.output.find("/sead") != std::string::npos);
    CHECK(result.output.find("did you mean 'seed'") != std::string::npos);
  }
  SUBCASE("unknown plugin lists the valid names") {
    const Result result = run_host("validate " + example("gaussian-20.json") + " --set /integrator/plugin=explicit_eular");
    CHECK(result.status == 2);
    CHECK(result.output.find("/integrator/plugin") != std::string::npos);
    CHECK(result.output.find("did you mean 'explicit_euler'") != std::string::npos);
  }
  SUBCASE("parameter out of range names its pointer and range") {
    const Result result = run_host("validate " + example("gaussian-20.json") + " --set /sampler/params/steps=0");
    CHECK(result.status == 2);
    CHECK(result.output.find("/sampler/params/steps") != std::string::npos);
    CHECK(result.output.find("out of range") != std::string::npos);
  }
  SUBCASE("malformed JSON") {
    const fs::path file = write_pipeline(dir, "{\"hjbtt\": 1, ");
    const Result result = run_host("run " + file.string() + " --out " + (dir / "out").string());
    CHECK(result.status == 2);
    CHECK(result.output.find("not valid JSON") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out" / "samples.npy"));
  }
  SUBCASE("basis degree below the potential's degree") {
    const Result result = run_host("validate " + example("mixed-20.json") + " --set /basis/params/degree=2");
    CHECK(result.status == 2);
    CHECK(result.output.find("raise the degree to at least 4") != std::string::npos);
  }
}

TEST_CASE("host refuses a non-empty output directory") {
  const fs::path dir = scratch_directory("nonempty");
  std::ofstream(dir / "earlier-result.txt") << "keep me";
  const Result result = run_host("run " + example("gaussian-20.json") + " --out " + dir.string() + " --set /sampler/params/samples=10");
  CHECK(result.status == 2);
  CHECK(result.output.find("--force") != std::string::npos);
  CHECK(fs::exists(dir / "earlier-result.txt"));
}

TEST_CASE("diverging solve stops without samples") {
  // A banana on a box that its ridge x2 = x1^2 / 2 leaves: the projected HJB flow loses
  // coercivity at the box edge and blows up near t = 0.4 (measured for degrees 4 to 12).
  const fs::path dir = scratch_directory("divergence");
  const fs::path file = write_pipeline(dir, R"({
    "hjbtt": 1, "seed": 3,
    "potential": {"plugin": "banana"},
    "basis": {"plugin": "legendre", "params": {"degree": 6, "domain": [-6, 6]}},
    "integrator": {"plugin": "explicit_euler"},
    "sampler": {"plugin": "reverse_sde", "params": {"samples": 100}}
  })");
  const Result result = run_host("run " + file.string() + " --out " + (dir / "out").string());
  CHECK(result.status == 1);
  CHECK(result.output.find("diverged") != std::string::npos);
  CHECK(result.output.find("Remedies") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out" / "samples.npy"));

  const auto report = read_report(dir / "out" / "report.json");
  CHECK(report.at("status").as_string() == "failed");
  CHECK(report.at("history").as_array().size() > 10);
}

TEST_CASE("gaussian-20 end to end within the sampling error") {
  // N = 4000 exact draws of gaussian-20 have a relative covariance error of about 0.037 and a
  // mean error of about 1 / sqrt(N) = 0.016 (the 100 000-draw floor, 0.0073 and 0.0028, scaled
  // by sqrt(100 000 / N)). Both fluctuate from seed to seed: exact draws gave mean errors from
  // 0.012 to 0.026 over four seeds. The bounds are about twice the typical exact-draw error, and
  // the mean bound three times, because few dominant covariance directions make it spread more.
  const fs::path dir = scratch_directory("gaussian");
  const Result result = run_host("run " + example("gaussian-20.json") + " --out " + dir.string() + " --force" +
                                 " --set /sampler/params/samples=4000");
  REQUIRE(result.status == 0);

  const arma::mat samples = hjbtt::read_npy(dir / "samples.npy");
  CHECK(samples.n_rows == 20);
  CHECK(samples.n_cols == 4000);
  CHECK(samples.is_finite());

  const auto report = read_report(dir / "report.json");
  CHECK(report.at("status").as_string() == "complete");
  CHECK(report.at("history").as_array().size() > 50);
  CHECK(report.at("timings").as_object().contains("solve"));
  const auto& post = report.at("postprocessors").as_array();
  REQUIRE(post.size() == 3);
  const auto& after = post[2].as_object().at("langevin").as_object();
  CHECK(after.at("covariance_relative_error").to_number<double>() < 0.08);
  CHECK(after.at("mean_error").to_number<double>() < 0.05);
}

TEST_CASE("same seed gives identical samples for 1 and 2 threads") {
  const fs::path dir = scratch_directory("repeat");
  const std::string common = " --set /sampler/params/samples=5000 --set /sampler/params/steps=50 --force";
  REQUIRE(run_host("run " + example("gaussian-20.json") + " --out " + (dir / "a").string() + common, "OMP_NUM_THREADS=2").status == 0);
  REQUIRE(run_host("run " + example("gaussian-20.json") + " --out " + (dir / "b").string() + common, "OMP_NUM_THREADS=1").status == 0);
  REQUIRE(run_host("run " + example("gaussian-20.json") + " --out " + (dir / "c").string() + common + " --set /seed=43").status == 0);
  const arma::mat a = hjbtt::read_npy(dir / "a" / "samples.npy");
  const arma::mat b = hjbtt::read_npy(dir / "b" / "samples.npy");
  const arma::mat c = hjbtt::read_npy(dir / "c" / "samples.npy");
  CHECK(arma::approx_equal(a, b, "absdiff", 0.0));
  CHECK_FALSE(arma::approx_equal(a, c, "absdiff", 1e-12));
}
