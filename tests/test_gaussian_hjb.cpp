// The HJB solver against the exact Gaussian solution: for pi = N(m, Sigma) the forward marginal
// is rho_t = N(e^{-t} m, Sigma_t), Sigma_t = e^{-2t} Sigma + (1 - e^{-2t}) I, so the exact score
// is grad v(t, x) = Sigma_t^{-1} (x - e^{-t} m) and v stays quadratic (degree 2 is exact).
#include <doctest/doctest.h>

#include "explicit_euler.hpp"
#include "legendre.hpp"

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/solution.hpp"

#include <cmath>

namespace {

using namespace hjbtt;

// The gaussian-20 reference target: m_i = 0.5 (-1)^i, s_i = 0.6 + 0.05 i, correlation 0.7^|i-j|.
struct Ar1Gaussian {
  arma::vec mean;
  arma::mat covariance;

  explicit Ar1Gaussian(arma::uword d) : mean(d), covariance(d, d) {
    for (arma::uword i = 0; i < d; ++i) {
      mean(i) = (i % 2 == 0) ? -0.5 : 0.5;
      for (arma::uword j = 0; j < d; ++j)
        covariance(i, j) = (0.65 + 0.05 * i) * (0.65 + 0.05 * j) * std::pow(0.7, std::abs(double(i) - double(j)));
    }
  }

  // Phi = (x - m)^T P (x - m) / 2 as a separable polynomial.
  SeparablePolynomial potential() const {
    const arma::mat precision = arma::inv_sympd(covariance);
    SeparablePolynomial terms;
    for (arma::uword i = 0; i < mean.n_elem; ++i)
      for (arma::uword j = i; j < mean.n_elem; ++j) {
        if (std::abs(precision(i, j)) < 1e-12 * arma::abs(precision).max()) continue;
        const double weight = i == j ? 0.5 * precision(i, i) : precision(i, j);
        if (i == j) terms.push_back({weight, {{i, arma::vec{mean(i) * mean(i), -2.0 * mean(i), 1.0}}}});
        else terms.push_back({weight, {{i, arma::vec{-mean(i), 1.0}}, {j, arma::vec{-mean(j), 1.0}}}});
      }
    return terms;
  }

  arma::mat exact_score(double t, const arma::mat& x) const {
    const double decay = std::exp(-t);
    const arma::mat sigma_t = decay * decay * covariance + (1.0 - decay * decay) * arma::eye(mean.n_elem, mean.n_elem);
    arma::mat centred = x;
    centred.each_col() -= decay * mean;
    return arma::solve(sigma_t, centred);
  }
};

class Recorder : public IntegrationObserver {
public:
  Solution solution;
  arma::uword max_rank = 0;
  std::size_t steps = 0;
  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    solution.append(record.t, v);
    max_rank = std::max(max_rank, v.coefficients().max_rank());
    ++steps;
  }
};

// Relative L2(rho_t) score error, estimated on exact draws from rho_t.
double relative_score_error(const Ar1Gaussian& target, const Solution& solution, double t, arma::uword n) {
  RandomStream random(11, {static_cast<std::uint64_t>(1000 * t)});
  const double decay = std::exp(-t);
  const arma::mat sigma_t = decay * decay * target.covariance + (1.0 - decay * decay) * arma::eye(target.mean.n_elem, target.mean.n_elem);
  arma::mat x = arma::chol(sigma_t, "lower") * random.normal(target.mean.n_elem, n);
  x.each_col() += decay * target.mean;
  const arma::mat exact = target.exact_score(t, x);
  return arma::norm(solution.gradient(t, x) - exact, "fro") / arma::norm(exact, "fro");
}

}  // namespace

Recorder solve(const FunctionalTT& v0, double rank_tolerance, double max_step) {
  ExplicitEulerOptions options;
  options.rank_tolerance = rank_tolerance;
  options.max_step = max_step;
  options.retraction_tolerance = std::max(1e-4, 10.0 * rank_tolerance);
  ExplicitEuler integrator(options);
  Recorder recorder;
  recorder.solution.append(0.0, v0);
  integrator.integrate(v0, 0.0, 5.0, recorder, RunContext{});
  return recorder;
}

TEST_CASE("gaussian-20 score matches the exact solution") {
  const arma::uword d = 20;
  const Ar1Gaussian target(d);
  const BasisSet bases(d, std::make_shared<LegendreBasis>(2, -6.0, 6.0));
  const FunctionalTT v0 = ftt_from_polynomial(target.potential(), bases, 1e-13);
  REQUIRE(v0.coefficients().max_rank() <= 3);

  const Recorder recorder = solve(v0, 1e-6, 0.02);
  MESSAGE("steps: " << recorder.steps << ", max rank: " << recorder.max_rank);

  // Explicit Euler is first order. Near t = 0 the steps are bounded by the stiffness estimate
  // (tau ~ 1 / lambda), later by max_step = 0.02; the bounds are about 1.5 times the errors
  // measured with this configuration (0.0158, 0.0140, 0.0079, 0.00022).
  CHECK(relative_score_error(target, recorder.solution, 0.0, 1000) < 1e-10);
  CHECK(relative_score_error(target, recorder.solution, 0.1, 2000) < 0.025);
  CHECK(relative_score_error(target, recorder.solution, 0.5, 2000) < 0.021);
  CHECK(relative_score_error(target, recorder.solution, 1.0, 2000) < 0.012);
  CHECK(relative_score_error(target, recorder.solution, 5.0, 2000) < 4e-4);

  // A quarter of max_step must reduce the error where max_step, not stiffness, limits the step.
  const Recorder finer = solve(v0, 1e-6, 0.005);
  CHECK(relative_score_error(target, finer.solution, 1.0, 2000) < 0.5 * relative_score_error(target, recorder.solution, 1.0, 2000));
}

TEST_CASE("gaussian-20 ranks stay at most 3") {
  // The exact precision of rho_t has rank-1 off-diagonal blocks for every t, so the exact
  // solution has TT ranks <= 3. An Euler iterate departs from it only by the time-discretisation
  // error, a second singular value of about 0.5 tau relative to the first. A rounding tolerance
  // of 1e-3 lies above that error for the steps taken here (tau <= 0.02 on a norm dominated by
  // the quadratic part), so rounding must bring every iterate back to rank 3.
  const arma::uword d = 20;
  const Ar1Gaussian target(d);
  const BasisSet bases(d, std::make_shared<LegendreBasis>(2, -6.0, 6.0));
  const FunctionalTT v0 = ftt_from_polynomial(target.potential(), bases, 1e-13);

  const Recorder recorder = solve(v0, 1e-3, 0.02);
  CHECK(recorder.max_rank <= 3);
  CHECK(relative_score_error(target, recorder.solution, 1.0, 2000) < 0.012);
}

TEST_CASE("blended state matches interpolated score") {
  // The sampler evaluates one blended train per time instead of two stored ones. Rounding the
  // blend at 1e-12 of its coefficient norm moves the gradient by about 1e-12 times the norm of
  // the derivative matrices, a few units for degree 2 on [-6, 6]. So a bound of 1e-9 relative
  // to the score leaves ample room, while a wrong weight would show at 1e-3.
  const arma::uword d = 20;
  const Ar1Gaussian target(d);
  const BasisSet bases(d, std::make_shared<LegendreBasis>(2, -6.0, 6.0));
  const FunctionalTT v0 = ftt_from_polynomial(target.potential(), bases, 1e-13);
  const Recorder recorder = solve(v0, 1e-6, 0.02);
  const Solution& solution = recorder.solution;
  REQUIRE(solution.size() > 10);

  RandomStream random(17, {0});
  const arma::mat x = 1.5 * random.normal(d, 500);
  for (const std::size_t i : {std::size_t{0}, std::size_t{3}, solution.size() / 2, solution.size() - 2}) {
    const double t = 0.3 * solution.time(i) + 0.7 * solution.time(i + 1);
    const arma::mat expected = 0.3 * solution.state(i).gradient(x) + 0.7 * solution.state(i + 1).gradient(x);
    CHECK(arma::norm(solution.gradient(t, x) - expected, "fro") <= 1e-12 * arma::norm(expected, "fro"));
    const FunctionalTT blended = solution.interpolate(t, 1e-12);
    CHECK(arma::norm(blended.gradient(x) - expected, "fro") <= 1e-9 * arma::norm(expected, "fro"));
  }
  // Outside the stored range the blend is the nearest end state.
  CHECK(arma::norm(solution.interpolate(10.0, 1e-12).gradient(x) - solution.state(solution.size() - 1).gradient(x), "fro") == 0.0);
}
