// A one-dimensional function family phi_0 .. phi_p on an interval [lower, upper].
//
// Contract: the family is orthonormal in L2 of the uniform probability measure on the
// interval. The core relies on this: the L2 norm of a functional tensor train is then the
// Frobenius norm of its coefficients, and rounding the coefficients is L2-optimal truncation.
#pragma once

#include "hjbtt/plugin.hpp"

#include <armadillo>

#include <memory>

namespace hjbtt {

class Basis : public PluginObject {
public:
  virtual std::string name() const = 0;
  virtual arma::uword degree() const = 0;
  arma::uword size() const { return degree() + 1; }
  virtual double lower() const = 0;
  virtual double upper() const = 0;

  // Values (derivative 0) or derivatives (1, 2) of every basis function at every point:
  // a size() x x.n_elem matrix. Points outside the interval are extrapolated.
  virtual arma::mat evaluate(const arma::rowvec& x, unsigned derivative = 0) const = 0;

  // Values and first derivatives at every point, one column per basis function
  // (x.n_elem x size() each): the layout of the batched gradient kernel. Bases whose
  // recurrence yields both at once override this; the default transposes evaluate().
  virtual void evaluate_transposed(const arma::rowvec& x, arma::mat& values, arma::mat& derivatives) const {
    values = evaluate(x, 0).t();
    derivatives = evaluate(x, 1).t();
  }

  // Coefficient matrices on this basis: if f = sum_i c_i phi_i, then f' = sum_l (D c)_l phi_l
  // and likewise for f'' and x f'. All three keep the degree, so they are size() x size().
  virtual arma::mat derivative_matrix() const = 0;
  virtual arma::mat second_derivative_matrix() const = 0;
  virtual arma::mat x_derivative_matrix() const = 0;

  // Triple products M(i, j, l) = integral of phi_i phi_j phi_l for i, j < size() and
  // l < output_size (output_size = size() projects a product back to this degree).
  virtual arma::cube product_tensor(arma::uword output_size) const = 0;

  // Gauss rule with `points` nodes for the uniform probability measure (weights sum to 1).
  virtual void quadrature(arma::uword points, arma::vec& nodes, arma::vec& weights) const = 0;

  // The same family at another degree on the same interval (degree adaptivity).
  virtual std::shared_ptr<const Basis> with_degree(arma::uword degree) const = 0;
};

using BasisPtr = std::shared_ptr<const Basis>;

}  // namespace hjbtt
