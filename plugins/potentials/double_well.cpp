// The double-well potential and its tabulated reference.
#include "double_well.hpp"

#include "product_reference.hpp"
#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hjbtt {

DoubleWellPotential::DoubleWellPotential(arma::uword dimension, double delta) : dimension_(dimension), delta_(delta) {
  if (dimension == 0) throw std::invalid_argument("double_well potential: the dimension must be at least 1");
  if (!std::isfinite(delta)) throw std::invalid_argument("double_well potential: delta must be finite");

  // On [-L, L] with L^2 = max(delta, 0) + 10, Phi exceeds its minimum by at least 100 at both
  // ends, so the mass left outside is below e^-100 relative to the modes.
  const double half_width = std::sqrt(std::max(delta, 0.0) + 10.0);

  // A mode has standard deviation 1/sqrt(Phi'') with Phi'' = 8 delta at +-sqrt(delta) and
  // 4 |delta| at 0 for delta < 0; 1/sqrt(1 + 8 |delta|) bounds both from below, and 200 cells
  // per such width keep the tabulated CDF and moments far more accurate than any sample.
  const double mode_width = 1.0 / std::sqrt(1.0 + 8.0 * std::abs(delta));
  const arma::uword intervals =
      std::max<arma::uword>(40000, static_cast<arma::uword>(std::ceil(2.0 * half_width / mode_width * 200.0)));

  TabulatedDensity1D density([delta](double x) { return -(x * x - delta) * (x * x - delta); }, -half_width, half_width,
                             intervals);
  // The law is symmetric, so the mean is exactly zero.
  auto marginal = std::make_shared<const TabulatedMarginal>(std::move(density), 0.0);
  reference_ = std::make_shared<ProductReference>(std::vector<std::shared_ptr<const Marginal1D>>(dimension, marginal));
}

arma::rowvec DoubleWellPotential::value(const arma::mat& X) const {
  check_point_rows("double_well", dimension_, X);
  return arma::sum(arma::square(arma::square(X) - delta_), 0);
}

arma::mat DoubleWellPotential::gradient(const arma::mat& X) const {
  check_point_rows("double_well", dimension_, X);
  return 4.0 * X % (arma::square(X) - delta_);
}

std::optional<SeparablePolynomial> DoubleWellPotential::polynomial() const {
  // (x^2 - delta)^2 = delta^2 - 2 delta x^2 + x^4, one term per coordinate.
  SeparablePolynomial terms;
  for (arma::uword k = 0; k < dimension_; ++k)
    terms.push_back({1.0, {{k, arma::vec{delta_ * delta_, 0.0, -2.0 * delta_, 0.0, 1.0}}}});
  return terms;
}

}  // namespace hjbtt
