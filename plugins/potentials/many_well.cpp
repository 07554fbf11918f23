// The many-well potential and its reference: a tabulated law for the odd coordinates and the
// standard normal for the even ones.
#include "many_well.hpp"

#include "product_reference.hpp"
#include "support.hpp"

#include <stdexcept>

namespace hjbtt {

ManyWellPotential::ManyWellPotential(arma::uword pairs) : pairs_(pairs) {
  if (pairs == 0) throw std::invalid_argument("many_well potential: the number of pairs must be at least 1");

  // The well's minimum is about -9.9 near x = 1.75 and at |x| = 5 it is above 470, so [-5, 5]
  // leaves out less than e^-480 of the mass. 40000 cells resolve the modes (standard
  // deviation about 0.2) with 800 cells each.
  TabulatedDensity1D well([](double x) { return -(((x * x - 6.0) * x - 0.5) * x); }, -5.0, 5.0, 40000);
  auto odd = std::make_shared<const TabulatedMarginal>(std::move(well));
  auto even = std::make_shared<const NormalMarginal>(0.0, 1.0);

  std::vector<std::shared_ptr<const Marginal1D>> marginals;
  for (arma::uword i = 0; i < pairs; ++i) {
    marginals.push_back(odd);
    marginals.push_back(even);
  }
  reference_ = std::make_shared<ProductReference>(std::move(marginals));
}

arma::rowvec ManyWellPotential::value(const arma::mat& X) const {
  check_point_rows("many_well", dimension(), X);
  const arma::mat odd = X.rows(arma::regspace<arma::uvec>(0, 2, X.n_rows - 2));
  const arma::mat even = X.rows(arma::regspace<arma::uvec>(1, 2, X.n_rows - 1));
  const arma::mat odd_squared = arma::square(odd);
  return arma::sum(odd_squared % (odd_squared - 6.0) - 0.5 * odd, 0) + 0.5 * arma::sum(arma::square(even), 0);
}

arma::mat ManyWellPotential::gradient(const arma::mat& X) const {
  check_point_rows("many_well", dimension(), X);
  const arma::uvec odd_rows = arma::regspace<arma::uvec>(0, 2, X.n_rows - 2);
  const arma::mat odd = X.rows(odd_rows);
  arma::mat g = X;  // the even rows' gradient is x itself
  g.rows(odd_rows) = 4.0 * arma::pow(odd, 3) - 12.0 * odd - 0.5;
  return g;
}

std::optional<SeparablePolynomial> ManyWellPotential::polynomial() const {
  // x^4 - 6 x^2 - 0.5 x in the odd coordinate and 0.5 x^2 in the even one, pair by pair.
  const arma::vec well_coefficients{0.0, -0.5, -6.0, 0.0, 1.0};
  SeparablePolynomial terms;
  for (arma::uword i = 0; i < pairs_; ++i) {
    terms.push_back({1.0, {{2 * i, well_coefficients}}});
    terms.push_back({1.0, {{2 * i + 1, arma::vec{0.0, 0.0, 0.5}}}});
  }
  return terms;
}

}  // namespace hjbtt
