// Tensor-train algebra: orthogonalisation, rounding, sums, inner products and the
// Laplace-like mode sum. All heavy work is dense QR, SVD or GEMM on core unfoldings.
#include "hjbtt/core/tensor_train.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace hjbtt {

namespace {

arma::mat left_unfolding(const arma::cube& core) {
  return arma::mat(core.memptr(), core.n_rows * core.n_cols, core.n_slices);
}

arma::mat right_unfolding(const arma::cube& core) {
  return arma::mat(core.memptr(), core.n_rows, core.n_cols * core.n_slices);
}

arma::cube cube_from(const arma::mat& m, arma::uword r0, arma::uword n, arma::uword r1) {
  return arma::cube(m.memptr(), r0, n, r1);
}

}  // namespace

TensorTrain::TensorTrain(std::vector<arma::cube> cores) : cores_(std::move(cores)) {
  for (std::size_t k = 0; k < cores_.size(); ++k) {
    const arma::uword left = k == 0 ? 1 : cores_[k - 1].n_slices;
    if (cores_[k].n_rows != left)
      throw std::invalid_argument("TensorTrain: core " + std::to_string(k) + " has left rank " +
                                  std::to_string(cores_[k].n_rows) + " but the previous core has right rank " +
                                  std::to_string(left));
  }
  if (!cores_.empty() && (cores_.front().n_rows != 1 || cores_.back().n_slices != 1))
    throw std::invalid_argument("TensorTrain: boundary ranks must be 1");
}

TensorTrain TensorTrain::zeros(const std::vector<arma::uword>& mode_sizes) {
  std::vector<arma::cube> cores;
  for (arma::uword n : mode_sizes) cores.emplace_back(1, n, 1, arma::fill::zeros);
  return TensorTrain(std::move(cores));
}

TensorTrain TensorTrain::rank_one(const std::vector<arma::vec>& factors) {
  std::vector<arma::cube> cores;
  for (const arma::vec& f : factors) {
    arma::cube c(1, f.n_elem, 1);
    c.slice(0).row(0) = f.t();
    cores.push_back(std::move(c));
  }
  return TensorTrain(std::move(cores));
}

arma::uword TensorTrain::rank(std::size_t k) const {
  if (k == 0 || k >= cores_.size()) return 1;
  return cores_[k].n_rows;
}

std::vector<arma::uword> TensorTrain::ranks() const {
  std::vector<arma::uword> r(cores_.size() + 1);
  for (std::size_t k = 0; k <= cores_.size(); ++k) r[k] = rank(k);
  return r;
}

arma::uword TensorTrain::max_rank() const {
  arma::uword r = 1;
  for (const auto& c : cores_) r = std::max(r, c.n_slices);
  return r;
}

std::size_t TensorTrain::parameter_count() const {
  std::size_t count = 0;
  for (const auto& c : cores_) count += c.n_elem;
  return count;
}

TensorTrain& TensorTrain::operator*=(double alpha) {
  if (!cores_.empty()) cores_.front() *= alpha;
  return *this;
}

void TensorTrain::left_orthogonalize(std::size_t up_to) {
  for (std::size_t k = 0; k < up_to && k + 1 < cores_.size(); ++k) {
    arma::cube& core = cores_[k];
    arma::mat q, r;
    arma::qr_econ(q, r, left_unfolding(core));
    core = cube_from(q, core.n_rows, core.n_cols, q.n_cols);

    arma::cube& next = cores_[k + 1];
    const arma::mat merged = r * right_unfolding(next);
    next = cube_from(merged, r.n_rows, next.n_cols, next.n_slices);
  }
}

void TensorTrain::right_orthogonalize(std::size_t down_to) {
  for (std::size_t k = cores_.size() - 1; k > down_to && k > 0; --k) {
    arma::cube& core = cores_[k];
    arma::mat q, r;
    arma::qr_econ(q, r, right_unfolding(core).t());
    const arma::mat qt = q.t();
    core = cube_from(qt, qt.n_rows, core.n_cols, core.n_slices);

    arma::cube& previous = cores_[k - 1];
    const arma::mat merged = left_unfolding(previous) * r.t();
    previous = cube_from(merged, previous.n_rows, previous.n_cols, r.n_rows);
  }
}

double TensorTrain::round(double tolerance, arma::uword max_rank) {
  const std::size_t d = cores_.size();
  if (d <= 1) return 0.0;

  // After right orthogonalisation the whole norm sits in the first core, and the singular
  // values of each left unfolding in the sweep below are those of the full tensor's unfolding.
  right_orthogonalize(0);
  const double total = arma::norm(arma::vectorise(cores_[0]), 2);
  if (!std::isfinite(total)) throw std::runtime_error("TensorTrain::round: the tensor has non-finite entries");
  if (total == 0.0) {
    for (auto& c : cores_) c = arma::cube(1, c.n_cols, 1, arma::fill::zeros);
    return 0.0;
  }
  const double threshold = tolerance * total / std::sqrt(static_cast<double>(d - 1));

  double discarded_squared = 0.0;
  for (std::size_t k = 0; k + 1 < d; ++k) {
    arma::cube& core = cores_[k];
    arma::mat u, v;
    arma::vec s;
    if (!arma::svd_econ(u, s, v, left_unfolding(core), "both", "dc") &&
        !arma::svd_econ(u, s, v, left_unfolding(core), "both", "std"))
      throw std::runtime_error("TensorTrain::round: SVD failed (non-finite core?)");

    // Smallest rank whose discarded tail stays below the per-step threshold, then the cap.
    arma::uword keep = s.n_elem;
    double tail = 0.0;
    while (keep > 1 && tail + s(keep - 1) * s(keep - 1) <= threshold * threshold) {
      tail += s(keep - 1) * s(keep - 1);
      --keep;
    }
    keep = std::min(keep, max_rank);
    keep = std::max<arma::uword>(keep, 1);
    discarded_squared += arma::accu(arma::square(s.tail(s.n_elem - keep)));

    const arma::mat u_kept = u.cols(0, keep - 1);
    core = cube_from(u_kept, core.n_rows, core.n_cols, keep);

    arma::cube& next = cores_[k + 1];
    const arma::mat carry = arma::diagmat(s.head(keep)) * v.cols(0, keep - 1).t();
    const arma::mat merged = carry * right_unfolding(next);
    next = cube_from(merged, keep, next.n_cols, next.n_slices);
  }
  return std::sqrt(discarded_squared) / total;
}

void TensorTrain::apply_mode_matrix(std::size_t k, const arma::mat& A) {
  arma::cube& core = cores_[k];
  if (A.n_cols != core.n_cols)
    throw std::invalid_argument("TensorTrain::apply_mode_matrix: matrix has " + std::to_string(A.n_cols) +
                                " columns but mode " + std::to_string(k) + " has size " + std::to_string(core.n_cols));
  arma::cube result(core.n_rows, A.n_rows, core.n_slices);
  const arma::mat At = A.t();
  for (arma::uword b = 0; b < core.n_slices; ++b) result.slice(b) = core.slice(b) * At;
  core = std::move(result);
}

void TensorTrain::resize_mode(std::size_t k, arma::uword n) {
  arma::cube& core = cores_[k];
  arma::cube result(core.n_rows, n, core.n_slices, arma::fill::zeros);
  const arma::uword common = std::min<arma::uword>(n, core.n_cols);
  if (common > 0) result.cols(0, common - 1) = core.cols(0, common - 1);
  core = std::move(result);
}

arma::vec TensorTrain::full() const {
  arma::mat m(1, 1, arma::fill::ones);
  for (const auto& core : cores_) {
    const arma::mat z = m * right_unfolding(core);
    m = arma::mat(z.memptr(), m.n_rows * core.n_cols, core.n_slices);
  }
  return arma::vectorise(m);
}

bool TensorTrain::is_finite() const {
  for (const auto& c : cores_)
    if (!c.is_finite()) return false;
  return true;
}

TensorTrain operator+(const TensorTrain& a, const TensorTrain& b) { return axpy(1.0, a, b); }

TensorTrain operator-(const TensorTrain& a, const TensorTrain& b) { return axpy(-1.0, b, a); }

TensorTrain operator*(double alpha, TensorTrain a) {
  a *= alpha;
  return a;
}

TensorTrain axpy(double alpha, const TensorTrain& x, const TensorTrain& y) {
  const std::size_t d = x.dimension();
  if (d != y.dimension()) throw std::invalid_argument("axpy: tensor trains of different dimension");
  if (d == 1) {
    arma::cube c = alpha * x.core(0) + y.core(0);
    return TensorTrain({c});
  }

  // Block-diagonal cores, with the first core concatenated along its right rank and the last
  // along its left rank, represent the sum exactly.
  std::vector<arma::cube> cores(d);
  for (std::size_t k = 0; k < d; ++k) {
    const arma::cube& a = x.core(k);
    const arma::cube& b = y.core(k);
    if (a.n_cols != b.n_cols) throw std::invalid_argument("axpy: mode sizes differ in mode " + std::to_string(k));
    const arma::uword r0 = k == 0 ? 1 : a.n_rows + b.n_rows;
    const arma::uword r1 = k + 1 == d ? 1 : a.n_slices + b.n_slices;
    arma::cube c(r0, a.n_cols, r1, arma::fill::zeros);
    const arma::uword row_b = k == 0 ? 0 : a.n_rows;
    const arma::uword slice_b = k + 1 == d ? 0 : a.n_slices;
    c.subcube(0, 0, 0, a.n_rows - 1, a.n_cols - 1, a.n_slices - 1) = k == 0 ? alpha * a : a;
    c.subcube(row_b, 0, slice_b, row_b + b.n_rows - 1, b.n_cols - 1, slice_b + b.n_slices - 1) = b;
    cores[k] = std::move(c);
  }
  return TensorTrain(std::move(cores));
}

double dot(const TensorTrain& a, const TensorTrain& b) {
  if (a.dimension() != b.dimension()) throw std::invalid_argument("dot: tensor trains of different dimension");
  arma::mat w(1, 1, arma::fill::ones);
  for (std::size_t k = 0; k < a.dimension(); ++k) {
    const arma::cube& ca = a.core(k);
    const arma::cube& cb = b.core(k);
    const arma::mat z = w * right_unfolding(cb);  // r_a x (n r_b)
    const arma::mat z_left(z.memptr(), ca.n_rows * ca.n_cols, cb.n_slices);
    w = left_unfolding(ca).t() * z_left;
  }
  return w(0, 0);
}

double norm(const TensorTrain& a) {
  TensorTrain copy = a;
  if (copy.dimension() == 0) return 0.0;
  copy.right_orthogonalize(0);
  return arma::norm(arma::vectorise(copy.core(0)), 2);
}

TensorTrain mode_sum(const std::vector<arma::cube>& plain, const std::vector<arma::cube>& applied) {
  const std::size_t d = plain.size();
  if (applied.size() != d || d == 0) throw std::invalid_argument("mode_sum: one plain and one applied core per mode expected");
  if (d == 1) return TensorTrain({applied[0]});

  // A rank index carries a state: 0 while no mode has been touched yet, 1 once one has.
  // Each path through the cores applies the operator in exactly one mode.
  std::vector<arma::cube> cores(d);
  for (std::size_t k = 0; k < d; ++k) {
    const arma::cube& g = plain[k];
    const arma::cube& a = applied[k];
    if (arma::size(g) != arma::size(a)) throw std::invalid_argument("mode_sum: plain and applied cores differ in shape in mode " + std::to_string(k));
    const arma::uword r0 = g.n_rows, n = g.n_cols, r1 = g.n_slices;
    if (k == 0) {
      arma::cube c(1, n, 2 * r1);
      c.slices(0, r1 - 1) = g;
      c.slices(r1, 2 * r1 - 1) = a;
      cores[k] = std::move(c);
    } else if (k + 1 == d) {
      arma::cube c(2 * r0, n, 1);
      c.rows(0, r0 - 1) = a;
      c.rows(r0, 2 * r0 - 1) = g;
      cores[k] = std::move(c);
    } else {
      arma::cube c(2 * r0, n, 2 * r1, arma::fill::zeros);
      c.subcube(0, 0, 0, r0 - 1, n - 1, r1 - 1) = g;
      c.subcube(0, 0, r1, r0 - 1, n - 1, 2 * r1 - 1) = a;
      c.subcube(r0, 0, r1, 2 * r0 - 1, n - 1, 2 * r1 - 1) = g;
      cores[k] = std::move(c);
    }
  }
  return TensorTrain(std::move(cores));
}

TensorTrain apply_mode_sum(const TensorTrain& x, const std::vector<arma::mat>& mode_matrices) {
  const std::size_t d = x.dimension();
  if (mode_matrices.size() != d) throw std::invalid_argument("apply_mode_sum: one matrix per mode expected");
  std::vector<arma::cube> applied(d);
  for (std::size_t k = 0; k < d; ++k) {
    if (mode_matrices[k].n_rows != x.mode_size(k) || mode_matrices[k].n_cols != x.mode_size(k))
      throw std::invalid_argument("apply_mode_sum: mode matrix " + std::to_string(k) + " must be square of the mode size");
    applied[k] = x.core(k);
    const arma::mat At = mode_matrices[k].t();
    for (arma::uword b = 0; b < applied[k].n_slices; ++b) applied[k].slice(b) = x.core(k).slice(b) * At;
  }
  return mode_sum(x.cores(), applied);
}

}  // namespace hjbtt
