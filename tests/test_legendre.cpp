// Tests of the Legendre basis against closed forms: Gauss rules, values and derivatives of
// P_0..P_4, the coefficient matrices of d/dx, d^2/dx^2 and x d/dx, the product tensor, and the
// plugin's parameter checks.
//
// Tolerances: every quantity here is exact in exact arithmetic, so the tolerances only cover
// rounding. Values are O(1) to O(10^4) and the matrices come from sums of at most ~200
// quadrature terms. Relative errors of 1e-12 therefore leave a margin of at least 30 over
// what the computations show, while a wrong formula or too few nodes gives errors of order 1.
#include "legendre.hpp"

#include "hjbtt/errors.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using hjbtt::LegendreBasis;

namespace {

struct Interval {
  double lower;
  double upper;
};

// A symmetric and a non-symmetric interval: the non-symmetric one exercises the shift in
// x d/dx = (c / h) d/ds + s d/ds, which has no parity structure.
const std::vector<Interval> intervals = {{-2.0, 2.0}, {-1.5, 4.0}};

double max_abs(const arma::mat& m) { return m.is_empty() ? 0.0 : arma::abs(m).max(); }

// The Legendre polynomials P_0..P_4 and their first two derivatives in s, written out.
double legendre_closed_form(int i, double s, int derivative) {
  const double values[5][3] = {
      {1.0, 0.0, 0.0},
      {s, 1.0, 0.0},
      {(3.0 * s * s - 1.0) / 2.0, 3.0 * s, 3.0},
      {(5.0 * s * s * s - 3.0 * s) / 2.0, (15.0 * s * s - 3.0) / 2.0, 15.0 * s},
      {(35.0 * s * s * s * s - 30.0 * s * s + 3.0) / 8.0, (140.0 * s * s * s - 60.0 * s) / 8.0, (420.0 * s * s - 60.0) / 8.0},
  };
  return values[i][derivative];
}

// A polynomial given by monomial coefficients a_0..a_q, with its derivatives by Horner's rule.
struct MonomialPolynomial {
  arma::vec a;

  double operator()(double x, int derivative = 0) const {
    double y = 0.0;
    for (arma::uword j = a.n_elem; j-- > static_cast<arma::uword>(derivative);) {
      double factor = 1.0;
      for (int m = 0; m < derivative; ++m) factor *= static_cast<double>(j - m);
      y = y * x + factor * a(j);
    }
    return y;
  }
};

// Coefficients of f on the basis by a Gauss rule exact for degree(f) + p.
arma::vec project(const LegendreBasis& basis, const MonomialPolynomial& f) {
  arma::vec nodes, weights;
  basis.quadrature(basis.size() + f.a.n_elem, nodes, weights);
  arma::vec values(nodes.n_elem);
  for (arma::uword q = 0; q < nodes.n_elem; ++q) values(q) = f(nodes(q));
  return basis.evaluate(nodes.t()) * (weights % values);
}

// Points inside and outside [lower, upper], so that extrapolation is checked too.
arma::rowvec test_points(const Interval& interval, arma::uword count) {
  const double width = interval.upper - interval.lower;
  arma::rowvec x = interval.lower - 0.25 * width + 1.5 * width * arma::randu<arma::rowvec>(count);
  x(0) = interval.lower;
  x(1) = interval.upper;
  return x;
}

hjbtt::Parameters parameters_from(const char* json) {
  const boost::json::value given = boost::json::parse(json);
  return hjbtt::validate_parameters(hjbtt::legendre_parameters(), &given, "/basis/params", "legendre");
}

}  // namespace

TEST_CASE("gauss rule integrates monomials exactly") {
  for (const Interval& interval : intervals) {
    const LegendreBasis basis(4, interval.lower, interval.upper);
    for (arma::uword points : {1u, 2u, 5u, 17u, 80u}) {
      CAPTURE(points);
      arma::vec nodes, weights;
      basis.quadrature(points, nodes, weights);
      REQUIRE(nodes.n_elem == points);
      REQUIRE(weights.n_elem == points);
      CHECK(nodes.is_sorted("strictascend"));
      CHECK(nodes.min() > interval.lower);
      CHECK(nodes.max() < interval.upper);
      CHECK(weights.min() > 0.0);

      // Mean of x^k under the uniform measure, for every degree the rule must integrate.
      for (arma::uword k = 0; k <= 2 * points - 1; ++k) {
        CAPTURE(k);
        const double kd = static_cast<double>(k);
        const double exact = (std::pow(interval.upper, kd + 1) - std::pow(interval.lower, kd + 1)) /
                             ((kd + 1) * (interval.upper - interval.lower));
        const double scale = std::pow(std::max(std::abs(interval.lower), std::abs(interval.upper)), kd);
        CHECK(std::abs(arma::dot(weights, arma::pow(nodes, kd)) - exact) <= 1e-13 * scale);
      }
    }
  }
}

TEST_CASE("gauss rule with two nodes") {
  const LegendreBasis basis(3, 1.0, 5.0);
  arma::vec nodes, weights;
  basis.quadrature(2, nodes, weights);
  CHECK(nodes(0) == doctest::Approx(3.0 - 2.0 / std::sqrt(3.0)).epsilon(1e-15));
  CHECK(nodes(1) == doctest::Approx(3.0 + 2.0 / std::sqrt(3.0)).epsilon(1e-15));
  CHECK(weights(0) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(weights(1) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK_THROWS_AS(basis.quadrature(0, nodes, weights), std::invalid_argument);
}

TEST_CASE("basis is orthonormal") {
  for (const Interval& interval : intervals)
    for (arma::uword degree : {0u, 1u, 6u, 20u, 64u}) {
      CAPTURE(interval.lower);
      CAPTURE(degree);
      const LegendreBasis basis(degree, interval.lower, interval.upper);
      REQUIRE(basis.size() == degree + 1);

      // p + 1 nodes integrate phi_i phi_j (degree <= 2p) exactly.
      arma::vec nodes, weights;
      basis.quadrature(basis.size(), nodes, weights);
      CHECK(arma::accu(weights) == doctest::Approx(1.0).epsilon(1e-14));
      const arma::mat values = basis.evaluate(nodes.t());
      const arma::mat gram = (values.each_row() % weights.t()) * values.t();
      CHECK(max_abs(gram - arma::eye(basis.size(), basis.size())) <= 1e-12);
    }
}

TEST_CASE("values match closed forms of P_0..P_4") {
  for (const Interval& interval : intervals) {
    const LegendreBasis basis(4, interval.lower, interval.upper);
    const arma::rowvec x = test_points(interval, 40);
    const double slope = 2.0 / (interval.upper - interval.lower);  // ds/dx
    for (unsigned derivative = 0; derivative <= 2; ++derivative) {
      CAPTURE(derivative);
      const arma::mat values = basis.evaluate(x, derivative);
      REQUIRE(values.n_rows == 5);
      REQUIRE(values.n_cols == x.n_elem);
      for (arma::uword j = 0; j < x.n_elem; ++j) {
        const double s = (2.0 * x(j) - interval.lower - interval.upper) / (interval.upper - interval.lower);
        for (int i = 0; i <= 4; ++i) {
          CAPTURE(i);
          CAPTURE(x(j));
          const double expected =
              std::sqrt(2.0 * i + 1.0) * std::pow(slope, derivative) * legendre_closed_form(i, s, static_cast<int>(derivative));
          CHECK(std::abs(values(i, j) - expected) <= 1e-13 * std::max(1.0, std::abs(expected)));
        }
      }
    }
  }
  const LegendreBasis basis(4, -1.0, 1.0);
  CHECK_THROWS_AS(basis.evaluate(arma::rowvec{0.0}, 3), std::invalid_argument);
}

TEST_CASE("transposed evaluation matches row-wise evaluation") {
  // Both paths run the same recurrences in another order, so they agree to rounding, checked
  // as 1e-12 relative to the largest entry.
  for (const arma::uword p : {0u, 1u, 2u, 7u, 12u}) {
    const LegendreBasis basis(p, -3.0, 5.0);
    const arma::rowvec x = arma::linspace<arma::rowvec>(-4.0, 6.0, 41);
    arma::mat values, derivatives;
    basis.evaluate_transposed(x, values, derivatives);
    const arma::mat expected_values = basis.evaluate(x, 0).t();
    const arma::mat expected_derivatives = basis.evaluate(x, 1).t();
    REQUIRE(values.n_rows == x.n_elem);
    REQUIRE(values.n_cols == p + 1);
    CHECK(arma::abs(values - expected_values).max() <= 1e-12 * arma::abs(expected_values).max());
    CHECK(arma::abs(derivatives - expected_derivatives).max() <= 1e-12 * std::max(1.0, arma::abs(expected_derivatives).max()));
  }
}

TEST_CASE("x d/dx is upper triangular with diagonal 0..p") {
  for (const Interval& interval : intervals) {
    CAPTURE(interval.lower);
    const LegendreBasis basis(12, interval.lower, interval.upper);
    const arma::mat xd = basis.x_derivative_matrix();
    REQUIRE(xd.n_rows == 13);
    REQUIRE(xd.n_cols == 13);
    CHECK(max_abs(arma::trimatl(xd, -1)) <= 1e-12 * max_abs(xd));
    for (arma::uword i = 0; i < basis.size(); ++i) CHECK(std::abs(xd(i, i) - static_cast<double>(i)) <= 1e-12 * basis.size());
  }
}

TEST_CASE("derivative matrix matches its closed form") {
  // d/ds P_i = sum over l < i with i + l odd of (2l + 1) P_l, so in the orthonormal basis
  // D(l, i) = (2 / (upper - lower)) sqrt((2i + 1)(2l + 1)) for those l, and 0 otherwise.
  for (const Interval& interval : intervals) {
    const LegendreBasis basis(10, interval.lower, interval.upper);
    arma::mat expected(basis.size(), basis.size(), arma::fill::zeros);
    for (arma::uword i = 0; i < basis.size(); ++i)
      for (arma::uword l = 0; l < i; ++l)
        if ((i + l) % 2 == 1) expected(l, i) = 2.0 / (interval.upper - interval.lower) * std::sqrt((2.0 * i + 1) * (2.0 * l + 1));
    CHECK(max_abs(basis.derivative_matrix() - expected) <= 1e-12 * max_abs(expected));
  }
}

TEST_CASE("coefficient matrices differentiate random polynomials") {
  for (const Interval& interval : intervals)
    for (unsigned seed = 1; seed <= 4; ++seed) {
      CAPTURE(interval.lower);
      CAPTURE(seed);
      arma::arma_rng::set_seed(seed);
      const LegendreBasis basis(7, interval.lower, interval.upper);
      const MonomialPolynomial f{arma::randn<arma::vec>(basis.size())};
      const arma::vec c = project(basis, f);
      const arma::rowvec x = test_points(interval, 30);

      // Each row: the derivative from the coefficient matrix and from evaluate(), against the
      // derivative of the monomial form.
      arma::mat exact(3, x.n_elem);
      for (arma::uword j = 0; j < x.n_elem; ++j) {
        exact(0, j) = f(x(j), 1);
        exact(1, j) = f(x(j), 2);
        exact(2, j) = x(j) * f(x(j), 1);
      }
      const arma::mat values = basis.evaluate(x);
      arma::mat from_matrices(3, x.n_elem);
      from_matrices.row(0) = (basis.derivative_matrix() * c).t() * values;
      from_matrices.row(1) = (basis.second_derivative_matrix() * c).t() * values;
      from_matrices.row(2) = (basis.x_derivative_matrix() * c).t() * values;
      arma::mat from_evaluate(2, x.n_elem);
      from_evaluate.row(0) = c.t() * basis.evaluate(x, 1);
      from_evaluate.row(1) = c.t() * basis.evaluate(x, 2);

      for (arma::uword row = 0; row < 3; ++row) {
        CAPTURE(row);
        const double scale = max_abs(exact.row(row));
        CHECK(max_abs(from_matrices.row(row) - exact.row(row)) <= 1e-12 * scale);
        if (row < 2) CHECK(max_abs(from_evaluate.row(row) - exact.row(row)) <= 1e-12 * scale);
      }
      CHECK(max_abs(c.t() * values - arma::rowvec(x).transform([&](double t) { return f(t); })) <=
            1e-12 * max_abs(values.t() * c));
    }
}

TEST_CASE("product tensor projects pointwise products") {
  for (const Interval& interval : intervals) {
    CAPTURE(interval.lower);
    const arma::uword p = 5;
    const LegendreBasis basis(p, interval.lower, interval.upper);
    const arma::uword n = basis.size();

    // With output_size = 2p + 1 the projection is exact: phi_i phi_j has degree i + j <= 2p.
    const arma::cube full = basis.product_tensor(2 * p + 1);
    REQUIRE(full.n_rows == n);
    REQUIRE(full.n_cols == n);
    REQUIRE(full.n_slices == 2 * p + 1);

    arma::arma_rng::set_seed(7);
    const arma::rowvec x = test_points(interval, 25);
    const arma::mat values = basis.evaluate(x);
    const arma::mat outputs = basis.with_degree(2 * p)->evaluate(x);
    for (arma::uword i = 0; i < n; ++i)
      for (arma::uword j = 0; j < n; ++j) {
        CAPTURE(i);
        CAPTURE(j);
        arma::vec expansion(2 * p + 1);
        for (arma::uword l = 0; l <= 2 * p; ++l) expansion(l) = full(i, j, l);
        const arma::rowvec product = values.row(i) % values.row(j);
        CHECK(max_abs(expansion.t() * outputs - product) <= 1e-12 * std::max(1.0, max_abs(product)));
        CHECK(max_abs(expansion.tail(2 * p - i - j)) == 0.0);
        CHECK(std::abs(full(i, j, 0) - (i == j ? 1.0 : 0.0)) <= 1e-13);
      }

    // Symmetric in i and j, and the projected tensor is the leading slices of the full one.
    // The two tensors come from Gauss rules of different sizes, so they agree up to rounding.
    const double scale = max_abs(arma::vectorise(full));
    for (arma::uword l = 0; l <= 2 * p; ++l) CHECK(max_abs(full.slice(l) - full.slice(l).t()) <= 1e-14 * scale);
    const arma::cube projected = basis.product_tensor(n);
    REQUIRE(projected.n_slices == n);
    CHECK(max_abs(arma::vectorise(projected - full.slices(0, n - 1))) <= 1e-12 * scale);

    // M(1, 1, 2) = 3 sqrt(5) E[s^2 P_2(s)] = 2 / sqrt(5), because s^2 = (2 P_2 + 1) / 3.
    CHECK(full(1, 1, 2) == doctest::Approx(2.0 / std::sqrt(5.0)).epsilon(1e-14));
    CHECK(max_abs(arma::vectorise(basis.product_tensor(2 * p + 1) - full)) == 0.0);
  }
}

TEST_CASE("with_degree keeps the interval") {
  const LegendreBasis basis(4, -1.5, 4.0);
  const hjbtt::BasisPtr higher = basis.with_degree(9);
  CHECK(higher->name() == "legendre");
  CHECK(higher->degree() == 9);
  CHECK(higher->lower() == -1.5);
  CHECK(higher->upper() == 4.0);

  // The shared functions phi_0..phi_4 are the same functions.
  const arma::rowvec x = {-2.0, -1.5, 0.3, 4.0, 5.5};
  CHECK(max_abs(higher->evaluate(x).rows(0, 4) - basis.evaluate(x)) == 0.0);
  CHECK(basis.with_degree(0)->size() == 1);
}

TEST_CASE("constructor rejects empty intervals") {
  CHECK_THROWS_AS(LegendreBasis(3, 1.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(LegendreBasis(3, 2.0, -2.0), std::invalid_argument);
  CHECK_THROWS_AS(LegendreBasis(3, 0.0, INFINITY), std::invalid_argument);
}

TEST_CASE("plugin parameters and domain checks") {
  const auto defaults = hjbtt::make_legendre_basis(parameters_from("{}"));
  CHECK(defaults->degree() == 6);
  CHECK(defaults->lower() == -6.0);
  CHECK(defaults->upper() == 6.0);

  const auto custom = hjbtt::make_legendre_basis(parameters_from(R"({"degree": 3, "domain": [-2, 3.5]})"));
  CHECK(custom->degree() == 3);
  CHECK(custom->lower() == -2.0);
  CHECK(custom->upper() == 3.5);

  for (const char* invalid : {R"({"domain": [3, 1]})", R"({"domain": [2, 2]})", R"({"domain": [1, "a"]})",
                              R"({"domain": [1]})", R"({"domain": [1, 2, 3]})"}) {
    CAPTURE(invalid);
    const hjbtt::Parameters params = parameters_from(invalid);
    try {
      hjbtt::make_legendre_basis(params);
      FAIL("the domain was accepted");
    } catch (const hjbtt::ConfigurationError& error) {
      CHECK(error.pointer() == "/basis/params/domain");
      CHECK(std::string(error.what()).find("/basis/params/domain") != std::string::npos);
    }
  }

  CHECK_THROWS_AS(parameters_from(R"({"degree": 65})"), hjbtt::ConfigurationError);
  CHECK_THROWS_AS(parameters_from(R"({"domain": 6})"), hjbtt::ConfigurationError);
}
