// The stored time-dependent HJB solution and its interpolation in time.
#include "hjbtt/core/solution.hpp"

#include <algorithm>
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

arma::uword Solution::count_outside(const arma::mat& X) const {
  if (states_.empty()) return 0;
  const BasisSet& bases = states_.front().bases();
  arma::uword count = 0;
  for (arma::uword j = 0; j < X.n_cols; ++j)
    for (arma::uword k = 0; k < X.n_rows; ++k)
      if (X(k, j) < bases[k]->lower() || X(k, j) > bases[k]->upper()) {
        ++count;
        break;
      }
  return count;
}

}  // namespace hjbtt
