// Exponential integrator for the HJB equation with error control: an embedded pair of exponential
// Euler (order 1) and the exponential Runge-Kutta method ETD2RK of Cox and Matthews (order 2).
//
// Split. The right-hand side is written as F(v) = L_s (v - q) + G(v) with a linear part L_s that
// is a sum of 1-D operators, so that exp(h L_s) is the rank-1 TT operator of the 1-D matrix
// exponentials exp(h A_k), and G(v) = F(v) - L_s (v - q) is whatever remains. Two splits:
//   - ornstein_uhlenbeck (default): A_k = D2_k - XD_k, the generator of the OU process, and
//     q = |x|^2 / 2, the stationary solution. L_s has eigenvalues 0, -1, .., -p per mode, so its
//     flow is dissipative, and G(v) = d - P_p |grad(v - q)|^2 vanishes up to a constant at q.
//   - hjb: A_k = D2_k + XD_k, the linear part L of the equation as written, with q = 0. L has
//     eigenvalues 0, 1, .., p per mode, so exp(h L) amplifies high degrees, and the stiff
//     dissipative term stays in G: the part w -> -2 x . grad(w) of its linearisation at q has
//     eigenvalue -2 j on degree j. For that mode exponential Euler multiplies by 2 - exp(h j),
//     stable only for h j <= ln 3, while explicit Euler allows h j <= 2.
// Both splits give the same F, so both converge to the same solution.
//
// Step from v (w = v - q, E(h) = exp(h L_s), G0 = G(v)):
//   a      = q + E(tau) w + tau phi_1(tau L_s) G0                           exponential Euler
//   v_next = a + tau phi_2(tau L_s) (G(a) - G0)                             ETD2RK
// phi_1(z) = (e^z - 1) / z and phi_2(z) = (e^z - 1 - z) / z^2 do not factorise over modes, so
// they are computed from their integral forms
//   phi_1(z) = int_0^1 e^{(1-s) z} ds,   phi_2(z) = int_0^1 s e^{(1-s) z} ds
// by m-point Gauss-Legendre quadrature in s: a sum of m rank-1 operators E((1 - s_i) tau).
// The linear flow E(tau) w is exact. The rule is exact on the kernel of L_s (the constants for
// the OU split), and for a component of G with eigenvalue lambda its relative error is about
// (tau lambda)^{2m} (m!)^4 / ((2m + 1) ((2m)!)^3).
//
// Step control. The error estimate is |tau phi_2 (G(a) - G0)|, the difference of the pair,
// plus the quadrature error of phi_1 G0 measured against the (m + 1)-point rule, relative to
// |v|. A step is accepted when it is below `tolerance`, both roundings (retraction) stay below
// retraction_tolerance, and every value is finite. The next step is
// tau * clamp(0.9 sqrt(tolerance / error), 0.2, growth), at most max_step, and no larger than
// tau right after a rejection. The accepted state is v_next (order 2, local extrapolation) or
// a (order 1).
//
// Divergence (non-finite values, a norm that runs away from the scale of the initial and the
// stationary solution, or an error estimate that forces steps below min_step) stops the run
// with NumericalFailure naming the cause and the remedies.
#pragma once

#include "hjbtt/core/hjb.hpp"
#include "hjbtt/integrator.hpp"

#include <cstdint>

namespace hjbtt {

enum class LinearSplit { ornstein_uhlenbeck, hjb };

struct ExponentialEulerOptions {
  double tolerance = 1e-3;  // error estimate per step, relative to |v|
  double rank_tolerance = 1e-6;
  arma::uword max_rank = 20;
  double retraction_tolerance = 1e-4;
  double initial_step = 1e-3;
  double max_step = 0.25;
  double min_step = 1e-10;
  double growth = 2.0;
  int order = 2;
  int phi_nodes = 4;
  LinearSplit linear_part = LinearSplit::ornstein_uhlenbeck;
  SpectralViscosity viscosity;  // strength 0: off
  double divergence_factor = 100.0;
  std::int64_t max_steps = 100000;
};

// The linear part L_s = sum_k A_k of a split, its reference state q and its flow exp(h L_s).
class LinearFlow {
public:
  LinearFlow(const BasisSet& bases, LinearSplit split, const SpectralViscosity& viscosity = {});

  // q: |x|^2 / 2 for the OU split (only the modes of degree >= 2 carry x_k^2 / 2), 0 for hjb.
  const TensorTrain& reference() const { return reference_; }

  // L_s x, exact, ranks 2 r.
  TensorTrain apply(const TensorTrain& x) const;

  // exp(h L_s) x = (exp(h A_1) (x) .. (x) exp(h A_d)) x, exact up to the 1-D matrix
  // exponentials, ranks unchanged.
  TensorTrain propagate(double h, const TensorTrain& x) const;

  // A_k of mode k.
  const arma::mat& generator(std::size_t k) const { return generators_[k]; }

private:
  std::vector<arma::mat> generators_;  // A_k per mode
  std::vector<std::size_t> group_;     // first mode with the same basis object, whose exponential is reused
  TensorTrain reference_;
};

// Gauss-Legendre rule with m nodes on [0, 1], with weights that sum to 1.
struct UnitGaussRule {
  arma::vec nodes;
  arma::vec weights;
};
UnitGaussRule unit_gauss_rule(arma::uword points);

class ExponentialEuler : public Integrator {
public:
  explicit ExponentialEuler(ExponentialEulerOptions options) : options_(options) {}

  void integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                 const RunContext& context) override;

  // Checkpoints carry the numbers "t_begin", "tau", "scale" and "steps", which decide the next
  // step together with the last accepted state.
  bool resumable() const override { return true; }
  void resume(FunctionalTT v, double t, double t_end, const IntegratorState& state, IntegrationObserver& observer,
              const RunContext& context) override;

private:
  // The state of a solve between two steps, apart from v itself.
  struct Progress {
    double t_begin = 0.0;
    double t = 0.0;
    double tau = 0.0;        // next trial step
    double scale = 0.0;      // norm scale of the divergence check, from the initial state
    std::int64_t steps = 0;  // steps accepted, for max_steps and the sketch streams
  };

  void advance(FunctionalTT v, Progress progress, double t_end, IntegrationObserver& observer,
               const RunContext& context) const;

  ExponentialEulerOptions options_;
};

}  // namespace hjbtt
