// Adaptive explicit Euler for the HJB equation: v <- R(v + tau F(v)), R the tensor-train
// rounding (retraction). The step tau is the largest that satisfies
//   - stiffness: tau <= stability_factor / lambda, lambda a power-iteration estimate of the
//     spectral radius of the linearised right-hand side;
//   - retraction: the relative rounding error of v + tau F stays below retraction_tolerance.
//     A failing step is halved, then enlarged again by bisection between the halves.
// The projection error of the squared gradient is recorded every step. With a projection
// tolerance, the degree of every mode is raised (up to max_degree) when tau |N - P N| exceeds
// projection_tolerance |v|; each change is logged and appears in the step history.
//
// Divergence (non-finite coefficients, or a norm that runs away from the scale of the initial
// and the stationary solution) stops the run with NumericalFailure naming the remedies.
#pragma once

#include "hjbtt/integrator.hpp"

namespace hjbtt {

struct ExplicitEulerOptions {
  double rank_tolerance = 1e-6;
  arma::uword max_rank = 20;
  double retraction_tolerance = 1e-4;
  double stability_factor = 1.0;
  double initial_step = 1e-3;
  double max_step = 0.05;
  double min_step = 1e-10;
  double growth = 1.5;
  int bisection_steps = 2;
  int power_iterations = 3;
  arma::uword power_rank = 4;
  double divergence_factor = 100.0;
  std::int64_t max_steps = 200000;
  double projection_tolerance = 0.0;  // 0 turns degree adaptivity off
  arma::uword max_degree = 12;
  arma::uword degree_increment = 2;
};

class ExplicitEuler : public Integrator {
public:
  explicit ExplicitEuler(ExplicitEulerOptions options) : options_(options) {}

  void integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                 const RunContext& context) override;

private:
  ExplicitEulerOptions options_;
};

}  // namespace hjbtt
