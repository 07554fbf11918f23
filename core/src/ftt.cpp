// Functional tensor trains: batched evaluation of values and gradients, change of degree,
// and the exact expansion of separable polynomials.
#include "hjbtt/core/ftt.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace hjbtt {

namespace {

// Points are processed in chunks so that the per-mode partial contractions (N x n r) stay
// in cache-friendly sizes and memory does not grow with the sample count.
constexpr arma::uword chunk_size = 256;

arma::mat right_unfolding(const arma::cube& core) {
  return arma::mat(const_cast<double*>(core.memptr()), core.n_rows, core.n_cols * core.n_slices, false, true);
}

arma::mat left_unfolding(const arma::cube& core) {
  return arma::mat(const_cast<double*>(core.memptr()), core.n_rows * core.n_cols, core.n_slices, false, true);
}

// W(j, b) = sum_i basis_t(j, i) * z(j, i + n b): contracts the basis values of each point with
// the partial contraction z = left * core (N x n r1).
arma::mat reduce_mode(const arma::mat& z, const arma::mat& basis_t, arma::uword r1) {
  const arma::uword n = basis_t.n_cols;
  arma::mat w(z.n_rows, r1);
  for (arma::uword b = 0; b < r1; ++b) w.col(b) = arma::sum(z.cols(n * b, n * b + n - 1) % basis_t, 1);
  return w;
}

void check_points(const FunctionalTT& f, const arma::mat& X) {
  if (X.n_rows != f.dimension())
    throw std::invalid_argument("FunctionalTT: points have " + std::to_string(X.n_rows) +
                                " rows but the function has dimension " + std::to_string(f.dimension()));
}

}  // namespace

FunctionalTT::FunctionalTT(BasisSet bases, TensorTrain coefficients)
    : bases_(std::move(bases)), coefficients_(std::move(coefficients)) {
  if (bases_.size() != coefficients_.dimension())
    throw std::invalid_argument("FunctionalTT: " + std::to_string(bases_.size()) + " bases for a tensor train of dimension " +
                                std::to_string(coefficients_.dimension()));
  for (std::size_t k = 0; k < bases_.size(); ++k)
    if (bases_[k]->size() != coefficients_.mode_size(k))
      throw std::invalid_argument("FunctionalTT: basis " + std::to_string(k) + " has " + std::to_string(bases_[k]->size()) +
                                  " functions but the core has mode size " + std::to_string(coefficients_.mode_size(k)));
}

std::vector<arma::uword> FunctionalTT::degrees() const {
  std::vector<arma::uword> p;
  for (const auto& b : bases_) p.push_back(b->degree());
  return p;
}

arma::rowvec FunctionalTT::value(const arma::mat& X) const {
  check_points(*this, X);
  const std::size_t d = dimension();
  arma::rowvec result(X.n_cols);
  for (arma::uword start = 0; start < X.n_cols; start += chunk_size) {
    const arma::uword end = std::min<arma::uword>(start + chunk_size, X.n_cols) - 1;
    arma::mat left(end - start + 1, 1, arma::fill::ones);
    for (std::size_t k = 0; k < d; ++k) {
      const arma::cube& core = coefficients_.core(k);
      const arma::mat basis_t = bases_[k]->evaluate(X.row(k).cols(start, end)).t();
      left = reduce_mode(left * right_unfolding(core), basis_t, core.n_slices);
    }
    result.cols(start, end) = left.col(0).t();
  }
  return result;
}

arma::mat FunctionalTT::gradient(const arma::mat& X) const {
  check_points(*this, X);
  const std::size_t d = dimension();
  arma::mat result(d, X.n_cols);

  // Partial contractions are stored one row per point (points x rank). Each GEMM then has the
  // chunk as its long side, and the reductions with the basis values are element-wise products
  // of contiguous columns, which the compiler vectorises over the points.
  std::vector<arma::mat> values(d), slopes(d), right(d + 1);
  arma::mat z, left, next;
  arma::vec slope, partial;
  for (arma::uword start = 0; start < X.n_cols; start += chunk_size) {
    const arma::uword end = std::min<arma::uword>(start + chunk_size, X.n_cols) - 1;
    const arma::uword m = end - start + 1;

    for (std::size_t k = 0; k < d; ++k) bases_[k]->evaluate_transposed(X.row(k).cols(start, end), values[k], slopes[k]);

    // Right sweep: right[k](j, a) contracts cores k..d-1 at point j.
    right[d].ones(m, 1);
    for (std::size_t k = d; k-- > 0;) {
      const arma::cube& core = coefficients_.core(k);
      const arma::uword r0 = core.n_rows, n = core.n_cols;
      z = right[k + 1] * left_unfolding(core).t();  // m x (r0 n), column a + r0 i
      right[k].zeros(m, r0);
      for (arma::uword i = 0; i < n; ++i) {
        const double* phi = values[k].colptr(i);
        for (arma::uword a = 0; a < r0; ++a) {
          const double* zc = z.colptr(a + r0 * i);
          double* out = right[k].colptr(a);
          for (arma::uword j = 0; j < m; ++j) out[j] += phi[j] * zc[j];
        }
      }
    }

    // Left sweep: one GEMM per mode feeds both the value contraction and the mode-k derivative.
    left.ones(m, 1);
    for (std::size_t k = 0; k < d; ++k) {
      const arma::cube& core = coefficients_.core(k);
      const arma::uword n = core.n_cols, r1 = core.n_slices;
      z = left * right_unfolding(core);  // m x (n r1), column i + n b
      next.zeros(m, r1);
      partial.zeros(m);
      for (arma::uword b = 0; b < r1; ++b) {
        slope.zeros(m);
        double* value = next.colptr(b);
        double* s = slope.memptr();
        for (arma::uword i = 0; i < n; ++i) {
          const double* zc = z.colptr(i + n * b);
          const double* phi = values[k].colptr(i);
          const double* dphi = slopes[k].colptr(i);
          for (arma::uword j = 0; j < m; ++j) {
            value[j] += phi[j] * zc[j];
            s[j] += dphi[j] * zc[j];
          }
        }
        const double* rb = right[k + 1].colptr(b);
        double* p = partial.memptr();
        for (arma::uword j = 0; j < m; ++j) p[j] += s[j] * rb[j];
      }
      for (arma::uword j = 0; j < m; ++j) result(k, start + j) = partial[j];
      std::swap(left, next);
    }
  }
  return result;
}

FunctionalTT FunctionalTT::with_bases(const BasisSet& bases) const {
  if (bases.size() != dimension()) throw std::invalid_argument("FunctionalTT::with_bases: dimension mismatch");
  TensorTrain tt = coefficients_;
  for (std::size_t k = 0; k < bases.size(); ++k) {
    if (bases[k]->lower() != bases_[k]->lower() || bases[k]->upper() != bases_[k]->upper())
      throw std::invalid_argument("FunctionalTT::with_bases: basis " + std::to_string(k) + " has another interval");
    tt.resize_mode(k, bases[k]->size());
  }
  return FunctionalTT(bases, std::move(tt));
}

arma::vec project_function(const Basis& basis, const std::function<double(double)>& f, arma::uword points) {
  arma::vec nodes, weights;
  basis.quadrature(points, nodes, weights);
  arma::vec values(nodes.n_elem);
  for (arma::uword q = 0; q < nodes.n_elem; ++q) values(q) = f(nodes(q));
  return basis.evaluate(nodes.t()) * (weights % values);
}

std::vector<arma::uword> polynomial_degrees(const SeparablePolynomial& polynomial, arma::uword dimension) {
  std::vector<arma::uword> degree(dimension, 0);
  for (const auto& term : polynomial)
    for (const auto& factor : term.factors) {
      if (factor.coordinate >= dimension)
        throw std::invalid_argument("polynomial_degrees: coordinate " + std::to_string(factor.coordinate) + " out of range");
      arma::uword q = factor.coefficients.n_elem == 0 ? 0 : factor.coefficients.n_elem - 1;
      while (q > 0 && factor.coefficients(q) == 0.0) --q;
      degree[factor.coordinate] = std::max(degree[factor.coordinate], q);
    }
  return degree;
}

FunctionalTT ftt_from_polynomial(const SeparablePolynomial& polynomial, const BasisSet& bases, double tolerance) {
  const std::size_t d = bases.size();
  const std::vector<arma::uword> degree = polynomial_degrees(polynomial, d);

  std::vector<arma::vec> constant(d);
  for (std::size_t k = 0; k < d; ++k) constant[k] = project_function(*bases[k], [](double) { return 1.0; }, bases[k]->size());

  std::vector<arma::uword> sizes(d);
  for (std::size_t k = 0; k < d; ++k) sizes[k] = bases[k]->size();
  TensorTrain sum = TensorTrain::zeros(sizes);

  // Terms are added one rank-1 tensor at a time, with a tight rounding every few terms so
  // the rank stays near that of the final result.
  std::size_t pending = 0;
  for (const auto& term : polynomial) {
    std::vector<arma::vec> factors = constant;
    for (const auto& factor : term.factors) {
      const arma::vec c = factor.coefficients;
      const arma::uword points = (degree[factor.coordinate] + bases[factor.coordinate]->degree()) / 2 + 2;
      factors[factor.coordinate] = project_function(
          *bases[factor.coordinate],
          [&c](double x) {
            double y = 0.0;
            for (arma::uword j = c.n_elem; j-- > 0;) y = y * x + c(j);
            return y;
          },
          points);
    }
    factors[0] *= term.weight;
    sum = sum + TensorTrain::rank_one(factors);
    if (++pending == 8) {
      sum.round(1e-3 * tolerance, sum.max_rank());
      pending = 0;
    }
  }
  sum.round(tolerance, std::numeric_limits<arma::uword>::max());
  return FunctionalTT(bases, std::move(sum));
}

}  // namespace hjbtt
