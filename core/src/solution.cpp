// The stored time-dependent HJB solution and its interpolation in time.
#include "hjbtt/core/solution.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hjbtt {

void Solution::append(double t, FunctionalTT v) {
  if (!times_.empty() && t <= times_.back())
    throw std::invalid_argument("Solution::append: times must increase (got " + std::to_string(t) + " after " +
                                std::to_string(times_.back()) + ")");
  times_.push_back(t);
  states_.push_back(std::move(v));
}

arma::mat Solution::gradient(double t, const arma::mat& X) const {
  if (times_.empty()) throw std::logic_error("Solution::gradient: the solution is empty");
  if (t <= times_.front()) return states_.front().gradient(X);
  if (t >= times_.back()) return states_.back().gradient(X);

  const auto upper = std::upper_bound(times_.begin(), times_.end(), t);
  const std::size_t i = static_cast<std::size_t>(upper - times_.begin()) - 1;
  const double theta = (t - times_[i]) / (times_[i + 1] - times_[i]);
  if (theta < 1e-12) return states_[i].gradient(X);
  if (theta > 1.0 - 1e-12) return states_[i + 1].gradient(X);
  return (1.0 - theta) * states_[i].gradient(X) + theta * states_[i + 1].gradient(X);
}

FunctionalTT Solution::interpolate(double t, double tolerance) const {
  if (times_.empty()) throw std::logic_error("Solution::interpolate: the solution is empty");
  if (t <= times_.front()) return states_.front();
  if (t >= times_.back()) return states_.back();

  const auto upper = std::upper_bound(times_.begin(), times_.end(), t);
  const std::size_t i = static_cast<std::size_t>(upper - times_.begin()) - 1;
  const double theta = (t - times_[i]) / (times_[i + 1] - times_[i]);
  if (theta < 1e-12) return states_[i];
  if (theta > 1.0 - 1e-12) return states_[i + 1];

  // Degree adaptivity may have raised some modes between the two states; blend on the larger
  // bases, where the lower-degree state is exact after zero padding.
  const FunctionalTT& before = states_[i];
  const FunctionalTT& after = states_[i + 1];
  BasisSet bases = before.bases();
  for (std::size_t k = 0; k < bases.size(); ++k)
    if (after.bases()[k]->degree() > bases[k]->degree()) bases[k] = after.bases()[k];
  TensorTrain blend = axpy(1.0 - theta, before.with_bases(bases).coefficients(),
                           theta * after.with_bases(bases).coefficients());
  blend.round(tolerance, std::numeric_limits<arma::uword>::max());
  return FunctionalTT(std::move(bases), std::move(blend));
}

arma::uword Solution::count_outside(const arma::mat& X) const {
  if (states_.empty()) return 0;
  const BasisSet& bases = states_.front().bases();
  arma::vec lower(X.n_rows), upper(X.n_rows);
  for (arma::uword k = 0; k < X.n_rows; ++k) {
    lower(k) = bases[k]->lower();
    upper(k) = bases[k]->upper();
  }
  arma::uword count = 0;
  for (arma::uword j = 0; j < X.n_cols; ++j) {
    bool outside = false;
    for (arma::uword k = 0; k < X.n_rows; ++k) outside |= X(k, j) < lower(k) || X(k, j) > upper(k);
    count += outside;
  }
  return count;
}

}  // namespace hjbtt
