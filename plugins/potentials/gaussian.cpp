// The Gaussian potential and its exact reference N(m, Sigma).
#include "gaussian.hpp"

#include "support.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace hjbtt {

namespace {

class GaussianReference : public Reference {
public:
  GaussianReference(arma::vec mean, arma::mat covariance, arma::mat cholesky_lower)
      : mean_(std::move(mean)), covariance_(std::move(covariance)), cholesky_lower_(std::move(cholesky_lower)) {}

  arma::vec mean() const override { return mean_; }
  arma::mat covariance() const override { return covariance_; }

  bool has_marginals() const override { return true; }
  double marginal_cdf(arma::uword k, double x) const override {
    if (k >= mean_.n_elem)
      throw std::out_of_range("gaussian reference: coordinate " + std::to_string(k) + " is out of range for dimension " +
                              std::to_string(mean_.n_elem));
    return normal_cdf((x - mean_(k)) / std::sqrt(covariance_(k, k)));
  }

  // m + L z with Sigma = L L^T and z standard normal.
  bool can_draw() const override { return true; }
  arma::mat draw(arma::uword n, RandomStream& random) const override {
    arma::mat X = cholesky_lower_ * random.normal(mean_.n_elem, n);
    X.each_col() += mean_;
    return X;
  }

private:
  arma::vec mean_;
  arma::mat covariance_;
  arma::mat cholesky_lower_;
};

// An entry as it is indexed in the JSON array of rows, counting from 0.
std::string entry_name(arma::uword i, arma::uword j) {
  return "[" + std::to_string(i) + "][" + std::to_string(j) + "]";
}

// Throws std::invalid_argument unless the mean is non-empty and the covariance is a symmetric
// d x d matrix for a mean of length d. Positive definiteness is checked by the Cholesky factorisation.
void check_covariance(const arma::vec& mean, const arma::mat& covariance) {
  if (mean.n_elem == 0) throw std::invalid_argument("the mean is empty; give at least one coordinate");
  if (!covariance.is_square())
    throw std::invalid_argument("the covariance must be square, found " + std::to_string(covariance.n_rows) + " x " +
                                std::to_string(covariance.n_cols));
  if (covariance.n_rows != mean.n_elem)
    throw std::invalid_argument("the covariance is " + std::to_string(covariance.n_rows) + " x " +
                                std::to_string(covariance.n_cols) + " but the mean has " + std::to_string(mean.n_elem) +
                                " entries; give a d x d covariance for a mean of length d");

  const double scale = arma::abs(covariance).max();
  const arma::mat asymmetry = arma::abs(covariance - covariance.t());
  const arma::uword worst = asymmetry.index_max();
  if (asymmetry(worst) > 1e-12 * scale) {
    const arma::uword i = worst % covariance.n_rows, j = worst / covariance.n_rows;
    std::ostringstream message;
    message.precision(15);
    message << "the covariance is not symmetric: entry " << entry_name(i, j) << " is " << covariance(i, j)
            << " but entry " << entry_name(j, i) << " is " << covariance(j, i)
            << " (relative tolerance 1e-12); make them equal";
    throw std::invalid_argument(message.str());
  }
}

}  // namespace

GaussianPotential::GaussianPotential(arma::vec mean, arma::mat covariance) : mean_(std::move(mean)) {
  check_covariance(mean_, covariance);

  // Symmetrise exactly so that the Cholesky factor and the precision see one matrix.
  covariance = 0.5 * (covariance + covariance.t());
  arma::mat cholesky_lower;
  if (!arma::chol(cholesky_lower, covariance, "lower")) {
    const double smallest = arma::eig_sym(covariance).min();
    std::ostringstream message;
    message << "the covariance is not positive definite (its smallest eigenvalue is " << smallest
            << "); give a symmetric matrix with positive eigenvalues";
    throw std::invalid_argument(message.str());
  }

  // P = L^-T L^-1 from the triangular factor, which is both cheaper and more accurate than
  // inverting Sigma directly.
  const arma::mat inverse_lower = arma::inv(arma::trimatl(cholesky_lower));
  precision_ = inverse_lower.t() * inverse_lower;
  precision_ = 0.5 * (precision_ + precision_.t());

  reference_ = std::make_shared<GaussianReference>(mean_, covariance, cholesky_lower);
}

arma::mat GaussianPotential::ar1_covariance(const arma::vec& standard_deviations, double correlation) {
  const arma::uword d = standard_deviations.n_elem;
  arma::mat covariance(d, d);
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i < d; ++i)
      covariance(i, j) = standard_deviations(i) * standard_deviations(j) *
                         std::pow(correlation, static_cast<double>(i > j ? i - j : j - i));
  return covariance;
}

arma::rowvec GaussianPotential::value(const arma::mat& X) const {
  check_point_rows("gaussian", dimension(), X);
  const arma::mat centred = X.each_col() - mean_;
  return 0.5 * arma::sum(centred % (precision_ * centred), 0);
}

arma::mat GaussianPotential::gradient(const arma::mat& X) const {
  check_point_rows("gaussian", dimension(), X);
  return precision_ * (X.each_col() - mean_);
}

std::optional<SeparablePolynomial> GaussianPotential::polynomial() const {
  const double threshold = 1e-14 * arma::abs(precision_).max();
  SeparablePolynomial terms;
  for (arma::uword j = 0; j < dimension(); ++j)
    for (arma::uword i = 0; i <= j; ++i) {
      if (std::abs(precision_(i, j)) <= threshold) continue;
      if (i == j) {
        // 0.5 P_ii (x_i - m_i)^2
        const double m = mean_(i);
        terms.push_back({0.5 * precision_(i, i), {{i, arma::vec{m * m, -2.0 * m, 1.0}}}});
      } else {
        // 0.5 (P_ij + P_ji) (x_i - m_i)(x_j - m_j) = P_ij (x_i - m_i)(x_j - m_j)
        terms.push_back({precision_(i, j), {{i, arma::vec{-mean_(i), 1.0}}, {j, arma::vec{-mean_(j), 1.0}}}});
      }
    }
  return terms;
}

}  // namespace hjbtt
