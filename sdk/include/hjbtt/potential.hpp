// A potential Phi with target density pi = exp(-Phi) / Z, Z unknown.
//
// Batches of points are d x N matrices (one point per column). A potential may also hand over
// its exact polynomial form, which the core turns into the initial functional tensor train,
// and a reference (exact moments, marginals, draws) that reports compare samples with.
#pragma once

#include "hjbtt/core/random.hpp"
#include "hjbtt/plugin.hpp"

#include <armadillo>

#include <memory>
#include <optional>
#include <vector>

namespace hjbtt {

// A polynomial in one coordinate: sum_j coefficients(j) * x_coordinate^j.
struct PolynomialFactor {
  arma::uword coordinate = 0;
  arma::vec coefficients;
};

// weight * product of factors; the factors act on distinct coordinates.
struct SeparableTerm {
  double weight = 1.0;
  std::vector<PolynomialFactor> factors;
};

// A polynomial written as a sum of separable terms. Its tensor-train rank is at most the
// number of terms, and rounding usually brings it far lower.
using SeparablePolynomial = std::vector<SeparableTerm>;

// Exact facts about the target that sample statistics are compared with.
class Reference {
public:
  virtual ~Reference() = default;
  virtual arma::vec mean() const = 0;
  virtual arma::mat covariance() const = 0;

  // Cumulative distribution function of coordinate k, where known.
  virtual bool has_marginals() const { return false; }
  virtual double marginal_cdf(arma::uword k, double x) const;

  // Exact independent draws (d x n), where cheap.
  virtual bool can_draw() const { return false; }
  virtual arma::mat draw(arma::uword n, RandomStream& random) const;
};

class Potential : public PluginObject {
public:
  virtual arma::uword dimension() const = 0;

  // Phi at each column of X.
  virtual arma::rowvec value(const arma::mat& X) const = 0;

  // Gradient of Phi at each column of X (d x N).
  virtual arma::mat gradient(const arma::mat& X) const = 0;

  // The exact polynomial form, when the potential is a polynomial.
  virtual std::optional<SeparablePolynomial> polynomial() const { return std::nullopt; }

  // Exact facts for reports; null when unknown.
  virtual std::shared_ptr<const Reference> reference() const { return nullptr; }
};

}  // namespace hjbtt
