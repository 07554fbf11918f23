// The banana potential and its exact reference.
#include "banana.hpp"

#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace hjbtt {

namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by the Golub-Welsch eigenvalue method.
void gauss_legendre(arma::uword points, arma::vec& nodes, arma::vec& weights) {
  arma::mat jacobi(points, points, arma::fill::zeros);
  for (arma::uword k = 1; k < points; ++k) {
    const double kk = static_cast<double>(k);
    jacobi(k, k - 1) = jacobi(k - 1, k) = kk / std::sqrt(4.0 * kk * kk - 1.0);
  }
  arma::mat vectors;
  arma::eig_sym(nodes, vectors, jacobi);
  weights = 2.0 * arma::square(vectors.row(0).t());
}

// x1 = a z1 and x2 = b x1^2 + z2 with z1, z2 independent standard normals.
class BananaReference : public Reference {
public:
  BananaReference(double a, double b) : a_(a), b_(b) { gauss_legendre(64, nodes_, weights_); }

  arma::vec mean() const override { return {0.0, b_ * a_ * a_}; }
  arma::mat covariance() const override {
    const double a2 = a_ * a_;
    return arma::diagmat(arma::vec{a2, 1.0 + 2.0 * b_ * b_ * a2 * a2});
  }

  bool has_marginals() const override { return true; }
  double marginal_cdf(arma::uword k, double x) const override {
    if (k == 0) return normal_cdf(x / a_);
    if (k == 1) return x2_cdf(x);
    throw std::out_of_range("banana reference: coordinate " + std::to_string(k) + " is out of range for dimension 2");
  }

  bool can_draw() const override { return true; }
  arma::mat draw(arma::uword n, RandomStream& random) const override {
    arma::mat X = random.normal(2, n);
    X.row(0) *= a_;
    X.row(1) += b_ * arma::square(X.row(0));
    return X;
  }

private:
  // P(x2 <= x) with x2 = c z1^2 + z2, c = b a^2. For c < 0 the law of x2 is that of -x2 under
  // |c|, so F_c(x) = 1 - F_|c|(-x).
  //
  // Averaging NormalCDF(x - c z1^2) over z1 by Gauss-Hermite converges slowly once c is of
  // order one: the integrand then turns from 0 to 1 over a short range of z1 (measured against
  // a fine trapezoid rule, 240 nodes still err by 1e-5 at c = 2). Conditioning on z2 instead,
  // P(c z1^2 <= x - z2) = erf(sqrt((x - z2) / (2c))), and substituting u = sqrt(x - z2) gives
  //   F_c(x) = integral over u >= 0 of 2u phi(x - u^2) erf(u / sqrt(2c)) du,
  // with phi the standard normal density. Its integrand is smooth; the u range where
  // |x - u^2| <= 10 contains all but about 1e-23 of the mass. A 64-point Gauss-Legendre rule
  // on that range, split where erf has risen to 1 (u = 8 sqrt(2c)) so that small c is
  // resolved, agrees with a fine trapezoid rule in z1 to about 1e-13 for c from 1e-4 to 100.
  double x2_cdf(double x) const {
    const double c = b_ * a_ * a_;
    if (c == 0.0) return normal_cdf(x);
    if (c < 0.0) return 1.0 - positive_x2_cdf(-x, -c);
    return positive_x2_cdf(x, c);
  }

  double positive_x2_cdf(double x, double c) const {
    const double upper = std::sqrt(std::max(0.0, x + 10.0));
    if (upper == 0.0) return 0.0;
    const double lower = std::sqrt(std::max(0.0, x - 10.0));
    const double erf_saturated = 8.0 * std::sqrt(2.0 * c);
    if (erf_saturated > lower && erf_saturated < upper)
      return integrate(lower, erf_saturated, x, c) + integrate(erf_saturated, upper, x, c);
    return integrate(lower, upper, x, c);
  }

  double integrate(double lower, double upper, double x, double c) const {
    const double half = 0.5 * (upper - lower), centre = 0.5 * (upper + lower);
    const double erf_scale = 1.0 / std::sqrt(2.0 * c);
    double sum = 0.0;
    for (arma::uword i = 0; i < nodes_.n_elem; ++i) {
      const double u = centre + half * nodes_(i);
      const double z2 = x - u * u;
      sum += weights_(i) * 2.0 * u * std::exp(-0.5 * z2 * z2) * std::erf(u * erf_scale);
    }
    return half * sum / std::sqrt(2.0 * std::numbers::pi);
  }

  double a_;
  double b_;
  arma::vec nodes_;
  arma::vec weights_;
};

}  // namespace

BananaPotential::BananaPotential(double a, double b) : a_(a), b_(b) {
  if (!(a > 0.0) || !std::isfinite(a)) throw std::invalid_argument("banana potential: a must be a positive number");
  if (!std::isfinite(b)) throw std::invalid_argument("banana potential: b must be finite");
  reference_ = std::make_shared<BananaReference>(a, b);
}

arma::rowvec BananaPotential::value(const arma::mat& X) const {
  check_point_rows("banana", 2, X);
  const arma::rowvec x1 = X.row(0);
  const arma::rowvec residual = X.row(1) - b_ * arma::square(x1);
  return 0.5 * arma::square(x1) / (a_ * a_) + 0.5 * arma::square(residual);
}

arma::mat BananaPotential::gradient(const arma::mat& X) const {
  check_point_rows("banana", 2, X);
  const arma::rowvec x1 = X.row(0);
  const arma::rowvec residual = X.row(1) - b_ * arma::square(x1);
  arma::mat g(2, X.n_cols);
  g.row(0) = x1 / (a_ * a_) - 2.0 * b_ * x1 % residual;
  g.row(1) = residual;
  return g;
}

std::optional<SeparablePolynomial> BananaPotential::polynomial() const {
  // x1^2 / (2 a^2) + (x2 - b x1^2)^2 / 2 = [x1^2 / (2 a^2) + b^2 x1^4 / 2] + x2^2 / 2 - b x1^2 x2.
  SeparablePolynomial terms;
  terms.push_back({1.0, {{0, arma::vec{0.0, 0.0, 0.5 / (a_ * a_), 0.0, 0.5 * b_ * b_}}}});
  terms.push_back({1.0, {{1, arma::vec{0.0, 0.0, 0.5}}}});
  if (b_ != 0.0) terms.push_back({-b_, {{0, arma::vec{0.0, 0.0, 1.0}}, {1, arma::vec{0.0, 1.0}}}});
  return terms;
}

}  // namespace hjbtt
