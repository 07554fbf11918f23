// The right-hand side of the HJB equation for v = -log rho_t (up to a function of t):
//
//   dv/dt = F(v) = L v - P_p N(v),   L v = laplacian(v) + x . grad(v),   N(v) = |grad(v)|^2,
//
// on functional tensor trains over a fixed set of orthonormal bases. P_p projects the
// squared gradient back to the bases' degrees; the part it drops is reported as the
// projection error, which drives degree adaptivity.
//
// Cost: the projected squared gradient has ranks 2 r^2 before rounding, and rounding it costs
// O(d n (2 r^2)^3). evaluate() is this exact path; integrators round right after they combine it.
//
// evaluate_compressed() returns F(v) already rounded to an absolute L2 tolerance without forming
// the rank-2 r^2 train. A Gauss rule factors the triple products, so every core slice of the
// squared gradient is a sum of Kronecker products X_q (x) X_q of r x r matrices, and all
// contractions act on the factors:
//   - |P N|, |N| and <L v, P N> exactly, by left-to-right contractions of O(d m r^5) flops
//     (m Gauss nodes per mode, about 1.5 n);
//   - a randomised TT rounding of F against a Gaussian sketch of rank l, O(d m r^3 l + d n r^2 l^2);
//   - the error of the randomised step from |F|^2 - |Pi F|^2, because the result Pi F is an
//     orthogonal projection of F. A deterministic rounding of Pi F then uses the rest of the
//     tolerance.
// SketchedEulerStep applies the same to the Euler update v + tau F(v), which the explicit Euler
// integrator retracts, and needs a sketch only as large as the rank the retraction keeps.
//
// Stabilisation. The Galerkin system can have growing modes at high degree for the box.
// Spectral viscosity, when switched on, adds -nu S_k to each 1-D linear operator A_k, with S_k
// diagonal in the orthonormal basis: S_k(i, i) = ((i - m) / (p - m))^2 for i > m and 0 below,
// m = max(2, floor(cutoff p)). It damps only the top of each mode's spectrum, where the growing
// modes live, and never the degrees <= 2, so a Gaussian target stays exact. It changes the
// equation being solved, which costs accuracy where the solution needs those degrees.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/random.hpp"
#include "hjbtt/parameters.hpp"
#include "hjbtt/run_context.hpp"

#include <memory>

namespace hjbtt {

struct RightHandSide {
  TensorTrain value;              // F(v), unrounded, or rounded by evaluate_compressed
  double projection_error = 0.0;  // |N - P N| / |N|, or 0 when not requested
  double nonlinear_norm = 0.0;    // |N(v)|, or |P N(v)| when the projection error was not requested
  double value_error = 0.0;       // bound on the L2 distance |value - F(v)|; 0 when value is F(v) unrounded
  arma::uword sketch_rank = 0;    // sketch rank of the randomised rounding; 0 when none was used
};

// Spectral viscosity (see the file header); strength 0 leaves the Galerkin system unchanged.
struct SpectralViscosity {
  double strength = 0.0;  // nu, in units of 1 / time
  double cutoff = 0.5;    // fraction of the degree below which nothing is damped
};

// nu S_k for one basis: the matrix that the viscosity subtracts from the mode's linear operator.
arma::mat viscosity_matrix(const Basis& basis, const SpectralViscosity& viscosity);

// Returns whether the viscosity damps at least one degree of the bases. It damps none when it
// is off or when every degree lies at or below its cutoff.
bool viscosity_acts(const BasisSet& bases, const SpectralViscosity& viscosity);

// Logs a warning when a viscosity is set but damps no degree of the bases, so that a user does
// not take an inactive remedy for an active one. `integrator` names the plugin in the line.
void warn_if_viscosity_inactive(const BasisSet& bases, const SpectralViscosity& viscosity, const std::string& integrator,
                                const RunContext& context);

// The integrator parameters "viscosity" and "viscosity_cutoff", and their reading, shared by
// every integrator that offers the remedy.
std::vector<ParameterSpec> viscosity_parameters();
SpectralViscosity read_viscosity(const Parameters& parameters);

// Settings of evaluate_compressed.
struct CompressionSettings {
  double tolerance = 0.0;        // absolute L2 error allowed in F(v)
  arma::uword sketch_rank = 0;   // first sketch rank; 0 picks 2 max_rank(v) + 10. Doubled until the error fits.
};

// The explicit Euler update y(tau) = v + tau F(v), retracted by randomised TT rounding without
// forming F(v). HjbOperator::sketch_euler_step builds it once per state: the exact norms, and
// the contraction of a Gaussian sketch of rank l with F from the right. Each retract(tau) is
// then one left-to-right sweep whose projection Pi keeps v exactly and the sketched range of
// tau F, followed by a deterministic rounding. The sketch rank should exceed the rank cap of
// the retraction by an oversampling margin, so that Pi contains every direction the cap keeps.
class SketchedEulerStep {
public:
  struct Retraction {
    TensorTrain state;
    double error = 0.0;  // bound on |state - y| / |y|, y = v + tau F(v) exactly
  };

  // Rounds y(tau) to relative accuracy `tolerance` and ranks <= max_rank. The part of y that the
  // sketch misses counts against the tolerance first, so `error` stays below `tolerance`
  // unless the rank cap or the sketch forces more.
  Retraction retract(double tau, double tolerance, arma::uword max_rank) const;

  double projection_error() const;  // |N - P N| / |N|, or 0 when not requested
  double nonlinear_norm() const;    // |N(v)|, or |P N(v)| when the projection error was not requested
  double rhs_norm() const;          // |F(v)|
  bool is_finite() const;           // false when a norm came out non-finite

private:
  friend class HjbOperator;
  struct Data;
  std::shared_ptr<const Data> data_;
};

class HjbOperator {
public:
  // Two constructors rather than a default argument, so that integrator plugins built before
  // the viscosity existed still find the one-argument constructor in the core library.
  explicit HjbOperator(BasisSet bases);
  HjbOperator(BasisSet bases, SpectralViscosity viscosity);

  const BasisSet& bases() const { return bases_; }

  // L v = sum_k (D2_k + XD_k - nu S_k) acting on mode k. Exact, ranks 2 r.
  TensorTrain linear_part(const TensorTrain& v) const;

  // P_p (sum_k d_k u * d_k w): the projected product of two gradients, ranks 2 r_u r_w.
  TensorTrain projected_gradient_product(const TensorTrain& u, const TensorTrain& w) const;

  // F(v), optionally with the projection error of the squared gradient.
  RightHandSide evaluate(const TensorTrain& v, bool with_projection_error) const;

  // Computes F(v) rounded so that |value - F(v)| <= settings.tolerance, by randomised rounding
  // with draws from `random`. value_error is the bound (see the file header). Falls back to
  // evaluate() (value_error 0) when the tolerance is below what the norms can certify, when
  // the sketch would need the full rank of F, for d = 1, and for bases whose triple products
  // no Gauss rule reproduces.
  RightHandSide evaluate_compressed(const TensorTrain& v, bool with_projection_error, const CompressionSettings& settings,
                                    RandomStream& random) const;

  // False when the triple products of a basis have no Gauss-rule factorisation; then
  // evaluate_compressed falls back to evaluate and sketch_euler_step must not be called.
  bool has_product_rule() const { return has_product_rule_; }

  // The sketched Euler step for state v (d >= 2, has_product_rule()), with a Gaussian sketch of
  // rank `sketch_rank` drawn from `random`.
  SketchedEulerStep sketch_euler_step(const TensorTrain& v, bool with_projection_error, arma::uword sketch_rank,
                                      RandomStream& random) const;

  // |P N(v)|^2 and |N(v)|^2 from the factored triple products, without forming the squared
  // gradient. Both are -1 for a basis without a product rule.
  double projected_square_norm2(const TensorTrain& v) const;
  double full_square_norm2(const TensorTrain& v) const;

  // The linearisation J_v w = L w - 2 P_p (grad v . grad w).
  TensorTrain linearization(const TensorTrain& v, const TensorTrain& w) const;

  // Relative L2 norm of the part of N(v) that P_p drops.
  double projection_error(const TensorTrain& v, double* nonlinear_norm = nullptr) const;

  // The projection error split by mode: entry k is |Q_k N - P N| / |Q_k N|, Q_k the projection
  // onto the bases' degrees in every mode but k, where it keeps the full product. It measures
  // what mode k's degree leaves out; degree adaptivity raises the modes where it is largest.
  // The difference of two norms limits it to about 1e-8 relative. Costs d norms of the product.
  std::vector<double> mode_projection_errors(const TensorTrain& v) const;

  // Estimates the spectral radius of J_v by power iteration on `direction`, which is updated in
  // place (pass it back on the next call to warm-start). Iterates are rounded to `rank`.
  double spectral_radius(const TensorTrain& v, TensorTrain& direction, int iterations, arma::uword rank) const;

private:
  // The projection error when the projected squared gradient P_p N(v) is already at hand.
  double projection_error_of(const TensorTrain& v, const TensorTrain& projected, double* nonlinear_norm) const;

  TensorTrain projected_product_impl(const TensorTrain& u, const TensorTrain& w,
                                     const std::vector<arma::cube>& products) const;

  // A Gauss rule with m nodes x_q and weights w_q per mode such that
  //   M(i, j, l) = sum_q values(i, q) values(j, q) projection(l, q),  projection(l, q) = w_q phi_l(x_q).
  struct ProductRule {
    arma::mat values;       // phi_i(x_q), n x m
    arma::mat derivatives;  // values of the derivative coefficients: D^T values, n x m
    arma::mat projection;   // w_q phi_l(x_q), n_out x m
    arma::mat gram;         // projection^T projection, m x m: the inner product of two projected products
  };

  std::vector<ProductRule> projected_rule_;  // n_out = n, exact for degree 3 p
  std::vector<ProductRule> full_rule_;       // n_out = 2 n - 1, exact for degree 4 p
  bool has_product_rule_ = false;            // false when a rule does not reproduce product_tensor

  BasisSet bases_;
  std::vector<arma::mat> derivative_;  // D_k
  std::vector<arma::mat> linear_;      // D2_k + XD_k - nu S_k
  std::vector<arma::cube> product_;    // M_k(i, j, l), l <= p_k
  std::vector<arma::cube> product_full_;  // M_k(i, j, l), l <= 2 p_k (exact product)
};

}  // namespace hjbtt
