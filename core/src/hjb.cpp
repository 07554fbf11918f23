// The HJB right-hand side F(v) = L v - P_p |grad v|^2 on tensor-train coefficients, its
// linearisation, the projection error and a power-iteration stiffness estimate, and the
// compressed assembly of F(v) that works on the Kronecker factors of the squared gradient.
#include "hjbtt/core/hjb.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace hjbtt {

// Internal types of the factored squared gradient. They sit outside the anonymous namespace
// because SketchedEulerStep::Data stores them.
namespace factored {

// The nodal cores of v and of its derivative in every mode, for one family of rules, and for
// modes of small rank also the projected product cores themselves (r0^2 x n x r1^2; empty for
// the other modes). At small ranks one GEMM with a formed product core is cheaper than the
// per-node contractions, whose BLAS calls are then too small to run fast.
struct NodalCores {
  std::vector<arma::cube> plain, applied;
  std::vector<arma::cube> plain_product, applied_product;
};

// Right contractions of a sketch with the rank blocks of F (see sketch_from_right).
struct RightSketch {
  std::vector<arma::mat> linear;                 // bond k: rank of L v x l_k
  std::vector<std::array<arma::mat, 2>> square;  // bond k: l_k x r_k^2 per state (transposed)
};

}  // namespace factored

namespace {

using factored::NodalCores;
using factored::RightSketch;

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

// Rounding error charged to |F|^2 - |Pi F|^2, a difference of two computed squares: 10 d eps
// (|L v| + |P N|)^2. NOTE: an estimate, not a proven bound. With the sketch at full rank, where
// the difference is rounding alone, it came out at most 0.6 d eps (|L v| + |P N|)^2 for
// d = 4 .. 40, ranks 3 .. 8 and degrees 2 .. 8.
double rounding_allowance2(std::size_t d, double scale) {
  return 10.0 * static_cast<double>(d) * std::numeric_limits<double>::epsilon() * scale * scale;
}

// ---------------------------------------------------------------------------------------------
// Factored squared gradient. With a Gauss rule that reproduces the triple products, the
// projected product core of a TT core G with itself is
//   P(a + r0 a', l, b + r1 b') = sum_q C(l, q) X_q(a, b) X_q(a', b'),
// where X_q = sum_i G(:, i, :) phi_i(x_q) is the core at node q and C(l, q) = w_q phi_l(x_q).
// The helpers below contract such cores through the r x r factors X_q and never form the
// r^2 x r^2 slices.

// The core at every node: cube(r0, r1, m) whose slice q is sum_i G(:, i, :) basis(i, q).
arma::cube nodal_core(const arma::cube& core, const arma::mat& basis) {
  const arma::uword r0 = core.n_rows, n = core.n_cols, r1 = core.n_slices;
  arma::mat by_index(r0 * r1, n);
  for (arma::uword i = 0; i < n; ++i) by_index.col(i) = arma::vectorise(mode_slice(core, i));
  const arma::mat nodal = by_index * basis;
  return arma::cube(nodal.memptr(), r0, r1, basis.n_cols);
}

// C = op(A) op(B) + beta C through Armadillo's BLAS binding, for the strided outputs that
// arma::mat views cannot express. Matrices are column-major with leading dimensions lda, ldb, ldc.
void gemm(bool trans_a, bool trans_b, arma::uword m, arma::uword n, arma::uword k, const double* a, arma::uword lda,
          const double* b, arma::uword ldb, double beta, double* c, arma::uword ldc) {
  if (m == 0 || n == 0) return;
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const auto bm = static_cast<arma::blas_int>(m), bn = static_cast<arma::blas_int>(n), bk = static_cast<arma::blas_int>(k);
  const auto blda = static_cast<arma::blas_int>(std::max<arma::uword>(lda, 1));
  const auto bldb = static_cast<arma::blas_int>(std::max<arma::uword>(ldb, 1));
  const auto bldc = static_cast<arma::blas_int>(std::max<arma::uword>(ldc, 1));
  const double one = 1.0;
  arma::blas::gemm<double>(&ta, &tb, &bm, &bn, &bk, &one, a, &blda, b, &bldb, &beta, c, &bldc);
}

// Scratch memory reused across the many small contractions of one sweep, so that they do not
// allocate (and fault in fresh pages) on every call.
class Workspace {
public:
  double* get(std::size_t slot, std::size_t size) {
    if (buffers_.size() <= slot) buffers_.resize(slot + 1);
    if (buffers_[slot].size() < size) buffers_[slot].resize(size);
    return buffers_[slot].data();
  }

private:
  std::vector<std::vector<double>> buffers_;
};

// out(i, c + r1 c') (+)= sum_{e, e'} in(i, e + r0 e') x(e, c) x(e', c'): (x (x) x) applied to the
// column index of `in` (rows x r0^2), for x of size r0 x r1. Two GEMM stages, 2 rows r0 r1 (r0 + r1)
// flops; the inner dimension of both is r0.
void contract_columns(const double* in, arma::uword rows, const arma::mat& x, double* out, bool accumulate, Workspace& work) {
  const arma::uword r0 = x.n_rows, r1 = x.n_cols;
  double* half = work.get(0, rows * r0 * r1);  // (i, e) x c'
  gemm(false, false, rows * r0, r1, r0, in, rows * r0, x.memptr(), r0, 0.0, half, rows * r0);
  for (arma::uword c = 0; c < r1; ++c)
    gemm(false, false, rows, r1, r0, half + c * rows * r0, rows, x.memptr(), r0, accumulate ? 1.0 : 0.0, out + c * r1 * rows, rows);
}

// Symmetric index pairs. Every block of the norm sweep is symmetric in each of its two index
// pairs (a, a') and (e, e'), because each copy multiplies a core with itself. A pair that is
// only carried along is therefore stored packed: (a, a') with a <= a' at a + a' (a' + 1) / 2.
arma::uword packed_size(arma::uword r) { return r * (r + 1) / 2; }
arma::uword packed_index(arma::uword a, arma::uword b) { return a <= b ? a + b * (b + 1) / 2 : b + a * (a + 1) / 2; }

// out(c + r1 c', i) (+)= sum_{e, e'} x(e, c) x(e', c') in(i, e + r0 e') for c <= c' only, out of
// size r1^2 x rows (the entries with c > c' are left as they are). For symmetric in(i, ., .) the
// result is symmetric in (c, c'), so the other half carries no information. Two GEMM stages
// of 2 rows r0^2 r1 and about rows r0 r1^2 flops. A single GEMM for the whole second stage,
// which computes both halves, took 1.7 to 2.0 s of CPU time against 1.5 s for one norm sweep
// at d = 10, r = 32.
void contract_pair_upper(const double* in, arma::uword rows, const arma::mat& x, double* out, bool accumulate,
                         Workspace& work) {
  const arma::uword r0 = x.n_rows, r1 = x.n_cols;
  double* half = work.get(0, rows * r0 * r1);  // (i, e) x c'
  gemm(false, false, rows * r0, r1, r0, in, rows * r0, x.memptr(), r0, 0.0, half, rows * r0);
  for (arma::uword c = 0; c < r1; ++c)
    gemm(true, true, c + 1, rows, r0, x.memptr(), r0, half + c * rows * r0, rows, accumulate ? 1.0 : 0.0, out + c * r1,
         r1 * r1);
}

// From a block with the pair (b, b') as rows (r1^2, upper half valid) and a packed pair as
// columns to the block with (b, b') packed as rows and the other pair unpacked as columns (r0^2).
void repack(const double* in, arma::uword r1, arma::uword r0, double* out) {
  const arma::uword rows = packed_size(r1), in_rows = r1 * r1;
  for (arma::uword e2 = 0; e2 < r0; ++e2)
    for (arma::uword e1 = 0; e1 < r0; ++e1) {
      const double* source = in + packed_index(e1, e2) * in_rows;
      double* target = out + (e1 + r0 * e2) * rows;
      for (arma::uword b2 = 0; b2 < r1; ++b2)
        for (arma::uword b1 = 0; b1 <= b2; ++b1) *target++ = source[b1 + r1 * b2];
    }
}

// Squared Frobenius norm of the product train sum_k (v_1 (x) v_1) .. (d_k v (x) d_k v) .. , each
// core projected by its rule (all of P N for the projected rules, N for the full ones).
//
// The left contraction carries one block per pair of states (derivative taken yet or not) of
// the two copies A and B. The (A 1, B 0) block is the (A 0, B 1) block with the copies swapped,
// so it is not stored. A block is stored with B's pair packed as rows and A's pair as columns.
// Per mode, A's factors are applied at every node, which makes A's new pair the rows. The nodes
// are then mixed by the rule's Gram matrix, and after a repack B's factors are applied and
// summed over the nodes. That is 11 contractions per node of about 1.5 r^5 flops each.
double product_norm2(const NodalCores& cores, const std::vector<arma::mat>& grams) {
  const std::size_t d = cores.plain.size();
  Workspace work;
  // state[0] = (A 0, B 0), state[1] = (A 0, B 1), state[2] = (A 1, B 1).
  std::array<arma::mat, 3> state = {arma::mat(1, 1, arma::fill::ones), arma::mat(1, 1, arma::fill::zeros),
                                    arma::mat(1, 1, arma::fill::zeros)};
  for (std::size_t k = 0; k < d; ++k) {
    const arma::cube& plain = cores.plain[k];
    const arma::cube& applied = cores.applied[k];
    const arma::uword r0 = plain.n_rows, r1 = plain.n_cols, m = plain.n_slices;
    const arma::uword packed0 = packed_size(r0), packed1 = packed_size(r1);
    const arma::uword block = r1 * r1 * packed0;
    const bool last = k + 1 == d;

    // (A 1, B 0) is (A 0, B 1) with the copies swapped: swapped(p(e, e'), (a, a')) = state[1](p(a, a'), (e, e')).
    arma::mat swapped(packed0, r0 * r0);
    for (arma::uword a2 = 0; a2 < r0; ++a2)
      for (arma::uword a1 = 0; a1 < r0; ++a1)
        for (arma::uword e2 = 0; e2 < r0; ++e2)
          for (arma::uword e1 = 0; e1 <= e2; ++e1)
            swapped(packed_index(e1, e2), a1 + r0 * a2) = state[1](packed_index(a1, a2), e1 + r0 * e2);
    const arma::mat* from[2][2] = {{&state[0], &state[1]}, {&swapped, &state[2]}};

    std::array<arma::mat, 3> next;
    for (int t = last ? 1 : 0; t < 2; ++t) {
      // A to state t, for either state s' of B: per node r1^2 x packed0, rows (b, b').
      arma::mat mixed[2];
      for (int s = 0; s < 2; ++s) {
        arma::mat blocks(work.get(1 + s, block * m), block, m, false, true);
        for (arma::uword q = 0; q < m; ++q) {
          double* out = blocks.colptr(q);
          if (t == 0) {
            contract_pair_upper(from[0][s]->memptr(), packed0, plain.slice(q), out, false, work);
          } else {
            contract_pair_upper(from[0][s]->memptr(), packed0, applied.slice(q), out, false, work);
            contract_pair_upper(from[1][s]->memptr(), packed0, plain.slice(q), out, true, work);
          }
        }
        const arma::mat by_node = blocks * grams[k];
        mixed[s].set_size(packed1 * r0 * r0, m);
        for (arma::uword q = 0; q < m; ++q) repack(by_node.colptr(q), r1, r0, mixed[s].colptr(q));
      }

      // B to state 0 by the plain core from s' = 0, to state 1 by the plain core from s' = 1 or
      // the derivative core from s' = 0. The results have B's new pair as rows (upper half).
      arma::mat to0(r1 * r1, packed1, arma::fill::zeros), to1(r1 * r1, packed1, arma::fill::zeros);
      for (arma::uword q = 0; q < m; ++q) {
        const double* from0 = mixed[0].colptr(q);
        const double* from1 = mixed[1].colptr(q);
        if (t == 0) contract_pair_upper(from0, packed1, plain.slice(q), to0.memptr(), true, work);
        contract_pair_upper(from1, packed1, plain.slice(q), to1.memptr(), true, work);
        contract_pair_upper(from0, packed1, applied.slice(q), to1.memptr(), true, work);
      }
      const auto store = [&](const arma::mat& result) {
        arma::mat packed(packed1, r1 * r1);
        repack(result.memptr(), r1, r1, packed.memptr());
        return packed;
      };
      if (t == 0) {
        next[0] = store(to0);
        next[1] = store(to1);
      } else {
        next[2] = store(to1);
      }
    }
    state = std::move(next);
  }
  return state[2](0, 0);
}

// One step of the right contraction of the projected squared gradient with a tensor train w
// of ranks g, stored transposed: from next[t] (g_{k+1} x r_{k+1}^2, state t at bond k + 1) to
// the blocks at bond k. State 1 at a bond means that the derivative was taken in a mode before
// it, so out[0] = plain(next[0]) + applied(next[1]) and out[1] = plain(next[1]).
std::array<arma::mat, 2> right_step(const NodalCores& cores, std::size_t k, const arma::cube& w_core,
                                    const arma::mat& projection, const std::array<arma::mat, 2>& next, Workspace& work) {
  const arma::cube& plain = cores.plain[k];
  const arma::cube& applied = cores.applied[k];
  const arma::uword r0 = plain.n_rows, m = plain.n_slices;

  if (!cores.plain_product[k].is_empty()) {
    // Formed product cores: out[s] = sum_l w_l next[t] P_l^T with P_l = P(:, l, :).
    const arma::uword g0 = w_core.n_rows;
    arma::mat to0(g0, r0 * r0, arma::fill::zeros), to1(g0, r0 * r0, arma::fill::zeros);
    for (arma::uword l = 0; l < w_core.n_cols; ++l) {
      const arma::mat w_l = mode_slice(w_core, l);
      const arma::mat from0 = w_l * next[0], from1 = w_l * next[1];
      const arma::mat plain_l = mode_slice(cores.plain_product[k], l), applied_l = mode_slice(cores.applied_product[k], l);
      to0 += from0 * plain_l.t() + from1 * applied_l.t();
      to1 += from1 * plain_l.t();
    }
    return {std::move(to0), std::move(to1)};
  }

  const arma::cube w_nodal = nodal_core(w_core, projection);  // g0 x g1 per node
  const arma::uword g0 = w_nodal.n_rows;
  arma::mat to0(g0, r0 * r0, arma::fill::zeros), to1(g0, r0 * r0, arma::fill::zeros);
  for (arma::uword q = 0; q < m; ++q) {
    const arma::mat from0 = w_nodal.slice(q) * next[0];
    const arma::mat from1 = w_nodal.slice(q) * next[1];
    const arma::mat plain_t = plain.slice(q).t(), applied_t = applied.slice(q).t();
    contract_columns(from0.memptr(), g0, plain_t, to0.memptr(), true, work);
    contract_columns(from1.memptr(), g0, applied_t, to0.memptr(), true, work);
    contract_columns(from1.memptr(), g0, plain_t, to1.memptr(), true, work);
  }
  return {std::move(to0), std::move(to1)};
}

// <w, P N(v)> for a tensor train w, in O(d m (r^2 g^2 + r^3 g)) flops.
double inner_product_with_square(const NodalCores& cores, const TensorTrain& w, const std::vector<arma::mat>& projections) {
  const std::size_t d = cores.plain.size();
  Workspace work;
  std::array<arma::mat, 2> right = {arma::mat(1, 1, arma::fill::zeros), arma::mat(1, 1, arma::fill::ones)};
  for (std::size_t k = d; k-- > 0;) right = right_step(cores, k, w.core(k), projections[k], right, work);
  return right[0](0, 0);
}

// The left unfolding (l n) x r1^2 of the squared-gradient part of H F_k, from its values at the
// nodes (column q of `nodes` holds the l x r1^2 block at node q) mixed to coefficients by C.
arma::mat coefficient_unfolding(const arma::mat& nodes, const arma::mat& projection, arma::uword l, arma::uword width) {
  const arma::uword n = projection.n_rows;
  const arma::mat coefficients = nodes * projection.t();  // (c, beta) x l
  arma::mat unfolding(l * n, width);
  for (arma::uword beta = 0; beta < width; ++beta)
    for (arma::uword i = 0; i < n; ++i)
      unfolding.col(beta).subvec(i * l, i * l + l - 1) = coefficients.col(i).subvec(beta * l, beta * l + l - 1);
  return unfolding;
}

// Contractions of a Gaussian sketch of ranks l_k with the rank blocks of F = L v - P N(v) from
// the right: the linear part (a plain TT) and the two state blocks of the squared gradient
// (through the nodal factors). Only their ranges matter, so each bond is rescaled.
RightSketch sketch_from_right(const TensorTrain& linear, const NodalCores& cores, const std::vector<arma::mat>& projections,
                              arma::uword sketch_rank, RandomStream& random) {
  const std::size_t d = linear.dimension();

  // Sketch ranks: at most sketch_rank, the rank of F at the bond, and the dimension of either side.
  std::vector<arma::uword> ranks(d + 1, 1);
  for (std::size_t k = 1; k < d; ++k) {
    const arma::uword r = cores.plain[k].n_rows;
    const arma::uword limit = std::min<arma::uword>(sketch_rank, linear.rank(k) + 2 * r * r);
    arma::uword left = 1, right = 1;
    for (std::size_t j = 0; j < k && left < limit; ++j) left *= linear.mode_size(j);
    for (std::size_t j = k; j < d && right < limit; ++j) right *= linear.mode_size(j);
    ranks[k] = std::min({limit, left, right});
  }
  std::vector<arma::cube> sketch(d);
  for (std::size_t k = 0; k < d; ++k) {
    sketch[k].set_size(ranks[k], linear.mode_size(k), ranks[k + 1]);
    for (double& x : sketch[k]) x = random.normal();
  }

  Workspace work;
  RightSketch right;
  right.linear.resize(d + 1);
  right.square.resize(d + 1);
  right.linear[d] = arma::mat(1, 1, arma::fill::ones);
  right.square[d] = {arma::mat(1, 1, arma::fill::zeros), arma::mat(1, 1, arma::fill::ones)};
  for (std::size_t k = d - 1; k >= 1; --k) {
    const arma::cube& lk = linear.core(k);
    arma::mat contracted(lk.n_rows, ranks[k], arma::fill::zeros);
    for (arma::uword i = 0; i < lk.n_cols; ++i)
      contracted += mode_slice(lk, i) * right.linear[k + 1] * mode_slice(sketch[k], i).t();
    right.linear[k] = std::move(contracted);
    right.square[k] = right_step(cores, k, sketch[k], projections[k], right.square[k + 1], work);

    const double scale = std::max({arma::norm(right.linear[k], "fro"), arma::norm(right.square[k][0], "fro"),
                                   arma::norm(right.square[k][1], "fro")});
    if (scale > 0.0) {
      right.linear[k] /= scale;
      right.square[k][0] /= scale;
      right.square[k][1] /= scale;
    }
  }
  return right;
}

// Result of the left sweep: Pi (base + tau F) with left-orthonormal cores, and the squared
// norms of Pi base and Pi (tau F), the two parts of its last core.
struct SketchedProjection {
  TensorTrain value;
  TensorTrain base_part;  // Pi base, for the distance |base - Pi base|; empty without a base
  double update_kept2 = 0.0;
};

// Left-to-right sweep of the randomised rounding of base + tau F. At mode k the blocks of
// H_{k-1} (base, L v, P N) are multiplied into the cores of mode k; the base block and the
// product of the F blocks with the right sketch of bond k + 1 are orthogonalised together by QR,
// and H_k = Q_k^T (H_{k-1} core_k) carries the rest on. Because the base block is in every Q_k,
// Pi keeps the base exactly (up to rounding); the sketch decides what Pi keeps of F. Pi is the
// orthogonal projection onto the tensors whose unfolding at bond d - 1 has its columns in the
// span of Q_1 .. Q_{d-1}. Cost per mode O(m r^3 l + n r^2 l^2) for sketch rank l.
SketchedProjection sweep_from_left(const TensorTrain* base, double tau, const TensorTrain& linear, const NodalCores& cores,
                                   const std::vector<arma::mat>& projections, const RightSketch& right) {
  const std::size_t d = linear.dimension();
  const auto block_product = [](const arma::mat& h, const arma::cube& core) {
    const arma::mat core_right(const_cast<double*>(core.memptr()), core.n_rows, core.n_cols * core.n_slices, false, true);
    arma::mat product = h * core_right;  // the left unfolding (l n) x r1 in the same memory
    product.reshape(h.n_rows * core.n_cols, core.n_slices);
    return product;
  };

  // H = [H_base | H_linear | H_0 | H_1], the coefficients tau and -tau folded into the start.
  arma::mat h_base(1, 1, arma::fill::ones), h_linear(1, 1), h0(1, 1), h1(1, 1, arma::fill::zeros);
  h_linear(0, 0) = tau;
  h0(0, 0) = -tau;
  std::vector<arma::cube> result(d), base_part(d);
  SketchedProjection out;
  Workspace work;
  for (std::size_t k = 0; k < d; ++k) {
    const arma::cube& plain = cores.plain[k];
    const arma::cube& applied = cores.applied[k];
    const arma::uword l = h_linear.n_rows, n = linear.mode_size(k), r1 = plain.n_cols, m = plain.n_slices;

    const arma::mat y_linear = block_product(h_linear, linear.core(k));
    const arma::mat y_base = base ? block_product(h_base, base->core(k)) : arma::mat();
    const bool formed = !cores.plain_product[k].is_empty();
    arma::mat nodes0, nodes1, y0, y1;
    if (formed) {
      y0 = block_product(h0, cores.plain_product[k]);
      y1 = block_product(h0, cores.applied_product[k]) + block_product(h1, cores.plain_product[k]);
    } else {
      nodes0.set_size(l * r1 * r1, m);
      nodes1.set_size(l * r1 * r1, m);
      for (arma::uword q = 0; q < m; ++q) {
        contract_columns(h0.memptr(), l, plain.slice(q), nodes0.colptr(q), false, work);
        contract_columns(h0.memptr(), l, applied.slice(q), nodes1.colptr(q), false, work);
        contract_columns(h1.memptr(), l, plain.slice(q), nodes1.colptr(q), true, work);
      }
      y1 = coefficient_unfolding(nodes1, projections[k], l, r1 * r1);
    }

    if (k + 1 == d) {
      // Only paths that took the derivative end in state 1.
      const arma::mat update = y_linear + y1;
      out.update_kept2 = arma::accu(arma::square(update));
      const arma::mat last = base ? arma::mat(y_base + update) : update;
      result[k] = arma::cube(last.memptr(), l, n, 1);
      if (base) base_part[k] = arma::cube(y_base.memptr(), l, n, 1);
      break;
    }
    if (!formed) y0 = coefficient_unfolding(nodes0, projections[k], l, r1 * r1);

    const arma::mat sketched =
        y_linear * right.linear[k + 1] + y0 * right.square[k + 1][0].t() + y1 * right.square[k + 1][1].t();
    arma::mat q_factor, r_factor;
    if (!arma::qr_econ(q_factor, r_factor, base ? arma::mat(arma::join_rows(y_base, sketched)) : sketched))
      throw std::runtime_error("HjbOperator: QR of a sketched unfolding failed; the state has non-finite coefficients "
                               "or the sketch overflowed");
    result[k] = arma::cube(q_factor.memptr(), l, n, q_factor.n_cols);
    if (base) base_part[k] = result[k];
    h_linear = q_factor.t() * y_linear;
    h0 = q_factor.t() * y0;
    h1 = q_factor.t() * y1;
    if (base) h_base = q_factor.t() * y_base;
  }
  out.value = TensorTrain(std::move(result));
  if (base) out.base_part = TensorTrain(std::move(base_part));
  return out;
}

// Largest r0 r1 of a mode whose projected product cores are formed (see NodalCores).
constexpr arma::uword formed_product_limit = 36;

template <class Rule>
NodalCores nodal_cores(const TensorTrain& v, const std::vector<Rule>& rules) {
  NodalCores cores;
  for (std::size_t k = 0; k < v.dimension(); ++k) {
    cores.plain.push_back(nodal_core(v.core(k), rules[k].values));
    cores.applied.push_back(nodal_core(v.core(k), rules[k].derivatives));
  }
  cores.plain_product.resize(v.dimension());
  cores.applied_product.resize(v.dimension());
  return cores;
}

// nodal_cores with the projected product cores formed in the modes of small rank.
template <class Rule>
NodalCores nodal_cores(const TensorTrain& v, const std::vector<Rule>& rules, const std::vector<arma::cube>& products,
                       const std::vector<arma::mat>& derivatives) {
  NodalCores cores = nodal_cores(v, rules);
  for (std::size_t k = 0; k < v.dimension(); ++k) {
    const arma::cube& core = v.core(k);
    if (core.n_rows * core.n_slices > formed_product_limit) continue;
    arma::cube derivative(core.n_rows, core.n_cols, core.n_slices);
    const arma::mat Dt = derivatives[k].t();
    for (arma::uword b = 0; b < core.n_slices; ++b) derivative.slice(b) = core.slice(b) * Dt;
    cores.plain_product[k] = product_core(core, core, products[k]);
    cores.applied_product[k] = product_core(derivative, derivative, products[k]);
  }
  return cores;
}

template <class Rule>
std::vector<arma::mat> rule_member(const std::vector<Rule>& rules, arma::mat Rule::*member) {
  std::vector<arma::mat> out;
  for (const Rule& rule : rules) out.push_back(rule.*member);
  return out;
}

}  // namespace

arma::mat viscosity_matrix(const Basis& basis, const SpectralViscosity& viscosity) {
  const arma::uword p = basis.degree(), n = basis.size();
  arma::mat damping(n, n, arma::fill::zeros);
  if (!(viscosity.strength > 0.0)) return damping;
  const arma::uword m = std::max<arma::uword>(2, static_cast<arma::uword>(std::floor(viscosity.cutoff * double(p))));
  for (arma::uword i = m + 1; i <= p; ++i) {
    const double s = double(i - m) / double(p - m);
    damping(i, i) = viscosity.strength * s * s;
  }
  return damping;
}

bool viscosity_acts(const BasisSet& bases, const SpectralViscosity& viscosity) {
  for (const auto& basis : bases)
    if (arma::norm(viscosity_matrix(*basis, viscosity), "inf") > 0.0) return true;
  return false;
}

void warn_if_viscosity_inactive(const BasisSet& bases, const SpectralViscosity& viscosity, const std::string& integrator,
                                const RunContext& context) {
  if (!(viscosity.strength > 0.0) || viscosity_acts(bases, viscosity) || !context.log) return;
  context.log->info(integrator + ": warning: viscosity " + format_number(viscosity.strength) +
                    " damps no degree of these bases (cutoff " + format_number(viscosity.cutoff) +
                    ", and degrees <= 2 are never damped), so it has no effect at these degrees");
}

std::vector<ParameterSpec> viscosity_parameters() {
  const SpectralViscosity defaults;
  return {number_parameter("viscosity", defaults.strength,
                           "Spectral viscosity nu: damps the degrees above viscosity_cutoff of each mode at rate up to "
                           "nu, a remedy for growing Galerkin modes at high degree; 0 is off, 30-1000 the range tried.",
                           0.0, 1e4),
          number_parameter("viscosity_cutoff", defaults.cutoff,
                           "Fraction of each mode's degree below which the viscosity damps nothing (degrees <= 2 never).",
                           0.0, 1.0)};
}

SpectralViscosity read_viscosity(const Parameters& parameters) {
  SpectralViscosity viscosity;
  viscosity.strength = parameters.number("viscosity");
  viscosity.cutoff = parameters.number("viscosity_cutoff");
  return viscosity;
}

HjbOperator::HjbOperator(BasisSet bases) : HjbOperator(std::move(bases), SpectralViscosity{}) {}

HjbOperator::HjbOperator(BasisSet bases, SpectralViscosity viscosity) : bases_(std::move(bases)) {
  for (const auto& basis : bases_) {
    derivative_.push_back(basis->derivative_matrix());
    linear_.push_back(basis->second_derivative_matrix() + basis->x_derivative_matrix() -
                      viscosity_matrix(*basis, viscosity));
    product_.push_back(basis->product_tensor(basis->size()));
    product_full_.push_back(basis->product_tensor(2 * basis->size() - 1));
  }

  // Gauss rules for the factored products: phi_i phi_j phi_l has degree 3 p when l <= p and
  // 4 p when l <= 2 p, and m nodes integrate degree 2 m - 1 exactly. Each rule is checked
  // against product_tensor, so a basis that is not polynomial leaves the compressed path off.
  has_product_rule_ = true;
  for (std::size_t k = 0; k < bases_.size(); ++k) {
    const Basis& basis = *bases_[k];
    const arma::uword p = basis.degree(), n = basis.size();
    const auto make_rule = [&](arma::uword points, arma::uword n_out, const arma::cube& reference) {
      ProductRule rule;
      arma::vec nodes, weights;
      basis.quadrature(points, nodes, weights);
      const arma::mat wide = n_out > n ? basis.with_degree(n_out - 1)->evaluate(nodes.t()) : basis.evaluate(nodes.t());
      rule.values = wide.rows(0, n - 1);
      rule.derivatives = derivative_[k].t() * rule.values;
      rule.projection = wide.rows(0, n_out - 1) * arma::diagmat(weights);
      rule.gram = rule.projection.t() * rule.projection;

      double deviation = 0.0;
      for (arma::uword l = 0; l < n_out; ++l) {
        const arma::mat slice = rule.values * arma::diagmat(rule.projection.row(l)) * rule.values.t();
        deviation = std::max(deviation, arma::abs(slice - reference.slice(l)).max());
      }
      // Triple products of orthonormal polynomials are O(1); the rule reproduces them to rounding.
      if (!(deviation <= 1e-10 * std::max(1.0, arma::abs(reference).max()))) has_product_rule_ = false;
      return rule;
    };
    projected_rule_.push_back(make_rule((3 * p) / 2 + 1, n, product_[k]));
    full_rule_.push_back(make_rule(2 * p + 1, 2 * n - 1, product_full_[k]));
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

std::vector<double> HjbOperator::mode_projection_errors(const TensorTrain& v) const {
  const std::size_t d = v.dimension();
  std::vector<double> errors(d, 0.0);

  // Without a product rule: form the product that keeps mode k unprojected, one mode at a time.
  if (!has_product_rule_) {
    const TensorTrain projected = projected_product_impl(v, v, product_);
    const double projected2 = dot(projected, projected);
    for (std::size_t k = 0; k < d; ++k) {
      std::vector<arma::cube> products = product_;
      products[k] = product_full_[k];
      const TensorTrain wide = projected_product_impl(v, v, products);
      const double wide2 = dot(wide, wide);
      errors[k] = wide2 > 0.0 ? std::sqrt(std::max(wide2 - projected2, 0.0) / wide2) : 0.0;
    }
    return errors;
  }

  // With it: the factored norms, with mode k's rule swapped for the exact one in place and
  // swapped back afterwards.
  NodalCores cores = nodal_cores(v, projected_rule_);
  NodalCores full = nodal_cores(v, full_rule_);
  std::vector<arma::mat> grams = rule_member(projected_rule_, &ProductRule::gram);
  const double projected2 = product_norm2(cores, grams);
  for (std::size_t k = 0; k < d; ++k) {
    const auto swap_mode = [&] {
      cores.plain[k].swap(full.plain[k]);
      cores.applied[k].swap(full.applied[k]);
    };
    const arma::mat projected_gram = grams[k];
    swap_mode();
    grams[k] = full_rule_[k].gram;
    const double wide2 = product_norm2(cores, grams);
    swap_mode();
    grams[k] = projected_gram;
    errors[k] = wide2 > 0.0 ? std::sqrt(std::max(wide2 - projected2, 0.0) / wide2) : 0.0;
  }
  return errors;
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

double HjbOperator::projected_square_norm2(const TensorTrain& v) const {
  if (!has_product_rule_) return -1.0;
  return product_norm2(nodal_cores(v, projected_rule_), rule_member(projected_rule_, &ProductRule::gram));
}

double HjbOperator::full_square_norm2(const TensorTrain& v) const {
  if (!has_product_rule_) return -1.0;
  return product_norm2(nodal_cores(v, full_rule_), rule_member(full_rule_, &ProductRule::gram));
}

RightHandSide HjbOperator::evaluate_compressed(const TensorTrain& v, bool with_projection_error,
                                               const CompressionSettings& settings, RandomStream& random) const {
  const std::size_t d = v.dimension();
  if (!has_product_rule_ || d < 2 || !(settings.tolerance > 0.0)) return evaluate(v, with_projection_error);

  // Exact norms from the factored products: |F|^2 = |L v|^2 - 2 <L v, P N> + |P N|^2.
  const NodalCores cores = nodal_cores(v, projected_rule_, product_, derivative_);
  const std::vector<arma::mat> projections = rule_member(projected_rule_, &ProductRule::projection);
  const TensorTrain linear = linear_part(v);
  const double square2 = product_norm2(cores, rule_member(projected_rule_, &ProductRule::gram));
  const double linear2 = dot(linear, linear);
  const double total2 = linear2 - 2.0 * inner_product_with_square(cores, linear, projections) + square2;

  RightHandSide rhs;
  if (with_projection_error) {
    const double full2 = full_square_norm2(v);
    rhs.nonlinear_norm = std::sqrt(std::max(full2, 0.0));
    rhs.projection_error = full2 > 0.0 ? std::sqrt(std::max(full2 - square2, 0.0) / full2) : 0.0;
  } else {
    rhs.nonlinear_norm = std::sqrt(std::max(square2, 0.0));
  }

  // |F|^2 - |Pi F|^2 is a difference of two computed squares, so its rounding errors are
  // charged to the bound; tolerances that this allowance would eat fall back to the exact path.
  const double scale = std::sqrt(std::max(linear2, 0.0)) + std::sqrt(std::max(square2, 0.0));
  const double allowance2 = rounding_allowance2(d, scale);
  const double tolerance2 = settings.tolerance * settings.tolerance;
  const auto exact = [&] {
    RightHandSide fallback = evaluate(v, false);
    fallback.projection_error = rhs.projection_error;
    fallback.nonlinear_norm = rhs.nonlinear_norm;
    return fallback;
  };
  if (tolerance2 <= 16.0 * allowance2) return exact();

  // Double the sketch rank until the randomised step leaves at least half the tolerance.
  arma::uword full_rank = 1;
  for (std::size_t k = 1; k < d; ++k) full_rank = std::max(full_rank, linear.rank(k) + 2 * v.rank(k) * v.rank(k));
  arma::uword rank = settings.sketch_rank > 0 ? settings.sketch_rank : 2 * v.max_rank() + 10;
  for (;;) {
    // At the full rank the sketch costs as much as the exact path.
    if (rank >= full_rank) return exact();
    const RightSketch right = sketch_from_right(linear, cores, projections, rank, random);
    SketchedProjection sketched = sweep_from_left(nullptr, 1.0, linear, cores, projections, right);
    TensorTrain& projection = sketched.value;
    const double kept2 = sketched.update_kept2;
    const double missing = std::sqrt(std::max(total2 - kept2, 0.0) + allowance2);
    if (missing <= 0.5 * settings.tolerance) {
      // F - R(Pi F) = (F - Pi F) + (Pi F - R(Pi F)): the rounding gets what the sketch left.
      const double kept = std::sqrt(kept2);
      double rounded = 0.0;
      if (kept > 0.0)
        rounded = kept * projection.round((settings.tolerance - missing) / kept, std::numeric_limits<arma::uword>::max());
      rhs.value = std::move(projection);
      rhs.value_error = missing + rounded;
      rhs.sketch_rank = rank;
      return rhs;
    }
    rank *= 2;
  }
}

struct SketchedEulerStep::Data {
  TensorTrain v, linear;
  factored::NodalCores cores;
  std::vector<arma::mat> projections;
  factored::RightSketch right;
  double v_norm2 = 0.0;       // |v|^2
  double v_dot_rhs = 0.0;     // <v, F>
  double rhs_norm2 = 0.0;     // |F|^2
  double allowance2 = 0.0;    // rounding allowance of |F|^2 - |Pi F|^2, as in evaluate_compressed
  double projection_error = 0.0;
  double nonlinear_norm = 0.0;
};

SketchedEulerStep HjbOperator::sketch_euler_step(const TensorTrain& v, bool with_projection_error, arma::uword sketch_rank,
                                                 RandomStream& random) const {
  const std::size_t d = v.dimension();
  if (!has_product_rule_ || d < 2)
    throw std::invalid_argument("HjbOperator::sketch_euler_step: requires d >= 2 and bases whose triple products a "
                                "Gauss rule reproduces (has_product_rule()); use evaluate() otherwise");
  auto data = std::make_shared<SketchedEulerStep::Data>();
  data->v = v;
  data->linear = linear_part(v);
  data->cores = nodal_cores(v, projected_rule_, product_, derivative_);
  data->projections = rule_member(projected_rule_, &ProductRule::projection);

  // Exact norms: |F|^2 = |L v|^2 - 2 <L v, P N> + |P N|^2 and <v, F> = <v, L v> - <v, P N>.
  const double square2 = product_norm2(data->cores, rule_member(projected_rule_, &ProductRule::gram));
  const double linear2 = dot(data->linear, data->linear);
  data->rhs_norm2 = linear2 - 2.0 * inner_product_with_square(data->cores, data->linear, data->projections) + square2;
  data->v_norm2 = dot(v, v);
  data->v_dot_rhs = dot(v, data->linear) - inner_product_with_square(data->cores, v, data->projections);
  const double scale = std::sqrt(std::max(linear2, 0.0)) + std::sqrt(std::max(square2, 0.0));
  data->allowance2 = rounding_allowance2(d, scale);
  if (with_projection_error) {
    const double full2 = full_square_norm2(v);
    data->nonlinear_norm = std::sqrt(std::max(full2, 0.0));
    data->projection_error = full2 > 0.0 ? std::sqrt(std::max(full2 - square2, 0.0) / full2) : 0.0;
  } else {
    data->nonlinear_norm = std::sqrt(std::max(square2, 0.0));
  }

  data->right = sketch_from_right(data->linear, data->cores, data->projections, sketch_rank, random);
  SketchedEulerStep step;
  step.data_ = std::move(data);
  return step;
}

double SketchedEulerStep::projection_error() const { return data_->projection_error; }
double SketchedEulerStep::nonlinear_norm() const { return data_->nonlinear_norm; }
double SketchedEulerStep::rhs_norm() const { return std::sqrt(std::max(data_->rhs_norm2, 0.0)); }

bool SketchedEulerStep::is_finite() const {
  return std::isfinite(data_->rhs_norm2) && std::isfinite(data_->v_dot_rhs) && std::isfinite(data_->nonlinear_norm) &&
         std::isfinite(data_->projection_error);
}

SketchedEulerStep::Retraction SketchedEulerStep::retract(double tau, double tolerance, arma::uword max_rank) const {
  const Data& data = *data_;
  SketchedProjection sketched = sweep_from_left(&data.v, tau, data.linear, data.cores, data.projections, data.right);

  // |y - Pi y| <= |v - Pi v| + tau |F - Pi F|. The first is rounding only (v is in the range of
  // every Q_k) and is measured directly; the second follows from |F|^2 - |Pi F|^2.
  const double y_norm = std::sqrt(std::max(data.v_norm2 + 2.0 * tau * data.v_dot_rhs + tau * tau * data.rhs_norm2, 0.0));
  const double base_missing = norm(axpy(-1.0, sketched.base_part, data.v));
  const double update_missing =
      std::sqrt(std::max(tau * tau * data.rhs_norm2 - sketched.update_kept2, 0.0) + tau * tau * data.allowance2);
  const double missing = base_missing + update_missing;

  // The deterministic rounding gets what the sketch left of the tolerance (nothing beyond the
  // rank cap once the sketch has used it all).
  Retraction out;
  out.state = std::move(sketched.value);
  const std::size_t d = out.state.dimension();
  const double kept = arma::norm(arma::vectorise(out.state.core(d - 1)), 2);
  const double budget = tolerance * y_norm - missing;
  double rounded = 0.0;
  if (kept > 0.0) rounded = kept * out.state.round(budget > 0.0 ? budget / kept : 0.0, max_rank);
  out.error = y_norm > 0.0 ? (missing + rounded) / y_norm : 0.0;
  return out;
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
