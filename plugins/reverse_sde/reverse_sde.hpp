// Sampling by the reverse-time process. With Y_s = X_{T-s} and v the stored HJB solution,
//   dY = (Y - 2 grad v(T - s, Y)) ds + sqrt(2) dB,   Y_0 ~ N(0, I),
// integrated by Euler-Maruyama on a time grid t_m = T (1 - m/K)^2, which refines toward t = 0
// where the score changes fastest.
//
// Samples are processed in blocks of sample_block_size columns, block b drawing all of its
// noise from RandomStream(seed, {phase, b}), so the result does not depend on thread count.
// Within a block, slices of a few hundred points run through all steps one after the other,
// so that a slice's state, noise and score stay in cache. The score at each grid time comes
// from one tensor train, blended from the two nearest stored states before sampling starts.
#pragma once

#include "hjbtt/sampler.hpp"

namespace hjbtt {

struct ReverseSdeOptions {
  arma::uword samples = 100000;
  arma::uword steps = 400;
  double grid_power = 2.0;  // t_m = T (1 - m/K)^power; 1 is a uniform grid
  // Outside the box a polynomial score can point outward and throw samples to infinity, so by
  // default the score there is continued from the nearest box point with unit curvature, the
  // curvature of the stationary solution |x|^2 / 2.
  bool polynomial_extrapolation = false;
};

// Computes the score of v = v(t, .) at each column of X. Inside the box it is grad v(X). Outside
// it is either the polynomial continuation or grad v(P X) + (X - P X), with P the projection onto
// the box.
arma::mat reverse_score(const FunctionalTT& v, const arma::mat& X, bool polynomial_extrapolation);

// The time grid from T down to 0 (K + 1 points).
arma::vec reverse_time_grid(double final_time, arma::uword steps, double power);

class ReverseSde : public Sampler {
public:
  explicit ReverseSde(ReverseSdeOptions options) : options_(options) {}

  arma::mat sample(const Solution& solution, const RunContext& context, boost::json::object& report) override;

private:
  ReverseSdeOptions options_;
};

}  // namespace hjbtt
