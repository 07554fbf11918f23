// Tests of the HJB right-hand side F(v) = L v - P_p |grad v|^2 and of FunctionalTT evaluation
// at d = 2, against a dense computation that shares nothing with the tensor-train code but the
// basis: v, its derivatives and the pointwise products are evaluated on a tensor Gauss grid
// from the dense coefficient matrix, then projected back onto the tensor-product basis. The
// compressed assembly (factored norms, evaluate_compressed, sketch_euler_step) is tested at the
// end against the exact path, whose F(v) the first tests establish.
//
// The grid has 2 p_k + 1 nodes in mode k, exact for polynomials of degree 4 p_k + 1. The
// integrands have degree at most 4 p_k (|grad v|^2 has degree 2 p_k, times a basis function
// of degree up to 2 p_k for the unprojected product), so the dense projection is exact up to
// rounding.
//
// Tolerances: coefficients are O(1) to O(10^3) (the derivative matrices grow like p^2 over
// the squared width), and both sides sum at most a few hundred products, so rounding stays
// near 1e-14 relative. 1e-11 relative leaves a margin of at least 1000, while a missing or
// misplaced term changes the result at order 1.
#include "legendre.hpp"

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/hjb.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

using hjbtt::BasisSet;
using hjbtt::LegendreBasis;
using hjbtt::TensorTrain;

namespace {

// Different degrees and a non-symmetric interval in the two modes, so that a mix-up of modes,
// of degrees or of the interval's centre shows.
BasisSet test_bases() {
  return {std::make_shared<LegendreBasis>(4, -2.0, 3.0), std::make_shared<LegendreBasis>(3, -3.0, 3.0)};
}

TensorTrain random_tt(const BasisSet& bases, arma::uword rank) {
  return TensorTrain({arma::randn<arma::cube>(1, bases[0]->size(), rank), arma::randn<arma::cube>(rank, bases[1]->size(), 1)});
}

// The coefficient matrix C(i_1, i_2) of a two-mode tensor train.
arma::mat dense(const TensorTrain& tt) { return arma::reshape(tt.full(), tt.mode_size(0), tt.mode_size(1)); }

// One mode of the tensor Gauss grid: nodes, weights, and the basis values and derivatives
// there (rows are basis functions, columns are nodes).
struct GridMode {
  arma::vec nodes, weights;
  arma::mat values, first, second;
  arma::mat doubled_values;  // phi_0 .. phi_{2p}, to expand products without projection
};

struct Grid {
  GridMode mode[2];

  explicit Grid(const BasisSet& bases) {
    for (int k = 0; k < 2; ++k) {
      GridMode& m = mode[k];
      bases[k]->quadrature(2 * bases[k]->degree() + 1, m.nodes, m.weights);
      m.values = bases[k]->evaluate(m.nodes.t(), 0);
      m.first = bases[k]->evaluate(m.nodes.t(), 1);
      m.second = bases[k]->evaluate(m.nodes.t(), 2);
      m.doubled_values = bases[k]->with_degree(2 * bases[k]->degree())->evaluate(m.nodes.t(), 0);
    }
  }

  // Values of the function with coefficients C on the grid, differentiated `a` times in x_1
  // and `b` times in x_2: G(node_1, node_2).
  arma::mat evaluate(const arma::mat& C, int a, int b) const { return derivatives(0, a).t() * C * derivatives(1, b); }

  const arma::mat& derivatives(int k, int order) const {
    switch (order) {
      case 0: return mode[k].values;
      case 1: return mode[k].first;
      default: return mode[k].second;
    }
  }

  // L2 projection of grid values onto the basis (doubled = false) or onto the bases of twice
  // the degree, which hold every product exactly (doubled = true).
  arma::mat project(const arma::mat& G, bool doubled) const {
    const arma::mat& v1 = doubled ? mode[0].doubled_values : mode[0].values;
    const arma::mat& v2 = doubled ? mode[1].doubled_values : mode[1].values;
    return v1 * arma::diagmat(mode[0].weights) * G * arma::diagmat(mode[1].weights) * v2.t();
  }

  arma::mat x1() const { return arma::repmat(mode[0].nodes, 1, mode[1].nodes.n_elem); }
  arma::mat x2() const { return arma::repmat(mode[1].nodes.t(), mode[0].nodes.n_elem, 1); }

  arma::mat linear_part(const arma::mat& C) const {
    return evaluate(C, 2, 0) + evaluate(C, 0, 2) + x1() % evaluate(C, 1, 0) + x2() % evaluate(C, 0, 1);
  }

  arma::mat gradient_product(const arma::mat& U, const arma::mat& W) const {
    return evaluate(U, 1, 0) % evaluate(W, 1, 0) + evaluate(U, 0, 1) % evaluate(W, 0, 1);
  }
};

double relative_difference(const arma::mat& computed, const arma::mat& expected) {
  return arma::norm(computed - expected, "fro") / arma::norm(expected, "fro");
}

// The coefficient matrix with the rows and columns above the basis sizes removed.
arma::mat leading_block(const arma::mat& M, const BasisSet& bases) {
  return M.submat(0, 0, bases[0]->size() - 1, bases[1]->size() - 1);
}

}  // namespace

TEST_CASE("F(v) matches the dense projection") {
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator hjb(bases);
  const Grid grid(bases);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    arma::arma_rng::set_seed(seed);
    const TensorTrain v = random_tt(bases, 2);
    const arma::mat C = dense(v);

    // L keeps the degree, so its dense projection is the exact coefficient matrix of L v.
    const arma::mat linear = grid.project(grid.linear_part(C), false);
    const arma::mat squared = grid.gradient_product(C, C);
    const arma::mat projected = grid.project(squared, false);

    CHECK(relative_difference(dense(hjb.linear_part(v)), linear) <= 1e-11);
    CHECK(relative_difference(dense(hjb.projected_gradient_product(v, v)), projected) <= 1e-11);

    const hjbtt::RightHandSide rhs = hjb.evaluate(v, false);
    CHECK(relative_difference(dense(rhs.value), linear - projected) <= 1e-11);
    CHECK(rhs.nonlinear_norm == doctest::Approx(arma::norm(projected, "fro")).epsilon(1e-11));
    CHECK(rhs.projection_error == 0.0);
  }
}

TEST_CASE("projection error matches the dense one") {
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator hjb(bases);
  const Grid grid(bases);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    arma::arma_rng::set_seed(10 + seed);
    const TensorTrain v = random_tt(bases, 3);
    const arma::mat squared = grid.gradient_product(dense(v), dense(v));

    // The expansion on bases of twice the degree is exact, so its coefficients outside the
    // leading block are what P_p drops.
    const arma::mat exact = grid.project(squared, true);
    arma::mat dropped = exact;
    dropped.submat(0, 0, bases[0]->size() - 1, bases[1]->size() - 1).zeros();
    const double expected = arma::norm(dropped, "fro") / arma::norm(exact, "fro");
    REQUIRE(expected > 1e-3);

    // The Frobenius norm of the exact coefficients is the L2 norm under the uniform measure.
    const arma::mat weights = grid.mode[0].weights * grid.mode[1].weights.t();
    CHECK(std::sqrt(arma::accu(weights % squared % squared)) == doctest::Approx(arma::norm(exact, "fro")).epsilon(1e-12));

    double nonlinear_norm = 0.0;
    CHECK(hjb.projection_error(v, &nonlinear_norm) == doctest::Approx(expected).epsilon(1e-10));
    CHECK(nonlinear_norm == doctest::Approx(arma::norm(exact, "fro")).epsilon(1e-12));

    const hjbtt::RightHandSide rhs = hjb.evaluate(v, true);
    CHECK(rhs.projection_error == doctest::Approx(expected).epsilon(1e-10));
    CHECK(rhs.nonlinear_norm == doctest::Approx(arma::norm(exact, "fro")).epsilon(1e-12));
    CHECK(relative_difference(dense(rhs.value), grid.project(grid.linear_part(dense(v)), false) - leading_block(exact, bases)) <=
          1e-11);
  }
}

TEST_CASE("per-mode projection error matches dense") {
  // Leaving mode k unprojected keeps the exact expansion's coefficients with any index in mode k
  // and index <= p_j in the other mode j; the error is the part of that beyond the leading block.
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator hjb(bases);
  const Grid grid(bases);
  for (unsigned seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    arma::arma_rng::set_seed(20 + seed);
    const TensorTrain v = random_tt(bases, 3);
    const arma::mat exact = grid.project(grid.gradient_product(dense(v), dense(v)), true);
    const double leading2 = std::pow(arma::norm(leading_block(exact, bases), "fro"), 2);
    const arma::mat keeps[2] = {exact.cols(0, bases[1]->size() - 1), exact.rows(0, bases[0]->size() - 1)};

    const std::vector<double> errors = hjb.mode_projection_errors(v);
    REQUIRE(errors.size() == 2);
    for (int k = 0; k < 2; ++k) {
      const double wide2 = std::pow(arma::norm(keeps[k], "fro"), 2);
      const double expected = std::sqrt((wide2 - leading2) / wide2);
      REQUIRE(expected > 1e-3);
      CHECK(errors[k] == doctest::Approx(expected).epsilon(1e-9));
    }
  }
}

TEST_CASE("viscosity damps only top degrees") {
  // Degree 9 with cutoff 0.5: m = 4, so S = diag(0, .., 0, (1/5)^2, .., 1) from degree 5 on.
  // Degree 4 with cutoff 0.25: m = max(2, 1) = 2, damping degrees 3 and 4 only.
  const LegendreBasis wide(9, -4.0, 4.0), narrow(4, -4.0, 4.0);
  const hjbtt::SpectralViscosity viscosity{300.0, 0.5};
  const arma::mat S = hjbtt::viscosity_matrix(wide, viscosity);
  for (arma::uword i = 0; i < 10; ++i) {
    const double expected = i > 4 ? 300.0 * std::pow((i - 4.0) / 5.0, 2) : 0.0;
    CHECK(S(i, i) == doctest::Approx(expected).epsilon(1e-14));
  }
  CHECK(arma::norm(S - arma::diagmat(S.diag()), "fro") == 0.0);
  const arma::vec low = hjbtt::viscosity_matrix(narrow, {300.0, 0.25}).diag();
  CHECK(arma::norm(low.head(3)) == 0.0);
  CHECK(low(3) == doctest::Approx(75.0));
  CHECK(arma::norm(hjbtt::viscosity_matrix(wide, {}), "fro") == 0.0);

  // Whether it acts at all: degree 2 is never damped, and strength 0 damps nothing.
  const BasisSet quadratic{std::make_shared<LegendreBasis>(2, -4.0, 4.0)};
  const BasisSet mixed{std::make_shared<LegendreBasis>(2, -4.0, 4.0), std::make_shared<LegendreBasis>(9, -4.0, 4.0)};
  CHECK_FALSE(hjbtt::viscosity_acts(quadratic, viscosity));
  CHECK(hjbtt::viscosity_acts(mixed, viscosity));
  CHECK_FALSE(hjbtt::viscosity_acts(mixed, {}));
  CHECK_FALSE(hjbtt::viscosity_acts(mixed, {300.0, 1.0}));

  // In the operator it subtracts nu S_k in each mode, and only from the linear part.
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator plain(bases), damped(bases, {50.0, 0.5});
  arma::arma_rng::set_seed(31);
  const TensorTrain v = random_tt(bases, 2);
  const arma::mat S0 = hjbtt::viscosity_matrix(*bases[0], {50.0, 0.5}), S1 = hjbtt::viscosity_matrix(*bases[1], {50.0, 0.5});
  REQUIRE(arma::norm(S0, "fro") > 0.0);
  REQUIRE(arma::norm(S1, "fro") > 0.0);
  const arma::mat expected = dense(plain.linear_part(v)) - S0 * dense(v) - dense(v) * S1.t();
  CHECK(relative_difference(dense(damped.linear_part(v)), expected) <= 1e-13);
  CHECK(relative_difference(dense(damped.projected_gradient_product(v, v)), dense(plain.projected_gradient_product(v, v))) ==
        0.0);
}

TEST_CASE("linearization matches the dense formula") {
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator hjb(bases);
  const Grid grid(bases);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    arma::arma_rng::set_seed(20 + seed);
    const TensorTrain v = random_tt(bases, 2);
    const TensorTrain w = random_tt(bases, 3);

    // J_v w = L w - 2 P_p (grad v . grad w)
    const arma::mat expected = grid.project(grid.linear_part(dense(w)), false) -
                               2.0 * grid.project(grid.gradient_product(dense(v), dense(w)), false);
    CHECK(relative_difference(dense(hjb.linearization(v, w)), expected) <= 1e-11);

    // The product is symmetric in its two arguments.
    CHECK(relative_difference(dense(hjb.projected_gradient_product(w, v)), dense(hjb.projected_gradient_product(v, w))) <=
          1e-13);
  }
}

TEST_CASE("FunctionalTT value and gradient match dense evaluation") {
  const BasisSet bases = test_bases();
  for (unsigned seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    arma::arma_rng::set_seed(30 + seed);
    const hjbtt::FunctionalTT f(bases, random_tt(bases, 3));
    const arma::mat C = dense(f.coefficients());

    // Points in the box widened by 1 on every side, so about half of them lie outside it.
    const arma::uword count = 200;
    arma::mat X(2, count);
    X.row(0) = -3.0 + 7.0 * arma::randu<arma::rowvec>(count);
    X.row(1) = -4.0 + 8.0 * arma::randu<arma::rowvec>(count);

    const arma::mat v1 = bases[0]->evaluate(X.row(0), 0), d1 = bases[0]->evaluate(X.row(0), 1);
    const arma::mat v2 = bases[1]->evaluate(X.row(1), 0), d2 = bases[1]->evaluate(X.row(1), 1);
    const arma::rowvec value = arma::sum(v1 % (C * v2), 0);
    arma::mat gradient(2, count);
    gradient.row(0) = arma::sum(d1 % (C * v2), 0);
    gradient.row(1) = arma::sum(v1 % (C * d2), 0);

    CHECK(arma::norm(f.value(X) - value) <= 1e-12 * arma::norm(value));
    CHECK(arma::norm(f.gradient(X) - gradient, "fro") <= 1e-12 * arma::norm(gradient, "fro"));
  }
}

TEST_CASE("F of the stationary Gaussian is the constant d") {
  // v = |x|^2 / 2 is -log of the standard normal, the stationary density of the
  // Ornstein-Uhlenbeck process, so -log rho_t does not change. With d = 2:
  //   L v = laplacian(v) + x . grad(v) = d + |x|^2,   N(v) = |grad v|^2 = |x|^2.
  // HjbOperator keeps the spatially constant -d of the full equation out (only grad v is
  // ever used), so F(v) = L v - N(v) is the constant d, not 0. Degree 2 represents |x|^2
  // exactly, so P_p drops nothing, and the constant d is the coefficient of phi_0 (x) phi_0 = 1.
  const BasisSet bases = {std::make_shared<LegendreBasis>(2, -2.0, 3.0), std::make_shared<LegendreBasis>(2, -3.0, 3.0)};
  const hjbtt::HjbOperator hjb(bases);

  // Coefficients of 1 and x^2 / 2 per mode, from an exact 3-node Gauss rule.
  std::vector<arma::vec> constant(2), half_square(2);
  for (int k = 0; k < 2; ++k) {
    arma::vec nodes, weights;
    bases[k]->quadrature(3, nodes, weights);
    const arma::mat values = bases[k]->evaluate(nodes.t());
    constant[k] = values * weights;
    half_square[k] = values * (weights % arma::square(nodes) / 2.0);
  }
  const TensorTrain v = TensorTrain::rank_one({half_square[0], constant[1]}) + TensorTrain::rank_one({constant[0], half_square[1]});

  const hjbtt::RightHandSide rhs = hjb.evaluate(v, true);
  arma::mat expected(3, 3, arma::fill::zeros);
  expected(0, 0) = 2.0;
  CHECK(arma::abs(dense(rhs.value) - expected).max() <= 1e-12 * norm(v));

  // P_p drops nothing, but the error is the square root of a difference of two equal squared
  // norms, so a rounding error of 1e-16 in the squares can show up as 1e-8.
  CHECK(rhs.projection_error <= 1e-7);

  // The two parts separately: L v = 2 + |x|^2 and P_p N(v) = |x|^2.
  const TensorTrain square = 2.0 * v;
  arma::mat linear = dense(square);
  linear(0, 0) += 2.0;
  CHECK(arma::abs(dense(hjb.linear_part(v)) - linear).max() <= 1e-12 * norm(v));
  CHECK(arma::abs(dense(hjb.projected_gradient_product(v, v)) - dense(square)).max() <= 1e-12 * norm(v));
}

// ---------------------------------------------------------------------------------------------
// The compressed assembly (evaluate_compressed, sketch_euler_step) against the exact path. The
// states are |x|^2 / 2 plus a random rank-r train at 1 % of its norm, rounded to rank r (the
// benchmark state), in d = 6 with Legendre degree 4 on [-5, 5], so the exact F(v) with its
// rank-2 r^2 squared gradient stays small enough to form at r = 16.

namespace {

BasisSet benchmark_bases(arma::uword d) { return BasisSet(d, std::make_shared<LegendreBasis>(4, -5.0, 5.0)); }

TensorTrain perturbed_quadratic(const BasisSet& bases, arma::uword rank, std::uint64_t seed) {
  const arma::uword d = bases.size();
  hjbtt::SeparablePolynomial quadratic;
  for (arma::uword k = 0; k < d; ++k) quadratic.push_back({0.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  const TensorTrain q = hjbtt::ftt_from_polynomial(quadratic, bases, 1e-14).coefficients();
  hjbtt::RandomStream random(seed, {d, rank});
  std::vector<arma::cube> cores(d);
  for (arma::uword k = 0; k < d; ++k) {
    const arma::uword r0 = k == 0 ? 1 : rank, r1 = k + 1 == d ? 1 : rank;
    cores[k].set_size(r0, bases[k]->size(), r1);
    for (double& x : cores[k]) x = random.normal();
  }
  const TensorTrain w(std::move(cores));
  TensorTrain v = axpy(0.01 * norm(q) / norm(w), w, q);
  v.round(0.0, rank);
  return v;
}

}  // namespace

TEST_CASE("factored norms match the formed squared gradient") {
  // Both sides are exact in exact arithmetic; the formed side sums products of a few thousand
  // O(1) terms, so rounding stays near 1e-14 relative.
  const BasisSet bases = test_bases();
  const hjbtt::HjbOperator hjb(bases);
  for (const arma::uword rank : {1, 3, 4}) {
    CAPTURE(rank);
    arma::arma_rng::set_seed(40 + rank);
    const TensorTrain v = random_tt(bases, rank);
    const TensorTrain projected = hjb.projected_gradient_product(v, v);
    double nonlinear_norm = 0.0;
    const double projection_error = hjb.projection_error(v, &nonlinear_norm);
    CHECK(hjb.projected_square_norm2(v) == doctest::Approx(dot(projected, projected)).epsilon(1e-12));
    CHECK(std::sqrt(hjb.full_square_norm2(v)) == doctest::Approx(nonlinear_norm).epsilon(1e-12));
    const double factored_error = std::sqrt(1.0 - hjb.projected_square_norm2(v) / hjb.full_square_norm2(v));
    CHECK(factored_error == doctest::Approx(projection_error).epsilon(1e-9));
  }

  // d = 6 at ranks up to 8, through the interior modes where the ranks are not capped.
  const BasisSet wide = benchmark_bases(6);
  const hjbtt::HjbOperator wide_hjb(wide);
  for (const arma::uword rank : {4, 8}) {
    CAPTURE(rank);
    const TensorTrain v = perturbed_quadratic(wide, rank, 7);
    const TensorTrain projected = wide_hjb.projected_gradient_product(v, v);
    CHECK(wide_hjb.projected_square_norm2(v) == doctest::Approx(dot(projected, projected)).epsilon(1e-12));
  }
}

TEST_CASE("compressed F stays within its tolerance of the exact F") {
  // evaluate_compressed bounds |value - F| by value_error <= tolerance, from exact norms and an
  // orthogonal projection; the check is that the distance to the formed F obeys that bound at
  // each rank and tolerance. The bound carries a rounding allowance of about 1e-7 |F| (d = 6),
  // far below the tolerances used here.
  const BasisSet bases = benchmark_bases(6);
  const hjbtt::HjbOperator hjb(bases);
  for (const arma::uword rank : {4, 8, 16}) {
    const TensorTrain v = perturbed_quadratic(bases, rank, 11);
    const hjbtt::RightHandSide exact = hjb.evaluate(v, true);
    const double f_norm = norm(exact.value);
    for (const double relative : {1e-2, 1e-4}) {
      CAPTURE(rank);
      CAPTURE(relative);
      hjbtt::RandomStream random(5, {rank});
      hjbtt::CompressionSettings settings;
      settings.tolerance = relative * f_norm;
      const hjbtt::RightHandSide compressed = hjb.evaluate_compressed(v, true, settings, random);
      // norm() of a difference of two close trains carries rounding of about 1e-14 |F|.
      const double distance = norm(axpy(-1.0, compressed.value, exact.value));
      CHECK(distance <= compressed.value_error + 1e-12 * f_norm);
      CHECK(compressed.value_error <= settings.tolerance);
      // The projection error and |N| come from exact norms, not from the sketch.
      CHECK(compressed.projection_error == doctest::Approx(exact.projection_error).epsilon(1e-9));
      CHECK(compressed.nonlinear_norm == doctest::Approx(exact.nonlinear_norm).epsilon(1e-12));
      // The sketch, not the fallback to the exact path, produced the value: its ranks are
      // below the 2 r + 2 r^2 of the formed F.
      CHECK(compressed.sketch_rank > 0);
      CHECK(compressed.value.max_rank() < exact.value.max_rank());
    }
  }
}

TEST_CASE("compressed F of the Gaussian solution") {
  // v = sum_k c_k x_k^2 + a coupling x_1 x_2 (exact at degree 2): F(v) is a quadratic again, of
  // TT rank at most 4, so a sketch of the default rank reproduces it within the tolerance. The
  // tolerance stays well above the rounding allowance of the norms, about 1e-7 (|L v| + |P N|).
  const arma::uword d = 5;
  hjbtt::SeparablePolynomial terms;
  for (arma::uword k = 0; k < d; ++k) terms.push_back({0.5 + 0.1 * k, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  terms.push_back({0.3, {{0, arma::vec{0.0, 1.0}}, {1, arma::vec{0.0, 1.0}}}});
  const BasisSet bases(d, std::make_shared<LegendreBasis>(2, -6.0, 6.0));
  const TensorTrain v = hjbtt::ftt_from_polynomial(terms, bases, 1e-14).coefficients();
  const hjbtt::HjbOperator hjb(bases);
  const hjbtt::RightHandSide exact = hjb.evaluate(v, true);

  hjbtt::RandomStream random(3, {0});
  hjbtt::CompressionSettings settings;
  settings.tolerance = 1e-4 * norm(exact.value);
  const hjbtt::RightHandSide compressed = hjb.evaluate_compressed(v, true, settings, random);
  CHECK(norm(axpy(-1.0, compressed.value, exact.value)) <= compressed.value_error + 1e-12 * norm(exact.value));
  CHECK(compressed.value_error <= settings.tolerance);
  CHECK(compressed.sketch_rank > 0);
  CHECK(compressed.value.max_rank() <= 4);
  // Degree 2 represents |grad v|^2 exactly, so nothing is projected away (up to the square root of
  // a rounding-level difference of squares, as in the stationary Gaussian test above).
  CHECK(compressed.projection_error <= 1e-7);
}

TEST_CASE("sketched Euler step matches the exact step") {
  // y = v + tau F(v), rounded at tolerance 1e-6 with the rank capped at r, once from the formed
  // F and once by the sketch. Each error is a bound on the distance to the unrounded y, which
  // is formed here, so both bounds are checked against it, and the two results differ by at
  // most the sum of the bounds. The sketch's bound is the rounding error plus what the sketch
  // missed: 1.0 to 2.0 times the exact rounding error for these random perturbations, whose F
  // has a flat spectrum. 3 times plus the tolerance leaves a margin while catching a sketch that
  // keeps the wrong directions.
  const BasisSet bases = benchmark_bases(6);
  const hjbtt::HjbOperator hjb(bases);
  const double tau = 1e-3, tolerance = 1e-6;
  for (const arma::uword rank : {4, 8, 16}) {
    for (const arma::uword cap : {rank, 2 * rank}) {
      CAPTURE(rank);
      CAPTURE(cap);
      const TensorTrain v = perturbed_quadratic(bases, rank, 13);
      const hjbtt::RightHandSide exact = hjb.evaluate(v, true);
      const TensorTrain y = axpy(tau, exact.value, v);
      TensorTrain rounded = y;
      const double exact_error = rounded.round(tolerance, cap);

      hjbtt::RandomStream random(9, {rank, cap});
      const hjbtt::SketchedEulerStep step = hjb.sketch_euler_step(v, true, cap + 10, random);
      const hjbtt::SketchedEulerStep::Retraction sketched = step.retract(tau, tolerance, cap);
      const double y_norm = norm(y);
      CHECK(sketched.state.max_rank() <= cap);
      CHECK(norm(axpy(-1.0, sketched.state, y)) <= sketched.error * y_norm * (1.0 + 1e-9));
      CHECK(norm(axpy(-1.0, rounded, y)) <= exact_error * y_norm * (1.0 + 1e-9));
      CHECK(norm(axpy(-1.0, sketched.state, rounded)) <= (sketched.error + exact_error) * y_norm * (1.0 + 1e-9));
      CHECK(sketched.error <= 3.0 * exact_error + tolerance);

      CHECK(step.rhs_norm() == doctest::Approx(norm(exact.value)).epsilon(1e-10));
      CHECK(step.projection_error() == doctest::Approx(exact.projection_error).epsilon(1e-9));
      CHECK(step.nonlinear_norm() == doctest::Approx(exact.nonlinear_norm).epsilon(1e-12));
    }
  }
}
