// Tabulated one-dimensional densities: normalisation, moments and inversion by quadrature.
#include "hjbtt/core/density1d.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hjbtt {

TabulatedDensity1D::TabulatedDensity1D(const std::function<double(double)>& log_density, double lower, double upper,
                                       arma::uword intervals) {
  if (!(upper > lower) || intervals < 2) throw std::invalid_argument("TabulatedDensity1D: invalid interval");
  if (intervals % 2) ++intervals;
  grid_ = arma::linspace(lower, upper, intervals + 1);

  // Subtracting the maximum of the log-density keeps exp() in range whatever Phi's offset.
  arma::vec log_p(grid_.n_elem);
  for (arma::uword i = 0; i < grid_.n_elem; ++i) log_p(i) = log_density(grid_(i));
  if (!log_p.is_finite()) throw std::invalid_argument("TabulatedDensity1D: the log-density is not finite on the grid");
  const arma::vec p = arma::exp(log_p - log_p.max());

  // Cumulative integral with the trapezoidal rule per cell; moments by Simpson's rule.
  const double h = grid_(1) - grid_(0);
  cdf_.zeros(grid_.n_elem);
  for (arma::uword i = 1; i < grid_.n_elem; ++i) cdf_(i) = cdf_(i - 1) + 0.5 * h * (p(i - 1) + p(i));
  arma::vec simpson(grid_.n_elem, arma::fill::ones);
  for (arma::uword i = 1; i + 1 < grid_.n_elem; ++i) simpson(i) = i % 2 ? 4.0 : 2.0;
  const arma::vec w = simpson % p * (h / 3.0);
  const double mass = arma::accu(w);
  mean_ = arma::accu(w % grid_) / mass;
  variance_ = arma::accu(w % arma::square(grid_ - mean_)) / mass;
  cdf_ /= cdf_(cdf_.n_elem - 1);
}

double TabulatedDensity1D::cdf(double x) const {
  if (x <= grid_(0)) return 0.0;
  if (x >= grid_(grid_.n_elem - 1)) return 1.0;
  const double h = grid_(1) - grid_(0);
  const arma::uword i = std::min<arma::uword>(static_cast<arma::uword>((x - grid_(0)) / h), grid_.n_elem - 2);
  const double theta = (x - grid_(i)) / h;
  return (1.0 - theta) * cdf_(i) + theta * cdf_(i + 1);
}

double TabulatedDensity1D::quantile(double u) const {
  const auto upper = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  if (upper == cdf_.begin()) return grid_(0);
  if (upper == cdf_.end()) return grid_(grid_.n_elem - 1);
  const arma::uword i = static_cast<arma::uword>(upper - cdf_.begin()) - 1;
  const double span = cdf_(i + 1) - cdf_(i);
  const double theta = span > 0.0 ? (u - cdf_(i)) / span : 0.0;
  return grid_(i) + theta * (grid_(i + 1) - grid_(i));
}

arma::rowvec TabulatedDensity1D::draw(arma::uword n, RandomStream& random) const {
  arma::rowvec x(n);
  for (arma::uword j = 0; j < n; ++j) x(j) = quantile(random.uniform());
  return x;
}

}  // namespace hjbtt
