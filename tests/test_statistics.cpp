// Sample-quality metrics (core/statistics) and the `statistics` postprocessor: hand-computed
// values on tiny data, and the sampling-noise scale of exact Gaussian draws.
#include "statistics.hpp"

#include "hjbtt/core/random.hpp"
#include "hjbtt/core/statistics.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

// N(mean, covariance) with its exact reference; written here so that the test does not depend
// on the potentials plugin.
class GaussianReference : public hjbtt::Reference {
public:
  GaussianReference(arma::vec mean, arma::mat covariance)
      : mean_(std::move(mean)), covariance_(std::move(covariance)) {}
  arma::vec mean() const override { return mean_; }
  arma::mat covariance() const override { return covariance_; }
  bool has_marginals() const override { return true; }
  double marginal_cdf(arma::uword k, double x) const override {
    return 0.5 * std::erfc(-(x - mean_(k)) / std::sqrt(2.0 * covariance_(k, k)));
  }
  bool can_draw() const override { return true; }
  arma::mat draw(arma::uword n, hjbtt::RandomStream& random) const override {
    const arma::mat factor = arma::chol(covariance_, "lower");
    arma::mat x = factor * random.normal(mean_.n_elem, n);
    x.each_col() += mean_;
    return x;
  }

private:
  arma::vec mean_;
  arma::mat covariance_;
};

// Moments only: no marginals, no draws.
class MomentReference : public GaussianReference {
public:
  using GaussianReference::GaussianReference;
  bool has_marginals() const override { return false; }
  bool can_draw() const override { return false; }
};

class GaussianPotential : public hjbtt::Potential {
public:
  explicit GaussianPotential(std::shared_ptr<const hjbtt::Reference> reference, arma::uword dimension)
      : reference_(std::move(reference)), dimension_(dimension) {}
  arma::uword dimension() const override { return dimension_; }
  arma::rowvec value(const arma::mat& x) const override { return 0.5 * arma::sum(arma::square(x), 0); }
  arma::mat gradient(const arma::mat& x) const override { return x; }
  std::shared_ptr<const hjbtt::Reference> reference() const override { return reference_; }

private:
  std::shared_ptr<const hjbtt::Reference> reference_;
  arma::uword dimension_;
};

class RecordingLog : public hjbtt::RunLog {
public:
  void info(const std::string& message) override { lines.push_back(message); }
  void progress(const std::string&, double, const std::string&) override {}
  std::vector<std::string> lines;
};

// Two coordinates, four samples. Row 0: mean 3, deviations (-2, -1, 0, 3), variance 14/3.
// Row 1: mean 1, deviations (-1, 1, -1, 1), variance 4/3. Covariance (2 - 1 + 0 + 3)/3 = 4/3.
const arma::mat tiny_samples = {{1.0, 2.0, 3.0, 6.0}, {0.0, 2.0, 0.0, 2.0}};

double kolmogorov_bound(arma::uword n) {
  // P(sqrt(n) D > 2.2) = 1.2e-4 for the Kolmogorov limit law, so exact samples pass with
  // probability 99.9 % even when several coordinates are checked, whatever the generator's
  // stream; errors that matter here are many times larger.
  return 2.2 / std::sqrt(static_cast<double>(n));
}

}  // namespace

TEST_CASE("sample moments of tiny data") {
  const arma::vec mean = hjbtt::sample_mean(tiny_samples);
  CHECK(mean(0) == doctest::Approx(3.0));
  CHECK(mean(1) == doctest::Approx(1.0));

  const arma::mat covariance = hjbtt::sample_covariance(tiny_samples);
  CHECK(covariance(0, 0) == doctest::Approx(14.0 / 3.0));
  CHECK(covariance(1, 1) == doctest::Approx(4.0 / 3.0));
  CHECK(covariance(0, 1) == doctest::Approx(4.0 / 3.0));
  CHECK(covariance(1, 0) == doctest::Approx(4.0 / 3.0));

  CHECK_THROWS_AS(hjbtt::sample_covariance(tiny_samples.cols(0, 0)), std::invalid_argument);
}

TEST_CASE("moment errors by hand") {
  // ||diag(2, 1) - I||_F / ||I||_F = 1 / sqrt(2).
  const arma::mat estimate = {{2.0, 0.0}, {0.0, 1.0}};
  CHECK(hjbtt::covariance_relative_error(estimate, arma::eye(2, 2)) == doctest::Approx(1.0 / std::sqrt(2.0)));
  CHECK_THROWS_AS(hjbtt::covariance_relative_error(estimate, arma::eye(3, 3)), std::invalid_argument);

  // ||(3, 4)|| / sqrt(tr diag(2, 2)) = 5 / 2.
  const arma::mat covariance = {{2.0, 0.5}, {0.5, 2.0}};
  CHECK(hjbtt::mean_error(arma::vec{3.0, 4.0}, arma::vec{0.0, 0.0}, covariance) == doctest::Approx(2.5));
}

TEST_CASE("KS distance by hand") {
  // Uniform CDF on [0, 1]; sorted values 0.1, 0.4, 0.7. The largest gap is 1 - 0.7 = 0.3 at the
  // last value (the others: 1/3 - 0.1, 2/3 - 0.4, 0.4 - 1/3, 0.7 - 2/3).
  const auto uniform_cdf = [](double x) { return std::clamp(x, 0.0, 1.0); };
  CHECK(hjbtt::ks_distance(arma::rowvec{0.7, 0.1, 0.4}, uniform_cdf) == doctest::Approx(0.3));

  // A tie at 0.5: the empirical CDF jumps from 0 to 1 there, so the distance is 0.5 on each side.
  CHECK(hjbtt::ks_distance(arma::rowvec{0.5, 0.5}, uniform_cdf) == doctest::Approx(0.5));

  // All values below the support: the empirical CDF is 1 where the exact one is still 0.
  CHECK(hjbtt::ks_distance(arma::rowvec{-2.0, -1.0}, uniform_cdf) == doctest::Approx(1.0));
}

TEST_CASE("positive fraction and finite columns") {
  // Row 1 contains zeros, which do not count as positive.
  const arma::vec positive = hjbtt::positive_fraction(tiny_samples);
  CHECK(positive(0) == doctest::Approx(1.0));
  CHECK(positive(1) == doctest::Approx(0.5));

  arma::mat with_nan = tiny_samples;
  with_nan(1, 2) = std::numeric_limits<double>::quiet_NaN();
  with_nan(0, 3) = std::numeric_limits<double>::infinity();
  const arma::uvec finite = hjbtt::finite_columns(with_nan);
  REQUIRE(finite.n_elem == 2);
  CHECK(finite(0) == 0);
  CHECK(finite(1) == 1);
}

TEST_CASE("sample_statistics fields on tiny data") {
  const GaussianReference reference(arma::zeros(2), arma::eye(2, 2));
  const boost::json::object result = hjbtt::sample_statistics(tiny_samples, &reference);

  CHECK(result.at("samples").to_number<double>() == 4.0);
  CHECK(result.at("nonfinite_samples").to_number<double>() == 0.0);
  CHECK(result.at("mean").as_array().at(0).to_number<double>() == doctest::Approx(3.0));
  CHECK(result.at("covariance").as_array().at(0).as_array().at(1).to_number<double>() == doctest::Approx(4.0 / 3.0));

  // C_hat - I = [[11/3, 4/3], [4/3, 1/3]]: Frobenius norm sqrt(121 + 16 + 16 + 1) / 3, over sqrt(2).
  CHECK(result.at("covariance_relative_error").to_number<double>() ==
        doctest::Approx(std::sqrt(154.0) / 3.0 / std::sqrt(2.0)));
  // ||(3, 1)|| / sqrt(2).
  CHECK(result.at("mean_error").to_number<double>() == doctest::Approx(std::sqrt(10.0) / std::sqrt(2.0)));

  // Row 0 (1, 2, 3, 6) against N(0, 1): the largest gap is Phi(1) - 0 = 0.8413 just below the
  // first point. Row 1 (0, 2, 0, 2): just below 0 the gap is Phi(0) - 0 = 0.5, larger than
  // Phi(2) - 0.5 = 0.4772 just below 2.
  const boost::json::array& ks = result.at("ks").as_array();
  CHECK(ks.at(0).to_number<double>() == doctest::Approx(0.5 * std::erfc(-1.0 / std::sqrt(2.0))));
  CHECK(ks.at(1).to_number<double>() == doctest::Approx(0.5));
  CHECK(result.at("ks_max").to_number<double>() == doctest::Approx(ks.at(0).to_number<double>()));

  CHECK(result.at("positive_fraction_exact").as_array().at(0).to_number<double>() == doctest::Approx(0.5));
  CHECK(result.at("positive_fraction_max_error").to_number<double>() == doctest::Approx(0.5));
  CHECK_FALSE(result.contains("reference"));
}

TEST_CASE("sample_statistics without marginals or reference") {
  const MomentReference moments(arma::zeros(2), arma::eye(2, 2));
  const boost::json::object with_moments = hjbtt::sample_statistics(tiny_samples, &moments);
  CHECK(with_moments.contains("covariance_relative_error"));
  CHECK_FALSE(with_moments.contains("ks"));
  CHECK_FALSE(with_moments.contains("positive_fraction_exact"));

  const boost::json::object without = hjbtt::sample_statistics(tiny_samples, nullptr);
  CHECK(without.at("reference").as_string() == "none");
  CHECK(without.contains("mean"));
  CHECK(without.contains("covariance"));
  CHECK_FALSE(without.contains("covariance_relative_error"));

  const GaussianReference wrong_dimension(arma::zeros(3), arma::eye(3, 3));
  CHECK_THROWS_AS(hjbtt::sample_statistics(tiny_samples, &wrong_dimension), std::invalid_argument);
}

TEST_CASE("sample_statistics leaves out non-finite columns") {
  arma::mat samples = tiny_samples;
  samples.insert_cols(1, arma::vec{std::numeric_limits<double>::quiet_NaN(), 0.0});
  const boost::json::object result = hjbtt::sample_statistics(samples, nullptr);
  CHECK(result.at("samples").to_number<double>() == 5.0);
  CHECK(result.at("nonfinite_samples").to_number<double>() == 1.0);
  CHECK(result.at("mean").as_array().at(0).to_number<double>() == doctest::Approx(3.0));

  // One finite column is not enough for a covariance.
  const boost::json::object too_few = hjbtt::sample_statistics(samples.cols(0, 1), nullptr);
  CHECK(too_few.at("nonfinite_samples").to_number<double>() == 1.0);
  CHECK(too_few.contains("note"));
  CHECK_FALSE(too_few.contains("mean"));
}

TEST_CASE("KS of exact and shifted normal draws") {
  const arma::uword n = 20000;
  const GaussianReference reference(arma::zeros(3), arma::eye(3, 3));
  const auto cdf = [&](double x) { return reference.marginal_cdf(0, x); };

  for (std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    hjbtt::RandomStream random(seed, {7});
    const arma::mat draws = reference.draw(n, random);
    CHECK(hjbtt::ks_distance(draws.row(0), cdf) < kolmogorov_bound(n));

    // N(delta, 1) against N(0, 1): sup |Phi(x - delta) - Phi(x)| = 2 Phi(delta / 2) - 1 at
    // x = delta / 2. By the triangle inequality the sample value differs from it by at most the
    // KS distance of the draws to their own law, which is below the same bound.
    const double delta = 0.1;
    const double exact_shift = 2.0 * (0.5 * std::erfc(-0.5 * delta / std::sqrt(2.0))) - 1.0;
    const arma::rowvec shifted = draws.row(1) + delta;
    CHECK(std::abs(hjbtt::ks_distance(shifted, cdf) - exact_shift) < kolmogorov_bound(n));
  }
}

TEST_CASE("errors of exact draws are at the noise floor") {
  // For N exact draws of N(0, I_d), E||C_hat - I||_F^2 = (d^2 + d) / N, so the relative error is
  // about sqrt((d + 1) / N); 2.5 times that is far in the tail of its distribution. The mean
  // error has E = sqrt(d / N) / sqrt(d) = 1 / sqrt(N); 4 / sqrt(N) is likewise in the tail.
  const arma::uword n = 20000;
  const arma::uword d = 3;
  const GaussianReference reference(arma::zeros(d), arma::eye(d, d));
  hjbtt::RandomStream random(11, {3});
  const boost::json::object result = hjbtt::sample_statistics(reference.draw(n, random), &reference);

  CHECK(result.at("covariance_relative_error").to_number<double>() < 2.5 * std::sqrt((d + 1.0) / n));
  CHECK(result.at("mean_error").to_number<double>() < 4.0 / std::sqrt(static_cast<double>(n)));
  CHECK(result.at("ks_max").to_number<double>() < kolmogorov_bound(n));

  // The share of positive draws is binomial with standard deviation 0.5 / sqrt(N) per coordinate.
  CHECK(result.at("positive_fraction_max_error").to_number<double>() < 4.0 * 0.5 / std::sqrt(static_cast<double>(n)));
}

TEST_CASE("statistics postprocessor reports the exact floor") {
  const arma::uword n = 20000;
  const arma::uword d = 3;
  auto reference = std::make_shared<GaussianReference>(arma::zeros(d), arma::eye(d, d));
  const GaussianPotential potential(reference, d);

  // Samples with variance 1.21 instead of 1: a covariance error of 0.21 that the floor must not hide.
  hjbtt::RandomStream random(5, {1});
  arma::mat samples = 1.1 * random.normal(d, n);
  const arma::mat before = samples;

  RecordingLog log;
  hjbtt::RunContext context;
  context.seed = 42;
  context.phase = 9;
  context.log = &log;

  hjbtt::StatisticsPostprocessor statistics({"after_langevin", true});
  boost::json::object report;
  statistics.process(samples, potential, context, report);

  CHECK(arma::approx_equal(samples, before, "absdiff", 0.0));
  REQUIRE(report.contains("after_langevin"));
  const boost::json::object& result = report.at("after_langevin").as_object();
  // The error is 0.21 up to the noise of the mean diagonal entry, 1.21 sqrt(2 / N) / sqrt(3) = 0.007;
  // a relative tolerance of 0.15 is 4.5 of those.
  CHECK(result.at("covariance_relative_error").to_number<double>() == doctest::Approx(0.21).epsilon(0.15));

  REQUIRE(result.contains("exact_floor"));
  const boost::json::object& floor = result.at("exact_floor").as_object();
  CHECK(floor.at("covariance_relative_error").to_number<double>() < 2.5 * std::sqrt((d + 1.0) / n));
  CHECK(floor.at("ks_max").to_number<double>() < kolmogorov_bound(n));
  CHECK(floor.at("samples").to_number<double>() == static_cast<double>(n));
  CHECK_FALSE(floor.contains("covariance"));

  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("covariance error") != std::string::npos);
  CHECK(log.lines[0].find("exact draws") != std::string::npos);

  // The floor is drawn from its own stream of the seed, so a second run reports the same numbers.
  boost::json::object again;
  statistics.process(samples, potential, context, again);
  CHECK(again.at("after_langevin").as_object().at("exact_floor").as_object() == floor);
}

TEST_CASE("statistics postprocessor without a reference") {
  const GaussianPotential potential(nullptr, 2);
  arma::mat samples = tiny_samples;
  hjbtt::RunContext context;  // no log: must not be used

  hjbtt::StatisticsPostprocessor statistics({"", true});
  boost::json::object report;
  statistics.process(samples, potential, context, report);

  // An empty label puts the fields into the report itself.
  CHECK(report.at("reference").as_string() == "none");
  CHECK(report.at("mean").as_array().at(1).to_number<double>() == doctest::Approx(1.0));
  CHECK(report.contains("covariance"));
  CHECK_FALSE(report.contains("exact_floor"));
}

TEST_CASE("statistics postprocessor with a reference that cannot draw") {
  auto reference = std::make_shared<MomentReference>(arma::zeros(2), arma::eye(2, 2));
  const GaussianPotential potential(reference, 2);
  arma::mat samples = tiny_samples;

  hjbtt::StatisticsPostprocessor statistics({"", true});
  boost::json::object report;
  statistics.process(samples, potential, hjbtt::RunContext{}, report);
  CHECK(report.at("exact_floor").is_string());
  CHECK(report.contains("mean_error"));

  hjbtt::StatisticsPostprocessor without_floor({"", false});
  boost::json::object plain;
  without_floor.process(samples, potential, hjbtt::RunContext{}, plain);
  CHECK_FALSE(plain.contains("exact_floor"));
}
