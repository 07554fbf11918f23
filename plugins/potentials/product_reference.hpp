// The reference of a target whose coordinates are independent: each coordinate has its own
// one-dimensional law, the covariance is diagonal and draws are made coordinate by coordinate.
// The double well and the many-well potentials are of this kind.
#pragma once

#include "hjbtt/core/density1d.hpp"
#include "hjbtt/potential.hpp"

#include <memory>
#include <vector>

namespace hjbtt {

// The law of one coordinate.
class Marginal1D {
public:
  virtual ~Marginal1D() = default;
  virtual double mean() const = 0;
  virtual double variance() const = 0;
  virtual double cdf(double x) const = 0;
  virtual arma::rowvec draw(arma::uword n, RandomStream& random) const = 0;
};

class NormalMarginal : public Marginal1D {
public:
  NormalMarginal(double mean, double standard_deviation) : mean_(mean), standard_deviation_(standard_deviation) {}
  double mean() const override { return mean_; }
  double variance() const override { return standard_deviation_ * standard_deviation_; }
  double cdf(double x) const override;
  arma::rowvec draw(arma::uword n, RandomStream& random) const override;

private:
  double mean_;
  double standard_deviation_;
};

// A law exp(-phi(x)) known up to its normalising constant, tabulated on an interval. The mean
// is given separately when it is known exactly (zero for a symmetric law).
class TabulatedMarginal : public Marginal1D {
public:
  explicit TabulatedMarginal(TabulatedDensity1D density) : density_(std::move(density)), mean_(density_.mean()) {}
  TabulatedMarginal(TabulatedDensity1D density, double exact_mean) : density_(std::move(density)), mean_(exact_mean) {}
  double mean() const override { return mean_; }
  double variance() const override { return density_.variance(); }
  double cdf(double x) const override { return density_.cdf(x); }
  arma::rowvec draw(arma::uword n, RandomStream& random) const override { return density_.draw(n, random); }

private:
  TabulatedDensity1D density_;
  double mean_;
};

class ProductReference : public Reference {
public:
  // One entry per coordinate; entries may share one marginal object.
  explicit ProductReference(std::vector<std::shared_ptr<const Marginal1D>> marginals)
      : marginals_(std::move(marginals)) {}

  arma::vec mean() const override;
  arma::mat covariance() const override;

  bool has_marginals() const override { return true; }
  double marginal_cdf(arma::uword k, double x) const override;

  bool can_draw() const override { return true; }
  arma::mat draw(arma::uword n, RandomStream& random) const override;

private:
  std::vector<std::shared_ptr<const Marginal1D>> marginals_;
};

}  // namespace hjbtt
