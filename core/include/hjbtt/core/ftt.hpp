// Functional tensor trains: v(x) = sum C[i_1..i_d] phi^1_{i_1}(x_1) ... phi^d_{i_d}(x_d), with
// the coefficient tensor C in tensor-train form and one orthonormal basis per coordinate.
//
// Evaluation at a batch of N points sweeps the cores once from each side. Each step is a
// GEMM of the N x r_{k-1} partial contraction with a core's right unfolding (N x n_k r_k)
// followed by an O(N n_k r_k) reduction with the basis values, so the cost is
// O(d N n r^2) in BLAS-3 form.
#pragma once

#include "hjbtt/basis.hpp"
#include "hjbtt/core/tensor_train.hpp"
#include "hjbtt/potential.hpp"

#include <functional>
#include <vector>

namespace hjbtt {

using BasisSet = std::vector<BasisPtr>;

class FunctionalTT {
public:
  FunctionalTT() = default;
  FunctionalTT(BasisSet bases, TensorTrain coefficients);

  std::size_t dimension() const { return bases_.size(); }
  const BasisSet& bases() const { return bases_; }
  const TensorTrain& coefficients() const { return coefficients_; }
  TensorTrain& coefficients() { return coefficients_; }
  std::vector<arma::uword> degrees() const;

  // v at each column of X (d x N).
  arma::rowvec value(const arma::mat& X) const;

  // Gradient of v at each column of X (d x N).
  arma::mat gradient(const arma::mat& X) const;

  // Re-expresses v on bases of other degrees: zero padding when raising, L2 truncation when lowering.
  FunctionalTT with_bases(const BasisSet& bases) const;

private:
  BasisSet bases_;
  TensorTrain coefficients_;
};

// Coefficients of the L2 projection of a one-dimensional function onto a basis, by a Gauss
// rule with `points` nodes (exact for polynomials of degree below 2 * points - degree).
arma::vec project_function(const Basis& basis, const std::function<double(double)>& f, arma::uword points);

// The exact functional tensor train of a separable polynomial (exact when each basis degree
// is at least the polynomial's degree in that coordinate), rounded to relative accuracy
// `tolerance`.
FunctionalTT ftt_from_polynomial(const SeparablePolynomial& polynomial, const BasisSet& bases, double tolerance);

// Highest power of each coordinate in a separable polynomial.
std::vector<arma::uword> polynomial_degrees(const SeparablePolynomial& polynomial, arma::uword dimension);

}  // namespace hjbtt
