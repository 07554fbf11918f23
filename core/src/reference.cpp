// Defaults for the optional parts of a potential's reference.
#include "hjbtt/potential.hpp"

#include <stdexcept>

namespace hjbtt {

double Reference::marginal_cdf(arma::uword, double) const {
  throw std::logic_error("Reference::marginal_cdf: this reference has no marginals (check has_marginals() first)");
}

arma::mat Reference::draw(arma::uword, RandomStream&) const {
  throw std::logic_error("Reference::draw: this reference cannot draw exact samples (check can_draw() first)");
}

}  // namespace hjbtt
