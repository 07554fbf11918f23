// Tests of the tensor-train algebra against dense tensors at small d (3 to 5 modes of size 3
// to 5): full(), sums, inner products, orthogonalisation, rounding and the mode operators.
//
// Tolerances: the dense tensors have O(1) entries and at most 720 of them, and every TT
// operation here is exact in exact arithmetic, so differences are rounding only (observed
// around 1e-15 relative). 1e-12 relative leaves a wide margin, while a wrong index order or
// a missing term gives errors of order 1.
#include "hjbtt/core/tensor_train.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using hjbtt::TensorTrain;

namespace {

using Sizes = std::vector<arma::uword>;

// Mode sizes and interior ranks of the random tensor trains below.
struct Shape {
  Sizes modes;
  Sizes ranks;  // r_1 .. r_{d-1}
};

const std::vector<Shape> shapes = {
    {{3, 4, 5}, {2, 3}},
    {{4, 3, 5, 4}, {3, 4, 2}},
    {{3, 5, 4, 3, 4}, {2, 3, 3, 2}},
};

TensorTrain random_tt(const Shape& shape) {
  const std::size_t d = shape.modes.size();
  std::vector<arma::cube> cores(d);
  for (std::size_t k = 0; k < d; ++k) {
    const arma::uword r0 = k == 0 ? 1 : shape.ranks[k - 1];
    const arma::uword r1 = k + 1 == d ? 1 : shape.ranks[k];
    cores[k] = arma::randn<arma::cube>(r0, shape.modes[k], r1);
  }
  return TensorTrain(std::move(cores));
}

double relative_error(const arma::vec& computed, const arma::vec& expected) {
  return arma::norm(computed - expected) / arma::norm(expected);
}

// The dense tensor of f_1 (x) .. (x) f_d with i_1 fastest, as full() orders it.
arma::vec dense_rank_one(const std::vector<arma::vec>& factors) {
  arma::vec result = factors.front();
  for (std::size_t k = 1; k < factors.size(); ++k) result = arma::kron(factors[k], result);
  return result;
}

arma::uword product(const Sizes& sizes, std::size_t begin, std::size_t end) {
  arma::uword n = 1;
  for (std::size_t k = begin; k < end; ++k) n *= sizes[k];
  return n;
}

// I (x) .. (x) A (x) .. (x) I with A in mode k, for vectors with i_1 fastest: modes before k
// are the inner (fast) factor, modes after k the outer one. A may be rectangular.
arma::mat dense_mode_operator(const Sizes& sizes, std::size_t k, const arma::mat& A) {
  const arma::mat inner = arma::eye(product(sizes, 0, k), product(sizes, 0, k));
  const arma::mat outer = arma::eye(product(sizes, k + 1, sizes.size()), product(sizes, k + 1, sizes.size()));
  return arma::kron(outer, arma::kron(A, inner));
}

Sizes mode_sizes(const TensorTrain& tt) {
  Sizes sizes;
  for (std::size_t k = 0; k < tt.dimension(); ++k) sizes.push_back(tt.mode_size(k));
  return sizes;
}

arma::mat left_unfolding(const arma::cube& core) {
  return arma::reshape(arma::vectorise(core), core.n_rows * core.n_cols, core.n_slices);
}

arma::mat right_unfolding(const arma::cube& core) {
  return arma::reshape(arma::vectorise(core), core.n_rows, core.n_cols * core.n_slices);
}

double identity_error(const arma::mat& gram) { return arma::abs(gram - arma::eye(arma::size(gram))).max(); }

}  // namespace

TEST_CASE("full of rank_one and zeros") {
  arma::arma_rng::set_seed(1);
  for (const Shape& shape : shapes) {
    std::vector<arma::vec> factors;
    for (arma::uword n : shape.modes) factors.push_back(arma::randn<arma::vec>(n));
    const TensorTrain tt = TensorTrain::rank_one(factors);
    CHECK(tt.dimension() == shape.modes.size());
    CHECK(tt.max_rank() == 1);
    CHECK(relative_error(tt.full(), dense_rank_one(factors)) <= 1e-14);

    const TensorTrain zero = TensorTrain::zeros(shape.modes);
    CHECK(zero.full().n_elem == product(shape.modes, 0, shape.modes.size()));
    CHECK(arma::abs(zero.full()).max() == 0.0);
  }

  // One explicit entry fixes the index order: C[i_1, i_2, i_3] sits at i_1 + n_1 (i_2 + n_2 i_3).
  const TensorTrain tt = TensorTrain::rank_one({arma::vec{1, 2, 3}, arma::vec{5, 7}, arma::vec{11, 13}});
  const arma::vec full = tt.full();
  CHECK(full(2 + 3 * (1 + 2 * 1)) == 3.0 * 7.0 * 13.0);
  CHECK(full(1 + 3 * (0 + 2 * 1)) == 2.0 * 5.0 * 13.0);
}

TEST_CASE("sums, axpy, dot and norm match dense") {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    arma::arma_rng::set_seed(seed);
    for (const Shape& shape : shapes) {
      CAPTURE(seed);
      CAPTURE(shape.modes.size());
      const TensorTrain x = random_tt(shape);
      const TensorTrain y = random_tt(shape);
      const arma::vec xf = x.full(), yf = y.full();

      // A sum of rank-one tensors built one term at a time.
      TensorTrain sum = TensorTrain::zeros(shape.modes);
      arma::vec dense_sum(xf.n_elem, arma::fill::zeros);
      for (int term = 0; term < 3; ++term) {
        std::vector<arma::vec> factors;
        for (arma::uword n : shape.modes) factors.push_back(arma::randn<arma::vec>(n));
        sum = sum + TensorTrain::rank_one(factors);
        dense_sum += dense_rank_one(factors);
      }
      CHECK(relative_error(sum.full(), dense_sum) <= 1e-13);

      CHECK(relative_error(axpy(-0.7, x, y).full(), -0.7 * xf + yf) <= 1e-13);
      CHECK(relative_error((x + y).full(), xf + yf) <= 1e-13);
      CHECK(relative_error((x - y).full(), xf - yf) <= 1e-13);
      CHECK(relative_error((2.5 * x).full(), 2.5 * xf) <= 1e-14);
      CHECK((x + y).rank(1) == x.rank(1) + y.rank(1));

      CHECK(dot(x, y) == doctest::Approx(arma::dot(xf, yf)).epsilon(1e-12));
      CHECK(dot(x, x) == doctest::Approx(arma::dot(xf, xf)).epsilon(1e-12));
      CHECK(norm(x) == doctest::Approx(arma::norm(xf)).epsilon(1e-12));
    }
  }

  // A single mode is a plain vector, kept as such.
  const TensorTrain a = TensorTrain::rank_one({arma::vec{1, 2, 3}});
  const TensorTrain b = TensorTrain::rank_one({arma::vec{-1, 0, 4}});
  CHECK(arma::approx_equal(axpy(2.0, a, b).full(), arma::vec{1, 4, 10}, "absdiff", 0.0));
}

TEST_CASE("orthogonalisation keeps the tensor") {
  arma::arma_rng::set_seed(11);
  for (const Shape& shape : shapes) {
    const std::size_t d = shape.modes.size();
    const TensorTrain original = random_tt(shape);
    const arma::vec expected = original.full();
    for (std::size_t k = 0; k < d; ++k) {
      CAPTURE(d);
      CAPTURE(k);

      TensorTrain left = original;
      left.left_orthogonalize(k);
      CHECK(relative_error(left.full(), expected) <= 1e-13);
      for (std::size_t j = 0; j < k; ++j) {
        const arma::mat u = left_unfolding(left.core(j));
        CHECK(identity_error(u.t() * u) <= 1e-13);
      }

      TensorTrain right = original;
      right.right_orthogonalize(k);
      CHECK(relative_error(right.full(), expected) <= 1e-13);
      for (std::size_t j = k + 1; j < d; ++j) {
        const arma::mat v = right_unfolding(right.core(j));
        CHECK(identity_error(v * v.t()) <= 1e-13);
      }
    }
  }
}

TEST_CASE("round recovers an exact rank-2 tensor") {
  arma::arma_rng::set_seed(21);
  for (const Shape& shape : shapes) {
    const std::size_t d = shape.modes.size();
    CAPTURE(d);

    // Rank 2 as a sum of two rank-one tensors.
    std::vector<arma::vec> f, g;
    for (arma::uword n : shape.modes) {
      f.push_back(arma::randn<arma::vec>(n));
      g.push_back(arma::randn<arma::vec>(n));
    }
    const TensorTrain exact = TensorTrain::rank_one(f) + TensorTrain::rank_one(g);
    const arma::vec expected = dense_rank_one(f) + dense_rank_one(g);

    // Padding with a random tensor that cancels raises every interior rank to 2 + 2 r.
    const TensorTrain noise = random_tt(shape);
    TensorTrain padded = exact + noise - noise;
    CHECK(padded.max_rank() > 2);
    const double estimate = padded.round(1e-10, 100);
    for (std::size_t k = 1; k < d; ++k) CHECK(padded.rank(k) == 2);

    // QR and SVD are backward stable, so what is left is a few machine epsilons relative to
    // the largest term, here the noise (observed below 2e-15).
    CHECK(relative_error(padded.full(), expected) <= 1e-14 * std::max(1.0, norm(noise) / arma::norm(expected)));
    CHECK(estimate <= 1e-14 * std::max(1.0, norm(noise) / arma::norm(expected)));

    // Padding with zero blocks: the same tensor stored at rank 5.
    std::vector<arma::cube> cores = exact.cores();
    for (std::size_t k = 0; k < d; ++k) {
      const arma::uword r0 = k == 0 ? 1 : 5, r1 = k + 1 == d ? 1 : 5;
      arma::cube core(r0, cores[k].n_cols, r1, arma::fill::zeros);
      core.subcube(0, 0, 0, arma::size(cores[k])) = cores[k];
      cores[k] = core;
    }
    TensorTrain zero_padded(cores);
    CHECK(zero_padded.max_rank() == 5);
    zero_padded.round(1e-12, 100);
    for (std::size_t k = 1; k < d; ++k) CHECK(zero_padded.rank(k) == 2);
    CHECK(relative_error(zero_padded.full(), expected) <= 1e-14);
  }
}

TEST_CASE("round meets its tolerance and reports the error") {
  for (unsigned seed = 1; seed <= 3; ++seed)
    for (const Shape& shape : shapes) {
      const std::size_t d = shape.modes.size();
      arma::arma_rng::set_seed(100 + seed);

      // Geometrically decaying rank components give a spread of singular values, so each
      // tolerance below truncates a different amount.
      TensorTrain tt = random_tt({shape.modes, Sizes(d - 1, 4)});
      for (std::size_t k = 0; k + 1 < d; ++k)
        for (arma::uword b = 0; b < tt.core(k).n_slices; ++b) tt.core(k).slice(b) *= std::pow(0.3, b);
      const arma::vec expected = tt.full();

      bool truncated = false;
      for (double tolerance : {0.3, 0.1, 1e-2, 1e-3}) {
        CAPTURE(seed);
        CAPTURE(d);
        CAPTURE(tolerance);
        TensorTrain rounded = tt;
        const double estimate = rounded.round(tolerance, 100);
        const double actual = relative_error(rounded.full(), expected);
        CHECK(actual <= tolerance);
        // The discarded parts of successive SVDs are orthogonal, so the estimate is the error.
        CHECK(std::abs(estimate - actual) <= 1e-12);
        truncated = truncated || estimate > 1e-3;
      }
      CHECK(truncated);

      // The rank cap wins over the tolerance, and the estimate still matches.
      for (arma::uword cap : {1u, 2u, 3u}) {
        CAPTURE(cap);
        TensorTrain capped = tt;
        const double estimate = capped.round(1e-15, cap);
        CHECK(capped.max_rank() <= cap);
        CHECK(std::abs(estimate - relative_error(capped.full(), expected)) <= 1e-12);
      }
    }

  // The zero tensor rounds to rank 1 with no error.
  TensorTrain zero = TensorTrain::zeros({3, 4, 5});
  zero = zero + zero;
  CHECK(zero.round(1e-8, 10) == 0.0);
  CHECK(zero.max_rank() == 1);
}

TEST_CASE("apply_mode_matrix and resize_mode match dense") {
  arma::arma_rng::set_seed(31);
  for (const Shape& shape : shapes) {
    const std::size_t d = shape.modes.size();
    const TensorTrain tt = random_tt(shape);
    const arma::vec dense = tt.full();
    for (std::size_t k = 0; k < d; ++k) {
      CAPTURE(d);
      CAPTURE(k);

      // A rectangular matrix changes the mode size.
      const arma::mat A = arma::randn(shape.modes[k] + 1, shape.modes[k]);
      TensorTrain applied = tt;
      applied.apply_mode_matrix(k, A);
      CHECK(applied.mode_size(k) == shape.modes[k] + 1);
      CHECK(relative_error(applied.full(), dense_mode_operator(shape.modes, k, A) * dense) <= 1e-13);

      // Padding is the matrix [I; 0], cutting is [I 0].
      TensorTrain padded = tt;
      padded.resize_mode(k, shape.modes[k] + 2);
      CHECK(relative_error(padded.full(), dense_mode_operator(shape.modes, k, arma::eye(shape.modes[k] + 2, shape.modes[k])) * dense) <= 1e-15);
      TensorTrain cut = tt;
      cut.resize_mode(k, shape.modes[k] - 1);
      CHECK(relative_error(cut.full(), dense_mode_operator(shape.modes, k, arma::eye(shape.modes[k] - 1, shape.modes[k])) * dense) <= 1e-15);
    }
    TensorTrain wrong = tt;
    CHECK_THROWS_AS(wrong.apply_mode_matrix(0, arma::mat(2, shape.modes[0] + 1)), std::invalid_argument);
  }
}

TEST_CASE("mode sums match the dense Kronecker sum") {
  arma::arma_rng::set_seed(41);
  for (const Shape& shape : shapes) {
    const std::size_t d = shape.modes.size();
    CAPTURE(d);
    const TensorTrain tt = random_tt(shape);
    const arma::vec dense = tt.full();

    // apply_mode_sum against sum_k I (x) .. (x) A_k (x) .. (x) I as one dense matrix.
    std::vector<arma::mat> matrices;
    arma::mat kronecker_sum(dense.n_elem, dense.n_elem, arma::fill::zeros);
    for (std::size_t k = 0; k < d; ++k) {
      matrices.push_back(arma::randn(shape.modes[k], shape.modes[k]));
      kronecker_sum += dense_mode_operator(shape.modes, k, matrices.back());
    }
    const TensorTrain applied = apply_mode_sum(tt, matrices);
    CHECK(relative_error(applied.full(), kronecker_sum * dense) <= 1e-13);
    for (std::size_t k = 1; k < d; ++k) CHECK(applied.rank(k) == 2 * tt.rank(k));

    // mode_sum with arbitrary replacement cores: the sum over k of the tensor train whose
    // core k is replaced.
    std::vector<arma::cube> replacements;
    arma::vec expected(dense.n_elem, arma::fill::zeros);
    for (std::size_t k = 0; k < d; ++k) {
      replacements.push_back(arma::randn<arma::cube>(arma::size(tt.core(k))));
      std::vector<arma::cube> cores = tt.cores();
      cores[k] = replacements.back();
      expected += TensorTrain(cores).full();
    }
    CHECK(relative_error(hjbtt::mode_sum(tt.cores(), replacements).full(), expected) <= 1e-13);
  }

  const TensorTrain tt = TensorTrain::rank_one({arma::vec{1, 2}, arma::vec{3, 4}, arma::vec{5, 6}});
  CHECK_THROWS_AS(apply_mode_sum(tt, {arma::eye(2, 2)}), std::invalid_argument);
}
