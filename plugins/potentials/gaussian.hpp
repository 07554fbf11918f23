// The Gaussian potential Phi(x) = 0.5 (x - m)^T P (x - m), P the inverse of the covariance,
// whose target is N(m, Sigma). It is the main ground truth of the project: the exact HJB
// solution stays quadratic, so degree-2 bases represent it exactly.
#pragma once

#include "hjbtt/potential.hpp"

#include <armadillo>

#include <memory>

namespace hjbtt {

class GaussianPotential : public Potential {
public:
  // Throws std::invalid_argument when the covariance is not square, does not match the
  // mean's length, is not symmetric to relative tolerance 1e-12, or is not positive definite.
  GaussianPotential(arma::vec mean, arma::mat covariance);

  // The AR(1) covariance Sigma_ij = s_i s_j rho^|i-j|. Its inverse is tridiagonal.
  static arma::mat ar1_covariance(const arma::vec& standard_deviations, double correlation);

  arma::uword dimension() const override { return mean_.n_elem; }
  arma::rowvec value(const arma::mat& X) const override;
  arma::mat gradient(const arma::mat& X) const override;

  // One term per entry of the upper triangle of P above 1e-14 max|P| in magnitude, as products
  // of (x_k - m_k) factors. Smaller entries are rounding noise of the inversion (the inverse
  // of an AR(1) covariance is tridiagonal, but computing it leaves tiny off-band entries).
  std::optional<SeparablePolynomial> polynomial() const override;

  std::shared_ptr<const Reference> reference() const override { return reference_; }

  const arma::vec& mean() const { return mean_; }
  const arma::mat& precision() const { return precision_; }

private:
  arma::vec mean_;
  arma::mat precision_;
  std::shared_ptr<const Reference> reference_;
};

}  // namespace hjbtt
