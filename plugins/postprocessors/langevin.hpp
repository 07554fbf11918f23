// Langevin correction of samples with the exact potential: a few steps of the unadjusted
// Langevin algorithm (ULA) or of its Metropolis-adjusted form (MALA).
//
//   proposal  x' = x - h gradPhi(x) + sqrt(2h) xi,   xi ~ N(0, I)
//   MALA      accepts x' with probability min(1, pi(x') q(x | x') / (pi(x) q(x' | x))),
//             q(y | x) = N(y; x - h gradPhi(x), 2h I), so pi is left invariant exactly;
//   ULA       always moves, so its stationary law is off from pi by O(h) (for N(0, 1) its
//             variance is 1 / (1 - h/2)), but it needs no evaluation of Phi.
//
// Samples are processed in column blocks of sample_block_size, block b drawing all its random
// numbers from RandomStream(seed, {phase, b}), so the result is the same for every thread count.
//
// Non-finite values: MALA rejects a proposal at which Phi or its gradient is not finite and
// counts it. ULA has no such safeguard, so a sample that reaches a non-finite gradient stops
// the run with a NumericalFailure. A non-finite starting point stops either form. On failure
// the samples are left unchanged.
#pragma once

#include "hjbtt/postprocessor.hpp"

#include <cstdint>

namespace hjbtt {

class LangevinPostprocessor : public Postprocessor {
public:
  struct Settings {
    std::int64_t steps = 20;
    double step_size = 0.01;
    bool metropolis = true;
  };

  // Throws std::invalid_argument for steps < 0 or a step size that is not positive and finite.
  explicit LangevinPostprocessor(Settings settings);

  void process(arma::mat& samples, const Potential& potential, const RunContext& context,
               boost::json::object& report) override;

  const Settings& settings() const { return settings_; }

private:
  Settings settings_;
};

}  // namespace hjbtt
