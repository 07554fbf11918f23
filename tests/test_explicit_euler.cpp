// The step controller of the explicit Euler integrator, one criterion at a time: the stiffness
// bound, retraction control with rejected steps, and degree adaptivity from the projection error.
#include <doctest/doctest.h>

#include "explicit_euler.hpp"
#include "legendre.hpp"

#include "hjbtt/core/hjb.hpp"

#include <cmath>
#include <string>

namespace {

using namespace hjbtt;

class Recorder : public IntegrationObserver {
public:
  std::vector<StepRecord> steps;
  FunctionalTT last;
  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    steps.push_back(record);
    last = v;
  }
};

// Phi = sum_k x_k^2 / (2 s^2): an isotropic Gaussian with standard deviation s.
FunctionalTT isotropic_gaussian(arma::uword d, double s, arma::uword degree) {
  SeparablePolynomial terms;
  for (arma::uword k = 0; k < d; ++k) terms.push_back({1.0 / (2.0 * s * s), {{k, arma::vec{0.0, 0.0, 1.0}}}});
  const BasisSet bases(d, std::make_shared<LegendreBasis>(degree, -5.0, 5.0));
  return ftt_from_polynomial(terms, bases, 1e-14);
}

// Phi = x_1^2 / 2 + (x_2^2 - 2)^2 + x_3^2 / 2 on bases of degrees 2, `degree` and 2.
FunctionalTT well_between_gaussians(arma::uword degree) {
  const SeparablePolynomial terms{{0.5, {{0, arma::vec{0.0, 0.0, 1.0}}}},
                                  {1.0, {{1, arma::vec{4.0, 0.0, -4.0, 0.0, 1.0}}}},
                                  {0.5, {{2, arma::vec{0.0, 0.0, 1.0}}}}};
  const auto quadratic = std::make_shared<LegendreBasis>(2, -5.0, 5.0);
  return ftt_from_polynomial(terms, BasisSet{quadratic, std::make_shared<LegendreBasis>(degree, -5.0, 5.0), quadratic}, 1e-14);
}

// The tilted double well of the many-well benchmark, x^4 - 6 x^2 - 0.5 x, on [-5, 5].
FunctionalTT tilted_well(arma::uword degree) {
  const SeparablePolynomial terms{{1.0, {{0, arma::vec{0.0, -0.5, -6.0, 0.0, 1.0}}}}};
  return ftt_from_polynomial(terms, BasisSet{std::make_shared<LegendreBasis>(degree, -5.0, 5.0)}, 1e-14);
}

// Phi = (x^2 - 2)^2 in one dimension, degree 4.
FunctionalTT double_well(arma::uword degree) {
  const SeparablePolynomial terms{{1.0, {{0, arma::vec{4.0, 0.0, -4.0, 0.0, 1.0}}}}};
  return ftt_from_polynomial(terms, BasisSet{std::make_shared<LegendreBasis>(degree, -5.0, 5.0)}, 1e-14);
}

}  // namespace

TEST_CASE("spectral radius estimate matches the Gaussian linearisation") {
  // At v = |x|^2 / (2 s^2) the linearisation is J w = laplacian(w) + (1 - 2 / s^2) x . grad(w).
  // On polynomials of degree <= 2 per mode its eigenvalues are (1 - 2 / s^2) sum_k i_k with
  // i_k <= 2, so the spectral radius is 2 d |1 - 2 / s^2|.
  const arma::uword d = 3;
  const double s = 0.6;
  const FunctionalTT v = isotropic_gaussian(d, s, 2);
  const HjbOperator hjb(v.bases());
  TensorTrain direction;
  const double estimate = hjb.spectral_radius(v.coefficients(), direction, 200, 4);
  const double exact = 2.0 * d * std::abs(1.0 - 2.0 / (s * s));
  CHECK(estimate == doctest::Approx(exact).epsilon(0.02));
}

TEST_CASE("accepted steps respect the stiffness bound") {
  const FunctionalTT v0 = isotropic_gaussian(4, 0.6, 2);
  ExplicitEulerOptions options;
  options.stability_factor = 0.5;
  options.max_step = 0.1;
  ExplicitEuler integrator(options);
  Recorder recorder;
  integrator.integrate(v0, 0.0, 1.0, recorder, RunContext{});
  REQUIRE(recorder.steps.size() > 5);
  bool stiffness_limited = false;
  for (const auto& step : recorder.steps) {
    CHECK(step.step <= options.stability_factor / step.stiffness * (1.0 + 1e-12));
    stiffness_limited = stiffness_limited || step.step < 0.999 * options.max_step;
  }
  // Early on lambda is about 2 d |1 - 2 / s^2| = 36, so the bound, not max_step, limits tau.
  CHECK(stiffness_limited);
  CHECK(recorder.steps.back().t == doctest::Approx(1.0));
}

TEST_CASE("retraction control rejects steps the rank cap cannot hold") {
  // A nearest-neighbour coupling needs rank 3. Starting from its rank-2 truncation, each update
  // adds rank-3 content of size proportional to tau, so a tight retraction tolerance must halve
  // some steps and keep every accepted rounding error below it.
  const arma::uword d = 6;
  SeparablePolynomial terms;
  for (arma::uword k = 0; k < d; ++k) terms.push_back({1.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  for (arma::uword k = 0; k + 1 < d; ++k) terms.push_back({-1.0, {{k, arma::vec{0.0, 1.0}}, {k + 1, arma::vec{0.0, 1.0}}}});
  const BasisSet bases(d, std::make_shared<LegendreBasis>(2, -5.0, 5.0));
  FunctionalTT v0 = ftt_from_polynomial(terms, bases, 1e-14);
  v0.coefficients().round(0.0, 2);  // start inside the rank cap, so only the update needs rank 3

  ExplicitEulerOptions options;
  options.rank_tolerance = 1e-12;
  options.max_rank = 2;
  options.retraction_tolerance = 2e-3;
  options.max_step = 0.1;
  ExplicitEuler integrator(options);
  Recorder recorder;
  integrator.integrate(v0, 0.0, 0.5, recorder, RunContext{});

  int rejected = 0;
  for (const auto& step : recorder.steps) {
    CHECK(step.retraction_error <= options.retraction_tolerance);
    rejected += step.rejected;
  }
  CHECK(rejected > 0);
  CHECK(recorder.last.coefficients().max_rank() <= 2);
}

TEST_CASE("projection error raises the degree") {
  // |Phi'|^2 of the double well has degree 6, so a degree-4 basis drops part of it at t = 0.
  ExplicitEulerOptions options;
  options.projection_tolerance = 1e-3;
  options.max_degree = 10;
  options.degree_increment = 2;
  Recorder adaptive;
  ExplicitEuler(options).integrate(double_well(4), 0.0, 0.5, adaptive, RunContext{});
  REQUIRE_FALSE(adaptive.steps.empty());
  CHECK(adaptive.steps.back().degrees.front() > 4);
  CHECK(adaptive.steps.back().degrees.front() <= 10);
  for (std::size_t i = 1; i < adaptive.steps.size(); ++i)
    CHECK(adaptive.steps[i].degrees.front() >= adaptive.steps[i - 1].degrees.front());

  options.projection_tolerance = 0.0;
  Recorder fixed;
  ExplicitEuler(options).integrate(double_well(4), 0.0, 0.5, fixed, RunContext{});
  CHECK(fixed.steps.back().degrees.front() == 4);
  CHECK(fixed.steps.front().projection_error > 0.0);
}

TEST_CASE("per-mode raise skips quadratic modes") {
  // The squared gradient of the quadratic modes has degree 2 and fits. Only the double-well
  // mode drops part of its square, so only its degree may grow.
  ExplicitEulerOptions options;
  options.projection_tolerance = 1e-3;
  options.max_degree = 10;
  Recorder recorder;
  ExplicitEuler(options).integrate(well_between_gaussians(4), 0.0, 0.3, recorder, RunContext{});
  REQUIRE_FALSE(recorder.steps.empty());
  const std::vector<arma::uword> degrees = recorder.steps.back().degrees;
  REQUIRE(degrees.size() == 3);
  CHECK(degrees[0] == 2);
  CHECK(degrees[1] > 4);
  CHECK(degrees[1] <= 10);
  CHECK(degrees[2] == 2);

  options.raise_all_modes = true;
  Recorder all;
  ExplicitEuler(options).integrate(well_between_gaussians(4), 0.0, 0.3, all, RunContext{});
  REQUIRE_FALSE(all.steps.empty());
  CHECK(all.steps.back().degrees[0] > 2);
  CHECK(all.steps.back().degrees[2] > 2);

  const HjbOperator hjb(well_between_gaussians(4).bases());
  const std::vector<double> errors = hjb.mode_projection_errors(well_between_gaussians(4).coefficients());
  // The quadratic modes' errors are rounding noise of a difference of norms (about 1e-8).
  CHECK(errors[0] <= 1e-6);
  CHECK(errors[1] > 1e-3);
  CHECK(errors[2] <= 1e-6);
}

TEST_CASE("a fixed step ignores every criterion") {
  ExplicitEulerOptions options;
  options.fixed_step = 0.03;
  options.stability_factor = 0.01;  // would force steps near 3e-4 if it applied
  Recorder recorder;
  ExplicitEuler(options).integrate(isotropic_gaussian(3, 0.6, 2), 0.0, 0.5, recorder, RunContext{});
  REQUIRE(recorder.steps.size() == 17);  // 16 steps of 0.03 and one of 0.02
  for (std::size_t i = 0; i + 1 < recorder.steps.size(); ++i) CHECK(recorder.steps[i].step == doctest::Approx(0.03));
  CHECK(recorder.steps.back().t == doctest::Approx(0.5));
  CHECK(recorder.steps.front().stiffness > 0.0);
}

TEST_CASE("bad fixed step stops early") {
  // At t = 0 the stiffness of this Gaussian is about 2 d |1 - 2 / s^2| = 27, so h = 0.5 gives
  // h lambda near 13, far beyond explicit Euler's limit of 2.
  ExplicitEulerOptions options;
  options.fixed_step = 0.5;
  Recorder unstable;
  try {
    ExplicitEuler(options).integrate(isotropic_gaussian(3, 0.6, 2), 0.0, 1.0, unstable, RunContext{});
    FAIL("the unstable fixed step finished");
  } catch (const NumericalFailure& failure) {
    CHECK(std::string(failure.what()).find("Lower fixed_step below") != std::string::npos);
  }
  CHECK(unstable.steps.empty());

  // 1 / 1e-4 = 10^4 steps against max_steps 1000: rejected before the first step.
  options.fixed_step = 1e-4;
  options.max_steps = 1000;
  Recorder endless;
  CHECK_THROWS_AS(ExplicitEuler(options).integrate(isotropic_gaussian(3, 0.6, 2), 0.0, 1.0, endless, RunContext{}),
                  ConfigurationError);
  CHECK(endless.steps.empty());
}

TEST_CASE("spectral viscosity leaves a Gaussian exact") {
  // The Gaussian solution is quadratic, so its coefficients above degree 2 are zero and stay
  // zero. The viscosity damps only those, so it must not change the solve. Equal fixed steps
  // make the two runs comparable coefficient by coefficient. The viscosity raises the stiffness
  // estimate to about 2400, so the step must stay below 2 / 2400 to pass the stability check.
  ExplicitEulerOptions options;
  options.fixed_step = 5e-4;
  Recorder plain, damped;
  ExplicitEuler(options).integrate(isotropic_gaussian(3, 0.6, 6), 0.0, 0.2, plain, RunContext{});
  options.viscosity = {1000.0, 0.5};
  ExplicitEuler(options).integrate(isotropic_gaussian(3, 0.6, 6), 0.0, 0.2, damped, RunContext{});
  const arma::vec a = plain.last.coefficients().full(), b = damped.last.coefficients().full();
  CHECK(arma::norm(a - b) <= 1e-12 * arma::norm(a));
}

TEST_CASE("viscosity lets a diverging solve finish") {
  // Degree 12 on [-5, 5] has a growing Galerkin mode for the tilted well near t = 0.8.
  // Without viscosity the solve must stop promptly with the divergence message.
  ExplicitEulerOptions options;
  Recorder diverging;
  try {
    ExplicitEuler(options).integrate(tilted_well(12), 0.0, 1.5, diverging, RunContext{});
    FAIL("the solve without viscosity finished");
  } catch (const NumericalFailure& failure) {
    CHECK(std::string(failure.what()).find("diverged") != std::string::npos);
    CHECK(std::string(failure.what()).find("viscosity") != std::string::npos);
  }
  CHECK(diverging.steps.size() < 5000);

  options.viscosity = {300.0, 0.5};
  Recorder damped;
  ExplicitEuler(options).integrate(tilted_well(12), 0.0, 1.5, damped, RunContext{});
  CHECK(damped.steps.back().t == doctest::Approx(1.5));
  CHECK(damped.last.coefficients().is_finite());
}

TEST_CASE("randomized assembly follows the exact integration") {
  // The nearest-neighbour coupling of the retraction test above at degree 4 with a rank cap of 6.
  // The sketch (rank min(6, 2 r) + 10) is smaller than the rank 2 r + 2 r^2 of F from r = 3 on,
  // so the randomized steps do project. Each accepted state of either assembly lies within its
  // recorded retraction error of the Euler update of its predecessor. The two solutions can
  // therefore differ by the sum of those errors, amplified by the flow over t in [0, 0.5]; the
  // factor 10 allows for that amplification. Measured: 5e-13 relative against a bound of 1e-5.
  const arma::uword d = 6;
  SeparablePolynomial terms;
  for (arma::uword k = 0; k < d; ++k) terms.push_back({1.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  for (arma::uword k = 0; k + 1 < d; ++k) terms.push_back({-1.0, {{k, arma::vec{0.0, 1.0}}, {k + 1, arma::vec{0.0, 1.0}}}});
  const BasisSet bases(d, std::make_shared<LegendreBasis>(4, -5.0, 5.0));
  const FunctionalTT v0 = ftt_from_polynomial(terms, bases, 1e-14);

  ExplicitEulerOptions options;
  options.max_rank = 6;
  options.max_step = 0.05;
  Recorder exact, randomized;
  options.assembly = Assembly::exact;
  ExplicitEuler(options).integrate(v0, 0.0, 0.5, exact, RunContext{});
  options.assembly = Assembly::randomized;
  ExplicitEuler(options).integrate(v0, 0.0, 0.5, randomized, RunContext{});

  REQUIRE(randomized.steps.size() > 5);
  REQUIRE(randomized.steps.size() == exact.steps.size());
  double error_sum = 0.0;
  for (std::size_t i = 0; i < randomized.steps.size(); ++i) {
    CHECK(randomized.steps[i].retraction_error <= options.retraction_tolerance);
    CHECK(randomized.steps[i].t == doctest::Approx(exact.steps[i].t).epsilon(1e-6));
    error_sum += randomized.steps[i].retraction_error + exact.steps[i].retraction_error;
  }
  const TensorTrain& a = exact.last.coefficients();
  const TensorTrain& b = randomized.last.coefficients();
  CHECK(norm(axpy(-1.0, a, b)) <= 10.0 * error_sum * norm(a));
  // The solution moves far more than that bound over the run.
  CHECK(norm(axpy(-1.0, v0.coefficients(), a)) >= 0.1 * norm(a));
}

TEST_CASE("randomized assembly reproduces the Gaussian score") {
  // The isotropic Gaussian Phi = |x|^2 / (2 s^2) in d = 5 stays isotropic: rho_t = N(0, s_t^2 I)
  // with s_t^2 = e^{-2t} s^2 + 1 - e^{-2t}, so grad v(t, x) = x / s_t^2 exactly and v stays
  // quadratic (degree 2 is exact). The randomized assembly must follow it as the exact one does:
  // explicit Euler with steps <= 0.02 is first order, and the coefficient of x_k^2 / 2, 1 / s_t^2,
  // comes out within 2 % (the exact assembly gives the same to 1e-6).
  const double s = 0.6;
  const FunctionalTT v0 = isotropic_gaussian(5, s, 2);
  ExplicitEulerOptions options;
  options.max_step = 0.02;
  options.assembly = Assembly::randomized;
  Recorder recorder;
  ExplicitEuler(options).integrate(v0, 0.0, 1.0, recorder, RunContext{});

  const double t = recorder.steps.back().t;
  const double variance = std::exp(-2.0 * t) * s * s + 1.0 - std::exp(-2.0 * t);
  // d^2 v / dx_1^2 at the origin, from the gradient at two points.
  arma::mat points(5, 2, arma::fill::zeros);
  points(0, 0) = 0.5;
  points(0, 1) = -0.5;
  const arma::mat gradient = recorder.last.gradient(points);
  const double curvature = (gradient(0, 0) - gradient(0, 1)) / 1.0;
  CHECK(t == doctest::Approx(1.0));
  CHECK(curvature == doctest::Approx(1.0 / variance).epsilon(0.02));
  for (const auto& step : recorder.steps) CHECK(step.retraction_error <= options.retraction_tolerance);
}
