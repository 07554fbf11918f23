// Adaptive explicit Euler for the HJB equation: v <- R(v + tau F(v)), R the tensor-train
// rounding (retraction). The step tau is the largest that satisfies
//   - stiffness: tau <= stability_factor / lambda, lambda a power-iteration estimate of the
//     spectral radius of the linearised right-hand side;
//   - retraction: the relative rounding error of v + tau F stays below retraction_tolerance.
//     A failing step is halved, then enlarged again by bisection between the halves.
// The projection error of the squared gradient is recorded every step. With a projection
// tolerance, degrees are raised (up to max_degree) when tau |N - P N| exceeds
// projection_tolerance |v|. degree_raise "modes" raises the modes whose own share of the error
// breaks the criterion, or the worst modes when the error is spread thinly. "all" raises every
// mode. Each change is logged and appears in the step history.
//
// Divergence stops the run with NumericalFailure naming the remedies. It shows as non-finite
// coefficients, a norm that runs away from the scale of the initial and the stationary
// solution, or steps that shrink until the solve cannot finish within max_steps. Spectral
// viscosity (HjbOperator) is the remedy that keeps box and degree. fixed_step turns every
// criterion off, for comparisons.
//
// Two assemblies of the step give the same update within the rounding tolerance:
//   - exact: forms F(v) with its rank-2 r^2 squared gradient, then rounds v + tau F, O(d n r^6);
//   - randomized: SketchedEulerStep, which never forms F(v): exact norms in O(d m r^5) and a
//     randomised rounding of v + tau F against a Gaussian sketch from a fixed-seed stream, so
//     runs are reproducible. The part of v + tau F that the sketch misses is bounded from exact
//     norms and counted in the retraction error that the step controller checks. It falls back
//     to exact where it cannot certify that bound (see use_randomized in the source).
// The automatic choice (the default) takes the randomized assembly from ranks of about 4 in
// every mode on, where it was measured to be faster, and the exact one below.
#pragma once

#include "hjbtt/core/hjb.hpp"
#include "hjbtt/integrator.hpp"

namespace hjbtt {

enum class Assembly { automatic, exact, randomized };

struct ExplicitEulerOptions {
  double rank_tolerance = 1e-7;
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
  bool raise_all_modes = false;  // raise every mode at once instead of the modes that need it
  Assembly assembly = Assembly::automatic;
  double fixed_step = 0.0;       // > 0: every step has this length and no criterion shortens it
  SpectralViscosity viscosity;   // strength 0: off
};

class ExplicitEuler : public Integrator {
public:
  explicit ExplicitEuler(ExplicitEulerOptions options) : options_(options) {}

  void integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                 const RunContext& context) override;

  // Checkpoints carry the numbers "t_begin", "tau", "scale", "steps" and "largest_step" and the
  // tensor train "direction", which decide the next step together with the last accepted state.
  bool resumable() const override { return true; }
  void resume(FunctionalTT v, double t, double t_end, const IntegratorState& state, IntegrationObserver& observer,
              const RunContext& context) override;

private:
  // The state of a solve between two steps, apart from v itself.
  struct Progress {
    double t_begin = 0.0;
    double t = 0.0;
    double tau = 0.0;        // last accepted step; the next trial step is growth * tau
    double scale = 0.0;      // norm scale of the divergence check, from the initial state
    std::int64_t steps = 0;  // steps started, for max_steps
    double largest_step = 0.0;  // largest accepted step, for the stall check
    TensorTrain direction;   // power-iteration vector, carried over steps as a warm start
  };

  void advance(FunctionalTT v, Progress progress, double t_end, IntegrationObserver& observer,
               const RunContext& context) const;

  ExplicitEulerOptions options_;
};

}  // namespace hjbtt
