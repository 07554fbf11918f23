// References of targets with independent coordinates.
#include "product_reference.hpp"

#include "support.hpp"

#include <stdexcept>

namespace hjbtt {

double NormalMarginal::cdf(double x) const { return normal_cdf((x - mean_) / standard_deviation_); }

arma::rowvec NormalMarginal::draw(arma::uword n, RandomStream& random) const {
  return mean_ + standard_deviation_ * arma::rowvec(random.normal(1, n));
}

arma::vec ProductReference::mean() const {
  arma::vec m(marginals_.size());
  for (arma::uword k = 0; k < m.n_elem; ++k) m(k) = marginals_[k]->mean();
  return m;
}

arma::mat ProductReference::covariance() const {
  arma::vec variances(marginals_.size());
  for (arma::uword k = 0; k < variances.n_elem; ++k) variances(k) = marginals_[k]->variance();
  return arma::diagmat(variances);
}

double ProductReference::marginal_cdf(arma::uword k, double x) const {
  if (k >= marginals_.size())
    throw std::out_of_range("reference: coordinate " + std::to_string(k) + " is out of range for dimension " +
                            std::to_string(marginals_.size()));
  return marginals_[k]->cdf(x);
}

// Coordinates are drawn one after the other from the same stream, which keeps them independent.
arma::mat ProductReference::draw(arma::uword n, RandomStream& random) const {
  arma::mat X(marginals_.size(), n);
  for (arma::uword k = 0; k < X.n_rows; ++k) X.row(k) = marginals_[k]->draw(n, random);
  return X;
}

}  // namespace hjbtt
