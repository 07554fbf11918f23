// Tests of the automatic pre-map of "domain": "auto". In process: the mode search and difference
// Hessian on targets with known modes and Hessians, the whitened potential against the target
// through the map, and the search's failures. Through the host: pipeline messages, runs of a
// narrow correlated Gaussian with and without the pre-map, `hjbtt sample` and --resume. Also the
// eight-schools example plugin: its gradient, its mode and a short run of its pipeline.
#include <doctest/doctest.h>

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/premap.hpp"
#include "hjbtt/core/registry.hpp"
#include "hjbtt/errors.hpp"

#include <boost/json.hpp>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace hjbtt;

// Phi = (x - m)^T P (x - m) / 2 with precision P = Sigma^-1.
class GaussianTarget : public Potential {
public:
  GaussianTarget(arma::vec mean, const arma::mat& covariance) : mean_(std::move(mean)), precision_(arma::inv_sympd(covariance)) {}
  arma::uword dimension() const override { return mean_.n_elem; }
  arma::rowvec value(const arma::mat& X) const override {
    const arma::mat centred = X.each_col() - mean_;
    return 0.5 * arma::sum(centred % (precision_ * centred), 0);
  }
  arma::mat gradient(const arma::mat& X) const override { return precision_ * (X.each_col() - mean_); }

private:
  arma::vec mean_;
  arma::mat precision_;
};

// The narrow correlated Gaussian of these tests: mean (5, 30), standard deviations 1e-2 and 10,
// correlation 0.9. Its precision matrix has condition number about 1e7.
const arma::vec narrow_mean{5.0, 30.0};
const arma::mat narrow_covariance{{1e-4, 0.9 * 1e-2 * 10.0}, {0.9 * 1e-2 * 10.0, 100.0}};

// Phi = exp(x1 - 2) - (x1 - 2) + 50 (x2 - x1)^2: mode (2, 2), Hessian [[101, -100], [-100, 100]]
// there, and a non-zero third derivative, so the differences are not exact.
class ExponentialTarget : public Potential {
public:
  arma::uword dimension() const override { return 2; }
  arma::rowvec value(const arma::mat& X) const override {
    const arma::rowvec u = X.row(0) - 2.0;
    return arma::exp(u) - u + 50.0 * arma::square(X.row(1) - X.row(0));
  }
  arma::mat gradient(const arma::mat& X) const override {
    arma::mat g(2, X.n_cols);
    const arma::rowvec coupling = 100.0 * (X.row(1) - X.row(0));
    g.row(0) = arma::exp(X.row(0) - 2.0) - 1.0 - coupling;
    g.row(1) = coupling;
    return g;
  }
};

// Phi = (x1^2 - 1)^2 + x2^2 / 2: a double well in x1, whose origin is a stationary point with
// Hessian diag(-4, 1).
class SaddleTarget : public Potential {
public:
  arma::uword dimension() const override { return 2; }
  arma::rowvec value(const arma::mat& X) const override {
    return arma::square(arma::square(X.row(0)) - 1.0) + 0.5 * arma::square(X.row(1));
  }
  arma::mat gradient(const arma::mat& X) const override {
    arma::mat g(2, X.n_cols);
    g.row(0) = 4.0 * X.row(0) % (arma::square(X.row(0)) - 1.0);
    g.row(1) = X.row(1);
    return g;
  }
};

// Phi = x - log(x), a Gamma(2, 1) density, infinite at the origin.
class GammaTarget : public Potential {
public:
  arma::uword dimension() const override { return 1; }
  arma::rowvec value(const arma::mat& X) const override { return X.row(0) - arma::log(X.row(0)); }
  arma::mat gradient(const arma::mat& X) const override { return 1.0 - 1.0 / X; }
};

std::string failure_message(const Potential& potential, const PremapOptions& options) {
  try {
    find_premap(potential, options, "potential 'test'");
  } catch (const NumericalFailure& error) {
    return error.what();
  }
  return "no NumericalFailure";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The host, as in test_host.
struct Result {
  int status = -1;
  std::string output;
};

Result run_host(const std::string& arguments) {
  const std::string command = std::string(HJBTT_HOST) + " " + arguments + " 2>&1";
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
  const fs::path dir = fs::temp_directory_path() / ("hjbtt-test-premap-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

boost::json::object read_report(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

arma::vec read_vector(const boost::json::value& value) {
  const auto& array = value.as_array();
  arma::vec out(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) out(i) = array[i].to_number<double>();
  return out;
}

// The narrow Gaussian as a pipeline. "basis_domain" is the JSON of /basis/params/domain, and
// `extra` adds top-level entries.
std::string narrow_pipeline(const std::string& basis_domain, const std::string& postprocessors = "[]",
                            const std::string& extra = "") {
  return R"({
  "hjbtt": 1, "seed": 7,
  "potential": {"plugin": "gaussian", "params": {"mean": [5, 30], "covariance": [[1e-4, 0.09], [0.09, 100]]}},
  "basis": {"plugin": "legendre", "params": {"degree": 4, "domain": )" +
         basis_domain + R"(}},
  "integrator": {"plugin": "explicit_euler", "params": {"max_rank": 10}},
  "sampler": {"plugin": "reverse_sde", "params": {"samples": 4000, "steps": 200}},
  "postprocessors": )" +
         postprocessors + extra + "\n}";
}

fs::path write_pipeline(const fs::path& dir, const std::string& text) {
  const fs::path file = dir / "pipeline.json";
  std::ofstream(file) << text;
  return file;
}

// Errors of samples (d x N) from the narrow Gaussian in its own metric: the mean error
// |Sigma^-1/2 (m_hat - m)| and ||Sigma^-1/2 C_hat Sigma^-T/2 - I||_F. N exact draws give about
// sqrt(d / N) and sqrt((d^2 + d) / N), so 0.022 and 0.039 for d = 2, N = 4000.
struct WhitenedErrors {
  double mean = 0.0;
  double covariance = 0.0;
};

WhitenedErrors whitened_errors(const arma::mat& samples) {
  const arma::mat factor = arma::chol(narrow_covariance, "lower");
  const arma::mat Z = arma::solve(arma::trimatl(factor), samples.each_col() - narrow_mean);
  WhitenedErrors errors;
  errors.mean = arma::norm(arma::mean(Z, 1));
  errors.covariance = arma::norm(arma::cov(Z.t()) - arma::eye(2, 2), "fro");
  return errors;
}

// A plugin context for factories that create no nested plugins.
class NoNestedPlugins : public PluginContext {
public:
  std::shared_ptr<Potential> create_potential(const boost::json::value&, const std::string& pointer) override {
    throw ConfigurationError(pointer, "no nested plugins in this test");
  }
};

std::shared_ptr<Potential> eight_schools_potential() {
  static PluginRegistry registry = [] {
    PluginRegistry loaded;
    loaded.load_directory(HJBTT_PLUGIN_DIR);
    return loaded;
  }();
  const RegisteredPlugin& plugin = registry.find(PluginKind::potential, "eight_schools", "/potential/plugin");
  const Parameters params = validate_parameters(plugin.info->parameters, nullptr, "/potential/params", "eight_schools");
  NoNestedPlugins context;
  return std::dynamic_pointer_cast<Potential>(plugin.info->factory(params, context));
}

}  // namespace

TEST_CASE("premap finds mode and Hessian of narrow Gaussian") {
  const GaussianTarget target(narrow_mean, narrow_covariance);
  PremapOptions options;
  options.enabled = true;
  const Premap premap = find_premap(target, options, "potential 'test'");

  // Newton's method is exact on a quadratic up to the rounding in the difference Hessian, so the
  // first step lands within 1e-6 standard deviations of the mode and the second within rounding.
  CHECK(premap.iterations <= 4);

  // The mode in the target's own metric: the search stops at a Newton decrement of 1e-8, which
  // for a Gaussian is this distance.
  const arma::mat factor = arma::chol(narrow_covariance, "lower");
  const arma::vec offset = arma::solve(arma::trimatl(factor), premap.mode - narrow_mean);
  CHECK(arma::norm(offset) < 1e-8);
  CHECK(premap.newton_decrement < 1e-8);

  // The gradient of a Gaussian is linear, so its differences are exact up to rounding. With
  // steps of 1e-3 conditional standard deviations at |x| <= 30, rounding of the gradient
  // (about 1e-16 * 5e4 * 30) over the step gives relative errors near 1e-9 in the whitened metric.
  const arma::mat whitened_hessian = factor.t() * premap.hessian * factor;
  CHECK(arma::norm(whitened_hessian - arma::eye(2, 2), "fro") < 1e-6);
  const arma::mat whitened_covariance = arma::solve(arma::trimatl(premap.cholesky), narrow_covariance);
  CHECK(arma::norm(arma::solve(arma::trimatl(premap.cholesky), whitened_covariance.t()) - arma::eye(2, 2), "fro") < 1e-6);
  CHECK(premap.cholesky(0, 1) == 0.0);
  CHECK(premap.hessian_asymmetry < 1e-6);
}

TEST_CASE("premap Hessian of non-quadratic potential") {
  const ExponentialTarget target;
  PremapOptions options;
  options.enabled = true;
  options.start = {-1.0, 3.0};
  const Premap premap = find_premap(target, options, "potential 'test'");
  CHECK(std::abs(premap.mode(0) - 2.0) < 1e-8);
  CHECK(std::abs(premap.mode(1) - 2.0) < 1e-8);

  // Central differences err by h^2 / 6 times the third derivative of the gradient, here
  // exp(x1 - 2) = 1 at the mode with h about 1e-4, so by about 2e-9 against entries near 100.
  const arma::mat exact{{101.0, -100.0}, {-100.0, 100.0}};
  CHECK(arma::abs(premap.hessian - exact).max() < 1e-6);
  CHECK(arma::norm(premap.cholesky * premap.cholesky.t() - arma::inv(exact), "fro") < 1e-8);
}

TEST_CASE("whitened potential matches target through map") {
  const auto target = std::make_shared<ExponentialTarget>();
  PremapOptions options;
  options.enabled = true;
  const Premap premap = find_premap(*target, options, "potential 'test'");
  const WhitenedPotential whitened(target, premap);
  CHECK(whitened.dimension() == 2);
  CHECK_FALSE(whitened.polynomial().has_value());

  arma::arma_rng::set_seed(3);
  const arma::mat Z = 3.0 * arma::randn(2, 50);
  const arma::mat X = map_to_target(premap, Z);
  for (arma::uword j = 0; j < Z.n_cols; ++j) {
    const arma::vec expected = premap.mode + premap.cholesky * Z.col(j);
    CHECK(arma::norm(X.col(j) - expected) <= 1e-14 * arma::norm(expected));
  }

  // Values and the chain rule against the target, to rounding.
  const arma::rowvec values = whitened.value(Z);
  const arma::rowvec expected_values = target->value(X) - premap.potential_at_mode;
  CHECK(arma::abs(values - expected_values).max() <= 1e-12 * (1.0 + arma::abs(expected_values).max()));
  const arma::mat gradients = whitened.gradient(Z);
  const arma::mat expected_gradients = premap.cholesky.t() * target->gradient(X);
  CHECK(arma::abs(gradients - expected_gradients).max() <= 1e-12 * (1.0 + arma::abs(expected_gradients).max()));

  // The gradient against central differences of the whitened values with step 1e-5: truncation
  // about 1e-10 times the third derivative, rounding about 1e-16 |Phi| / 1e-5.
  for (arma::uword j = 0; j < 5; ++j) {
    for (arma::uword k = 0; k < 2; ++k) {
      arma::mat plus = Z.col(j), minus = Z.col(j);
      plus(k) += 1e-5;
      minus(k) -= 1e-5;
      const double difference = (whitened.value(plus)(0) - whitened.value(minus)(0)) / 2e-5;
      CHECK(std::abs(difference - gradients(k, j)) <= 1e-5 * (1.0 + std::abs(gradients(k, j))));
    }
  }

  // At the mode the whitened potential is 0 and its Hessian the identity.
  CHECK(std::abs(whitened.value(arma::mat(2, 1, arma::fill::zeros))(0)) < 1e-14);
  double asymmetry = 0.0;
  const arma::mat identity = difference_hessian(whitened, arma::zeros(2), arma::vec{1e-4, 1e-4}, asymmetry);
  CHECK(arma::abs(identity - arma::eye(2, 2)).max() < 1e-6);
}

TEST_CASE("premap failures name the cause and remedy") {
  PremapOptions options;
  options.enabled = true;

  SUBCASE("no convergence within max_iterations") {
    const GaussianTarget target(narrow_mean, narrow_covariance);
    options.max_iterations = 1;
    const std::string message = failure_message(target, options);
    CHECK(contains(message, "pre-map of potential 'test': the mode search did not converge in 1 Newton iterations"));
    CHECK(contains(message, "raise /premap/max_iterations"));
  }
  SUBCASE("indefinite Hessian at a stationary point") {
    const SaddleTarget target;
    const std::string message = failure_message(target, options);
    CHECK(contains(message, "the Hessian of Phi is not positive definite at the stationary point x = (0, 0)"));
    CHECK(contains(message, "smallest eigenvalue -4"));
    CHECK(contains(message, "mostly in x_1"));
    CHECK(contains(message, "give /premap/start nearer the mode"));
  }
  SUBCASE("indefinite Hessian away from a stationary point still finds the mode") {
    // At x1 = 0.3 the curvature 12 x1^2 - 4 is negative, and the search steps along |H|.
    const SaddleTarget target;
    options.start = {0.3, 1.0};
    const Premap premap = find_premap(target, options, "potential 'test'");
    CHECK(std::abs(premap.mode(0) - 1.0) < 1e-8);
    CHECK(std::abs(premap.mode(1)) < 1e-8);
    CHECK(std::abs(premap.hessian(0, 0) - 8.0) < 1e-6);
  }
  SUBCASE("non-finite potential at the start") {
    const GammaTarget target;
    const std::string message = failure_message(target, options);
    CHECK(contains(message, "Phi is not finite at the start point x = (0)"));
    CHECK(contains(message, "give /premap/start at a point where Phi and its gradient are finite"));
    options.start = {3.0};
    const Premap premap = find_premap(target, options, "potential 'test'");
    CHECK(std::abs(premap.mode(0) - 1.0) < 1e-8);
  }
}

TEST_CASE("pipeline rejects bad auto domain settings") {
  const fs::path dir = scratch_directory("validate");
  const fs::path pipeline = write_pipeline(dir, narrow_pipeline("\"auto\""));
  const Result valid = run_host("validate " + pipeline.string());
  CHECK(valid.status == 0);
  CHECK(contains(valid.output, "automatic pre-map"));

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/basis/params/domain=automatic",
       "/basis/params/domain: expected \"auto\" or an interval [lower, upper], found \"automatic\""},
      {"/basis/params/domain=aut", "found \"aut\"; did you mean 'auto'?"},
      {"/premap/widht=5", "/premap/widht: unknown key 'widht'; did you mean 'width'?"},
      {"/premap/width=0.5", "/premap/width: value 0.5 is out of range [1, 50]"},
      {"/premap/start=[1,2,3]", "/premap/start: expected 2 numbers (the potential's dimension), found 3"},
      {"/premap/start=5", "/premap/start: expected an array of numbers, found an integer"},
      {"/initial_condition/method=polynomial",
       "/initial_condition/method: \"polynomial\" cannot be used with \"domain\": \"auto\""},
  };
  for (const auto& [assignment, expected] : cases) {
    CAPTURE(assignment);
    const Result result = run_host("validate " + pipeline.string() + " --set '" + assignment + "'");
    CHECK(result.status == 2);
    CHECK(contains(result.output, expected));
  }

  const fs::path fixed = write_pipeline(dir, narrow_pipeline("[-6, 6]", "[]", R"(, "premap": {"width": 4})"));
  const Result stray = run_host("validate " + fixed.string());
  CHECK(stray.status == 2);
  CHECK(contains(stray.output, "/premap: the premap section applies only with \"domain\": \"auto\" in /basis/params/domain"));
}

TEST_CASE("host run of narrow Gaussian with auto domain") {
  const fs::path dir = scratch_directory("narrow");
  const fs::path pipeline =
      write_pipeline(dir, narrow_pipeline("\"auto\"", R"([{"plugin": "statistics"}])", R"(, "checkpoint": {"enabled": false})"));
  const Result result = run_host("run " + pipeline.string() + " --out " + (dir / "auto").string());
  INFO(result.output);
  REQUIRE(result.status == 0);
  CHECK(contains(result.output, "pre-map: mode (5 +- 0.01, 30 +- 10)"));

  // The whitened target is N(0, I): a degree-2 rank-2 solve whose only errors are the reverse SDE's
  // time steps and the sampling noise. The bounds are about four times the noise of exact draws
  // (see whitened_errors); the run measured 0.042 and 0.038.
  const arma::mat samples = read_npy(dir / "auto" / "samples.npy");
  REQUIRE(samples.n_rows == 2);
  REQUIRE(samples.n_cols == 4000);
  const WhitenedErrors errors = whitened_errors(samples);
  CHECK(errors.mean < 0.1);
  CHECK(errors.covariance < 0.15);

  // The report records the map, and the statistics saw x-space samples against the exact reference.
  const auto report = read_report(dir / "auto" / "report.json");
  const auto& premap = report.at("premap").as_object();
  const arma::vec mode = read_vector(premap.at("mode"));
  CHECK(std::abs(mode(0) - 5.0) < 1e-9);
  CHECK(std::abs(mode(1) - 30.0) < 1e-6);
  CHECK(premap.at("box").as_array() == boost::json::array{-12.0, 12.0});
  CHECK(premap.at("iterations").to_number<double>() >= 1);
  CHECK(premap.at("cholesky").as_array().size() == 2);
  CHECK(report.at("initial_condition").at("method").as_string() == "cross");
  CHECK(report.at("postprocessors").at(0).at("covariance_relative_error").to_number<double>() < 0.1);

  // The same target on the fixed box [-6, 6] misses it: the mean 30 lies outside the box, so the
  // reverse SDE spends nearly all its steps outside, where the score is only extrapolated. The
  // run measured whitened errors of 2.7 and 18, about 60 and 500 times those above.
  const Result fixed = run_host("run " + pipeline.string() + " --out " + (dir / "fixed").string() + " --set '/basis/params/domain=[-6,6]'");
  INFO(fixed.output);
  REQUIRE(fixed.status == 0);
  const WhitenedErrors fixed_errors = whitened_errors(read_npy(dir / "fixed" / "samples.npy"));
  CHECK(contains(fixed.output, "of the point-steps were outside the box"));
  CHECK(fixed_errors.mean > 1.0);
  CHECK(fixed_errors.covariance > 5.0);
  CHECK_FALSE(read_report(dir / "fixed" / "report.json").contains("premap"));

  // `hjbtt sample` derives the same map from the saved pipeline, so the same seed reproduces the
  // samples bit for bit.
  const Result again = run_host("sample --solution " + (dir / "auto").string() + " --out " + (dir / "again").string());
  INFO(again.output);
  REQUIRE(again.status == 0);
  CHECK(arma::approx_equal(read_npy(dir / "again" / "samples.npy"), samples, "absdiff", 0.0));
  const auto again_report = read_report(dir / "again" / "report.json");
  CHECK(again_report.at("premap").at("mode") == premap.at("mode"));
  CHECK(again_report.at("premap").at("cholesky") == premap.at("cholesky"));
  const Result changed = run_host("sample --solution " + (dir / "auto").string() + " --out " + (dir / "changed").string() +
                                  " --set /premap/width=5");
  CHECK(changed.status == 2);
  CHECK(contains(changed.output, "--set changes the premap section"));
}

TEST_CASE("resume with auto domain derives the same map") {
  // ULA steps of 1e3 multiply the offset in the narrow direction by about 5e7 each, and 50 of them
  // overflow. The run then fails in the postprocessor and keeps the checkpoint of its finished
  // solve, which --resume continues.
  const fs::path dir = scratch_directory("resume");
  const fs::path pipeline = write_pipeline(
      dir, narrow_pipeline("\"auto\"", R"([{"plugin": "langevin", "params": {"steps": 50, "step_size": 1e3, "metropolis": false}}])"));
  const fs::path out = dir / "out";
  const Result first = run_host("run " + pipeline.string() + " --out " + out.string());
  INFO(first.output);
  CHECK(first.status == 1);
  REQUIRE(fs::exists(out / "checkpoint.bin"));
  const auto first_report = read_report(out / "report.json");
  CHECK(first_report.at("phase").as_string() == "postprocessor 'langevin' (/postprocessors/0)");

  const Result resumed = run_host("run " + pipeline.string() + " --out " + out.string() + " --resume");
  INFO(resumed.output);
  CHECK(resumed.status == 1);
  const auto report = read_report(out / "report.json");
  CHECK(report.at("resumed_from").at("solve_complete").as_bool());
  CHECK(report.at("phase").as_string() == "postprocessor 'langevin' (/postprocessors/0)");
  CHECK(report.at("premap").at("mode") == first_report.at("premap").at("mode"));
  CHECK(report.at("premap").at("cholesky") == first_report.at("premap").at("cholesky"));
  CHECK(report.at("sampler").at("plugin").as_string() == "reverse_sde");
}

TEST_CASE("host reports an indefinite Hessian at the start") {
  // The double well (x^2 - 2)^2 has a maximum at the default start 0.
  const fs::path dir = scratch_directory("saddle");
  const fs::path pipeline = write_pipeline(dir, R"({
  "hjbtt": 1,
  "potential": {"plugin": "double_well", "params": {"dimension": 2}},
  "basis": {"plugin": "legendre", "params": {"degree": 6, "domain": "auto"}},
  "integrator": {"plugin": "explicit_euler"},
  "sampler": {"plugin": "reverse_sde", "params": {"samples": 100}}
})");
  const Result result = run_host("run " + pipeline.string() + " --out " + (dir / "out").string());
  CHECK(result.status == 1);
  CHECK(contains(result.output, "run failed in pre-map of potential 'double_well' (/premap): pre-map of potential 'double_well'"));
  CHECK(contains(result.output, "is not positive definite at the stationary point x = (0, 0)"));
  CHECK_FALSE(fs::exists(dir / "out" / "samples.npy"));
  CHECK(read_report(dir / "out" / "report.json").at("phase").as_string() == "pre-map of potential 'double_well' (/premap)");
}

TEST_CASE("eight schools potential gradient and mode") {
  const std::shared_ptr<Potential> potential = eight_schools_potential();
  REQUIRE(potential != nullptr);
  REQUIRE(potential->dimension() == 10);

  // At theta~ = 0, mu = 0, s = 0 (tau = 1): Phi = sum_j y_j^2 / (2 sigma_j^2) + log(1 + 1/25).
  const double y[8] = {28, 8, -3, 7, -1, 1, 18, 12};
  const double sigma[8] = {15, 10, 16, 11, 9, 11, 10, 18};
  double expected = std::log(1.0 + 1.0 / 25.0);
  for (int j = 0; j < 8; ++j) expected += y[j] * y[j] / (2.0 * sigma[j] * sigma[j]);
  CHECK(potential->value(arma::mat(10, 1, arma::fill::zeros))(0) == doctest::Approx(expected).epsilon(1e-14));

  // The gradient against central differences with step 1e-5 at random points: truncation about
  // 1e-10 times third derivatives of order tau^2 <= e^2, rounding about 1e-16 |Phi| / 1e-5.
  arma::arma_rng::set_seed(8);
  const arma::mat X = arma::randn(10, 6);
  const arma::mat gradients = potential->gradient(X);
  for (arma::uword j = 0; j < X.n_cols; ++j) {
    for (arma::uword k = 0; k < 10; ++k) {
      arma::mat plus = X.col(j), minus = X.col(j);
      plus(k) += 1e-5;
      minus(k) -= 1e-5;
      const double difference = (potential->value(plus)(0) - potential->value(minus)(0)) / 2e-5;
      CAPTURE(j);
      CAPTURE(k);
      CHECK(std::abs(difference - gradients(k, j)) <= 1e-6 * (1.0 + std::abs(gradients(k, j))));
    }
  }

  // The joint mode: stationary with a positive definite Hessian. A profile of Phi over s, minimised
  // over theta~ and mu by coordinate descent, has its minimum near s = 3.37 (tau near 29), far
  // above the posterior mean of tau (about 3.6), because the theta~ volume shrinks as tau grows.
  PremapOptions options;
  options.enabled = true;
  const Premap premap = find_premap(*potential, options, "potential 'eight_schools'");
  CHECK(premap.gradient_norm < 1e-8);
  CHECK(premap.mode(9) == doctest::Approx(3.37).epsilon(0.01));
  CHECK(arma::eig_sym(premap.hessian).min() > 0.0);
}

TEST_CASE("eight schools example pipeline validates") {
  const Result result = run_host("validate " + std::string(HJBTT_SOURCE_DIR) + "/examples/eight-schools.json");
  INFO(result.output);
  CHECK(result.status == 0);
  CHECK(contains(result.output, "potential 'eight_schools' in d = 10"));
  CHECK(contains(result.output, "automatic pre-map"));
}

TEST_CASE("eight schools example runs end to end") {
  // The example pipeline with 500 samples and 100 MALA steps; about 4 s, most of it the solve.
  const fs::path dir = scratch_directory("eight-schools");
  const Result result = run_host("run " + std::string(HJBTT_SOURCE_DIR) + "/examples/eight-schools.json --out " +
                                 (dir / "out").string() +
                                 " --set /sampler/params/samples=500 --set /sampler/params/steps=50"
                                 " --set /postprocessors/1/params/steps=100");
  INFO(result.output);
  REQUIRE(result.status == 0);
  const arma::mat samples = read_npy(dir / "out" / "samples.npy");
  REQUIRE(samples.n_rows == 10);
  REQUIRE(samples.n_cols == 500);
  const auto report = read_report(dir / "out" / "report.json");
  CHECK(report.at("premap").at("mode").as_array().at(9).to_number<double>() == doctest::Approx(3.37).epsilon(0.01));

  // The summary after the corrector describes the x-space samples that samples.npy contains:
  // mu = x_9, tau = exp(x_10) and theta_1 = mu + tau x_1, to rounding.
  const auto& summary = report.at("postprocessors").at(2).as_object();
  CHECK(summary.at("plugin").as_string() == "eight_schools_summary");
  CHECK(summary.at("samples").to_number<double>() == 500);
  const arma::rowvec mu = samples.row(8);
  const arma::rowvec tau = arma::exp(samples.row(9));
  const arma::rowvec theta_1 = mu + tau % samples.row(0);
  const auto check_summary = [](const boost::json::value& entry, const arma::rowvec& values) {
    CHECK(entry.at("mean").to_number<double>() == doctest::Approx(arma::mean(values)).epsilon(1e-12));
    CHECK(entry.at("sd").to_number<double>() == doctest::Approx(arma::stddev(values)).epsilon(1e-12));
    CHECK(entry.at("mc_error").to_number<double>() == doctest::Approx(arma::stddev(values) / std::sqrt(500.0)).epsilon(1e-12));
    CHECK(entry.at("median").to_number<double>() == doctest::Approx(arma::median(values)).epsilon(1e-12));
  };
  check_summary(summary.at("mu"), mu);
  check_summary(summary.at("tau"), tau);
  REQUIRE(summary.at("theta").as_array().size() == 8);
  check_summary(summary.at("theta").at(0), theta_1);
}
