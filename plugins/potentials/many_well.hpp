// The many-well potential of the diffusion-sampler literature:
// Phi(x) = sum_{i=1..m} [x_{2i-1}^4 - 6 x_{2i-1}^2 - 0.5 x_{2i-1} + 0.5 x_{2i}^2] in d = 2m.
// Each odd coordinate (1-based) has two modes of unequal weight near +-sqrt(3), so the target
// has 2^m modes. Each even coordinate is standard normal.
#pragma once

#include "hjbtt/potential.hpp"

#include <memory>

namespace hjbtt {

class ManyWellPotential : public Potential {
public:
  explicit ManyWellPotential(arma::uword pairs);

  arma::uword dimension() const override { return 2 * pairs_; }
  arma::rowvec value(const arma::mat& X) const override;
  arma::mat gradient(const arma::mat& X) const override;
  std::optional<SeparablePolynomial> polynomial() const override;
  std::shared_ptr<const Reference> reference() const override { return reference_; }

private:
  arma::uword pairs_;
  std::shared_ptr<const Reference> reference_;
};

}  // namespace hjbtt
