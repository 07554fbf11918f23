// The automatic pre-map: an affine change of variables x = mu + L z that centres and whitens the
// target before the HJB solve, so that a narrow or strongly correlated posterior fills a fixed box
// of the basis instead of a sliver of it.
//
// mu is the mode of pi = exp(-Phi) / Z, found by damped Newton iterations on Phi with the
// potential's exact gradient and a Hessian from central differences of that gradient. H is the
// Hessian at mu and L the lower Cholesky factor of H^-1, so L L^T = H^-1. For a Gaussian target
// z is then standard normal, which is also the stationary law of the Ornstein-Uhlenbeck process
// behind the HJB equation. The solve runs on the whitened potential Phi(mu + L z) - Phi(mu) in
// the box [-width, width]^d, and the samples are mapped back to x before any postprocessor.
#pragma once

#include "hjbtt/core/initial_condition.hpp"
#include "hjbtt/potential.hpp"

#include <armadillo>
#include <boost/json.hpp>

#include <memory>
#include <string>

namespace hjbtt {

// The pipeline's "premap" section; it takes effect with "domain": "auto" in the basis parameters.
struct PremapOptions {
  bool enabled = false;
  // Half-width w of the box [-w, w] of every whitened coordinate, in units of the Laplace
  // approximation's standard deviation. The explicit Euler solve of two Gaussian mixtures
  // diverged for w <= 8 and w <= 10 and solved at 12, while Gaussians solve at any w >= 4.
  double width = 12.0;
  // Start point of the mode search; empty means the origin.
  arma::vec start;
  // Newton iterations before the search stops with a NumericalFailure.
  arma::uword max_iterations = 100;
  // The search stops when the Newton decrement sqrt(g^T H^-1 g) is at most this. For a Gaussian
  // it is the distance to the mode measured in standard deviations of the whitened coordinates.
  double tolerance = 1e-8;
};

// The affine map and how the mode search went.
struct Premap {
  arma::vec mode;      // mu
  arma::mat hessian;   // H at mu, symmetrised
  arma::mat cholesky;  // L, lower triangular with L L^T = H^-1
  double width = 12.0;
  double potential_at_mode = 0.0;   // Phi(mu)
  double newton_decrement = 0.0;    // sqrt(g^T H^-1 g) at mu
  double gradient_norm = 0.0;       // |grad Phi(mu)|
  double hessian_asymmetry = 0.0;   // max |H - H^T| / max |H| before symmetrising, a check of the differences
  arma::uword iterations = 0;       // Newton iterations, each with one Hessian
  arma::uword value_evaluations = 0;
  arma::uword gradient_evaluations = 0;
  double seconds = 0.0;
};

boost::json::object to_json(const Premap& premap);

// Checks the pre-map settings against the potential and the initial condition before any work.
// Throws ConfigurationError at "/premap/start" when the start point does not have the
// potential's dimension, and at "/initial_condition/method" when the method is "polynomial",
// because the whitened potential has no polynomial form.
void check_premap(const PremapOptions& options, const Potential& potential, const InitialConditionOptions& initial);

// Finds the mode of exp(-Phi) and the whitening map there. `description` names the potential in
// messages. Throws NumericalFailure, naming the setting to change, in four cases. Phi or its
// gradient is not finite at the start. The line search finds no decrease. max_iterations pass
// without convergence. The Hessian at a stationary point is not positive definite.
Premap find_premap(const Potential& potential, const PremapOptions& options, const std::string& description);

// Computes the Hessian of Phi at x by central differences of its gradient, with step steps(j) in
// coordinate j, and symmetrises it. All 2d gradients are requested in one batch. `asymmetry` receives
// max |H - H^T| / max |H| of the unsymmetrised differences.
arma::mat difference_hessian(const Potential& potential, const arma::vec& x, const arma::vec& steps, double& asymmetry);

// Maps whitened points (columns of Z) to the target's coordinates: x = mu + L z.
arma::mat map_to_target(const Premap& premap, const arma::mat& Z);

// The potential in whitened coordinates, Phi~(z) = Phi(mu + L z) - Phi(mu), with gradient
// L^T grad Phi(mu + L z). Subtracting Phi(mu) leaves the score unchanged and keeps the values near
// the mode small, so the relative tolerance of TT-cross acts on the shape of Phi, not on an offset.
// It has no polynomial form, so its initial condition is built by TT-cross.
class WhitenedPotential final : public Potential {
public:
  WhitenedPotential(std::shared_ptr<const Potential> target, Premap premap);

  arma::uword dimension() const override { return target_->dimension(); }
  arma::rowvec value(const arma::mat& Z) const override;
  arma::mat gradient(const arma::mat& Z) const override;

  const Premap& premap() const { return premap_; }

private:
  std::shared_ptr<const Potential> target_;
  Premap premap_;
};

}  // namespace hjbtt
