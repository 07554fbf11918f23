// The right-hand side of the HJB equation for v = -log rho_t (up to a function of t):
//
//   dv/dt = F(v) = L v - P_p N(v),   L v = laplacian(v) + x . grad(v),   N(v) = |grad(v)|^2,
//
// on functional tensor trains over a fixed set of orthonormal bases. P_p projects the
// squared gradient back to the bases' degrees; the part it drops is reported as the
// projection error, which drives degree adaptivity.
//
// Cost: the projected squared gradient has ranks 2 r^2 before rounding, and rounding it costs
// O(d n (2 r^2)^3). This is the exact path; integrators round right after they combine it.
#pragma once

#include "hjbtt/core/ftt.hpp"

namespace hjbtt {

struct RightHandSide {
  TensorTrain value;              // F(v), unrounded
  double projection_error = 0.0;  // |N - P N| / |N|, or 0 when not requested
  double nonlinear_norm = 0.0;    // |N(v)|, or |P N(v)| when the projection error was not requested
};

class HjbOperator {
public:
  explicit HjbOperator(BasisSet bases);

  const BasisSet& bases() const { return bases_; }

  // L v = sum_k (D2_k + XD_k) acting on mode k. Exact, ranks 2 r.
  TensorTrain linear_part(const TensorTrain& v) const;

  // P_p (sum_k d_k u * d_k w): the projected product of two gradients, ranks 2 r_u r_w.
  TensorTrain projected_gradient_product(const TensorTrain& u, const TensorTrain& w) const;

  // F(v), optionally with the projection error of the squared gradient.
  RightHandSide evaluate(const TensorTrain& v, bool with_projection_error) const;

  // The linearisation J_v w = L w - 2 P_p (grad v . grad w).
  TensorTrain linearization(const TensorTrain& v, const TensorTrain& w) const;

  // Relative L2 norm of the part of N(v) that P_p drops.
  double projection_error(const TensorTrain& v, double* nonlinear_norm = nullptr) const;

  // Estimates the spectral radius of J_v by power iteration on `direction`, which is updated in
  // place (pass it back on the next call to warm-start). Iterates are rounded to `rank`.
  double spectral_radius(const TensorTrain& v, TensorTrain& direction, int iterations, arma::uword rank) const;

private:
  // The projection error when the projected squared gradient P_p N(v) is already at hand.
  double projection_error_of(const TensorTrain& v, const TensorTrain& projected, double* nonlinear_norm) const;

  TensorTrain projected_product_impl(const TensorTrain& u, const TensorTrain& w,
                                     const std::vector<arma::cube>& products) const;

  BasisSet bases_;
  std::vector<arma::mat> derivative_;  // D_k
  std::vector<arma::mat> linear_;      // D2_k + XD_k
  std::vector<arma::cube> product_;    // M_k(i, j, l), l <= p_k
  std::vector<arma::cube> product_full_;  // M_k(i, j, l), l <= 2 p_k (exact product)
};

}  // namespace hjbtt
