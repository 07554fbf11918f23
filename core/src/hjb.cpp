// The HJB right-hand side F(v) = L v - P_p |grad v|^2 on tensor-train coefficients, its
// linearisation, the projection error and a power-iteration stiffness estimate.
#include "hjbtt/core/hjb.hpp"

#include "hjbtt/core/random.hpp"

#include <cmath>
#include <stdexcept>

namespace hjbtt {

namespace {

// The r0 x r1 matrix G[:, i, :] of a core.
arma::mat mode_slice(const arma::cube& core, arma::uword i) {
  arma::mat m(core.n_rows, core.n_slices);
  for (arma::uword b = 0; b < core.n_slices; ++b) m.col(b) = core.slice(b).col(i);
  return m;
}

// The projected product of two cores: P(a + ra a', l, b + rb b') =
// sum_{i,j} M(i, j, l) X(a, i, b) Y(a', j, b'), i.e. the core of the pointwise product of the
// two functions, projected onto the first M.n_slices basis functions of the mode.
arma::cube product_core(const arma::cube& x, const arma::cube& y, const arma::cube& m) {
  const arma::uword ra = x.n_rows, rb = x.n_slices, sa = y.n_rows, sb = y.n_slices;
  const arma::uword n = x.n_cols, n_out = m.n_slices;
  arma::cube p(ra * sa, n_out, rb * sb, arma::fill::zeros);

  // x as (a, b) x i, so that mixing with M is one GEMM: t((a, b), j + n l) = sum_i x(a,i,b) M(i,j,l).
  arma::mat x_ab(ra * rb, n);
  for (arma::uword i = 0; i < n; ++i) x_ab.col(i) = arma::vectorise(mode_slice(x, i));
  const arma::mat m_flat(const_cast<double*>(m.memptr()), n, n * n_out, false, true);
  const arma::mat t = x_ab * m_flat;

  for (arma::uword l = 0; l < n_out; ++l) {
    arma::mat slice(ra * sa, rb * sb, arma::fill::zeros);
    for (arma::uword j = 0; j < n; ++j) {
      const arma::mat mixed(const_cast<double*>(t.colptr(j + n * l)), ra, rb, false, true);
      if (!mixed.is_zero()) slice += arma::kron(mode_slice(y, j), mixed);
    }
    p.col(l) = slice;
  }
  return p;
}

}  // namespace

HjbOperator::HjbOperator(BasisSet bases) : bases_(std::move(bases)) {
  for (const auto& basis : bases_) {
    derivative_.push_back(basis->derivative_matrix());
    linear_.push_back(basis->second_derivative_matrix() + basis->x_derivative_matrix());
    product_.push_back(basis->product_tensor(basis->size()));
    product_full_.push_back(basis->product_tensor(2 * basis->size() - 1));
  }
}

TensorTrain HjbOperator::linear_part(const TensorTrain& v) const { return apply_mode_sum(v, linear_); }

TensorTrain HjbOperator::projected_product_impl(const TensorTrain& u, const TensorTrain& w,
                                                const std::vector<arma::cube>& products) const {
  const std::size_t d = u.dimension();
  std::vector<arma::cube> plain(d), applied(d);
  for (std::size_t k = 0; k < d; ++k) {
    plain[k] = product_core(u.core(k), w.core(k), products[k]);
    arma::cube du_core(u.core(k).n_rows, u.core(k).n_cols, u.core(k).n_slices);
    arma::cube dw_core(w.core(k).n_rows, w.core(k).n_cols, w.core(k).n_slices);
    const arma::mat Dt = derivative_[k].t();
    for (arma::uword b = 0; b < du_core.n_slices; ++b) du_core.slice(b) = u.core(k).slice(b) * Dt;
    for (arma::uword b = 0; b < dw_core.n_slices; ++b) dw_core.slice(b) = w.core(k).slice(b) * Dt;
    applied[k] = product_core(du_core, dw_core, products[k]);
  }
  return mode_sum(plain, applied);
}

TensorTrain HjbOperator::projected_gradient_product(const TensorTrain& u, const TensorTrain& w) const {
  return projected_product_impl(u, w, product_);
}

double HjbOperator::projection_error(const TensorTrain& v, double* nonlinear_norm) const {
  return projection_error_of(v, projected_product_impl(v, v, product_), nonlinear_norm);
}

double HjbOperator::projection_error_of(const TensorTrain& v, const TensorTrain& projected, double* nonlinear_norm) const {
  // The projected product is the unprojected one with the modes above p_k dropped, so the
  // dropped part's norm follows from the two norms (the bases are orthonormal).
  const TensorTrain exact = projected_product_impl(v, v, product_full_);
  const double projected_squared = dot(projected, projected);
  const double full_squared = dot(exact, exact);
  if (nonlinear_norm) *nonlinear_norm = std::sqrt(std::max(full_squared, 0.0));
  if (full_squared <= 0.0) return 0.0;
  return std::sqrt(std::max(full_squared - projected_squared, 0.0) / full_squared);
}

RightHandSide HjbOperator::evaluate(const TensorTrain& v, bool with_projection_error) const {
  RightHandSide rhs;
  const TensorTrain nonlinear = projected_gradient_product(v, v);
  rhs.value = axpy(-1.0, nonlinear, linear_part(v));
  if (with_projection_error) {
    rhs.projection_error = projection_error_of(v, nonlinear, &rhs.nonlinear_norm);
  } else {
    rhs.nonlinear_norm = std::sqrt(std::max(dot(nonlinear, nonlinear), 0.0));
  }
  return rhs;
}

TensorTrain HjbOperator::linearization(const TensorTrain& v, const TensorTrain& w) const {
  return axpy(-2.0, projected_gradient_product(v, w), linear_part(w));
}

double HjbOperator::spectral_radius(const TensorTrain& v, TensorTrain& direction, int iterations,
                                    arma::uword rank) const {
  const std::size_t d = v.dimension();
  bool fresh = direction.dimension() != d;
  for (std::size_t k = 0; !fresh && k < d; ++k) fresh = direction.mode_size(k) != v.mode_size(k);
  if (fresh) {
    // A fixed stream: the estimate must not depend on anything but v.
    RandomStream random(0x5eed, {d});
    std::vector<arma::cube> cores(d);
    for (std::size_t k = 0; k < d; ++k) {
      const arma::uword r0 = k == 0 ? 1 : 2, r1 = k + 1 == d ? 1 : 2;
      cores[k] = arma::cube(r0, v.mode_size(k), r1);
      for (double& x : cores[k]) x = random.normal();
    }
    direction = TensorTrain(std::move(cores));
  }

  double estimate = 0.0;
  direction *= 1.0 / norm(direction);
  for (int it = 0; it < iterations; ++it) {
    TensorTrain image = linearization(v, direction);
    image.round(1e-3, rank);
    const double growth = norm(image);
    if (!std::isfinite(growth)) return growth;
    if (growth == 0.0) return estimate;
    estimate = growth;
    image *= 1.0 / growth;
    direction = std::move(image);
  }
  return estimate;
}

}  // namespace hjbtt
