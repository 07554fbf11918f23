// The automatic pre-map: mode search by damped Newton iterations, the Hessian by differences of
// the gradient, the whitening map and the whitened potential.
#include "hjbtt/core/premap.hpp"

#include "hjbtt/errors.hpp"
#include "hjbtt/parameters.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace hjbtt {

namespace {

// Difference steps are this fraction of the conditional standard deviation 1 / sqrt(H_jj) of the
// latest Hessian. The truncation error of central differences is then about 1e-6 relative for a
// potential that varies on the scale of its standard deviation. The rounding error stays far
// below that unless |x_j| exceeds about 1e6 standard deviations.
constexpr double step_fraction = 1e-3;

// Armijo constant of the backtracking line search, and its largest number of halvings.
constexpr double armijo_constant = 1e-4;
constexpr int max_halvings = 60;

// Eigenvalues of an indefinite Hessian below this fraction of the largest magnitude are raised to
// it when the Newton direction is formed from |H|, so that the step stays finite.
constexpr double eigenvalue_floor = 1e-8;

std::string format_vector(const arma::vec& x) {
  std::string out = "(";
  for (arma::uword k = 0; k < x.n_elem && k < 8; ++k) out += (k ? ", " : "") + format_number(x(k));
  return out + (x.n_elem > 8 ? ", ...)" : ")");
}

boost::json::array to_json(const arma::vec& x) {
  boost::json::array out;
  for (const double value : x) out.push_back(value);
  return out;
}

boost::json::array to_json(const arma::mat& A) {
  boost::json::array rows;
  for (arma::uword i = 0; i < A.n_rows; ++i) rows.push_back(to_json(arma::vec(A.row(i).t())));
  return rows;
}

// Steps of the first Hessian, before any curvature is known: a small fraction of the coordinate's
// magnitude, or of 1 near the origin.
arma::vec initial_steps(const arma::vec& x) { return 1e-4 * arma::max(arma::abs(x), arma::ones<arma::vec>(x.n_elem)); }

// Steps for the next Hessian from the diagonal of the current one. A coordinate whose curvature is
// not positive keeps its step, and no step falls below the rounding level of x_j.
void update_steps(const arma::mat& H, const arma::vec& x, arma::vec& steps) {
  for (arma::uword j = 0; j < x.n_elem; ++j) {
    if (!(H(j, j) > 0.0)) continue;
    const double floor = 1e-7 * std::max(std::abs(x(j)), 1.0);
    steps(j) = std::max(step_fraction / std::sqrt(H(j, j)), floor);
  }
}

// The coordinate with the largest component of unit vector v, for messages about a direction.
std::string dominant_coordinate(const arma::vec& v) { return "x_" + std::to_string(arma::index_max(arma::abs(v)) + 1); }

}  // namespace

boost::json::object to_json(const Premap& premap) {
  boost::json::object out;
  out["mode"] = to_json(premap.mode);
  out["hessian"] = to_json(premap.hessian);
  out["cholesky"] = to_json(premap.cholesky);
  out["box"] = boost::json::array{-premap.width, premap.width};
  out["potential_at_mode"] = premap.potential_at_mode;
  out["newton_decrement"] = premap.newton_decrement;
  out["gradient_norm"] = premap.gradient_norm;
  out["hessian_asymmetry"] = premap.hessian_asymmetry;
  out["iterations"] = static_cast<std::uint64_t>(premap.iterations);
  out["value_evaluations"] = static_cast<std::uint64_t>(premap.value_evaluations);
  out["gradient_evaluations"] = static_cast<std::uint64_t>(premap.gradient_evaluations);
  out["seconds"] = premap.seconds;
  return out;
}

void check_premap(const PremapOptions& options, const Potential& potential, const InitialConditionOptions& initial) {
  if (!options.enabled) return;
  if (!options.start.is_empty() && options.start.n_elem != potential.dimension())
    throw ConfigurationError("/premap/start", "expected " + std::to_string(potential.dimension()) +
                                                  " numbers (the potential's dimension), found " +
                                                  std::to_string(options.start.n_elem));
  if (initial.method == InitialConditionMethod::polynomial)
    throw ConfigurationError("/initial_condition/method",
                             "\"polynomial\" cannot be used with \"domain\": \"auto\", because the whitened potential "
                             "Phi(mu + L z) has no polynomial form; use \"cross\" or \"auto\"");
}

arma::mat difference_hessian(const Potential& potential, const arma::vec& x, const arma::vec& steps, double& asymmetry) {
  const arma::uword d = x.n_elem;
  arma::mat points(d, 2 * d);
  for (arma::uword j = 0; j < d; ++j) {
    points.col(2 * j) = x;
    points.col(2 * j + 1) = x;
    points(j, 2 * j) += steps(j);
    points(j, 2 * j + 1) -= steps(j);
  }
  const arma::mat gradients = potential.gradient(points);

  arma::mat H(d, d);
  for (arma::uword j = 0; j < d; ++j) {
    // The step actually taken, which rounding of x_j + h may have changed.
    const double span = points(j, 2 * j) - points(j, 2 * j + 1);
    H.col(j) = (gradients.col(2 * j) - gradients.col(2 * j + 1)) / span;
  }
  const double scale = arma::abs(H).max();
  asymmetry = scale > 0.0 ? arma::abs(H - H.t()).max() / scale : 0.0;
  return 0.5 * (H + H.t());
}

Premap find_premap(const Potential& potential, const PremapOptions& options, const std::string& description) {
  const auto start_time = std::chrono::steady_clock::now();
  const arma::uword d = potential.dimension();
  Premap premap;
  premap.width = options.width;

  arma::vec x = options.start.is_empty() ? arma::vec(d, arma::fill::zeros) : options.start;
  const auto value_at = [&](const arma::vec& point) {
    ++premap.value_evaluations;
    return potential.value(arma::mat(point))(0);
  };
  const auto gradient_at = [&](const arma::vec& point) {
    ++premap.gradient_evaluations;
    return arma::vec(potential.gradient(arma::mat(point)));
  };

  double phi = value_at(x);
  arma::vec g = gradient_at(x);
  if (!std::isfinite(phi) || !g.is_finite())
    throw NumericalFailure("pre-map of " + description + ": " + (std::isfinite(phi) ? "the gradient of Phi" : "Phi") +
                           " is not finite at the start point x = " + format_vector(x) +
                           "; give /premap/start at a point where Phi and its gradient are finite");

  arma::vec steps = initial_steps(x);
  arma::mat H;
  double decrement = 0.0;
  for (premap.iterations = 1;; ++premap.iterations) {
    // Curvature at x, then the Newton direction p. An indefinite Hessian is replaced by |H|,
    // whose direction still descends and follows the curvature's scale in every direction.
    H = difference_hessian(potential, x, steps, premap.hessian_asymmetry);
    premap.gradient_evaluations += 2 * d;
    if (!H.is_finite())
      throw NumericalFailure("pre-map of " + description + ": the Hessian of Phi has non-finite entries at x = " +
                             format_vector(x) + "; give /premap/start nearer the mode, or a fixed /basis/params/domain");
    update_steps(H, x, steps);

    arma::mat R;
    arma::vec p;
    const bool positive_definite = arma::chol(R, H);
    if (positive_definite) {
      p = -arma::solve(arma::trimatu(R), arma::solve(arma::trimatl(R.t()), g));
    } else {
      arma::vec eigenvalues;
      arma::mat eigenvectors;
      arma::eig_sym(eigenvalues, eigenvectors, H);
      const double largest = arma::abs(eigenvalues).max();
      if (!(largest > 0.0))
        throw NumericalFailure("pre-map of " + description + ": the Hessian of Phi is zero at x = " + format_vector(x) +
                               ", so Phi has no curvature to whiten there; give /premap/start nearer the mode, or a "
                               "fixed /basis/params/domain");
      const arma::vec magnitudes = arma::max(arma::abs(eigenvalues), arma::vec(d, arma::fill::value(eigenvalue_floor * largest)));
      p = -eigenvectors * ((eigenvectors.t() * g) / magnitudes);

      // A stationary point that is not a minimum: no descent direction is left to follow.
      if (std::sqrt(std::max(0.0, -arma::dot(g, p))) <= options.tolerance)
        throw NumericalFailure("pre-map of " + description + ": the Hessian of Phi is not positive definite at the "
                               "stationary point x = " + format_vector(x) + " (smallest eigenvalue " +
                               format_number(eigenvalues(0)) + ", along a direction mostly in " +
                               dominant_coordinate(eigenvectors.col(0)) +
                               "), so it is a saddle or a maximum, not a mode; give /premap/start nearer the mode, "
                               "or a fixed /basis/params/domain");
    }
    decrement = std::sqrt(std::max(0.0, -arma::dot(g, p)));
    if (positive_definite && decrement <= options.tolerance) break;

    if (premap.iterations >= options.max_iterations)
      throw NumericalFailure("pre-map of " + description + ": the mode search did not converge in " +
                             std::to_string(options.max_iterations) + " Newton iterations (Newton decrement " +
                             format_number(decrement) + " at x = " + format_vector(x) + ", tolerance " +
                             format_number(options.tolerance) + "); raise /premap/max_iterations, give /premap/start "
                             "nearer the mode, or set a fixed /basis/params/domain");

    // Backtracking line search with the Armijo condition. The allowance of a few rounding units
    // of |Phi| accepts the last steps near the mode, where the decrease is below rounding.
    const double slope = arma::dot(g, p);
    const double allowance = 16.0 * std::numeric_limits<double>::epsilon() * std::abs(phi);
    double t = 1.0;
    bool accepted = false;
    for (int halving = 0; halving <= max_halvings; ++halving, t *= 0.5) {
      const arma::vec trial = x + t * p;
      const double trial_phi = value_at(trial);
      if (!std::isfinite(trial_phi) || trial_phi > phi + armijo_constant * t * slope + allowance) continue;
      const arma::vec trial_gradient = gradient_at(trial);
      if (!trial_gradient.is_finite()) continue;
      x = trial;
      phi = trial_phi;
      g = trial_gradient;
      accepted = true;
      break;
    }
    if (!accepted)
      throw NumericalFailure("pre-map of " + description + ": the line search found no decrease of Phi along the Newton "
                             "direction at x = " + format_vector(x) + " after " + std::to_string(max_halvings) +
                             " halvings, so Phi may be unbounded below or its gradient may not match its values; "
                             "check the potential's gradient, or give /premap/start nearer the mode");
  }

  // L L^T = H^-1, from the Cholesky factor of the inverse rather than the inverse of the factor,
  // so that L is lower triangular.
  premap.mode = x;
  premap.hessian = H;
  premap.potential_at_mode = phi;
  premap.newton_decrement = decrement;
  premap.gradient_norm = arma::norm(g);
  const arma::mat covariance = arma::inv_sympd(H);
  arma::mat L;
  if (!arma::chol(L, covariance, "lower"))
    throw NumericalFailure("pre-map of " + description + ": the inverse Hessian at the mode x = " + format_vector(x) +
                           " is too ill-conditioned for a Cholesky factor (condition number " +
                           format_number(arma::cond(H)) + "); set a fixed /basis/params/domain");
  premap.cholesky = L;
  premap.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return premap;
}

arma::mat map_to_target(const Premap& premap, const arma::mat& Z) {
  arma::mat X = premap.cholesky * Z;
  X.each_col() += premap.mode;
  return X;
}

WhitenedPotential::WhitenedPotential(std::shared_ptr<const Potential> target, Premap premap)
    : target_(std::move(target)), premap_(std::move(premap)) {}

arma::rowvec WhitenedPotential::value(const arma::mat& Z) const {
  return target_->value(map_to_target(premap_, Z)) - premap_.potential_at_mode;
}

arma::mat WhitenedPotential::gradient(const arma::mat& Z) const {
  return premap_.cholesky.t() * target_->gradient(map_to_target(premap_, Z));
}

}  // namespace hjbtt
