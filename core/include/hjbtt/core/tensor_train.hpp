// Tensor trains: a d-way coefficient tensor C[i_1..i_d] = G_1[i_1] G_2[i_2] ... G_d[i_d]
// stored as a list of cores G_k of shape r_{k-1} x n_k x r_k with r_0 = r_d = 1.
//
// A core is an arma::cube(r_{k-1}, n_k, r_k). Armadillo stores a cube column-major, so the
// same memory is both unfoldings that the algorithms need without copying:
//   left unfolding   (r_{k-1} n_k) x r_k   -- used by left-to-right QR and SVD sweeps;
//   right unfolding  r_{k-1} x (n_k r_k)   -- used by right-to-left sweeps and evaluation.
// Every sweep below is therefore a sequence of dense QR, SVD and GEMM calls on these views.
#pragma once

#include <armadillo>

#include <cstddef>
#include <vector>

namespace hjbtt {

class TensorTrain {
public:
  TensorTrain() = default;
  explicit TensorTrain(std::vector<arma::cube> cores);

  // The zero tensor with the given mode sizes, stored with all ranks 1.
  static TensorTrain zeros(const std::vector<arma::uword>& mode_sizes);

  // The rank-1 tensor f_1 (x) f_2 (x) ... (x) f_d.
  static TensorTrain rank_one(const std::vector<arma::vec>& factors);

  std::size_t dimension() const { return cores_.size(); }
  arma::uword mode_size(std::size_t k) const { return cores_[k].n_cols; }
  arma::uword rank(std::size_t k) const;  // r_k for k = 0..d
  std::vector<arma::uword> ranks() const;
  arma::uword max_rank() const;
  std::size_t parameter_count() const;

  const arma::cube& core(std::size_t k) const { return cores_[k]; }
  arma::cube& core(std::size_t k) { return cores_[k]; }
  const std::vector<arma::cube>& cores() const { return cores_; }

  // Scale in place by alpha (absorbed into the first core).
  TensorTrain& operator*=(double alpha);

  // Orthogonalise: after left_orthogonalize(k) cores 0..k-1 have orthonormal left unfoldings;
  // after right_orthogonalize(k) cores k+1..d-1 have orthonormal right unfoldings.
  void left_orthogonalize(std::size_t up_to);
  void right_orthogonalize(std::size_t down_to);

  // Truncate to relative Frobenius accuracy `tolerance` with ranks at most `max_rank`
  // (TT-SVD rounding). Returns the relative error of the truncation, computed from the
  // discarded singular values, so the caller can use it as the retraction error.
  double round(double tolerance, arma::uword max_rank);

  // Multiply the mode-k index by a matrix: G_k[a, :, b] <- A * G_k[a, :, b]. A may change n_k.
  void apply_mode_matrix(std::size_t k, const arma::mat& A);

  // Pad or cut the mode-k index to size n (zero padding, or dropping the trailing entries).
  void resize_mode(std::size_t k, arma::uword n);

  // Dense tensor in column-major order (i_1 fastest); only for tests at small d.
  arma::vec full() const;

  bool is_finite() const;

private:
  std::vector<arma::cube> cores_;
};

// Elementwise sum and linear combinations; ranks add, so callers round afterwards.
TensorTrain operator+(const TensorTrain& a, const TensorTrain& b);
TensorTrain operator-(const TensorTrain& a, const TensorTrain& b);
TensorTrain operator*(double alpha, TensorTrain a);
TensorTrain axpy(double alpha, const TensorTrain& x, const TensorTrain& y);  // alpha x + y

double dot(const TensorTrain& a, const TensorTrain& b);
double norm(const TensorTrain& a);

// The Laplace-like sum over modes: sum_k plain_1 .. applied_k .. plain_d, where plain_k and
// applied_k are cores of equal shape. Ranks double; the result is exact.
TensorTrain mode_sum(const std::vector<arma::cube>& plain, const std::vector<arma::cube>& applied);

// The Laplace-like operator sum_k (I (x) .. (x) A_k (x) .. (x) I) applied to a tensor train.
// The result has ranks 2 r_k and needs no rounding to be exact.
TensorTrain apply_mode_sum(const TensorTrain& x, const std::vector<arma::mat>& mode_matrices);

}  // namespace hjbtt
