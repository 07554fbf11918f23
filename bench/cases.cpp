// Benchmark inputs and the flop model of tensor-train rounding and FTT gradients.
#include "cases.hpp"

#include "legendre.hpp"

#include <algorithm>
#include <cmath>

namespace hjbtt::bench {

std::vector<arma::uword> capped_ranks(std::size_t d, arma::uword n, arma::uword r) {
  std::vector<arma::uword> ranks(d + 1, 1);
  for (std::size_t k = 1; k < d; ++k) {
    // n^k grows past any rank we use after a few steps, so the loop stops early.
    arma::uword from_left = 1, from_right = 1;
    for (std::size_t j = 0; j < k && from_left < r; ++j) from_left *= n;
    for (std::size_t j = k; j < d && from_right < r; ++j) from_right *= n;
    ranks[k] = std::min({r, from_left, from_right});
  }
  return ranks;
}

TensorTrain random_tensor_train(std::size_t d, arma::uword n, arma::uword r, RandomStream& random) {
  const std::vector<arma::uword> ranks = capped_ranks(d, n, r);
  std::vector<arma::cube> cores(d);
  for (std::size_t k = 0; k < d; ++k) {
    cores[k].set_size(ranks[k], n, ranks[k + 1]);
    const double scale = 1.0 / std::sqrt(static_cast<double>(ranks[k] * n));
    for (double& x : cores[k]) x = scale * random.normal();
  }
  return TensorTrain(std::move(cores));
}

BasisSet legendre_bases(std::size_t d, arma::uword degree, double lower, double upper) {
  return BasisSet(d, std::make_shared<LegendreBasis>(degree, lower, upper));
}

TensorTrain hjb_test_state(const BasisSet& bases, arma::uword r, std::uint64_t seed) {
  const std::size_t d = bases.size();
  SeparablePolynomial quadratic;
  for (arma::uword k = 0; k < d; ++k) quadratic.push_back({0.5, {{k, arma::vec{0.0, 0.0, 1.0}}}});
  const TensorTrain q = ftt_from_polynomial(quadratic, bases, 1e-12).coefficients();

  RandomStream random(seed, {d, r});
  const TensorTrain perturbation = random_tensor_train(d, bases.front()->size(), r, random);
  TensorTrain v = axpy(0.01 * norm(q) / norm(perturbation), perturbation, q);

  // Tolerance 0 makes the rank cap the only truncation criterion.
  v.round(0.0, r);
  return v;
}

namespace {

double qr_flops(double m, double c) {
  const double p = std::min(m, c);
  double flops = 0.0;
  for (double j = 0; j < p; ++j) flops += 4.0 * (m - j) * (c - j) + 4.0 * (m - j) * (p - j);
  return flops;
}

double svd_flops(double m, double c) {
  const double p = std::min(m, c), q = std::max(m, c);
  return 6.0 * q * p * p + 20.0 * p * p * p;
}

double gemm_flops(double m, double k, double c) { return 2.0 * m * k * c; }

}  // namespace

double round_flops(const std::vector<arma::uword>& input, const std::vector<arma::uword>& modes,
                   const std::vector<arma::uword>& output) {
  const std::size_t d = modes.size();
  std::vector<double> rank(input.begin(), input.end());
  double flops = 0.0;

  // Right orthogonalisation: QR of the transposed right unfolding (n r_{k+1}) x r_k, then the
  // R factor is multiplied into the previous core's left unfolding.
  for (std::size_t k = d - 1; k >= 1; --k) {
    const double m = double(modes[k]) * rank[k + 1], c = rank[k];
    flops += qr_flops(m, c);
    const double new_rank = std::min(m, c);
    flops += gemm_flops(rank[k - 1] * double(modes[k - 1]), c, new_rank);
    rank[k] = new_rank;
  }

  // SVD sweep: SVD of the left unfolding (r_out_k n) x r_{k+1}, then the kept singular triplets
  // are multiplied into the next core's right unfolding.
  for (std::size_t k = 0; k + 1 < d; ++k) {
    const double m = double(output[k]) * double(modes[k]), c = rank[k + 1];
    flops += svd_flops(m, c);
    flops += gemm_flops(double(output[k + 1]), c, double(modes[k + 1]) * rank[k + 2]);
  }
  return flops;
}

double dot_flops(const std::vector<arma::uword>& ranks_a, const std::vector<arma::uword>& ranks_b,
                 const std::vector<arma::uword>& modes) {
  double flops = 0.0;
  for (std::size_t k = 0; k < modes.size(); ++k) {
    const double n = double(modes[k]);
    const double a0 = double(ranks_a[k]), a1 = double(ranks_a[k + 1]);
    const double b0 = double(ranks_b[k]), b1 = double(ranks_b[k + 1]);
    flops += gemm_flops(a0, b0, n * b1) + gemm_flops(a1, a0 * n, b1);
  }
  return flops;
}

double factored_norm_flops(const std::vector<arma::uword>& ranks, arma::uword nodes) {
  const double m = double(nodes);
  double flops = 0.0;
  for (std::size_t k = 0; k + 1 < ranks.size(); ++k) {
    const double r0 = double(ranks[k]), r1 = double(ranks[k + 1]);
    const double packed0 = r0 * (r0 + 1.0) / 2.0, packed1 = r1 * (r1 + 1.0) / 2.0;
    const auto contraction = [&](double rows) { return 2.0 * rows * r0 * r0 * r1 + rows * r0 * r1 * (r1 + 1.0); };
    flops += m * (6.0 * contraction(packed0) + 5.0 * contraction(packed1)) + 2.0 * 2.0 * m * m * r1 * r1 * packed0;
  }
  return flops;
}

double gradient_flops_per_point(const std::vector<arma::uword>& ranks, const std::vector<arma::uword>& modes) {
  double flops = 0.0;
  for (std::size_t k = 0; k < modes.size(); ++k) {
    const double r0 = double(ranks[k]), n = double(modes[k]), r1 = double(ranks[k + 1]);
    flops += 2.0 * r0 * n * r1 + 2.0 * r0 * n;             // right sweep
    flops += 2.0 * n * r1 * r0 + 4.0 * n * r1 + 2.0 * r1;  // left sweep
  }
  return flops;
}

}  // namespace hjbtt::bench
