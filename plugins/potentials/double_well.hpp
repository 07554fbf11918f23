// The double well Phi(x) = sum_k (x_k^2 - delta)^2: independent coordinates, each with two
// modes of equal weight at +-sqrt(delta) when delta > 0 and one mode at 0 otherwise.
#pragma once

#include "hjbtt/potential.hpp"

#include <memory>

namespace hjbtt {

class DoubleWellPotential : public Potential {
public:
  // The reference tabulates the one-dimensional law, so its cost grows with |delta| (see
  // the constructor); the declared parameter range keeps it below a few megabytes.
  DoubleWellPotential(arma::uword dimension, double delta);

  arma::uword dimension() const override { return dimension_; }
  arma::rowvec value(const arma::mat& X) const override;
  arma::mat gradient(const arma::mat& X) const override;
  std::optional<SeparablePolynomial> polynomial() const override;
  std::shared_ptr<const Reference> reference() const override { return reference_; }

private:
  arma::uword dimension_;
  double delta_;
  std::shared_ptr<const Reference> reference_;
};

}  // namespace hjbtt
