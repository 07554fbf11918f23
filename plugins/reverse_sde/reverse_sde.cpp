// Euler-Maruyama for the reverse-time SDE over blocks of samples.
#include "reverse_sde.hpp"

#include "hjbtt/errors.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <sstream>

namespace hjbtt {

namespace {
constexpr double max_sampler_step = 0.25;
constexpr double blend_tolerance = 1e-9;
constexpr arma::uword slice_size = 256;
}  // namespace

arma::vec reverse_time_grid(double final_time, arma::uword steps, double power) {
  arma::vec t(steps + 1);
  for (arma::uword m = 0; m <= steps; ++m)
    t(m) = final_time * std::pow(1.0 - static_cast<double>(m) / static_cast<double>(steps), power);
  t(steps) = 0.0;
  return t;
}

arma::mat reverse_score(const FunctionalTT& v, const arma::mat& X, bool polynomial_extrapolation) {
  if (polynomial_extrapolation) return v.gradient(X);
  arma::vec lower(X.n_rows), upper(X.n_rows);
  for (arma::uword k = 0; k < X.n_rows; ++k) {
    lower(k) = v.bases()[k]->lower();
    upper(k) = v.bases()[k]->upper();
  }
  arma::mat clamped = X;
  for (arma::uword j = 0; j < X.n_cols; ++j)
    for (arma::uword k = 0; k < X.n_rows; ++k) clamped(k, j) = std::clamp(X(k, j), lower(k), upper(k));
  arma::mat score = v.gradient(clamped);
  score += X - clamped;
  return score;
}

arma::mat ReverseSde::sample(const Solution& solution, const RunContext& context, boost::json::object& report) {
  if (solution.empty()) throw std::logic_error("reverse_sde: the solution is empty");
  const arma::uword d = solution.dimension();
  const arma::uword n = options_.samples;
  const arma::vec grid = reverse_time_grid(solution.final_time(), options_.steps, options_.grid_power);
  const arma::uword blocks = (n + sample_block_size - 1) / sample_block_size;

  // Euler-Maruyama on the drift y - 2 grad v, which is close to -y late in the reverse process,
  // loses accuracy long before it loses stability at h = 2; refuse steps that are clearly too long.
  const double largest_step = grid(0) - grid(1);
  if (largest_step > max_sampler_step) {
    arma::uword needed = options_.steps;
    while (reverse_time_grid(solution.final_time(), needed, options_.grid_power)(0) -
               reverse_time_grid(solution.final_time(), needed, options_.grid_power)(1) > max_sampler_step)
      needed *= 2;
    throw ConfigurationError("/sampler/params/steps", "the largest Euler-Maruyama step is " + format_number(largest_step) +
                                                          " for T = " + format_number(solution.final_time()) + " and " +
                                                          std::to_string(options_.steps) + " steps; use at least " +
                                                          std::to_string(needed) + " steps so that no step exceeds " +
                                                          format_number(max_sampler_step));
  }

  // Blending is exact up to the rounding, which is set far below the solver's own retraction
  // tolerance so that it adds nothing visible to the interpolation error in t.
  std::vector<FunctionalTT> score_states(options_.steps);
  arma::uword blend_rank = 0;
  for (arma::uword m = 0; m < options_.steps; ++m) {
    score_states[m] = solution.interpolate(grid(m), blend_tolerance);
    blend_rank = std::max(blend_rank, score_states[m].coefficients().max_rank());
  }

  arma::mat samples(d, n);
  std::atomic<arma::uword> outside{0}, done{0};
  std::exception_ptr failure;

#pragma omp parallel for schedule(dynamic)
  for (arma::uword b = 0; b < blocks; ++b) {
    try {
      const arma::uword first = b * sample_block_size;
      const arma::uword last = std::min<arma::uword>(first + sample_block_size, n) - 1;
      RandomStream random(context.seed, {context.phase, b});
      arma::uword block_outside = 0;
      arma::mat y, noise;
      for (arma::uword slice = first; slice <= last; slice += slice_size) {
        const arma::uword width = std::min<arma::uword>(slice_size, last - slice + 1);
        y = random.normal(d, width);
        noise.set_size(d, width);
        for (arma::uword m = 0; m < options_.steps; ++m) {
          const double h = grid(m) - grid(m + 1);
          const arma::mat score = reverse_score(score_states[m], y, options_.polynomial_extrapolation);
          block_outside += solution.count_outside(y);
          random.fill_normal(noise);
          y += h * (y - 2.0 * score) + std::sqrt(2.0 * h) * noise;
        }
        samples.cols(slice, slice + width - 1) = y;
      }
      outside += block_outside;

      const arma::uword finished = ++done;
      if (context.log) {
#pragma omp critical(hjbtt_progress)
        context.log->progress("sample", static_cast<double>(finished) / blocks,
                              std::to_string(finished * sample_block_size < n ? finished * sample_block_size : n) +
                                  " of " + std::to_string(n) + " samples");
      }
    } catch (...) {
#pragma omp critical(hjbtt_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  const arma::uvec bad = arma::find_nonfinite(arma::sum(samples, 0));
  if (!bad.is_empty()) {
    std::ostringstream message;
    message << "reverse_sde: " << bad.n_elem << " of " << n << " samples are not finite. The score is extrapolated "
            << "outside the box and can blow up there; enlarge the basis domain, use more sampler steps, or set "
            << "\"extrapolation\": \"linear\".";
    throw NumericalFailure(message.str());
  }

  report["samples"] = n;
  report["steps"] = options_.steps;
  report["grid_power"] = options_.grid_power;
  report["extrapolation"] = options_.polynomial_extrapolation ? "polynomial" : "linear";
  report["blended_max_rank"] = blend_rank;
  report["smallest_step"] = grid(options_.steps - 1) - grid(options_.steps);
  report["largest_step"] = grid(0) - grid(1);
  // Point-steps outside the box, where the score is extrapolated and not controlled.
  report["outside_box_point_steps"] = static_cast<std::uint64_t>(outside.load());
  report["outside_box_fraction"] = static_cast<double>(outside.load()) / (static_cast<double>(n) * options_.steps);
  if (context.log && report["outside_box_fraction"].as_double() > 0.01)
    context.log->info("reverse_sde: " + format_number(100.0 * report["outside_box_fraction"].as_double()) +
                      " % of the point-steps were outside the box, where the score is not controlled; enlarge the basis domain");
  return samples;
}

}  // namespace hjbtt
