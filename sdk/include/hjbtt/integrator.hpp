// A time integrator for the HJB equation. It advances v from t_begin to t_end using the
// core's HjbOperator (right-hand side, linearisation, projection error) and the tensor-train
// rounding as retraction, and hands every accepted state to the observer.
//
// Numerical trouble it cannot recover from (non-finite values, a runaway norm) is reported by
// throwing NumericalFailure with the cause and the remedies; misuse throws ConfigurationError.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/plugin.hpp"
#include "hjbtt/run_context.hpp"

#include <vector>

namespace hjbtt {

// One accepted step, as recorded in the report's history.
struct StepRecord {
  double t = 0.0;                    // time reached by the step
  double step = 0.0;                 // tau
  std::vector<arma::uword> ranks;    // r_0 .. r_d after retraction
  std::vector<arma::uword> degrees;  // p_1 .. p_d
  double projection_error = 0.0;     // |N - P N| / |N| at the start of the step
  double retraction_error = 0.0;     // |R(y) - y| / |y|
  double stiffness = 0.0;            // spectral radius estimate of the linearisation
  int rejected = 0;                  // trial steps rejected before this one was accepted
};

class IntegrationObserver {
public:
  virtual ~IntegrationObserver() = default;
  virtual void accepted(const FunctionalTT& v, const StepRecord& record) = 0;
};

class Integrator : public PluginObject {
public:
  virtual void integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                         const RunContext& context) = 0;
};

}  // namespace hjbtt
