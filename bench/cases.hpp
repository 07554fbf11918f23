// Inputs the benchmarks share (random tensor trains, Legendre bases, the HJB test state) and
// the nominal flop counts used to turn times into GFLOP/s.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/random.hpp"
#include "hjbtt/core/tensor_train.hpp"

#include <vector>

namespace hjbtt::bench {

// Ranks r_0..r_d of a tensor train with target rank r in every interior bond, capped by the
// largest rank that a d-way tensor with mode size n can have there (n^k and n^(d-k)).
std::vector<arma::uword> capped_ranks(std::size_t d, arma::uword n, arma::uword r);

// A tensor train with the capped ranks and independent standard normal entries, scaled by
// 1 / sqrt(r_{k-1} n) per core so that its norm stays of order one for any d.
TensorTrain random_tensor_train(std::size_t d, arma::uword n, arma::uword r, RandomStream& random);

// d copies of the Legendre basis of `degree` on [lower, upper].
BasisSet legendre_bases(std::size_t d, arma::uword degree, double lower, double upper);

// The HJB state the right-hand-side benchmarks use: q = |x|^2 / 2 plus a random tensor train
// of rank r scaled to 1 % of the norm of q, rounded back to ranks at most r.
TensorTrain hjb_test_state(const BasisSet& bases, arma::uword r, std::uint64_t seed);

// Nominal flops of TensorTrain::round on a tensor train with ranks `input` (r_0..r_d) and mode
// sizes `modes`, when the result has ranks `output`. The count follows the two sweeps of the
// implementation (right orthogonalisation, then a left-to-right SVD sweep) and charges each
// dense step its standard estimate, for an m x c matrix with p = min(m, c), q = max(m, c):
//   Householder QR, thin Q formed:  sum_{j<p} 4 (m - j)(c - j) + sum_{j<p} 4 (m - j)(p - j)
//                                    (= 4 m c^2 - 4 c^3 / 3 when m >= c);
//   SVD with thin U and V:          6 q p^2 + 20 p^3  (Golub and Van Loan's R-SVD count);
//   GEMM (m x k) (k x c):           2 m k c.
// LAPACK's divide-and-conquer SVD (dgesdd, which round tries first) does not follow the R-SVD
// count exactly, so the rates derived from this model are nominal: comparable between cases,
// not exact.
double round_flops(const std::vector<arma::uword>& input, const std::vector<arma::uword>& modes,
                   const std::vector<arma::uword>& output);

// Flops of dot(a, b): per mode one GEMM (r_a x r_b)(r_b x n r_b') and one
// ((r_a n) x r_a')^T ((r_a n) x r_b'), that is 2 r_a r_b n r_b' + 2 r_a n r_a' r_b'.
double dot_flops(const std::vector<arma::uword>& ranks_a, const std::vector<arma::uword>& ranks_b,
                 const std::vector<arma::uword>& modes);

// Nominal flops of one factored norm sweep (HjbOperator::projected_square_norm2 or
// full_square_norm2) for a state with ranks r_0..r_d and m = `nodes` Gauss nodes per mode. Per
// node the sweep makes 6 contractions of the first copy and 5 of the second. One contraction of
// a block with P packed rows costs 2 P r0^2 r1 + P r0 r1 (r1 + 1) flops, with P = r0 (r0 + 1) / 2
// for the first copy and r1 (r1 + 1) / 2 for the second. Mixing the nodes adds 2 GEMMs of
// 2 m^2 r1^2 r0 (r0 + 1) / 2 flops.
double factored_norm_flops(const std::vector<arma::uword>& ranks, arma::uword nodes);

// Flops per point of FunctionalTT::gradient for cores of the given ranks and mode sizes. Each
// mode costs a right-sweep GEMM (2 r0 n r1) and reduction (2 r0 n), and a left-sweep GEMM
// (2 n r1 r0) and reduction (4 n r1 + 2 r1). The basis evaluations, linear in n, are left out.
double gradient_flops_per_point(const std::vector<arma::uword>& ranks, const std::vector<arma::uword>& modes);

}  // namespace hjbtt::bench
