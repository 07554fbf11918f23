// An example potential plugin built outside the hjbtt tree: the anchored quartic chain
//
//   Phi(x) = c * sum_{k=1..d} (x_k - x_{k-1})^4,   with x_0 = 0 and coupling c > 0.
//
// The increments y_k = x_k - x_{k-1} are independent, each with density proportional to
// exp(-c y^4), so x is a random walk. Its exact moments are cheap: the mean is zero (the law is
// symmetric) and Cov(x_i, x_j) = min(i, j) s^2, where s^2 = E[y^2] = Gamma(3/4) / (Gamma(1/4) sqrt(c))
// follows from substituting u = c y^4 in both integrals of E[y^2]. Exact draws are cheap too.
//
// The file shows every part of a potential plugin, in order. The reference feeds the statistics
// postprocessor. The potential class gives its polynomial form, from which the host builds the
// initial condition of the HJB equation. The factory rejects invalid values with a
// ConfigurationError, and the manifest declares the parameters.
#include <hjbtt/plugin.hpp>
#include <hjbtt/potential.hpp>

#include <armadillo>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace quartic_example {

// The reference: exact mean and covariance, and exact draws of the increments by rejection.
class QuarticChainReference : public hjbtt::Reference {
public:
  QuarticChainReference(arma::uword dimension, double coupling) : dimension_(dimension), coupling_(coupling) {}

  arma::vec mean() const override { return arma::zeros<arma::vec>(dimension_); }

  arma::mat covariance() const override {
    const double increment_variance = std::tgamma(0.75) / (std::tgamma(0.25) * std::sqrt(coupling_));
    arma::mat covariance(dimension_, dimension_);
    for (arma::uword i = 0; i < dimension_; ++i)
      for (arma::uword j = 0; j < dimension_; ++j)
        covariance(i, j) = static_cast<double>(std::min(i, j) + 1) * increment_variance;
    return covariance;
  }

  bool can_draw() const override { return true; }

  arma::mat draw(arma::uword n, hjbtt::RandomStream& random) const override {
    // u = c^(1/4) y has density proportional to exp(-u^4). With a standard normal proposal,
    // exp(-u^4 + u^2 / 2) is largest at u^2 = 1/4, where it equals exp(1/16), so accepting u
    // with probability exp(-u^4 + u^2 / 2 - 1/16) is exact; about 68% of proposals pass.
    arma::mat increments(dimension_, n);
    const double scale = std::pow(coupling_, -0.25);
    for (double& y : increments) {
      double u = random.normal();
      while (random.uniform() >= std::exp(-u * u * u * u + 0.5 * u * u - 1.0 / 16.0)) u = random.normal();
      y = scale * u;
    }
    return arma::cumsum(increments, 0);
  }

private:
  arma::uword dimension_;
  double coupling_;
};

class QuarticChainPotential : public hjbtt::Potential {
public:
  QuarticChainPotential(arma::uword dimension, double coupling)
      : dimension_(dimension),
        coupling_(coupling),
        reference_(std::make_shared<QuarticChainReference>(dimension, coupling)) {}

  arma::uword dimension() const override { return dimension_; }

  arma::rowvec value(const arma::mat& X) const override {
    check_rows(X);
    return coupling_ * arma::sum(arma::pow(increments(X), 4), 0);
  }

  // dPhi/dx_k = 4c (y_k^3 - y_{k+1}^3), where y_{d+1} = 0 because x_d ends the chain.
  arma::mat gradient(const arma::mat& X) const override {
    check_rows(X);
    const arma::mat cubes = 4.0 * coupling_ * arma::pow(increments(X), 3);
    arma::mat gradient = cubes;
    if (dimension_ > 1) gradient.rows(0, dimension_ - 2) -= cubes.rows(1, dimension_ - 1);
    return gradient;
  }

  // c (x_k - x_{k-1})^4 = sum_j c binom(4, j) (-1)^(4-j) x_k^j x_{k-1}^(4-j): five separable
  // terms per link, so the TT rank between two neighbours is at most 5 before rounding.
  std::optional<hjbtt::SeparablePolynomial> polynomial() const override {
    const double binomial[5] = {1.0, 4.0, 6.0, 4.0, 1.0};
    hjbtt::SeparablePolynomial terms;
    terms.push_back({coupling_, {monomial(0, 4)}});
    for (arma::uword k = 1; k < dimension_; ++k) {
      for (unsigned j = 0; j <= 4; ++j) {
        const double sign = (4 - j) % 2 == 0 ? 1.0 : -1.0;
        hjbtt::SeparableTerm term{coupling_ * binomial[j] * sign, {}};
        if (j > 0) term.factors.push_back(monomial(k, j));
        if (j < 4) term.factors.push_back(monomial(k - 1, 4 - j));
        terms.push_back(term);
      }
    }
    return terms;
  }

  std::shared_ptr<const hjbtt::Reference> reference() const override { return reference_; }

private:
  // A wrong row count is a bug in the caller, not in the pipeline, so it is no ConfigurationError.
  void check_rows(const arma::mat& X) const {
    if (X.n_rows != dimension_)
      throw std::invalid_argument("quartic_chain potential: expected points with " + std::to_string(dimension_) +
                                  " rows, found " + std::to_string(X.n_rows));
  }

  // The increments y_k = x_k - x_{k-1} of every column, with x_0 = 0.
  arma::mat increments(const arma::mat& X) const {
    arma::mat Y = X;
    if (dimension_ > 1) Y.rows(1, dimension_ - 1) -= X.rows(0, dimension_ - 2);
    return Y;
  }

  // x_coordinate^power as one factor of a separable term.
  static hjbtt::PolynomialFactor monomial(arma::uword coordinate, unsigned power) {
    arma::vec coefficients(power + 1, arma::fill::zeros);
    coefficients(power) = 1.0;
    return {coordinate, coefficients};
  }

  arma::uword dimension_;
  double coupling_;
  std::shared_ptr<const hjbtt::Reference> reference_;
};

// The host has already checked the declared types and inclusive ranges. The factory rejects what
// the declaration cannot express, here that the coupling must be strictly positive.
std::shared_ptr<hjbtt::PluginObject> make_quartic_chain(const hjbtt::Parameters& params) {
  const double coupling = params.number("coupling");
  if (!(coupling > 0.0))
    params.fail("coupling", "expected a positive coupling c, found " + hjbtt::format_number(coupling) +
                                "; Phi = c sum (x_k - x_{k-1})^4 has no normalisable density for c <= 0");
  return std::make_shared<QuarticChainPotential>(static_cast<arma::uword>(params.integer("dimension")), coupling);
}

hjbtt::PluginManifest manifest() {
  hjbtt::PluginInfo info;
  info.kind = hjbtt::PluginKind::potential;
  info.name = "quartic_chain";
  info.version = "0.1.0";
  info.summary = "Anchored quartic chain Phi = c sum_k (x_k - x_{k-1})^4 with x_0 = 0: a random walk with quartic increments.";
  info.parameters = {
      hjbtt::integer_parameter("dimension", 3, "Number d of coordinates x_1 .. x_d of the chain.", 1, 64),
      hjbtt::number_parameter("coupling", 1.0,
                              "Coupling c > 0; larger values make the increments smaller (variance proportional to "
                              "1/sqrt(c)).",
                              0.0, 1e6),
  };
  info.factory = [](const hjbtt::Parameters& params, hjbtt::PluginContext&) { return make_quartic_chain(params); };
  return hjbtt::PluginManifest{{info}};
}

}  // namespace quartic_example

// Exports hjbtt_abi_tag and hjbtt_plugin_manifest, the two entry points the host looks up.
HJBTT_PLUGIN_MANIFEST(quartic_example::manifest())
