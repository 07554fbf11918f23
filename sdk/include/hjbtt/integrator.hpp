// A time integrator for the HJB equation. It advances v from t_begin to t_end using the
// core's HjbOperator (right-hand side, linearisation, projection error) and the tensor-train
// rounding as retraction, and hands every accepted state to the observer.
//
// Numerical trouble it cannot recover from (non-finite values, a runaway norm) is reported by
// throwing NumericalFailure with the cause and the remedies; misuse throws ConfigurationError.
//
// An integrator may also support checkpoints, so that a stopped solve continues where it
// stopped: see resumable() below. Integrators that do not override these hooks still work, and
// their solves simply cannot be resumed.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/errors.hpp"
#include "hjbtt/plugin.hpp"
#include "hjbtt/run_context.hpp"

#include <map>
#include <string>
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

// Everything besides the last accepted state that decides an integrator's next steps: the
// step-size guess, warm starts, counters. The host stores numbers and tensor trains bit for bit,
// so a solve resumed from it repeats the steps of the uninterrupted solve exactly.
struct IntegratorState {
  std::map<std::string, double> numbers;
  std::map<std::string, TensorTrain> tensors;  // a TensorTrain with no cores is stored as well

  // Returns the saved number `name`, or throws ConfigurationError naming `integrator` when the
  // checkpoint was written by another integrator.
  double number(const std::string& name, const std::string& integrator) const {
    const auto found = numbers.find(name);
    if (found == numbers.end())
      throw ConfigurationError("/integrator", integrator + ": the checkpoint has no value '" + name +
                                                  "'; it was not written by this integrator");
    return found->second;
  }
};

class IntegrationObserver {
public:
  virtual ~IntegrationObserver() = default;
  virtual void accepted(const FunctionalTT& v, const StepRecord& record) = 0;

  // Asked by a resumable integrator right after every accepted(): true when the host wants a
  // checkpoint of the step just accepted.
  virtual bool checkpoint_due() { return false; }

  // Receives the state that, with the state accepted last, continues the solve. It may throw to
  // stop the solve (the host does so after a checkpoint that SIGINT or SIGTERM requested).
  virtual void checkpoint(const IntegratorState&) {}
};

class Integrator : public PluginObject {
public:
  virtual void integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                         const RunContext& context) = 0;

  // True for an integrator that calls observer.checkpoint_due() after every accepted(), hands
  // its state to observer.checkpoint() whenever that returns true, and implements resume().
  virtual bool resumable() const { return false; }

  // Continues a solve from `v`, the state it accepted last at time `t`, and the state it handed
  // over with that step. With the same options it must accept the same steps as the solve that
  // was stopped, bit for bit, and report them to `observer` as integrate() does.
  virtual void resume([[maybe_unused]] FunctionalTT v, [[maybe_unused]] double t, [[maybe_unused]] double t_end,
                      [[maybe_unused]] const IntegratorState& state, [[maybe_unused]] IntegrationObserver& observer,
                      [[maybe_unused]] const RunContext& context) {
    throw ConfigurationError("/integrator", "this integrator cannot resume a solve from a checkpoint");
  }
};

}  // namespace hjbtt
