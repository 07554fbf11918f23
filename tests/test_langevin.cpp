// The `langevin` postprocessor. MALA converges to a Gaussian target from a wrong start and ULA
// shows its known step-size bias. Results do not depend on the thread count. Non-finite values
// of the potential are rejected by MALA and stop a ULA run.
#include "langevin.hpp"

#include "hjbtt/core/random.hpp"
#include "hjbtt/core/registry.hpp"
#include "hjbtt/errors.hpp"

#include <doctest/doctest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Phi(x) = (x - m)^T P (x - m) / 2 with P = covariance^-1, so pi = N(m, covariance). Written
// here so that the test does not depend on the potentials plugin.
class GaussianPotential : public hjbtt::Potential {
public:
  GaussianPotential(arma::vec mean, arma::mat covariance)
      : mean_(std::move(mean)), covariance_(std::move(covariance)), precision_(arma::inv_sympd(covariance_)) {}
  arma::uword dimension() const override { return mean_.n_elem; }
  arma::rowvec value(const arma::mat& x) const override {
    const arma::mat centred = x.each_col() - mean_;
    return 0.5 * arma::sum(centred % (precision_ * centred), 0);
  }
  arma::mat gradient(const arma::mat& x) const override { return precision_ * (x.each_col() - mean_); }

  const arma::vec& mean() const { return mean_; }
  const arma::mat& covariance() const { return covariance_; }

private:
  arma::vec mean_;
  arma::mat covariance_;
  arma::mat precision_;
};

// Phi(x) = -slope x_1 + x_2^2 / 2 for x_1 <= 1, and NaN (value and gradient) for x_1 > 1.
// With step h the drift moves x_1 by h * slope per step, which makes the count of samples that
// cross into the NaN region exact.
class HalfDefinedPotential : public hjbtt::Potential {
public:
  static constexpr double slope = 1e6;
  arma::uword dimension() const override { return 2; }
  arma::rowvec value(const arma::mat& x) const override {
    arma::rowvec phi = -slope * x.row(0) + 0.5 * arma::square(x.row(1));
    for (arma::uword j = 0; j < x.n_cols; ++j) {
      if (x(0, j) > 1.0) phi(j) = std::numeric_limits<double>::quiet_NaN();
    }
    return phi;
  }
  arma::mat gradient(const arma::mat& x) const override {
    arma::mat g(2, x.n_cols);
    g.row(0).fill(-slope);
    g.row(1) = x.row(1);
    for (arma::uword j = 0; j < x.n_cols; ++j) {
      if (x(0, j) > 1.0) g.col(j).fill(std::numeric_limits<double>::quiet_NaN());
    }
    return g;
  }
};

class ThrowingPotential : public hjbtt::Potential {
public:
  arma::uword dimension() const override { return 1; }
  arma::rowvec value(const arma::mat& x) const override { return arma::zeros<arma::rowvec>(x.n_cols); }
  arma::mat gradient(const arma::mat&) const override { throw std::runtime_error("gradient not available"); }
};

class RecordingLog : public hjbtt::RunLog {
public:
  void info(const std::string& message) override { lines.push_back(message); }
  void progress(const std::string&, double, const std::string&) override {}
  std::vector<std::string> lines;
};

// The postprocessors build no nested plugins.
class NoNestedPlugins : public hjbtt::PluginContext {
public:
  std::shared_ptr<hjbtt::Potential> create_potential(const boost::json::value&, const std::string& pointer) override {
    throw std::logic_error("unexpected nested potential at " + pointer);
  }
};

hjbtt::RunContext make_context(std::uint64_t seed, std::uint64_t phase = 3) {
  hjbtt::RunContext context;
  context.seed = seed;
  context.phase = phase;
  return context;
}

// N(m, Sigma) in d = 3 with standard deviations (1, 0.7, 1.2) and correlation 0.5^|i-j|.
GaussianPotential correlated_gaussian() {
  const arma::vec sd = {1.0, 0.7, 1.2};
  arma::mat covariance(3, 3);
  for (arma::uword i = 0; i < 3; ++i) {
    for (arma::uword j = 0; j < 3; ++j) {
      covariance(i, j) = sd(i) * sd(j) * std::pow(0.5, std::abs(double(i) - double(j)));
    }
  }
  return GaussianPotential(arma::vec{0.5, -1.0, 0.0}, covariance);
}

// Identical numbers bit for bit, NaN included.
bool identical(const arma::mat& a, const arma::mat& b) {
  return arma::size(a) == arma::size(b) && std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("MALA converges from a point start") {
  const GaussianPotential target = correlated_gaussian();
  const arma::uword n = 20000;

  // Every sample starts at m + 2 sd in each coordinate: wrong mean and zero covariance.
  const arma::vec start = target.mean() + 2.0 * arma::sqrt(target.covariance().diag());
  arma::mat samples = arma::repmat(start, 1, n);

  RecordingLog log;
  hjbtt::RunContext context = make_context(17);
  context.log = &log;
  hjbtt::LangevinPostprocessor langevin({150, 0.2, true});
  boost::json::object report;
  langevin.process(samples, target, context, report);

  // The chains are independent, so after convergence the columns are iid draws of pi. A mean
  // has standard error sqrt(Sigma_kk / N) and a covariance entry sqrt((Sigma_ii Sigma_jj +
  // Sigma_ij^2) / N); 4 standard errors leave a false failure probability below 1e-4 per entry.
  // The bias left from the start is an estimate from the continuous dynamics: they contract the
  // mean at rate 1 / lambda_max(Sigma) = 1 / 1.81, and 150 steps of 0.2 at acceptance 0.84 are
  // time 25, which leaves about 1e-6 of the initial offset.
  const arma::vec mean = arma::mean(samples, 1);
  const arma::mat covariance = arma::cov(samples.t());
  const arma::mat& sigma = target.covariance();
  for (arma::uword i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(std::abs(mean(i) - target.mean()(i)) < 4.0 * std::sqrt(sigma(i, i) / n));
    for (arma::uword j = 0; j < 3; ++j) {
      CAPTURE(j);
      const double standard_error = std::sqrt((sigma(i, i) * sigma(j, j) + sigma(i, j) * sigma(i, j)) / n);
      CHECK(std::abs(covariance(i, j) - sigma(i, j)) < 4.0 * standard_error);
    }
  }

  const double acceptance = report.at("acceptance_rate").to_number<double>();
  const double lowest = report.at("acceptance_rate_min_block").to_number<double>();
  CHECK(acceptance > 0.0);
  CHECK(acceptance <= 1.0);
  CHECK(lowest > 0.0);
  CHECK(lowest <= acceptance);
  CHECK(report.at("nonfinite_proposals").to_number<double>() == 0.0);
  CHECK(report.at("steps").to_number<double>() == 150.0);
  CHECK(report.at("metropolis").as_bool());
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("MALA") != std::string::npos);
  CHECK(log.lines[0].find("acceptance rate") != std::string::npos);
}

TEST_CASE("ULA stationary variance bias") {
  // For N(0, 1) one ULA step is x' = (1 - h) x + sqrt(2h) xi, whose stationary variance v solves
  // v = (1 - h)^2 v + 2h, so v = 1 / (1 - h/2) = 4/3 for h = 0.5. The variance approaches it by
  // a factor (1 - h)^2 = 1/4 per step, so 40 steps from exact draws leave no trace of the start.
  const arma::uword n = 20000;
  const arma::uword d = 3;
  const GaussianPotential standard(arma::zeros(d), arma::eye(d, d));
  hjbtt::RandomStream random(99, {1});
  const arma::mat exact = random.normal(d, n);

  arma::mat ula = exact;
  boost::json::object ula_report;
  hjbtt::LangevinPostprocessor({40, 0.5, false}).process(ula, standard, make_context(5), ula_report);

  // The pooled variance of 3N iid values has standard error v sqrt(2 / (3N)); 4 of them.
  const double pooled = 3.0 * n;
  const double ula_variance = arma::accu(arma::square(ula)) / pooled;
  CHECK(std::abs(ula_variance - 4.0 / 3.0) < 4.0 * (4.0 / 3.0) * std::sqrt(2.0 / pooled));
  CHECK(ula_report.at("acceptance_rate").is_null());
  CHECK_FALSE(ula_report.contains("nonfinite_proposals"));

  // MALA with the same step leaves N(0, 1) invariant, so exact draws stay exact.
  arma::mat mala = exact;
  boost::json::object mala_report;
  hjbtt::LangevinPostprocessor({40, 0.5, true}).process(mala, standard, make_context(5), mala_report);
  const double mala_variance = arma::accu(arma::square(mala)) / pooled;
  CHECK(std::abs(mala_variance - 1.0) < 4.0 * std::sqrt(2.0 / pooled));
  CHECK(mala_report.at("acceptance_rate").to_number<double>() < 1.0);
}

TEST_CASE("results do not depend on thread count") {
  // Three sample blocks, the last one partial, so that two threads really share the work.
  const GaussianPotential target = correlated_gaussian();
  const arma::uword n = 2 * hjbtt::sample_block_size + 500;
  hjbtt::RandomStream random(3, {0});
  const arma::mat start = 2.0 * random.normal(3, n);

  for (bool metropolis : {true, false}) {
    CAPTURE(metropolis);
    const hjbtt::LangevinPostprocessor::Settings settings{5, 0.1, metropolis};
    auto run = [&](int threads, std::uint64_t seed, std::uint64_t phase) {
#ifdef _OPENMP
      omp_set_num_threads(threads);
#else
      (void)threads;
#endif
      arma::mat samples = start;
      boost::json::object report;
      hjbtt::LangevinPostprocessor(settings).process(samples, target, make_context(seed, phase), report);
      return samples;
    };

    const arma::mat one_thread = run(1, 8, 3);
    CHECK(identical(one_thread, run(1, 8, 3)));
    CHECK(identical(one_thread, run(2, 8, 3)));
    CHECK_FALSE(identical(one_thread, run(2, 9, 3)));
    CHECK_FALSE(identical(one_thread, run(2, 8, 4)));
    CHECK_FALSE(identical(one_thread, start));
  }
}

TEST_CASE("MALA rejects proposals in a NaN region") {
  // Step h = 1e-8: the drift moves x_1 by 0.01 and the noise by sqrt(2h) = 1.4e-4 per unit
  // normal, so the 123 samples at x_1 = 0.995 land beyond 1 (about 35 noise standard deviations
  // away from staying) and the others at x_1 = 0 stay far inside.
  const HalfDefinedPotential potential;
  const arma::uword n = 1000;
  const arma::uword near_edge = 123;
  arma::mat samples(2, n, arma::fill::zeros);
  samples.row(0).head(near_edge).fill(0.995);
  const arma::mat before = samples;

  boost::json::object report;
  hjbtt::LangevinPostprocessor({1, 1e-8, true}).process(samples, potential, make_context(1), report);

  CHECK(report.at("nonfinite_proposals").to_number<double>() == static_cast<double>(near_edge));
  CHECK(samples.is_finite());
  CHECK(identical(samples.cols(0, near_edge - 1), before.cols(0, near_edge - 1)));
  CHECK(report.at("acceptance_rate").to_number<double>() <= double(n - near_edge) / n);
}

TEST_CASE("ULA fails in a NaN region") {
  const HalfDefinedPotential potential;
  const arma::uword n = 1000;
  arma::mat samples(2, n, arma::fill::zeros);
  samples.row(0).head(123).fill(0.995);
  const arma::mat before = samples;

  hjbtt::LangevinPostprocessor ula({1, 1e-8, false});
  boost::json::object report;
  try {
    ula.process(samples, potential, make_context(1), report);
    FAIL("ULA into a NaN region must raise NumericalFailure");
  } catch (const hjbtt::NumericalFailure& error) {
    const std::string message = error.what();
    CHECK(message.find("langevin") != std::string::npos);
    CHECK(message.find("123 of the 1000") != std::string::npos);
    CHECK(message.find("step_size") != std::string::npos);
    CHECK(message.find("metropolis: true") != std::string::npos);
  }

  // A failed run leaves the samples as they were.
  CHECK(identical(samples, before));
}

TEST_CASE("non-finite start raises for MALA and ULA") {
  const HalfDefinedPotential potential;
  arma::mat samples(2, 50, arma::fill::zeros);
  samples.row(0).head(7).fill(2.0);
  samples(1, 10) = std::numeric_limits<double>::infinity();

  for (bool metropolis : {true, false}) {
    CAPTURE(metropolis);
    hjbtt::LangevinPostprocessor langevin({3, 1e-8, metropolis});
    boost::json::object report;
    try {
      langevin.process(samples, potential, make_context(1), report);
      FAIL("a non-finite start must raise NumericalFailure");
    } catch (const hjbtt::NumericalFailure& error) {
      CHECK(std::string(error.what()).find("8 of the 50") != std::string::npos);
    }
  }
}

TEST_CASE("potential exceptions pass through") {
  const ThrowingPotential potential;
  arma::mat samples(1, 10, arma::fill::zeros);
  boost::json::object report;
  hjbtt::LangevinPostprocessor langevin({2, 0.1, true});
  CHECK_THROWS_WITH_AS(langevin.process(samples, potential, make_context(1), report), "gradient not available",
                       std::runtime_error);
}

TEST_CASE("langevin settings and trivial runs") {
  CHECK_THROWS_AS(hjbtt::LangevinPostprocessor({-1, 0.1, true}), std::invalid_argument);
  CHECK_THROWS_AS(hjbtt::LangevinPostprocessor({5, 0.0, true}), std::invalid_argument);
  CHECK_THROWS_AS(hjbtt::LangevinPostprocessor({5, std::numeric_limits<double>::infinity(), true}),
                  std::invalid_argument);

  // Zero steps leave the samples alone and report no acceptance rate.
  const GaussianPotential standard(arma::zeros(2), arma::eye(2, 2));
  arma::mat samples = {{0.5, -1.0}, {2.0, 0.0}};
  const arma::mat before = samples;
  boost::json::object report;
  hjbtt::LangevinPostprocessor({0, 0.1, true}).process(samples, standard, make_context(1), report);
  CHECK(identical(samples, before));
  CHECK(report.at("acceptance_rate").is_null());

  // A dimension mismatch is a usage error.
  arma::mat wrong(3, 4, arma::fill::zeros);
  CHECK_THROWS_AS(hjbtt::LangevinPostprocessor({1, 0.1, true}).process(wrong, standard, make_context(1), report),
                  std::invalid_argument);
}

TEST_CASE("postprocessors manifest and factories") {
  // The loadable module, built next to this test; it declares both postprocessors.
  hjbtt::PluginRegistry registry;
  registry.load_library(std::filesystem::path(HJBTT_PLUGIN_DIR) / "libhjbtt_postprocessors.so");
  const std::vector<std::string> names = registry.names(hjbtt::PluginKind::postprocessor);
  CHECK(std::find(names.begin(), names.end(), "langevin") != names.end());
  CHECK(std::find(names.begin(), names.end(), "statistics") != names.end());

  const std::string pointer = "/postprocessors/0";
  const hjbtt::PluginInfo& info = *registry.find(hjbtt::PluginKind::postprocessor, "langevin", pointer).info;
  NoNestedPlugins plugin_context;
  const auto create = [&](const char* json) {
    const boost::json::value parameters_json = boost::json::parse(json);
    const hjbtt::Parameters params =
        hjbtt::validate_parameters(info.parameters, &parameters_json, pointer + "/params", info.name);
    return info.factory(params, plugin_context);
  };

  // Defaults: 20 MALA steps of size 0.01.
  const auto langevin = std::dynamic_pointer_cast<hjbtt::LangevinPostprocessor>(create("{}"));
  REQUIRE(langevin != nullptr);
  CHECK(langevin->settings().steps == 20);
  CHECK(langevin->settings().step_size == 0.01);
  CHECK(langevin->settings().metropolis);

  // A zero step passes the inclusive declared minimum, so the factory itself must reject it.
  try {
    create(R"({"step_size": 0})");
    FAIL("step_size 0 must raise ConfigurationError");
  } catch (const hjbtt::ConfigurationError& error) {
    CHECK(error.pointer() == "/postprocessors/0/params/step_size");
    CHECK(std::string(error.what()).find("> 0") != std::string::npos);
  }
  CHECK_THROWS_AS(create(R"({"steps": -1})"), hjbtt::ConfigurationError);
}
