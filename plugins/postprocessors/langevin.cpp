// Langevin correction (ULA and MALA), one column block of samples per task.
#include "langevin.hpp"

#include "hjbtt/core/random.hpp"
#include "hjbtt/errors.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace hjbtt {

namespace {

// Counts of one block of samples. They are summed in block order after the parallel loop, so
// the totals do not depend on the order in which threads finish.
struct BlockOutcome {
  std::uint64_t proposals = 0;
  std::uint64_t accepted = 0;
  std::uint64_t nonfinite_proposals = 0;  // MALA: rejected because Phi or its gradient was not finite
  std::uint64_t nonfinite_start = 0;      // columns at which the potential was not finite before any step
  std::uint64_t ula_failures = 0;         // ULA: columns that reached a non-finite gradient
  std::exception_ptr error;               // an exception from the potential, rethrown after the loop
};

bool is_finite_column(const arma::mat& points, const arma::mat& gradient, arma::uword j) {
  return points.col(j).is_finite() && gradient.col(j).is_finite();
}

// ULA on the columns of `x`. A column whose proposal has a non-finite gradient keeps its last
// finite state and stays frozen for the remaining steps, so that the potential is only ever
// called at finite points and the count of failed columns is exact.
void run_ula(arma::mat& x, const Potential& potential, const LangevinPostprocessor::Settings& settings,
             RandomStream& random, BlockOutcome& outcome) {
  const double h = settings.step_size;
  const double noise_scale = std::sqrt(2.0 * h);

  arma::mat gradient = potential.gradient(x);
  for (arma::uword j = 0; j < x.n_cols; ++j) {
    if (!is_finite_column(x, gradient, j)) ++outcome.nonfinite_start;
  }
  if (outcome.nonfinite_start > 0) return;

  std::vector<char> frozen(x.n_cols, 0);
  for (std::int64_t step = 0; step < settings.steps; ++step) {
    const arma::mat proposal = x - h * gradient + noise_scale * random.normal(x.n_rows, x.n_cols);
    const arma::mat proposal_gradient = potential.gradient(proposal);

    for (arma::uword j = 0; j < x.n_cols; ++j) {
      if (frozen[j]) continue;
      if (!is_finite_column(proposal, proposal_gradient, j)) {
        frozen[j] = 1;
        ++outcome.ula_failures;
        continue;
      }
      x.col(j) = proposal.col(j);
      gradient.col(j) = proposal_gradient.col(j);
    }
  }
}

// MALA on the columns of `x`, with the acceptance ratio in log space so that large differences
// of Phi neither overflow nor underflow.
void run_mala(arma::mat& x, const Potential& potential, const LangevinPostprocessor::Settings& settings,
              RandomStream& random, BlockOutcome& outcome) {
  const double h = settings.step_size;
  const double noise_scale = std::sqrt(2.0 * h);

  arma::rowvec phi = potential.value(x);
  arma::mat gradient = potential.gradient(x);
  for (arma::uword j = 0; j < x.n_cols; ++j) {
    if (!is_finite_column(x, gradient, j) || !std::isfinite(phi(j))) ++outcome.nonfinite_start;
  }
  if (outcome.nonfinite_start > 0) return;

  for (std::int64_t step = 0; step < settings.steps; ++step) {
    const arma::mat xi = random.normal(x.n_rows, x.n_cols);
    const arma::mat proposal = x - h * gradient + noise_scale * xi;
    const arma::rowvec proposal_phi = potential.value(proposal);
    const arma::mat proposal_gradient = potential.gradient(proposal);

    // log q(x' | x) = -|x' - x + h gradPhi(x)|^2 / (4h) = -|xi|^2 / 2 exactly, and the reverse
    // move needs the gradient at the proposal. Normalising constants cancel in the ratio.
    const arma::rowvec log_q_forward = -0.5 * arma::sum(arma::square(xi), 0);
    const arma::rowvec log_q_reverse =
        -arma::sum(arma::square(x - proposal + h * proposal_gradient), 0) / (4.0 * h);

    for (arma::uword j = 0; j < x.n_cols; ++j) {
      // Drawn for every column, accepted or not, so each column's stream position is fixed.
      const double log_u = std::log(random.uniform());
      ++outcome.proposals;
      if (!is_finite_column(proposal, proposal_gradient, j) || !std::isfinite(proposal_phi(j))) {
        ++outcome.nonfinite_proposals;
        continue;
      }

      const double log_ratio = phi(j) - proposal_phi(j) + log_q_reverse(j) - log_q_forward(j);
      if (log_u < log_ratio) {
        x.col(j) = proposal.col(j);
        phi(j) = proposal_phi(j);
        gradient.col(j) = proposal_gradient.col(j);
        ++outcome.accepted;
      }
    }
  }
}

std::string method_name(bool metropolis) { return metropolis ? "MALA" : "ULA"; }

}  // namespace

LangevinPostprocessor::LangevinPostprocessor(Settings settings) : settings_(settings) {
  if (settings_.steps < 0) {
    throw std::invalid_argument("langevin: steps must be >= 0, got " + std::to_string(settings_.steps));
  }
  if (!(settings_.step_size > 0.0) || !std::isfinite(settings_.step_size)) {
    std::ostringstream message;
    message << "langevin: step_size must be a positive finite number, got " << settings_.step_size;
    throw std::invalid_argument(message.str());
  }
}

void LangevinPostprocessor::process(arma::mat& samples, const Potential& potential, const RunContext& context,
                                    boost::json::object& report) {
  if (samples.n_rows != potential.dimension()) {
    throw std::invalid_argument("langevin: the samples have " + std::to_string(samples.n_rows) +
                                " rows but the potential has dimension " + std::to_string(potential.dimension()));
  }

  // Each block works on its own copy and writes into `corrected`, so a failure anywhere leaves
  // `samples` as it was.
  const arma::uword n = samples.n_cols;
  const arma::uword block_size = sample_block_size;
  const std::int64_t blocks = static_cast<std::int64_t>((n + block_size - 1) / block_size);
  arma::mat corrected(samples.n_rows, n);
  std::vector<BlockOutcome> outcomes(static_cast<std::size_t>(blocks));

#pragma omp parallel for schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    BlockOutcome& outcome = outcomes[static_cast<std::size_t>(b)];
    try {
      const arma::uword first = static_cast<arma::uword>(b) * block_size;
      const arma::uword last = std::min(first + block_size, n) - 1;
      arma::mat x = samples.cols(first, last);
      RandomStream random(context.seed, {context.phase, static_cast<std::uint64_t>(b)});
      if (settings_.metropolis) {
        run_mala(x, potential, settings_, random, outcome);
      } else {
        run_ula(x, potential, settings_, random, outcome);
      }
      corrected.cols(first, last) = x;
    } catch (...) {
      // An exception must not leave an OpenMP region, so it waits here until the loop ends.
      outcome.error = std::current_exception();
    }
  }

  // Totals, in block order.
  BlockOutcome total;
  double min_block_acceptance = std::numeric_limits<double>::infinity();
  for (const BlockOutcome& outcome : outcomes) {
    if (outcome.error && !total.error) total.error = outcome.error;
    total.proposals += outcome.proposals;
    total.accepted += outcome.accepted;
    total.nonfinite_proposals += outcome.nonfinite_proposals;
    total.nonfinite_start += outcome.nonfinite_start;
    total.ula_failures += outcome.ula_failures;
    if (outcome.proposals > 0) {
      const double block_acceptance = static_cast<double>(outcome.accepted) / static_cast<double>(outcome.proposals);
      min_block_acceptance = std::min(min_block_acceptance, block_acceptance);
    }
  }
  if (total.error) std::rethrow_exception(total.error);

  // Failures the user has to act on.
  if (total.nonfinite_start > 0) {
    std::ostringstream message;
    message << "langevin: " << total.nonfinite_start << " of the " << n << " input samples are not finite or give a "
            << "non-finite potential or gradient, so Langevin steps cannot start from them. Check the samples of the "
            << "previous phase (a sampler that left the box of its approximation reports it) and the domain of the "
            << "potential.";
    throw NumericalFailure(message.str());
  }
  if (total.ula_failures > 0) {
    std::ostringstream message;
    message << "langevin: ULA reached a non-finite gradient of the potential for " << total.ula_failures << " of the "
            << n << " samples within " << settings_.steps << " steps of step_size " << settings_.step_size
            << ". ULA has no accept/reject step to stop this. Use a smaller step_size or set metropolis: true "
            << "(MALA rejects such proposals).";
    throw NumericalFailure(message.str());
  }
  samples = std::move(corrected);

  // Report. The acceptance rate is null for ULA, which has no accept/reject step, and when no
  // proposal was made.
  const bool has_acceptance = settings_.metropolis && total.proposals > 0;
  const double acceptance =
      has_acceptance ? static_cast<double>(total.accepted) / static_cast<double>(total.proposals) : 0.0;
  report["steps"] = settings_.steps;
  report["step_size"] = settings_.step_size;
  report["metropolis"] = settings_.metropolis;
  report["samples"] = n;
  report["acceptance_rate"] = has_acceptance ? boost::json::value(acceptance) : boost::json::value(nullptr);
  report["acceptance_rate_min_block"] =
      has_acceptance ? boost::json::value(min_block_acceptance) : boost::json::value(nullptr);
  if (settings_.metropolis) report["nonfinite_proposals"] = total.nonfinite_proposals;

  if (context.log != nullptr) {
    std::ostringstream line;
    line.precision(4);
    line << "langevin: " << method_name(settings_.metropolis) << ", " << settings_.steps << " steps of size "
         << settings_.step_size << " on " << n << " samples";
    if (has_acceptance) {
      line << ", acceptance rate " << acceptance << " (lowest block " << min_block_acceptance << "), "
           << total.nonfinite_proposals << " non-finite proposals rejected";
    }
    context.log->info(line.str());
  }
}

}  // namespace hjbtt
