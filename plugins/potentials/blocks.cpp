// The block composite potential and its assembled reference.
#include "blocks.hpp"

#include "support.hpp"

#include <stdexcept>

namespace hjbtt {

namespace {

struct PlacedReference {
  std::shared_ptr<const Reference> reference;
  arma::uword offset = 0;
  arma::uword dimension = 0;
};

// The blocks are independent, so the covariance is block-diagonal, each marginal is the one
// of the block containing the coordinate, and a draw stacks one draw per block.
class BlockReference : public Reference {
public:
  BlockReference(std::vector<PlacedReference> parts, arma::uword dimension)
      : parts_(std::move(parts)), dimension_(dimension) {
    has_marginals_ = can_draw_ = true;
    for (const auto& part : parts_) {
      has_marginals_ = has_marginals_ && part.reference->has_marginals();
      can_draw_ = can_draw_ && part.reference->can_draw();
    }
  }

  arma::vec mean() const override {
    arma::vec m(dimension_);
    for (const auto& part : parts_) m.subvec(part.offset, part.offset + part.dimension - 1) = part.reference->mean();
    return m;
  }

  arma::mat covariance() const override {
    arma::mat c(dimension_, dimension_, arma::fill::zeros);
    for (const auto& part : parts_) {
      const arma::uword last = part.offset + part.dimension - 1;
      c.submat(part.offset, part.offset, last, last) = part.reference->covariance();
    }
    return c;
  }

  bool has_marginals() const override { return has_marginals_; }
  double marginal_cdf(arma::uword k, double x) const override {
    for (const auto& part : parts_)
      if (k >= part.offset && k < part.offset + part.dimension) return part.reference->marginal_cdf(k - part.offset, x);
    throw std::out_of_range("blocks reference: coordinate " + std::to_string(k) + " is out of range for dimension " +
                            std::to_string(dimension_));
  }

  // Repeated blocks share one reference. Its successive draws from the same stream are
  // independent, so the repeats are too.
  bool can_draw() const override { return can_draw_; }
  arma::mat draw(arma::uword n, RandomStream& random) const override {
    if (!can_draw_) return Reference::draw(n, random);
    arma::mat X(dimension_, n);
    for (const auto& part : parts_) X.rows(part.offset, part.offset + part.dimension - 1) = part.reference->draw(n, random);
    return X;
  }

private:
  std::vector<PlacedReference> parts_;
  arma::uword dimension_;
  bool has_marginals_;
  bool can_draw_;
};

}  // namespace

BlockPotential::BlockPotential(const std::vector<PotentialBlock>& blocks) : blocks_(blocks) {
  if (blocks.empty()) throw std::invalid_argument("blocks potential: the list of blocks is empty; give at least one");

  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (!blocks[b].potential) throw std::invalid_argument("blocks potential: block " + std::to_string(b) + " is null");
    if (blocks[b].repeat == 0)
      throw std::invalid_argument("blocks potential: block " + std::to_string(b) + " has repeat 0; give at least 1");
    const arma::uword d = blocks[b].potential->dimension();
    for (arma::uword r = 0; r < blocks[b].repeat; ++r) {
      placements_.push_back({blocks[b].potential, dimension_, d, b});
      dimension_ += d;
    }
  }

  // Each block's reference is fetched once, so a tabulated one is not rebuilt per repeat.
  std::vector<std::shared_ptr<const Reference>> references;
  for (const auto& block : blocks) {
    references.push_back(block.potential->reference());
    if (!references.back()) return;
  }
  std::vector<PlacedReference> parts;
  for (const auto& placement : placements_)
    parts.push_back({references[placement.block], placement.offset, placement.dimension});
  reference_ = std::make_shared<BlockReference>(std::move(parts), dimension_);
}

arma::rowvec BlockPotential::value(const arma::mat& X) const {
  check_point_rows("blocks", dimension_, X);
  arma::rowvec sum(X.n_cols, arma::fill::zeros);
  for (const auto& placement : placements_)
    sum += placement.potential->value(X.rows(placement.offset, placement.offset + placement.dimension - 1));
  return sum;
}

arma::mat BlockPotential::gradient(const arma::mat& X) const {
  check_point_rows("blocks", dimension_, X);
  arma::mat g(dimension_, X.n_cols);
  for (const auto& placement : placements_) {
    const arma::uword last = placement.offset + placement.dimension - 1;
    g.rows(placement.offset, last) = placement.potential->gradient(X.rows(placement.offset, last));
  }
  return g;
}

std::optional<SeparablePolynomial> BlockPotential::polynomial() const {
  std::vector<SeparablePolynomial> block_terms;
  for (const auto& block : blocks_) {
    std::optional<SeparablePolynomial> terms = block.potential->polynomial();
    if (!terms) return std::nullopt;
    block_terms.push_back(std::move(*terms));
  }

  SeparablePolynomial terms;
  for (const auto& placement : placements_)
    for (SeparableTerm term : block_terms[placement.block]) {
      for (auto& factor : term.factors) factor.coordinate += placement.offset;
      terms.push_back(std::move(term));
    }
  return terms;
}

}  // namespace hjbtt
