// The Legendre basis on an interval [lower, upper]:
//
//   phi_i(x) = sqrt(2i + 1) P_i(s),   s = (2x - lower - upper) / (upper - lower),   i = 0..degree,
//
// with P_i the Legendre polynomials. The family is orthonormal in L2 of the uniform probability
// measure on the interval, as the Basis contract requires.
//
// Every coefficient matrix and the product tensor are built by Gauss-Legendre quadrature with
// enough nodes to be exact for the polynomial integrands. The three matrices are built once in
// the constructor. Product tensors are built on first request and cached per output size,
// because every HjbOperator constructed on this basis requests them.
#pragma once

#include "hjbtt/basis.hpp"
#include "hjbtt/parameters.hpp"

#include <map>
#include <mutex>
#include <vector>

namespace hjbtt {

class LegendreBasis final : public Basis {
public:
  // Throws std::invalid_argument unless lower < upper and both are finite.
  LegendreBasis(arma::uword degree, double lower, double upper);

  std::string name() const override { return "legendre"; }
  arma::uword degree() const override { return degree_; }
  double lower() const override { return lower_; }
  double upper() const override { return upper_; }

  arma::mat evaluate(const arma::rowvec& x, unsigned derivative = 0) const override;
  void evaluate_transposed(const arma::rowvec& x, arma::mat& values, arma::mat& derivatives) const override;

  arma::mat derivative_matrix() const override { return derivative_; }
  arma::mat second_derivative_matrix() const override { return second_derivative_; }
  arma::mat x_derivative_matrix() const override { return x_derivative_; }

  arma::cube product_tensor(arma::uword output_size) const override;

  void quadrature(arma::uword points, arma::vec& nodes, arma::vec& weights) const override;

  std::shared_ptr<const Basis> with_degree(arma::uword degree) const override;

  // Evaluates phi_0 .. phi_{max_degree} (derivative 0) or their derivatives at x, like
  // evaluate() but for any number of functions, because product tensors need degrees above p.
  arma::mat evaluate_up_to(arma::uword max_degree, const arma::rowvec& x, unsigned derivative) const;

private:
  arma::uword degree_;
  double lower_;
  double upper_;

  arma::mat derivative_;
  arma::mat second_derivative_;
  arma::mat x_derivative_;

  mutable std::mutex product_mutex_;
  mutable std::map<arma::uword, arma::cube> product_cache_;
};

// The parameters of plugin "legendre": "degree" (integer 0..64, default 6) and "domain"
// ([lower, upper], default [-6, 6]).
std::vector<ParameterSpec> legendre_parameters();

// Builds the basis from validated parameters. Throws ConfigurationError at the pointer of
// "domain" unless it is two finite numbers with lower < upper.
std::shared_ptr<LegendreBasis> make_legendre_basis(const Parameters& params);

}  // namespace hjbtt
