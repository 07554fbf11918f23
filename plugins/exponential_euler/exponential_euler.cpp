// Exponential Euler / ETD2RK pair: the linear flow of the split, the quadrature of the phi
// functions, step control by the embedded error estimate, and divergence detection.
#include "exponential_euler.hpp"

#include "hjbtt/errors.hpp"
#include "hjbtt/parameters.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace hjbtt {

namespace {

// Seed of the sketches of the compressed right-hand side. It is fixed, not the pipeline seed, so
// that the solution does not depend on the seed of the sampler.
constexpr std::uint64_t sketch_seed = 0xe7d2;

// Each evaluation of G may be off by compression_fraction * rank_tolerance * |v| / tau in L2, so
// that it moves a step by at most that fraction of the rounding tolerance. Half of it goes to
// the compressed F, half to rounding G = F - L_s (v - q).
constexpr double compression_fraction = 0.1;

// Step-size controller. The local error of exponential Euler is O(tau^2), so the step that meets
// the tolerance is about tau sqrt(tolerance / error). `safety` keeps the next step below that
// guess, and `min_factor` bounds the shrinking after one bad estimate.
constexpr double safety = 0.9;
constexpr double min_factor = 0.2;

TensorTrain zero_train(const BasisSet& bases) {
  std::vector<arma::uword> sizes;
  for (const auto& basis : bases) sizes.push_back(basis->size());
  return TensorTrain::zeros(sizes);
}

// Rounds x so that it moves by at most `tolerance` in L2 (no rank cap).
void round_absolute(TensorTrain& x, double tolerance) {
  const double size = norm(x);
  if (size > 0.0 && std::isfinite(size)) x.round(tolerance / size, std::numeric_limits<arma::uword>::max());
}

// Norm of |x|^2 / 2 on the bases (raised to degree 2 where lower): with the initial norm it sets
// the scale that a healthy solution stays within for all t.
double stationary_norm(const BasisSet& bases) {
  SeparablePolynomial quadratic;
  BasisSet raised;
  for (arma::uword k = 0; k < bases.size(); ++k) {
    quadratic.push_back({0.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
    raised.push_back(bases[k]->degree() >= 2 ? bases[k] : bases[k]->with_degree(2));
  }
  return norm(ftt_from_polynomial(quadratic, raised, 1e-12).coefficients());
}

std::string describe_divergence(const std::string& cause, double t, const FunctionalTT& v, LinearSplit split,
                                const SpectralViscosity& viscosity) {
  std::ostringstream message;
  const auto degrees = v.degrees();
  message << "exponential_euler: the HJB solution diverged at t = " << t << " (" << cause << ").\n"
          << "The Galerkin discretisation can have growing modes when the polynomial degree is high for the box"
          << " (degree " << *std::max_element(degrees.begin(), degrees.end()) << " on [" << v.bases().front()->lower()
          << ", " << v.bases().front()->upper() << "]).\n"
          << "Remedies: enlarge the box (basis domain), lower the basis degree, or "
          << (viscosity.strength > 0.0 ? "raise viscosity or lower viscosity_cutoff"
                                       : "switch on spectral viscosity (integrator parameter viscosity, e.g. 300)");
  if (split == LinearSplit::hjb) message << "; set linear_part to \"ornstein_uhlenbeck\", whose linear flow is dissipative";
  message << ". No samples were written.";
  return message.str();
}

// G(v) = F(v) - L_s (v - q), from the compressed F(v).
struct Remainder {
  TensorTrain value;
  double projection_error = 0.0;
  double nonlinear_norm = 0.0;
  bool finite = true;
};

Remainder remainder(const HjbOperator& hjb, const LinearFlow& flow, const TensorTrain& v, double tolerance,
                    bool with_projection_error, RandomStream& random) {
  Remainder g;
  CompressionSettings settings;
  settings.tolerance = 0.5 * tolerance;
  RightHandSide rhs = hjb.evaluate_compressed(v, with_projection_error, settings, random);
  g.projection_error = rhs.projection_error;
  g.nonlinear_norm = rhs.nonlinear_norm;
  if (!rhs.value.is_finite() || !std::isfinite(rhs.nonlinear_norm)) {
    g.finite = false;
    return g;
  }
  g.value = axpy(-1.0, flow.apply(axpy(-1.0, flow.reference(), v)), rhs.value);
  round_absolute(g.value, 0.5 * tolerance);
  g.finite = g.value.is_finite();
  return g;
}

// E((1 - s_i) tau) x for every node s_i of the rule.
std::vector<TensorTrain> propagate_to_nodes(const LinearFlow& flow, const UnitGaussRule& rule, double tau,
                                            const TensorTrain& x) {
  std::vector<TensorTrain> terms;
  for (arma::uword i = 0; i < rule.nodes.n_elem; ++i) terms.push_back(flow.propagate((1.0 - rule.nodes(i)) * tau, x));
  return terms;
}

// sum_i c_i terms_i; the ranks add.
TensorTrain combine(const std::vector<TensorTrain>& terms, const arma::vec& coefficients) {
  TensorTrain sum = coefficients(0) * terms[0];
  for (std::size_t i = 1; i < terms.size(); ++i) sum = axpy(coefficients(i), terms[i], sum);
  return sum;
}

// |sum_i c_i terms_i| from the Gram matrix of the terms: dot products cost O(d n r^3) each,
// where forming and orthogonalising the sum would cost O(d n (m r)^3).
double combination_norm(const std::vector<TensorTrain>& terms, const arma::vec& coefficients) {
  double total = 0.0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    total += coefficients(i) * coefficients(i) * dot(terms[i], terms[i]);
    for (std::size_t j = 0; j < i; ++j) total += 2.0 * coefficients(i) * coefficients(j) * dot(terms[i], terms[j]);
  }
  return std::sqrt(std::max(total, 0.0));
}

// The shared start of all trial steps from one state.
struct StepStart {
  TensorTrain w;  // v - q, unrounded
  Remainder g;    // G(v)
  double norm = 0.0;
};

struct Trial {
  TensorTrain state;              // the accepted candidate, retracted
  double error = 0.0;             // error estimate relative to |v|
  double retraction_error = 0.0;  // largest relative rounding error of the stages
  bool finite = true;
};

class Stepper {
public:
  Stepper(const BasisSet& bases, const ExponentialEulerOptions& options)
      : hjb_(bases, options.viscosity),
        flow_(bases, options.linear_part, options.viscosity),
        rule_(unit_gauss_rule(static_cast<arma::uword>(options.phi_nodes))),
        check_rule_(unit_gauss_rule(static_cast<arma::uword>(options.phi_nodes) + 1)),
        options_(options) {}

  // G may be off by this much in L2 when the step is tau.
  double remainder_tolerance(double v_norm, double tau) const {
    return compression_fraction * options_.rank_tolerance * v_norm / tau;
  }

  StepStart start(const TensorTrain& v, double tau, std::uint64_t step_index) const {
    StepStart start;
    start.norm = norm(v);
    start.w = axpy(-1.0, flow_.reference(), v);
    RandomStream random(sketch_seed, {step_index, 0});
    start.g = remainder(hjb_, flow_, v, remainder_tolerance(start.norm, tau), true, random);
    return start;
  }

  Trial attempt(const StepStart& start, double tau, std::uint64_t step_index, std::uint64_t attempt_index) const {
    Trial trial;
    const TensorTrain& q = flow_.reference();
    const double scale = std::max(start.norm, std::numeric_limits<double>::min());

    // Exponential Euler: a = q + E(tau) w + tau phi_1 G0, with the quadrature error of
    // phi_1 G0 measured against the rule with one more node.
    const std::vector<TensorTrain> first_terms = propagate_to_nodes(flow_, rule_, tau, start.g.value);
    TensorTrain a = axpy(1.0, q, flow_.propagate(tau, start.w));
    a = axpy(1.0, combine(first_terms, tau * rule_.weights), a);
    std::vector<TensorTrain> both = first_terms;
    for (TensorTrain& term : propagate_to_nodes(flow_, check_rule_, tau, start.g.value)) both.push_back(std::move(term));
    const double quadrature_error =
        combination_norm(both, arma::join_cols(tau * rule_.weights, -tau * check_rule_.weights));
    if (!a.is_finite() || !std::isfinite(quadrature_error)) {
      trial.finite = false;
      return trial;
    }
    trial.retraction_error = a.round(options_.rank_tolerance, options_.max_rank);

    // ETD2RK correction tau phi_2 (G(a) - G0): its norm is the error estimate of exponential Euler.
    // NOTE: the quadrature error of phi_2 is not estimated. It multiplies G(a) - G0 = O(tau), so
    // it is smaller than that of phi_1 by a factor of order tau.
    RandomStream random(sketch_seed, {step_index, 1 + attempt_index});
    const double tolerance = remainder_tolerance(start.norm, tau);
    Remainder g1 = remainder(hjb_, flow_, a, tolerance, false, random);
    if (!g1.finite) {
      trial.finite = false;
      return trial;
    }
    TensorTrain change = axpy(-1.0, start.g.value, g1.value);
    round_absolute(change, tolerance);
    const std::vector<TensorTrain> second_terms = propagate_to_nodes(flow_, rule_, tau, change);
    const arma::vec second_weights = tau * (rule_.weights % rule_.nodes);
    const double correction = combination_norm(second_terms, second_weights);
    trial.error = (correction + quadrature_error) / scale;
    if (!std::isfinite(trial.error)) {
      trial.finite = false;
      return trial;
    }

    if (options_.order == 1) {
      trial.state = std::move(a);
    } else {
      trial.state = axpy(1.0, combine(second_terms, second_weights), a);
      if (!trial.state.is_finite()) {
        trial.finite = false;
        return trial;
      }
      trial.retraction_error =
          std::max(trial.retraction_error, trial.state.round(options_.rank_tolerance, options_.max_rank));
    }
    trial.finite = trial.state.is_finite() && std::isfinite(trial.retraction_error);
    return trial;
  }

private:
  HjbOperator hjb_;
  LinearFlow flow_;
  UnitGaussRule rule_;
  UnitGaussRule check_rule_;
  const ExponentialEulerOptions& options_;
};

}  // namespace

LinearFlow::LinearFlow(const BasisSet& bases, LinearSplit split, const SpectralViscosity& viscosity) {
  // The viscosity damps only degrees above 2, so it leaves q = |x|^2 / 2 alone and belongs to the
  // exactly integrated part of either split.
  const double sign = split == LinearSplit::ornstein_uhlenbeck ? -1.0 : 1.0;
  for (std::size_t k = 0; k < bases.size(); ++k) {
    generators_.push_back(bases[k]->second_derivative_matrix() + sign * bases[k]->x_derivative_matrix() -
                          viscosity_matrix(*bases[k], viscosity));
    std::size_t first = k;
    for (std::size_t j = 0; j < k; ++j)
      if (bases[j] == bases[k]) {
        first = j;
        break;
      }
    group_.push_back(first);
  }

  // x_k^2 / 2 needs degree 2 in mode k. Leaving it out of q for lower degrees keeps the split
  // exact, because G takes up whatever L_s and q do not.
  SeparablePolynomial quadratic;
  if (split == LinearSplit::ornstein_uhlenbeck)
    for (arma::uword k = 0; k < bases.size(); ++k)
      if (bases[k]->degree() >= 2) quadratic.push_back({0.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  reference_ = quadratic.empty() ? zero_train(bases) : ftt_from_polynomial(quadratic, bases, 1e-14).coefficients();
}

TensorTrain LinearFlow::apply(const TensorTrain& x) const { return apply_mode_sum(x, generators_); }

TensorTrain LinearFlow::propagate(double h, const TensorTrain& x) const {
  std::vector<arma::mat> exponentials(generators_.size());
  TensorTrain y = x;
  for (std::size_t k = 0; k < generators_.size(); ++k) {
    if (group_[k] == k) exponentials[k] = arma::expmat(h * generators_[k]);
    y.apply_mode_matrix(k, exponentials[group_[k]]);
  }
  return y;
}

UnitGaussRule unit_gauss_rule(arma::uword points) {
  // Golub-Welsch: the nodes of the Legendre rule on [-1, 1] are the eigenvalues of the Jacobi
  // matrix of the three-term recurrence, and the weights are 2 v_0^2 for its unit eigenvectors v.
  arma::mat jacobi(points, points, arma::fill::zeros);
  for (arma::uword i = 1; i < points; ++i) {
    const double off_diagonal = i / std::sqrt(4.0 * i * i - 1.0);
    jacobi(i - 1, i) = off_diagonal;
    jacobi(i, i - 1) = off_diagonal;
  }
  arma::vec eigenvalues;
  arma::mat eigenvectors;
  arma::eig_sym(eigenvalues, eigenvectors, jacobi);
  UnitGaussRule rule;
  rule.nodes = 0.5 * (eigenvalues + 1.0);
  rule.weights = arma::square(eigenvectors.row(0).t());
  return rule;
}

void ExponentialEuler::integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                                 const RunContext& context) {
  Progress progress;
  progress.t_begin = t_begin;
  progress.t = t_begin;
  progress.tau = options_.initial_step;
  progress.scale = std::max(norm(v.coefficients()), stationary_norm(v.bases()));
  warn_if_viscosity_inactive(v.bases(), options_.viscosity, "exponential_euler", context);
  advance(std::move(v), progress, t_end, observer, context);
}

void ExponentialEuler::resume(FunctionalTT v, double t, double t_end, const IntegratorState& state,
                              IntegrationObserver& observer, const RunContext& context) {
  const auto number = [&](const char* key) { return state.number(key, "exponential_euler"); };
  Progress progress;
  progress.t_begin = number("t_begin");
  progress.t = t;
  progress.tau = number("tau");
  progress.scale = number("scale");
  progress.steps = static_cast<std::int64_t>(number("steps"));
  advance(std::move(v), progress, t_end, observer, context);
}

void ExponentialEuler::advance(FunctionalTT v, Progress progress, double t_end, IntegrationObserver& observer,
                               const RunContext& context) const {
  const Stepper stepper(v.bases(), options_);
  const double d = static_cast<double>(v.dimension());
  double& t = progress.t;
  double& tau = progress.tau;
  std::int64_t& steps = progress.steps;

  while (t < t_end) {
    if (steps >= options_.max_steps) {
      std::ostringstream message;
      message << "exponential_euler: reached max_steps = " << options_.max_steps << " at t = " << t << " of " << t_end
              << "; raise max_steps or tolerance, or raise max_rank if the retraction keeps rejecting steps";
      throw NumericalFailure(message.str());
    }

    // G(v) is shared by every trial step from this state.
    double step = std::min({tau, options_.max_step, t_end - t});
    const auto step_index = static_cast<std::uint64_t>(steps);
    const StepStart start = stepper.start(v.coefficients(), step, step_index);
    if (!start.g.finite || !std::isfinite(start.norm))
      throw NumericalFailure(describe_divergence("non-finite right-hand side", t, v, options_.linear_part, options_.viscosity));

    // Shrink the step until the error estimate, both retractions and every value pass.
    int rejected = 0;
    Trial trial;
    for (;;) {
      trial = stepper.attempt(start, step, step_index, static_cast<std::uint64_t>(rejected));
      const bool retraction_ok = trial.retraction_error <= options_.retraction_tolerance;
      if (trial.finite && trial.error <= options_.tolerance && retraction_ok) break;

      double next = 0.5 * step;
      if (trial.finite && retraction_ok)
        next = step * std::clamp(safety * std::sqrt(options_.tolerance / trial.error), min_factor, safety);
      if (next < options_.min_step || t + next <= t) {
        std::ostringstream cause;
        if (!trial.finite) {
          cause << "non-finite values in a step of " << step;
        } else if (!retraction_ok) {
          std::ostringstream message;
          message << "exponential_euler: the step fell below min_step = " << options_.min_step << " at t = " << t
                  << " (retraction error " << trial.retraction_error << " > " << options_.retraction_tolerance
                  << "); raise max_rank (now " << options_.max_rank << ") or retraction_tolerance";
          throw NumericalFailure(message.str());
        } else {
          cause << "the error estimate " << trial.error << " of a step of " << step << " exceeds the tolerance "
                << options_.tolerance << ", which forces steps below min_step = " << options_.min_step;
        }
        throw NumericalFailure(describe_divergence(cause.str(), t, v, options_.linear_part, options_.viscosity));
      }
      step = next;
      ++rejected;
    }

    // Divergence: the spatially constant part of v grows like d t, everything else stays
    // within the scale of the initial and the stationary solution.
    // NOTE: this compares the norm of the whole solution, so a blow-up confined to a few modes
    // of a high-dimensional problem can stay below the threshold for a while.
    const double size = norm(trial.state);
    const double t_next = (t_end - (t + step) < 1e-12 * t_end) ? t_end : t + step;
    if (!std::isfinite(size))
      throw NumericalFailure(describe_divergence("non-finite coefficients", t_next, v, options_.linear_part, options_.viscosity));
    if (size > options_.divergence_factor * (progress.scale + d * t_next)) {
      std::ostringstream cause;
      cause << "norm " << size << " exceeds " << options_.divergence_factor << " times the solution scale "
            << progress.scale + d * t_next;
      throw NumericalFailure(describe_divergence(cause.str(), t_next, v, options_.linear_part, options_.viscosity));
    }

    // After a rejection the step may not grow at once: the estimate just failed above it.
    const double growth = rejected > 0 ? 1.0 : options_.growth;
    const double factor =
        trial.error > 0.0 ? std::clamp(safety * std::sqrt(options_.tolerance / trial.error), min_factor, growth) : growth;
    v.coefficients() = std::move(trial.state);
    t = t_next;
    tau = std::min(step * factor, options_.max_step);
    ++steps;

    StepRecord record;
    record.t = t;
    record.step = step;
    record.ranks = v.coefficients().ranks();
    record.degrees = v.degrees();
    record.projection_error = start.g.projection_error;
    record.retraction_error = trial.retraction_error;
    record.stiffness = 0.0;  // not estimated: the step is set by the error estimate
    record.rejected = rejected;
    observer.accepted(v, record);
    if (observer.checkpoint_due()) {
      IntegratorState state;
      state.numbers = {
          {"t_begin", progress.t_begin}, {"tau", tau}, {"scale", progress.scale}, {"steps", static_cast<double>(steps)}};
      observer.checkpoint(state);
    }

    if (context.log) {
      std::ostringstream detail;
      detail << "t = " << t << ", tau = " << step << ", error estimate " << trial.error << ", max rank "
             << v.coefficients().max_rank();
      context.log->progress("solve", (t - progress.t_begin) / (t_end - progress.t_begin), detail.str());
    }
  }
}

}  // namespace hjbtt
