// Tensor-train cross interpolation: the functional tensor train of a function known only
// through point evaluations, such as a potential without a polynomial form.
//
// The function is sampled on the tensor grid of Gauss nodes of the bases (n_k = p_k + 1 nodes
// in mode k). A two-site (DMRG-style) cross builds a tensor train of these node values from a
// few fibres of the grid. Each step evaluates one superblock, truncates its SVD to the
// tolerance and picks the next index set by maxvol, so the ranks adapt up to a cap. The node
// values then become Legendre coefficients mode by mode. The interpolating polynomial through
// n_k Gauss nodes has degree p_k, and the n_k-point Gauss rule integrates its products with the
// basis exactly, so the quadrature-weighted basis matrix is the exact nodal-to-modal map.
#pragma once

#include "hjbtt/core/ftt.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hjbtt {

struct CrossOptions {
  // Relative accuracy. The SVD of each superblock is truncated to tolerance / sqrt(d - 1) of its
  // Frobenius norm. The sweeps stop once the interpolant changes by less than tolerance in
  // relative L2 norm from one sweep to the next.
  double tolerance = 1e-6;
  arma::uword max_rank = 40;
  // One sweep is one pass over the modes in one direction.
  arma::uword max_sweeps = 10;
  // Random points for the error report, drawn once on the Gauss grid and once in the box.
  arma::uword check_points = 1000;
  // Relative accuracy of the TT-SVD rounding of the final coefficients, which drops the rank
  // the cross kept but the function does not need.
  double rounding_tolerance = 1e-12;
  // Seeds the random start of the index sets and the check points.
  std::uint64_t seed = 0;
};

struct CrossReport {
  arma::uword evaluations = 0;        // function values requested by the cross, checks excluded
  arma::uword check_evaluations = 0;  // function values requested by the error checks
  arma::uword sweeps = 0;
  bool converged = false;    // the last sweep changed the interpolant by less than the tolerance
  bool rank_capped = false;  // the last sweep wanted a rank above max_rank somewhere
  double sweep_change = 0.0; // relative L2 change of the interpolant in the last sweep
  std::vector<arma::uword> ranks;  // of the final functional tensor train, r_0 .. r_d

  // Errors of the final functional tensor train against the function at random points.
  // On Gauss-grid points the polynomial interpolation is exact, so node_relative_error measures
  // the tensor-train part alone. Box points add the error of interpolating by degree p_k.
  arma::uword check_points = 0;
  double node_relative_error = 0.0;  // ||v - f|| / ||f|| over random grid points
  double relative_l2_error = 0.0;    // ||v - f|| / ||f|| over uniform random points of the box
  double max_error = 0.0;            // max |v - f| over the same box points, a lower bound of the max on the box
  double max_relative_error = 0.0;   // max_error / max |f| over the box points
  double seconds = 0.0;
};

boost::json::object to_json(const CrossReport& report);

// A function evaluated at every column of a d x N matrix; returns a 1 x N row.
using BatchFunction = std::function<arma::rowvec(const arma::mat&)>;

// Interpolates `f` on the Gauss grids of `bases` and returns its functional tensor train.
// `description` names the function in messages, for example "potential 'gaussian_mixture'".
// Calls f on batches of up to 4096 points, from several OpenMP threads at once, so f
// must be safe to call concurrently. Throws NumericalFailure naming the first point where f
// returns a non-finite value, and std::runtime_error when f returns the wrong number of values.
FunctionalTT cross_interpolate(const BatchFunction& f, const BasisSet& bases, const CrossOptions& options,
                               const std::string& description, CrossReport& report);

// The same for a potential, through Potential::value.
FunctionalTT cross_interpolate(const Potential& potential, const BasisSet& bases, const CrossOptions& options,
                               const std::string& description, CrossReport& report);

// Returns the r rows of a full-rank m x r matrix A (m >= r) that span a submatrix of locally
// maximal volume: no single row exchange would enlarge |det A(rows, :)| by more than 1 %, unless
// the limit of 100 r + 100 exchanges stopped the search first. Also
// returns interpolation = A * inv(A(rows, :)), whose entries are then at most 1.01 in
// magnitude and whose rows `rows` form the identity.
arma::uvec maxvol(const arma::mat& A, arma::mat& interpolation);

}  // namespace hjbtt
