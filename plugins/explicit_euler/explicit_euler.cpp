// Adaptive explicit Euler: step selection, retraction control and divergence detection.
#include "explicit_euler.hpp"

#include "hjbtt/core/hjb.hpp"
#include "hjbtt/errors.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <cmath>
#include <optional>
#include <sstream>

namespace hjbtt {

namespace {

struct Trial {
  TensorTrain state;
  double retraction_error = 0.0;
  bool finite = true;
};

// Seed of the sketches of the randomized assembly. It is fixed, not the pipeline seed, so that
// the solution does not depend on the seed of the sampler.
constexpr std::uint64_t sketch_seed = 0x5e7c4ed;

// The sketch rank is min(max_rank, 2 r) + sketch_oversampling for a state of maximal rank r.
// This leaves room for the rank to double in one step, or to reach the cap, and the margin lets
// the sketch contain every direction the rounding keeps. Where it does not, the part it misses
// enters the retraction error, and the controller shortens the step.
constexpr arma::uword sketch_oversampling = 10;

// The automatic choice takes the randomized assembly when the mean over modes of
// (r_{k-1} r_k)^3, the rank dependence of the exact assembly's cost, reaches this value. At
// smaller ranks the sketch's fixed costs per mode (many small BLAS calls) dominate. Measured on
// one step (F or its sketch with norms, plus one retraction, d = 20, Legendre degrees 4 and 8,
// rank cap 20, one thread): with all ranks 3 (mean 660) the exact assembly took 3.4 ms against
// 5.5 ms, with all ranks 4 (mean 3700) 11.4 ms against 9.2 ms, with all ranks 6 71 ms against
// 22 ms. The mixed-20 example, whose ranks peak at 6 in a few modes (mean at most 1950), solved
// in 10.1 s with the exact and 13.3 s with the randomized assembly.
constexpr double automatic_rank_cost = 3000.0;

// The stall check. The solve stops when the rest of it, at the current step, would need more
// than stall_factor times the steps that max_steps leaves and the step has shrunk below
// stall_shrinkage times the largest accepted step. Growing Galerkin modes shrink the step from
// where it was (from 1e-4 to 1e-10 in mixed-20 at degree 10). A stiff start does not count,
// because its steps grow later: a narrow target starts at 1e-6, which would need about 20 times
// max_steps. Beyond stall_factor_hopeless times the steps left, the solve stops whatever the
// history (a viscosity of 1e8 needed about 5e4 times).
constexpr double stall_factor = 10.0;
constexpr double stall_shrinkage = 1e-3;
constexpr double stall_factor_hopeless = 1000.0;

double mean_rank_cost(const TensorTrain& v) {
  double sum = 0.0;
  for (std::size_t k = 0; k < v.dimension(); ++k) sum += std::pow(double(v.rank(k)) * double(v.rank(k + 1)), 3.0);
  return sum / double(std::max<std::size_t>(v.dimension(), 1));
}

// Input of the trial steps from one state: F(v) for the exact assembly, or the sketched step.
struct StepSource {
  RightHandSide rhs;                        // exact assembly
  std::optional<SketchedEulerStep> sketch;  // randomized assembly
  double projection_error = 0.0;
  double nonlinear_norm = 0.0;
  bool finite = true;
};

// The randomized assembly needs a product rule and d >= 2. Its error bound carries a rounding
// allowance of sqrt(10 d eps) tau (|L v| + |P N|), 2e-7 tau (|L v| + |P N|) at d = 20, which a
// rank tolerance below 1e-7 could not absorb (the rounding would then keep every rank up to the
// cap), so tighter tolerances use the exact assembly.
bool use_randomized(const HjbOperator& hjb, const TensorTrain& v, const ExplicitEulerOptions& options) {
  if (options.assembly == Assembly::exact) return false;
  if (options.assembly == Assembly::automatic && mean_rank_cost(v) < automatic_rank_cost) return false;
  return hjb.has_product_rule() && v.dimension() >= 2 && options.rank_tolerance >= 1e-7;
}

StepSource prepare_step(const HjbOperator& hjb, const TensorTrain& v, const ExplicitEulerOptions& options,
                        std::uint64_t step_index, std::uint64_t raise_index) {
  StepSource source;
  if (use_randomized(hjb, v, options)) {
    RandomStream random(sketch_seed, {step_index, raise_index});
    const arma::uword sketch_rank = std::min(options.max_rank, 2 * v.max_rank()) + sketch_oversampling;
    source.sketch = hjb.sketch_euler_step(v, true, sketch_rank, random);
    source.projection_error = source.sketch->projection_error();
    source.nonlinear_norm = source.sketch->nonlinear_norm();
    source.finite = source.sketch->is_finite();
  } else {
    source.rhs = hjb.evaluate(v, true);
    source.projection_error = source.rhs.projection_error;
    source.nonlinear_norm = source.rhs.nonlinear_norm;
    source.finite = source.rhs.value.is_finite();
  }
  return source;
}

Trial try_step(const TensorTrain& v, const StepSource& source, double tau, const ExplicitEulerOptions& options) {
  Trial trial;
  if (source.sketch) {
    SketchedEulerStep::Retraction retraction = source.sketch->retract(tau, options.rank_tolerance, options.max_rank);
    trial.state = std::move(retraction.state);
    trial.retraction_error = retraction.error;
    trial.finite = trial.state.is_finite() && std::isfinite(trial.retraction_error);
    return trial;
  }
  trial.state = axpy(tau, source.rhs.value, v);
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

std::string describe_divergence(const std::string& cause, double t, const FunctionalTT& v,
                                const ExplicitEulerOptions& options) {
  std::ostringstream message;
  const auto degrees = v.degrees();
  message << "explicit_euler: the HJB solution diverged at t = " << t << " (" << cause << ").\n";
  if (options.fixed_step > 0.0) {
    message << "The step is fixed at fixed_step = " << options.fixed_step
            << ". Remedy: lower fixed_step, or set it to 0 for the adaptive controller. No samples were written.";
    return message.str();
  }
  message << "The Galerkin discretisation can have growing modes when the polynomial degree is high for the box"
          << " (degree " << *std::max_element(degrees.begin(), degrees.end()) << " on ["
          << v.bases().front()->lower() << ", " << v.bases().front()->upper() << "]).\n"
          << "Remedies: enlarge the box (basis domain), lower the basis degree, ";
  if (!(options.viscosity.strength > 0.0))
    message << "switch on spectral viscosity (integrator parameter viscosity, e.g. 300), ";
  else if (!viscosity_acts(v.bases(), options.viscosity))
    message << "lower viscosity_cutoff (now " << options.viscosity.cutoff << ", which leaves every degree undamped), ";
  else
    message << "raise viscosity (now " << options.viscosity.strength << "), ";
  message << "or lower stability_factor. No samples were written.";
  return message.str();
}

// Re-expresses v with the degree of each mode in `raise` increased by `increment` (at most
// max_degree), zero-padding its cores. Raised modes that shared a basis object keep sharing one.
FunctionalTT raise_degrees(const FunctionalTT& v, const std::vector<bool>& raise, arma::uword increment,
                           arma::uword max_degree) {
  std::map<const Basis*, BasisPtr> raised;
  BasisSet bases = v.bases();
  for (std::size_t k = 0; k < bases.size(); ++k) {
    if (!raise[k]) continue;
    auto& target = raised[bases[k].get()];
    if (!target) target = bases[k]->with_degree(std::min(bases[k]->degree() + increment, std::max(bases[k]->degree(), max_degree)));
    bases[k] = target;
  }
  return v.with_bases(bases);
}

// Returns the modes whose degree a failed projection criterion raises. These are the modes
// below max_degree whose own projection error breaks the criterion. When the error is spread
// so that none does alone, they are those within a factor 2 of the largest error. Modes already at
// max_degree still count for the largest, so that their error does not raise other modes whose
// error is rounding noise (about 1e-8, from a difference of two norms). Empty when no mode
// qualifies.
std::vector<bool> modes_to_raise(const FunctionalTT& v, const std::vector<double>& mode_errors, double step,
                                 double nonlinear_norm, double allowed, arma::uword max_degree) {
  const std::size_t d = v.dimension();
  std::vector<bool> raise(d, false);
  const double largest = *std::max_element(mode_errors.begin(), mode_errors.end());
  if (!(largest > 0.0)) return raise;

  bool any = false;
  for (std::size_t k = 0; k < d; ++k) {
    raise[k] = v.bases()[k]->degree() < max_degree && step * mode_errors[k] * nonlinear_norm > allowed;
    any = any || raise[k];
  }
  if (!any)
    for (std::size_t k = 0; k < d; ++k) raise[k] = v.bases()[k]->degree() < max_degree && mode_errors[k] >= 0.5 * largest;
  return raise;
}

// Describes a raise for the log, with runs of modes as ranges: "modes 1-4, 7 to degree 8", or
// "modes 1-3 to degrees 8, 6, 8" when the new degrees differ.
std::string describe_raise(const FunctionalTT& v, const std::vector<bool>& raise) {
  std::ostringstream modes, degrees;
  std::vector<arma::uword> raised;
  for (std::size_t k = 0; k < raise.size(); ++k) {
    if (!raise[k]) continue;
    const std::size_t first = k;
    while (k + 1 < raise.size() && raise[k + 1]) ++k;
    modes << (raised.empty() ? "" : ", ") << first + 1;
    if (k > first) modes << "-" << k + 1;
    for (std::size_t j = first; j <= k; ++j) raised.push_back(v.bases()[j]->degree());
  }
  const bool same = std::all_of(raised.begin(), raised.end(), [&](arma::uword p) { return p == raised.front(); });
  for (std::size_t i = 0; i < (same ? 1 : raised.size()); ++i) degrees << (i ? ", " : "") << raised[i];
  return std::string("modes ") + modes.str() + (same ? " to degree " : " to degrees ") + degrees.str();
}

}  // namespace

void ExplicitEuler::integrate(FunctionalTT v, double t_begin, double t_end, IntegrationObserver& observer,
                              const RunContext& context) {
  Progress progress;
  progress.t_begin = t_begin;
  progress.t = t_begin;
  progress.tau = options_.initial_step;
  progress.scale = std::max(norm(v.coefficients()), stationary_norm(v.bases()));

  // A fixed step that cannot reach t_end within max_steps is known before the first step.
  if (options_.fixed_step > 0.0 && (t_end - t_begin) / options_.fixed_step > double(options_.max_steps)) {
    std::ostringstream message;
    message << "fixed_step = " << options_.fixed_step << " needs " << (t_end - t_begin) / options_.fixed_step
            << " steps to reach t = " << t_end << ", more than max_steps = " << options_.max_steps
            << "; raise fixed_step or max_steps";
    throw ConfigurationError("/integrator/params/fixed_step", message.str());
  }
  warn_if_viscosity_inactive(v.bases(), options_.viscosity, "explicit_euler", context);

  advance(std::move(v), std::move(progress), t_end, observer, context);
}

void ExplicitEuler::resume(FunctionalTT v, double t, double t_end, const IntegratorState& state, IntegrationObserver& observer,
                           const RunContext& context) {
  const auto number = [&](const char* key) { return state.number(key, "explicit_euler"); };
  Progress progress;
  progress.t_begin = number("t_begin");
  progress.t = t;
  progress.tau = number("tau");
  progress.scale = number("scale");
  progress.steps = static_cast<std::int64_t>(number("steps"));
  // Checkpoints written before the stall check lack largest_step; 0 only delays that check.
  if (const auto found = state.numbers.find("largest_step"); found != state.numbers.end())
    progress.largest_step = found->second;
  if (const auto found = state.tensors.find("direction"); found != state.tensors.end()) progress.direction = found->second;
  advance(std::move(v), std::move(progress), t_end, observer, context);
}

void ExplicitEuler::advance(FunctionalTT v, Progress progress, double t_end, IntegrationObserver& observer,
                            const RunContext& context) const {
  auto hjb = std::make_unique<HjbOperator>(v.bases(), options_.viscosity);
  const double t_begin = progress.t_begin;
  const double scale = progress.scale;
  const double d = static_cast<double>(v.dimension());

  TensorTrain& direction = progress.direction;
  double& t = progress.t;
  double& tau = progress.tau;
  std::int64_t& steps = progress.steps;

  while (t < t_end) {
    if (++steps > options_.max_steps) {
      std::ostringstream message;
      message << "explicit_euler: reached max_steps = " << options_.max_steps << " at t = " << t << " of " << t_end
              << "; raise max_steps, or loosen rank_tolerance if the retraction keeps rejecting steps";
      throw NumericalFailure(message.str());
    }

    // Right-hand side at the current state.
    double step = options_.fixed_step > 0.0 ? std::min(options_.fixed_step, t_end - t)
                                            : std::min({tau * options_.growth, options_.max_step, t_end - t});
    std::uint64_t raises = 0;
    StepSource source = prepare_step(*hjb, v.coefficients(), options_, static_cast<std::uint64_t>(steps), raises);

    // Projection criterion: the part of the squared gradient that the projection drops,
    // tau |N - P N|, must stay below projection_tolerance |v|. Where it does not, raise the
    // degree rather than shrink the step; at max_degree the step is taken as it is.
    while (options_.projection_tolerance > 0.0 &&
           step * source.projection_error * source.nonlinear_norm > options_.projection_tolerance * norm(v.coefficients())) {
      std::vector<bool> raise(v.dimension(), false);
      if (options_.raise_all_modes) {
        for (std::size_t k = 0; k < v.dimension(); ++k) raise[k] = v.bases()[k]->degree() < options_.max_degree;
      } else {
        raise = modes_to_raise(v, hjb->mode_projection_errors(v.coefficients()), step, source.nonlinear_norm,
                               options_.projection_tolerance * norm(v.coefficients()), options_.max_degree);
      }
      if (std::none_of(raise.begin(), raise.end(), [](bool r) { return r; })) break;
      const double trigger = source.projection_error;
      v = raise_degrees(v, raise, options_.degree_increment, options_.max_degree);
      hjb = std::make_unique<HjbOperator>(v.bases(), options_.viscosity);
      direction = TensorTrain();
      source = prepare_step(*hjb, v.coefficients(), options_, static_cast<std::uint64_t>(steps), ++raises);
      if (context.log)
        context.log->info("explicit_euler: projection error " + format_number(trigger) + " at t = " +
                          format_number(t) + ", raised " + describe_raise(v, raise));
    }

    // Stiffness bound from the power iteration on the linearisation.
    const double lambda = hjb->spectral_radius(v.coefficients(), direction, options_.power_iterations, options_.power_rank);
    if (!std::isfinite(lambda) || !source.finite)
      throw NumericalFailure(describe_divergence("non-finite right-hand side", t, v, options_));

    // A fixed step records the criteria but obeys none of them, as a baseline for comparisons.
    int rejected = 0;
    Trial accepted;
    if (options_.fixed_step > 0.0) {
      // Explicit Euler amplifies a mode of eigenvalue -lambda by |1 - h lambda|, so h lambda > 2
      // grows it. Without this check a single unstable step can stay below the norm threshold
      // and leave wrong samples behind.
      if (step * lambda > 2.0) {
        std::ostringstream message;
        message << "explicit_euler: fixed_step = " << options_.fixed_step << " is unstable at t = " << t
                << ": the stiffness estimate " << lambda << " gives step * stiffness = " << step * lambda
                << " > 2. Lower fixed_step below " << 2.0 / lambda
                << ", or set it to 0 for the adaptive controller. No samples were written.";
        throw NumericalFailure(message.str());
      }
      accepted = try_step(v.coefficients(), source, step, options_);
      if (!accepted.finite) throw NumericalFailure(describe_divergence("non-finite step", t, v, options_));
    } else {
      if (lambda > 0.0) step = std::min(step, options_.stability_factor / lambda);
      if (step < options_.min_step || t + step <= t) {
        std::ostringstream cause;
        cause << "the stiffness estimate " << lambda << " forces steps below min_step = " << options_.min_step;
        throw NumericalFailure(describe_divergence(cause.str(), t, v, options_));
      }

      // Retraction control: halve until the rounding error is acceptable, then bisect upward.
      accepted = try_step(v.coefficients(), source, step, options_);
      double failed_step = 0.0;
      while (!accepted.finite || accepted.retraction_error > options_.retraction_tolerance) {
        if (step <= options_.min_step) {
          std::ostringstream message;
          message << "explicit_euler: the step fell below min_step = " << options_.min_step << " at t = " << t
                  << " (retraction error " << accepted.retraction_error << " > " << options_.retraction_tolerance
                  << "); raise max_rank (now " << options_.max_rank << ") or retraction_tolerance";
          throw NumericalFailure(accepted.finite ? message.str() : describe_divergence("non-finite step", t, v, options_));
        }
        failed_step = step;
        step *= 0.5;
        ++rejected;
        accepted = try_step(v.coefficients(), source, step, options_);
      }
      if (rejected > 0) {
        double low = step, high = failed_step;
        for (int i = 0; i < options_.bisection_steps; ++i) {
          const double middle = 0.5 * (low + high);
          Trial trial = try_step(v.coefficients(), source, middle, options_);
          if (trial.finite && trial.retraction_error <= options_.retraction_tolerance) {
            accepted = std::move(trial);
            low = middle;
          } else {
            high = middle;
          }
        }
        step = low;
      }

      // A stall: at this step the rest of the solve would take far more than the steps left.
      // Growing Galerkin modes show up this way before the norm runs away: the stiffness
      // estimate climbs and the step shrinks toward min_step, each step costing as much as before.
      const double steps_left = double(options_.max_steps - steps) + 1.0;
      const double steps_needed = (t_end - t) / step;
      if ((steps_needed > stall_factor * steps_left && step < stall_shrinkage * progress.largest_step) ||
          steps_needed > stall_factor_hopeless * steps_left) {
        std::ostringstream cause;
        cause << "the step shrank to " << step << " with stiffness estimate " << lambda << ", so the remaining time "
              << t_end - t << " would need more than " << stall_factor << " times the " << steps_left
              << " steps left of max_steps";
        throw NumericalFailure(describe_divergence(cause.str(), t, v, options_));
      }
    }

    // Divergence: the spatially constant part of v grows like d t, everything else stays
    // within the scale of the initial and the stationary solution.
    // NOTE: this compares the norm of the whole solution, so a blow-up confined to a few modes
    // of a high-dimensional problem can stay below the threshold for a while.
    const double size = norm(accepted.state);
    const double t_next = (t_end - (t + step) < 1e-12 * t_end) ? t_end : t + step;
    if (!std::isfinite(size)) throw NumericalFailure(describe_divergence("non-finite coefficients", t_next, v, options_));
    if (size > options_.divergence_factor * (scale + d * t_next)) {
      std::ostringstream cause;
      cause << "norm " << size << " exceeds " << options_.divergence_factor << " times the solution scale "
            << scale + d * t_next;
      throw NumericalFailure(describe_divergence(cause.str(), t_next, v, options_));
    }

    v.coefficients() = std::move(accepted.state);
    t = t_next;
    tau = step;
    progress.largest_step = std::max(progress.largest_step, step);

    StepRecord record;
    record.t = t_next;
    record.step = step;
    record.ranks = v.coefficients().ranks();
    record.degrees = v.degrees();
    record.projection_error = source.projection_error;
    record.retraction_error = accepted.retraction_error;
    record.stiffness = lambda;
    record.rejected = rejected;
    observer.accepted(v, record);
    if (observer.checkpoint_due()) {
      IntegratorState state;
      state.numbers = {{"t_begin", t_begin},
                       {"tau", tau},
                       {"scale", scale},
                       {"steps", static_cast<double>(steps)},
                       {"largest_step", progress.largest_step}};
      state.tensors = {{"direction", direction}};
      observer.checkpoint(state);
    }

    if (context.log) {
      std::ostringstream detail;
      detail << "t = " << t << ", tau = " << step << ", max rank " << v.coefficients().max_rank();
      context.log->progress("solve", (t - t_begin) / (t_end - t_begin), detail.str());
    }
  }
}

}  // namespace hjbtt
