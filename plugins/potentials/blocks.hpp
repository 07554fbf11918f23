// A potential that places other potentials on consecutive, disjoint ranges of coordinates:
// Phi(x) = sum_b Phi_b(x restricted to block b). The target is then a product of the blocks'
// targets, so every fact of its reference follows from the blocks' references.
//
// A block repeated n times is one potential object placed at n offsets. Potentials are
// immutable after construction, so sharing one object is safe and keeps its reference (for
// instance a tabulated density) built once.
#pragma once

#include "hjbtt/potential.hpp"

#include <memory>
#include <vector>

namespace hjbtt {

struct PotentialBlock {
  std::shared_ptr<const Potential> potential;
  arma::uword repeat = 1;
};

class BlockPotential : public Potential {
public:
  // Throws std::invalid_argument when there are no blocks, a block is null or a repeat is 0.
  explicit BlockPotential(const std::vector<PotentialBlock>& blocks);

  arma::uword dimension() const override { return dimension_; }

  // One call per placed block on the block's rows of X.
  arma::rowvec value(const arma::mat& X) const override;
  arma::mat gradient(const arma::mat& X) const override;

  // The blocks' terms with coordinates shifted to their place, or nothing when a block has
  // no polynomial form.
  std::optional<SeparablePolynomial> polynomial() const override;

  // Null unless every block has a reference. Marginals and draws are offered only when every
  // block offers them.
  std::shared_ptr<const Reference> reference() const override { return reference_; }

  // A block's potential placed at a coordinate offset, with one entry per repeat.
  struct Placement {
    std::shared_ptr<const Potential> potential;
    arma::uword offset = 0;
    arma::uword dimension = 0;
    std::size_t block = 0;  // index of the block it repeats
  };
  const std::vector<Placement>& placements() const { return placements_; }

private:
  std::vector<PotentialBlock> blocks_;
  std::vector<Placement> placements_;
  arma::uword dimension_ = 0;
  std::shared_ptr<const Reference> reference_;
};

}  // namespace hjbtt
