// The Gaussian mixture potential Phi(x) = -log sum_j w_j N(x; m_j, S_j). It has no polynomial
// form, so the host builds its initial condition by TT-cross interpolation, and its reference is
// exact: the moments and marginal CDFs have closed forms and draws pick a component, then a normal.
#pragma once

#include "hjbtt/potential.hpp"

#include <armadillo>

#include <memory>
#include <string>
#include <vector>

namespace hjbtt {

class GaussianMixturePotential : public Potential {
public:
  // Weights are normalised to sum 1. Throws std::invalid_argument unless there is at least one
  // component, all means have one common length d >= 1, the weights are positive and finite and
  // one per component, and every covariance passes covariance_defect.
  GaussianMixturePotential(arma::vec weights, std::vector<arma::vec> means, std::vector<arma::mat> covariances);

  arma::uword dimension() const override { return dimension_; }

  // Phi by log-sum-exp over the components' log densities, so that points far from every mean,
  // where each density underflows, still get a finite Phi.
  arma::rowvec value(const arma::mat& X) const override;

  // sum_j r_j(x) S_j^-1 (x - m_j), with r_j(x) the posterior weight of component j at x.
  arma::mat gradient(const arma::mat& X) const override;

  std::shared_ptr<const Reference> reference() const override { return reference_; }

private:
  struct Component {
    arma::vec mean;
    arma::mat inverse_cholesky;  // L^-1 with S = L L^T
    double log_scale = 0.0;      // log w - 0.5 log det(2 pi S)
  };

  // Computes the N x K matrix whose column j is log w_j + log N(x; m_j, S_j) at every point.
  // When `whitened` is not null, it receives L_j^-1 (x - m_j) of each component.
  arma::mat log_densities(const arma::mat& X, std::vector<arma::mat>* whitened) const;

  arma::uword dimension_ = 0;
  std::vector<Component> components_;
  std::shared_ptr<const Reference> reference_;
};

// Returns why `covariance` is not a valid d x d covariance (not square, wrong size, not
// symmetric to relative tolerance 1e-12, not positive definite), or an empty string when it is.
std::string covariance_defect(const arma::mat& covariance, arma::uword dimension);

}  // namespace hjbtt
