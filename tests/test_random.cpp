// Random streams: reproducibility by key, and the ziggurat's normal law checked against the
// exact distribution in the body, the wedges and the tail.
#include "hjbtt/core/random.hpp"

#include <doctest/doctest.h>

#include <cmath>

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("streams repeat by seed and key") {
  hjbtt::RandomStream a(42, {1, 7}), b(42, {1, 7}), c(42, {1, 8}), e(43, {1, 7});
  const arma::mat xa = a.normal(4, 1000), xb = b.normal(4, 1000), xc = c.normal(4, 1000), xe = e.normal(4, 1000);
  CHECK(arma::approx_equal(xa, xb, "absdiff", 0.0));
  // Independent standard normals agree to 1e-3 with probability about 1e-3 per entry, so a
  // handful of coincidences among 4000 is the most that independent streams produce.
  CHECK(arma::accu(arma::abs(xa - xc) < 1e-3) < 20);
  CHECK(arma::accu(arma::abs(xa - xe) < 1e-3) < 20);
}

TEST_CASE("uniform draws cover unit interval") {
  hjbtt::RandomStream random(3, {0});
  const arma::uword n = 1000000;
  arma::vec u(n);
  for (double& x : u) x = random.uniform();
  CHECK(u.min() >= 0.0);
  CHECK(u.max() < 1.0);
  // The mean of n uniforms has standard deviation 1 / sqrt(12 n) = 2.9e-4; allow 5 of them.
  CHECK(std::abs(arma::mean(u) - 0.5) < 1.5e-3);
  // Counts per tenth are binomial(n, 0.1) with standard deviation 300; allow 5 of them.
  const arma::uvec counts = arma::hist(u, arma::linspace(0.05, 0.95, 10));
  CHECK(arma::max(arma::abs(arma::conv_to<arma::vec>::from(counts) - 0.1 * n)) < 1500.0);
}

TEST_CASE("ziggurat normals follow normal law") {
  hjbtt::RandomStream random(11, {5});
  const arma::uword n = 2000000;
  arma::vec x(n);
  random.fill_normal(x);
  const double sn = std::sqrt(static_cast<double>(n));

  // Moments: the sample mean, variance and fourth moment have standard deviations 1, sqrt(2)
  // and sqrt(96) over sqrt(n); each is allowed 5 of them.
  CHECK(std::abs(arma::mean(x)) < 5.0 / sn);
  CHECK(std::abs(arma::mean(arma::square(x)) - 1.0) < 5.0 * std::sqrt(2.0) / sn);
  CHECK(std::abs(arma::mean(arma::vec(arma::pow(x, 4.0))) - 3.0) < 5.0 * std::sqrt(96.0) / sn);

  // Kolmogorov-Smirnov against the exact CDF: sqrt(n) D exceeds 2.2 with probability 1.2e-4.
  const arma::vec sorted = arma::sort(x);
  double distance = 0.0;
  for (arma::uword i = 0; i < n; ++i) {
    const double cdf = normal_cdf(sorted(i));
    distance = std::max({distance, cdf - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - cdf});
  }
  CHECK(distance * sn < 2.2);

  // The tail beyond the base layer (|x| > 3.654) and the region of the widest wedges
  // (1.5 < |x| < 2.5) come from the rejection branches; their frequencies are binomial and
  // are allowed 5 standard deviations.
  const auto check_band = [&](double lo, double hi) {
    const double p = 2.0 * (normal_cdf(hi) - normal_cdf(lo));
    const double count = static_cast<double>(arma::accu((arma::abs(x) > lo) % (arma::abs(x) <= hi)));
    CHECK(std::abs(count - n * p) < 5.0 * std::sqrt(n * p * (1.0 - p)));
  };
  check_band(hjbtt::detail::Ziggurat::tail_start, 1e300);
  check_band(1.5, 2.5);
  check_band(0.0, 0.1);
}
