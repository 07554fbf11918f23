// The stored HJB solution: v(t) at every accepted time step, with the gradient between steps
// interpolated linearly in t. This is what samplers read.
#pragma once

#include "hjbtt/core/ftt.hpp"

#include <vector>

namespace hjbtt {

class Solution {
public:
  void append(double t, FunctionalTT v);

  std::size_t size() const { return times_.size(); }
  bool empty() const { return times_.empty(); }
  std::size_t dimension() const { return states_.empty() ? 0 : states_.front().dimension(); }
  double initial_time() const { return times_.front(); }
  double final_time() const { return times_.back(); }
  double time(std::size_t i) const { return times_[i]; }
  const FunctionalTT& state(std::size_t i) const { return states_[i]; }

  // grad v(t, x) at each column of X, linear in t between the two nearest stored states.
  arma::mat gradient(double t, const arma::mat& X) const;

  // v(t) as one functional tensor train: the linear blend of the two nearest stored states,
  // rounded to relative accuracy `tolerance`. A sampler that evaluates the score at the same
  // time for many points blends once and then evaluates one train instead of two.
  FunctionalTT interpolate(double t, double tolerance) const;

  // Number of columns of X outside the box of the bases, where v is extrapolated.
  arma::uword count_outside(const arma::mat& X) const;

private:
  std::vector<double> times_;
  std::vector<FunctionalTT> states_;
};

}  // namespace hjbtt
