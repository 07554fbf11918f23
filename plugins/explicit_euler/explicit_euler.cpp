// Adaptive explicit Euler: step selection, retraction control and divergence detection.
#include "explicit_euler.hpp"

#include "hjbtt/core/hjb.hpp"
#include "hjbtt/errors.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <cmath>
#include <sstream>

namespace hjbtt {

namespace {

struct Trial {
  TensorTrain state;
  double retraction_error = 0.0;
  bool finite = true;
};

Trial try_step(const TensorTrain& v, const TensorTrain& rhs, double tau, const ExplicitEulerOptions& options) {
  Trial trial;
  trial.state = axpy(tau, rhs, v);
  if (!trial.state.is_finite()) {
    trial.finite = false;
    return trial;
  }
  trial.retraction_error = trial.state.round(options.rank_tolerance, options.max_rank);
  return trial;
}

// Norm of the stationary solution |x|^2 / 2 on the same bases: with the initial norm it sets
// the scale that a healthy solution stays within for all t.
double stationary_norm(const BasisSet& bases) {
  SeparablePolynomial quadratic;
  for (arma::uword k = 0; k < bases.size(); ++k) quadratic.push_back({0.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  BasisSet quadratic_bases;
  for (const auto& b : bases) quadratic_bases.push_back(b->degree() >= 2 ? b : b->with_degree(2));
  return norm(ftt_from_polynomial(quadratic, quadratic_bases, 1e-12).coefficients());
}

std::string describe_divergence(const std::string& cause, double t, const FunctionalTT& v) {
  std::ostringstream message;
  const auto degrees = v.degrees();
  message << "explicit_euler: the HJB solution diverged at t = " << t << " (" << cause << ").\n"
          << "The Galerkin discretisation can have growing modes when the polynomial degree is high for the box"
          << " (degree " << *std::max_element(degrees.begin(), degrees.end()) << " on ["
          << v.bases().front()->lower() << ", " << v.bases().front()->upper() << "]).\n"
          << "Remedies: enlarge the box (basis domain), lower the basis degree, or lower stability_factor."
          << " No samples were written.";
  return message.str();
}

// Re-expresses v on bases of `increment` higher degree (at most max_degree), zero-padding the
// cores. Modes that share a basis object keep sharing one.
FunctionalTT raise_degrees(const FunctionalTT& v, arma::uword increment, arma::uword max_degree) {
  std::map<const Basis*, BasisPtr> raised;
  BasisSet bases;
  for (const auto& basis : v.bases()) {
    auto& target = raised[basis.get()];
    if (!target) target = basis->with_degree(std::min(basis->degree() + increment, std::max(basis->degree(), max_degree)));
    bases.push_back(target);
  }
  return v.with_bases(bases);
}

}  // namespace

void ExplicitEuler::integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                              const RunContext& context) {
  auto hjb = std::make_unique<HjbOperator>(v.bases());
  const double scale = std::max(norm(v.coefficients()), stationary_norm(v.bases()));
  const double d = static_cast<double>(v.dimension());

  TensorTrain direction;  // power-iteration vector, carried over steps as a warm start
  double t = t_begin;
  double tau = options_.initial_step;
  std::int64_t steps = 0;

  while (t < t_end) {
    if (++steps > options_.max_steps) {
      std::ostringstream message;
      message << "explicit_euler: reached max_steps = " << options_.max_steps << " at t = " << t << " of " << t_end
              << "; raise max_steps, or loosen rank_tolerance if the retraction keeps rejecting steps";
      throw NumericalFailure(message.str());
    }

    // Right-hand side at the current state.
    double step = std::min({tau * options_.growth, options_.max_step, t_end - t});
    RightHandSide rhs = hjb->evaluate(v.coefficients(), true);

    // Projection criterion: the part of the squared gradient that the projection drops,
    // tau |N - P N|, must stay below projection_tolerance |v|. Where it does not, raise the
    // degree rather than shrink the step; at max_degree the step is taken as it is.
    while (options_.projection_tolerance > 0.0 &&
           step * rhs.projection_error * rhs.nonlinear_norm > options_.projection_tolerance * norm(v.coefficients())) {
      const auto degrees = v.degrees();
      const arma::uword lowest = *std::min_element(degrees.begin(), degrees.end());
      if (lowest >= options_.max_degree) break;
      const double trigger = rhs.projection_error;
      v = raise_degrees(v, options_.degree_increment, options_.max_degree);
      hjb = std::make_unique<HjbOperator>(v.bases());
      direction = TensorTrain();
      rhs = hjb->evaluate(v.coefficients(), true);
      if (context.log)
        context.log->info("explicit_euler: projection error " + format_number(trigger) + " at t = " +
                          format_number(t) + ", raised the basis degree to " + std::to_string(v.degrees().front()));
    }

    // Stiffness bound from the power iteration on the linearisation.
    const double lambda = hjb->spectral_radius(v.coefficients(), direction, options_.power_iterations, options_.power_rank);
    if (!std::isfinite(lambda) || !rhs.value.is_finite())
      throw NumericalFailure(describe_divergence("non-finite right-hand side", t, v));

    if (lambda > 0.0) step = std::min(step, options_.stability_factor / lambda);
    if (step < options_.min_step || t + step <= t) {
      std::ostringstream cause;
      cause << "the stiffness estimate " << lambda << " forces steps below min_step = " << options_.min_step;
      throw NumericalFailure(describe_divergence(cause.str(), t, v));
    }

    // Retraction control: halve until the rounding error is acceptable, then bisect upward.
    int rejected = 0;
    Trial accepted = try_step(v.coefficients(), rhs.value, step, options_);
    double failed_step = 0.0;
    while (!accepted.finite || accepted.retraction_error > options_.retraction_tolerance) {
      if (step <= options_.min_step) {
        std::ostringstream message;
        message << "explicit_euler: the step fell below min_step = " << options_.min_step << " at t = " << t
                << " (retraction error " << accepted.retraction_error << " > " << options_.retraction_tolerance
                << "); raise max_rank (now " << options_.max_rank << ") or retraction_tolerance";
        throw NumericalFailure(accepted.finite ? message.str() : describe_divergence("non-finite step", t, v));
      }
      failed_step = step;
      step *= 0.5;
      ++rejected;
      accepted = try_step(v.coefficients(), rhs.value, step, options_);
    }
    if (rejected > 0) {
      double low = step, high = failed_step;
      for (int i = 0; i < options_.bisection_steps; ++i) {
        const double middle = 0.5 * (low + high);
        Trial trial = try_step(v.coefficients(), rhs.value, middle, options_);
        if (trial.finite && trial.retraction_error <= options_.retraction_tolerance) {
          accepted = std::move(trial);
          low = middle;
        } else {
          high = middle;
        }
      }
      step = low;
    }

    // Divergence: the spatially constant part of v grows like d t, everything else stays
    // within the scale of the initial and the stationary solution.
    // NOTE: this compares the norm of the whole solution, so a blow-up confined to a few modes
    // of a high-dimensional problem can stay below the threshold for a while.
    const double size = norm(accepted.state);
    const double t_next = (t_end - (t + step) < 1e-12 * t_end) ? t_end : t + step;
    if (!std::isfinite(size)) throw NumericalFailure(describe_divergence("non-finite coefficients", t_next, v));
    if (size > options_.divergence_factor * (scale + d * t_next)) {
      std::ostringstream cause;
      cause << "norm " << size << " exceeds " << options_.divergence_factor << " times the solution scale "
            << scale + d * t_next;
      throw NumericalFailure(describe_divergence(cause.str(), t_next, v));
    }

    v.coefficients() = std::move(accepted.state);
    t = t_next;
    tau = step;

    StepRecord record;
    record.t = t;
    record.step = step;
    record.ranks = v.coefficients().ranks();
    record.degrees = v.degrees();
    record.projection_error = rhs.projection_error;
    record.retraction_error = accepted.retraction_error;
    record.stiffness = lambda;
    record.rejected = rejected;
    observer.accepted(v, record);

    if (context.log) {
      std::ostringstream detail;
      detail << "t = " << t << ", tau = " << step << ", max rank " << v.coefficients().max_rank();
      context.log->progress("solve", (t - t_begin) / (t_end - t_begin), detail.str());
    }
  }
}

}  // namespace hjbtt
