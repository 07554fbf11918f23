// A one-dimensional density known up to its normalising constant, tabulated on a fine grid:
// moments, cumulative distribution, quantiles and exact draws by inversion. References of
// separable potentials (double wells, many-well coordinates) are built from these.
#pragma once

#include "hjbtt/core/random.hpp"

#include <armadillo>

#include <functional>

namespace hjbtt {

class TabulatedDensity1D {
public:
  // `log_density` need not be normalised. The interval must contain all but a negligible part
  // of the mass. The CDF is a cumulative trapezoid rule on `intervals` panels, interpolated
  // linearly between grid points; the moments use Simpson's rule on the same grid.
  TabulatedDensity1D(const std::function<double(double)>& log_density, double lower, double upper,
                     arma::uword intervals = 40000);

  double mean() const { return mean_; }
  double variance() const { return variance_; }
  double cdf(double x) const;
  double quantile(double u) const;
  arma::rowvec draw(arma::uword n, RandomStream& random) const;

private:
  arma::vec grid_;
  arma::vec cdf_;
  double mean_ = 0.0;
  double variance_ = 0.0;
};

}  // namespace hjbtt
