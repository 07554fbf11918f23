// The Gaussian mixture potential and its exact reference.
#include "gaussian_mixture.hpp"

#include "support.hpp"

#include "hjbtt/parameters.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace hjbtt {

namespace {

class GaussianMixtureReference : public Reference {
public:
  GaussianMixtureReference(arma::vec weights, std::vector<arma::vec> means, std::vector<arma::mat> covariances,
                           std::vector<arma::mat> cholesky_factors)
      : weights_(std::move(weights)), means_(std::move(means)), covariances_(std::move(covariances)),
        cholesky_factors_(std::move(cholesky_factors)) {}

  // E x = sum_j w_j m_j.
  arma::vec mean() const override {
    arma::vec m(means_.front().n_elem, arma::fill::zeros);
    for (arma::uword j = 0; j < weights_.n_elem; ++j) m += weights_(j) * means_[j];
    return m;
  }

  // Cov x = sum_j w_j (S_j + m_j m_j^T) - m m^T, accumulated around the mixture mean so that
  // distant means do not cancel digits.
  arma::mat covariance() const override {
    const arma::vec m = mean();
    arma::mat c(m.n_elem, m.n_elem, arma::fill::zeros);
    for (arma::uword j = 0; j < weights_.n_elem; ++j) {
      const arma::vec offset = means_[j] - m;
      c += weights_(j) * (covariances_[j] + offset * offset.t());
    }
    return c;
  }

  // The marginal of a mixture is the mixture of the components' normal marginals.
  bool has_marginals() const override { return true; }
  double marginal_cdf(arma::uword k, double x) const override {
    if (k >= means_.front().n_elem)
      throw std::out_of_range("gaussian_mixture reference: coordinate " + std::to_string(k) +
                              " is out of range for dimension " + std::to_string(means_.front().n_elem));
    double cdf = 0.0;
    for (arma::uword j = 0; j < weights_.n_elem; ++j)
      cdf += weights_(j) * normal_cdf((x - means_[j](k)) / std::sqrt(covariances_[j](k, k)));
    return cdf;
  }

  // A component with probability w_j for each draw, then m_j + L_j z with z standard normal.
  bool can_draw() const override { return true; }
  arma::mat draw(arma::uword n, RandomStream& random) const override {
    const arma::vec cumulative = arma::cumsum(weights_);
    arma::uvec component(n);
    for (arma::uword i = 0; i < n; ++i) {
      const double u = random.uniform() * cumulative.back();
      arma::uword j = 0;
      while (j + 1 < cumulative.n_elem && u >= cumulative(j)) ++j;
      component(i) = j;
    }

    arma::mat X = random.normal(means_.front().n_elem, n);
    for (arma::uword i = 0; i < n; ++i) X.col(i) = means_[component(i)] + cholesky_factors_[component(i)] * X.col(i);
    return X;
  }

private:
  arma::vec weights_;
  std::vector<arma::vec> means_;
  std::vector<arma::mat> covariances_;
  std::vector<arma::mat> cholesky_factors_;
};

}  // namespace

std::string covariance_defect(const arma::mat& covariance, arma::uword dimension) {
  if (covariance.n_rows != dimension || covariance.n_cols != dimension)
    return "expected a " + std::to_string(dimension) + " x " + std::to_string(dimension) + " covariance, found " +
           std::to_string(covariance.n_rows) + " x " + std::to_string(covariance.n_cols);
  if (!covariance.is_finite()) return "the covariance has non-finite entries";

  const double scale = arma::abs(covariance).max();
  const arma::mat asymmetry = arma::abs(covariance - covariance.t());
  const arma::uword worst = asymmetry.index_max();
  if (asymmetry(worst) > 1e-12 * scale) {
    const arma::uword i = worst % dimension, j = worst / dimension;
    return "the covariance is not symmetric: entry [" + std::to_string(i) + "][" + std::to_string(j) + "] is " +
           format_number(covariance(i, j)) + " but entry [" + std::to_string(j) + "][" + std::to_string(i) + "] is " +
           format_number(covariance(j, i)) + " (relative tolerance 1e-12); make them equal";
  }

  arma::mat lower;
  if (!arma::chol(lower, arma::mat(0.5 * (covariance + covariance.t())), "lower"))
    return "the covariance is not positive definite (its smallest eigenvalue is " +
           format_number(arma::eig_sym(arma::mat(0.5 * (covariance + covariance.t()))).min()) +
           "); give a symmetric matrix with positive eigenvalues";
  return "";
}

GaussianMixturePotential::GaussianMixturePotential(arma::vec weights, std::vector<arma::vec> means,
                                                   std::vector<arma::mat> covariances) {
  const arma::uword count = means.size();
  if (count == 0) throw std::invalid_argument("gaussian_mixture: no components; give at least one mean");
  dimension_ = means.front().n_elem;
  if (dimension_ == 0) throw std::invalid_argument("gaussian_mixture: the means are empty; give at least one coordinate");
  if (weights.n_elem != count || covariances.size() != count)
    throw std::invalid_argument("gaussian_mixture: " + std::to_string(count) + " means but " + std::to_string(weights.n_elem) +
                                " weights and " + std::to_string(covariances.size()) + " covariances; give one of each per component");
  for (arma::uword j = 0; j < count; ++j) {
    if (means[j].n_elem != dimension_ || !means[j].is_finite())
      throw std::invalid_argument("gaussian_mixture: mean " + std::to_string(j) + " has " + std::to_string(means[j].n_elem) +
                                  " entries (or non-finite ones) but mean 0 has " + std::to_string(dimension_));
    if (!(weights(j) > 0.0) || !std::isfinite(weights(j)))
      throw std::invalid_argument("gaussian_mixture: weight " + std::to_string(j) + " is " + format_number(weights(j)) +
                                  "; weights must be positive and finite");
    const std::string defect = covariance_defect(covariances[j], dimension_);
    if (!defect.empty()) throw std::invalid_argument("gaussian_mixture: covariance " + std::to_string(j) + ": " + defect);
  }
  weights /= arma::accu(weights);

  // Each component's log density is log w - 0.5 log det(2 pi S) - 0.5 |L^-1 (x - m)|^2, with
  // log det S = 2 sum log L_ii.
  std::vector<arma::mat> cholesky_factors;
  for (arma::uword j = 0; j < count; ++j) {
    covariances[j] = 0.5 * (covariances[j] + covariances[j].t());
    arma::mat lower;
    arma::chol(lower, covariances[j], "lower");
    Component component;
    component.mean = means[j];
    component.inverse_cholesky = arma::inv(arma::trimatl(lower));
    component.log_scale = std::log(weights(j)) - 0.5 * static_cast<double>(dimension_) * std::log(2.0 * std::numbers::pi) -
                          arma::accu(arma::log(lower.diag()));
    components_.push_back(std::move(component));
    cholesky_factors.push_back(std::move(lower));
  }
  reference_ = std::make_shared<GaussianMixtureReference>(std::move(weights), std::move(means), std::move(covariances),
                                                          std::move(cholesky_factors));
}

arma::mat GaussianMixturePotential::log_densities(const arma::mat& X, std::vector<arma::mat>* whitened) const {
  arma::mat log_density(X.n_cols, components_.size());
  if (whitened) whitened->resize(components_.size());
  for (arma::uword j = 0; j < components_.size(); ++j) {
    const Component& component = components_[j];
    arma::mat z = component.inverse_cholesky * (X.each_col() - component.mean);
    log_density.col(j) = component.log_scale - 0.5 * arma::sum(arma::square(z), 0).t();
    if (whitened) (*whitened)[j] = std::move(z);
  }
  return log_density;
}

arma::rowvec GaussianMixturePotential::value(const arma::mat& X) const {
  check_point_rows("gaussian_mixture", dimension_, X);
  const arma::mat log_density = log_densities(X, nullptr);

  // log sum_j exp(a_j) = a_max + log sum_j exp(a_j - a_max), with every term at most 1.
  const arma::colvec largest = arma::max(log_density, 1);
  const arma::colvec sum = arma::sum(arma::exp(log_density.each_col() - largest), 1);
  arma::rowvec phi = -(largest + arma::log(sum)).t();

  // Where every a_j overflowed to -inf (a point some 1e154 standard deviations from every mean),
  // the shift above gives NaN, and the density there is 0.
  for (arma::uword i = 0; i < phi.n_elem; ++i)
    if (largest(i) == -arma::datum::inf) phi(i) = arma::datum::inf;
  return phi;
}

arma::mat GaussianMixturePotential::gradient(const arma::mat& X) const {
  check_point_rows("gaussian_mixture", dimension_, X);
  std::vector<arma::mat> whitened;
  arma::mat log_density = log_densities(X, &whitened);

  // Posterior weights r_j = exp(a_j - logsumexp(a)), computed from the shifted exponents.
  const arma::colvec largest = arma::max(log_density, 1);
  arma::mat responsibility = arma::exp(log_density.each_col() - largest);
  responsibility.each_col() /= arma::sum(responsibility, 1);

  // S_j^-1 (x - m_j) = L_j^-T z_j, weighted per point by r_j.
  arma::mat g(dimension_, X.n_cols, arma::fill::zeros);
  for (arma::uword j = 0; j < components_.size(); ++j) {
    arma::mat z = whitened[j];
    z.each_row() %= responsibility.col(j).t();
    g += components_[j].inverse_cholesky.t() * z;
  }
  return g;
}

}  // namespace hjbtt
