// The Legendre basis: evaluation by the three-term recurrence, Gauss-Legendre rules, and the
// coefficient matrices and product tensors built from them.
#include "legendre.hpp"

#include "hjbtt/errors.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace hjbtt {

namespace {

// Gauss-Legendre rule with n nodes on [-1, 1] for the uniform probability measure (weights
// sum to 1), nodes ascending.
//
// Golub-Welsch gives the nodes as eigenvalues of the Jacobi matrix. Two Newton steps on P_n
// then bring each node to full precision, and the weights come from the Christoffel function
// w = 1 / sum_k (2k + 1) P_k(s)^2 rather than from eigenvector entries, whose relative accuracy
// is poor for the small weights near the ends of the interval.
void gauss_legendre(arma::uword n, arma::vec& nodes, arma::vec& weights) {
  arma::mat jacobi(n, n, arma::fill::zeros);
  for (arma::uword k = 1; k < n; ++k) {
    const double kd = static_cast<double>(k);
    jacobi(k, k - 1) = jacobi(k - 1, k) = kd / std::sqrt(4.0 * kd * kd - 1.0);
  }
  arma::vec s;
  if (!arma::eig_sym(s, jacobi)) throw std::runtime_error("gauss_legendre: eigenvalue solver failed for " + std::to_string(n) + " nodes");

  weights.set_size(n);
  for (arma::uword q = 0; q < n; ++q) {
    for (int newton = 0; newton < 2; ++newton) {
      // current = P_n(s) and previous = P_{n-1}(s) by the recurrence. The slope uses the identity
      // (1 - s^2) P_n' = n (P_{n-1} - s P_n), safe because Gauss nodes are interior.
      double previous = 1.0, current = s(q);
      for (arma::uword k = 1; k < n; ++k) {
        const double kd = static_cast<double>(k);
        const double next = ((2.0 * kd + 1.0) * s(q) * current - kd * previous) / (kd + 1.0);
        previous = current;
        current = next;
      }
      const double slope = static_cast<double>(n) * (previous - s(q) * current) / (1.0 - s(q) * s(q));
      s(q) -= current / slope;
    }

    double christoffel = 0.0, previous = 0.0, current = 1.0;
    for (arma::uword k = 0; k < n; ++k) {
      christoffel += (2.0 * k + 1.0) * current * current;
      const double kd = static_cast<double>(k);
      const double next = ((2.0 * kd + 1.0) * s(q) * current - kd * previous) / (kd + 1.0);
      previous = current;
      current = next;
    }
    weights(q) = 1.0 / christoffel;
  }

  // The rule is symmetric about 0. Enforcing this exactly makes odd integrands vanish exactly.
  nodes = 0.5 * (s - arma::flipud(s));
  weights = 0.5 * (weights + arma::flipud(weights));
}

// Reads "domain" as [lower, upper], rejecting anything but two finite numbers in increasing order.
std::pair<double, double> read_domain(const Parameters& params) {
  const boost::json::value& domain = params.json("domain");
  const std::string found = boost::json::serialize(domain);
  const boost::json::array* ends = domain.if_array();
  if (!ends || ends->size() != 2 || !(*ends)[0].is_number() || !(*ends)[1].is_number())
    params.fail("domain", "expected an array of two numbers [lower, upper], found " + found +
                              ". Give the interval of the basis, for example [-6, 6].");

  const double lower = (*ends)[0].to_number<double>();
  const double upper = (*ends)[1].to_number<double>();
  if (!std::isfinite(lower) || !std::isfinite(upper))
    params.fail("domain", "expected finite interval ends, found " + found);
  if (!(lower < upper))
    params.fail("domain", "the lower end must be below the upper end, found " + found +
                              ". Write the interval as [lower, upper] with lower < upper.");
  return {lower, upper};
}

}  // namespace

LegendreBasis::LegendreBasis(arma::uword degree, double lower, double upper)
    : degree_(degree), lower_(lower), upper_(upper) {
  if (!std::isfinite(lower) || !std::isfinite(upper) || !(lower < upper))
    throw std::invalid_argument("LegendreBasis: the interval [" + std::to_string(lower) + ", " + std::to_string(upper) +
                                "] is invalid. Expected finite ends with lower < upper.");

  // Each integrand below is a polynomial of degree at most 2p, so p + 1 nodes are exact.
  const arma::uword n = degree_ + 1;
  arma::vec nodes, weights;
  quadrature(n, nodes, weights);
  const arma::rowvec x = nodes.t();
  const arma::mat values = evaluate(x, 0);
  const arma::mat weighted = values.each_row() % weights.t();
  derivative_ = weighted * evaluate(x, 1).t();
  second_derivative_ = weighted * evaluate(x, 2).t();
  const arma::mat weighted_x = weighted.each_row() % x;
  x_derivative_ = weighted_x * evaluate(x, 1).t();

  // Entries that vanish exactly are set to zero, so quadrature rounding does not show up as
  // fill-in. phi_i' has degree i - 1 and the parity opposite to phi_i. phi_i'' has degree
  // i - 2 and the same parity. x phi_i' has degree i.
  for (arma::uword i = 0; i < n; ++i)
    for (arma::uword l = 0; l < n; ++l) {
      if (l >= i || (l + i) % 2 == 0) derivative_(l, i) = 0.0;
      if (l + 2 > i || (l + i) % 2 == 1) second_derivative_(l, i) = 0.0;
      if (l > i) x_derivative_(l, i) = 0.0;
    }
}

arma::mat LegendreBasis::evaluate_up_to(arma::uword max_degree, const arma::rowvec& x, unsigned derivative) const {
  if (derivative > 2)
    throw std::invalid_argument("LegendreBasis::evaluate: derivative order " + std::to_string(derivative) +
                                " is not supported; expected 0, 1 or 2");
  const arma::uword n = max_degree + 1;
  const arma::rowvec s = (2.0 * x - lower_ - upper_) / (upper_ - lower_);

  // P_k(s) by (k + 1) P_{k+1} = (2k + 1) s P_k - k P_{k-1}. The derivatives follow from
  // P'_{k+1} = P'_{k-1} + (2k + 1) P_k, applied once for P' and once more for P''. These are
  // polynomial identities, so they hold (as extrapolation) outside [-1, 1] as well.
  arma::mat p(n, x.n_elem);
  p.row(0).ones();
  if (n > 1) p.row(1) = s;
  for (arma::uword k = 1; k + 1 < n; ++k) {
    const double kd = static_cast<double>(k);
    p.row(k + 1) = ((2.0 * kd + 1.0) * (s % p.row(k)) - kd * p.row(k - 1)) / (kd + 1.0);
  }
  for (unsigned order = 0; order < derivative; ++order) {
    arma::mat dp(n, x.n_elem, arma::fill::zeros);
    if (n > 1) dp.row(1) = p.row(0);
    for (arma::uword k = 1; k + 1 < n; ++k) dp.row(k + 1) = dp.row(k - 1) + (2.0 * k + 1.0) * p.row(k);
    p = std::move(dp);
  }

  // Normalise, and convert d/ds to d/dx (ds/dx = 2 / (upper - lower)).
  const double chain = std::pow(2.0 / (upper_ - lower_), static_cast<double>(derivative));
  for (arma::uword k = 0; k < n; ++k) p.row(k) *= chain * std::sqrt(2.0 * k + 1.0);
  return p;
}

arma::mat LegendreBasis::evaluate(const arma::rowvec& x, unsigned derivative) const {
  return evaluate_up_to(degree_, x, derivative);
}

void LegendreBasis::evaluate_transposed(const arma::rowvec& x, arma::mat& values, arma::mat& derivatives) const {
  const arma::uword n = degree_ + 1, m = x.n_elem;
  values.set_size(m, n);
  derivatives.set_size(m, n);
  const double scale = 2.0 / (upper_ - lower_), shift = (lower_ + upper_) / (upper_ - lower_);

  // The recurrences of evaluate_up_to, one column per degree, so every update is a contiguous
  // loop over the points. Normalisation and the chain rule are applied at the end.
  double* p0 = values.colptr(0);
  double* d0 = derivatives.colptr(0);
  for (arma::uword j = 0; j < m; ++j) {
    p0[j] = 1.0;
    d0[j] = 0.0;
  }
  if (n > 1) {
    double* p1 = values.colptr(1);
    double* d1 = derivatives.colptr(1);
    for (arma::uword j = 0; j < m; ++j) {
      p1[j] = scale * x[j] - shift;
      d1[j] = 1.0;
    }
  }
  for (arma::uword k = 1; k + 1 < n; ++k) {
    const double kd = static_cast<double>(k);
    const double a = (2.0 * kd + 1.0) / (kd + 1.0), b = kd / (kd + 1.0), c = 2.0 * kd + 1.0;
    const double* s = values.colptr(1);
    const double* pk = values.colptr(k);
    const double* pkm = values.colptr(k - 1);
    const double* dkm = derivatives.colptr(k - 1);
    double* pnext = values.colptr(k + 1);
    double* dnext = derivatives.colptr(k + 1);
    for (arma::uword j = 0; j < m; ++j) {
      pnext[j] = a * s[j] * pk[j] - b * pkm[j];
      dnext[j] = dkm[j] + c * pk[j];
    }
  }
  for (arma::uword k = 0; k < n; ++k) {
    const double norm = std::sqrt(2.0 * k + 1.0);
    values.col(k) *= norm;
    derivatives.col(k) *= norm * scale;
  }
}

arma::cube LegendreBasis::product_tensor(arma::uword output_size) const {
  const std::lock_guard<std::mutex> lock(product_mutex_);
  if (const auto cached = product_cache_.find(output_size); cached != product_cache_.end()) return cached->second;

  const arma::uword n = size();
  arma::cube product(n, n, output_size, arma::fill::zeros);
  if (output_size > 0) {
    // phi_i phi_j phi_l has degree at most 2p + output_size - 1, and q nodes are exact up to 2q - 1.
    const arma::uword points = (2 * degree_ + output_size - 1) / 2 + 1;
    arma::vec nodes, weights;
    quadrature(points, nodes, weights);
    const arma::mat values = evaluate(nodes.t(), 0);
    const arma::mat outputs = evaluate_up_to(output_size - 1, nodes.t(), 0);
    for (arma::uword l = 0; l < output_size; ++l) {
      const arma::rowvec w = weights.t() % outputs.row(l);
      product.slice(l) = (values.each_row() % w) * values.t();
    }

    // The integral vanishes unless i + j + l is even and |i - j| <= l <= i + j.
    for (arma::uword l = 0; l < output_size; ++l)
      for (arma::uword j = 0; j < n; ++j)
        for (arma::uword i = 0; i < n; ++i) {
          const arma::uword gap = i > j ? i - j : j - i;
          if ((i + j + l) % 2 == 1 || l < gap || l > i + j) product(i, j, l) = 0.0;
        }
  }

  product_cache_.emplace(output_size, product);
  return product;
}

void LegendreBasis::quadrature(arma::uword points, arma::vec& nodes, arma::vec& weights) const {
  if (points == 0) throw std::invalid_argument("LegendreBasis::quadrature: a Gauss rule needs at least one node");
  arma::vec s;
  gauss_legendre(points, s, weights);
  nodes = 0.5 * (lower_ + upper_) + 0.5 * (upper_ - lower_) * s;
}

std::shared_ptr<const Basis> LegendreBasis::with_degree(arma::uword degree) const {
  return std::make_shared<LegendreBasis>(degree, lower_, upper_);
}

std::vector<ParameterSpec> legendre_parameters() {
  return {
      integer_parameter("degree", 6, "highest polynomial degree p; the basis has p + 1 functions", 0, 64),
      json_parameter("domain", boost::json::array{-6, 6}, ParameterType::array,
                     "interval [lower, upper] of each coordinate; values outside it are extrapolated"),
  };
}

std::shared_ptr<LegendreBasis> make_legendre_basis(const Parameters& params) {
  const auto [lower, upper] = read_domain(params);
  const auto degree = static_cast<arma::uword>(params.integer("degree"));
  return std::make_shared<LegendreBasis>(degree, lower, upper);
}

}  // namespace hjbtt
