// The banana Phi(x) = x1^2 / (2 a^2) + (x2 - b x1^2)^2 / 2 in two dimensions: x1 ~ N(0, a^2)
// and x2 | x1 ~ N(b x1^2, 1), a curved, skewed target that is still a degree-4 polynomial.
#pragma once

#include "hjbtt/potential.hpp"

#include <memory>

namespace hjbtt {

class BananaPotential : public Potential {
public:
  // Throws std::invalid_argument unless a > 0 and b is finite.
  BananaPotential(double a, double b);

  arma::uword dimension() const override { return 2; }
  arma::rowvec value(const arma::mat& X) const override;
  arma::mat gradient(const arma::mat& X) const override;
  std::optional<SeparablePolynomial> polynomial() const override;
  std::shared_ptr<const Reference> reference() const override { return reference_; }

private:
  double a_;
  double b_;
  std::shared_ptr<const Reference> reference_;
};

}  // namespace hjbtt
