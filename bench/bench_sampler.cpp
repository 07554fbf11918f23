// `sampler`: reverse-SDE throughput on the gaussian-20 solution, built as the bundled
// examples/gaussian-20.json pipeline builds it (Legendre degree 2 on [-8, 8], explicit Euler
// with rank tolerance 1e-6 and max rank 20, T = 5), at each requested OpenMP thread count.
#include "cases.hpp"
#include "subcommands.hpp"

#include "explicit_euler.hpp"
#include "gaussian.hpp"
#include "reverse_sde.hpp"

#include "hjbtt/core/solution.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <chrono>
#include <string>

namespace hjbtt::bench {

namespace {

class SolutionRecorder : public IntegrationObserver {
public:
  explicit SolutionRecorder(Solution& solution) : solution_(solution) {}
  void accepted(const FunctionalTT& v, const StepRecord& record) override { solution_.append(record.t, v); }

private:
  Solution& solution_;
};

// The gaussian-20 target: m_i = 0.5 (-1)^i, s_i = 0.6 + 0.05 i (i = 1..20), correlation 0.7^|i-j|.
GaussianPotential gaussian_20() {
  constexpr arma::uword d = 20;
  arma::vec mean(d), deviations(d);
  for (arma::uword i = 1; i <= d; ++i) {
    mean(i - 1) = i % 2 == 0 ? 0.5 : -0.5;
    deviations(i - 1) = 0.6 + 0.05 * double(i);
  }
  return GaussianPotential(mean, GaussianPotential::ar1_covariance(deviations, 0.7));
}

}  // namespace

void run_sampler(const RunOptions& options, double dgemm_gflops) {
  // Four blocks of sample_block_size points, so two threads get equal work. 100 steps instead
  // of the pipeline's 400 keep one run near 5 s; the cost per point-step hardly depends on it.
  constexpr arma::uword samples = 4 * sample_block_size, steps = 100;

  const GaussianPotential potential = gaussian_20();
  const BasisSet bases = legendre_bases(potential.dimension(), 2, -8.0, 8.0);
  const FunctionalTT v0 = ftt_from_polynomial(*potential.polynomial(), bases, 1e-12);

  Solution solution;
  solution.append(0.0, v0);
  SolutionRecorder recorder(solution);
  ExplicitEulerOptions euler;
  euler.rank_tolerance = 1e-6;
  euler.max_rank = 20;
  // The solve runs once: a second run would append the same times to the solution again.
  const auto start = std::chrono::steady_clock::now();
  ExplicitEuler(euler).integrate(v0, 0.0, 5.0, recorder, RunContext{});
  {
    boost::json::object line;
    line["bench"] = "sampler";
    line["case"] = "sampler/solve";
    line["stored_states"] = solution.size();
    line["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    emit(line);
  }

  for (const int threads : options.threads) {
    const std::string label = "sampler/reverse-sde/threads" + std::to_string(threads);
    if (!selected(options, label)) continue;
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    if (threads != 1) continue;
#endif

    ReverseSdeOptions sde;
    sde.samples = samples;
    sde.steps = steps;
    ReverseSde sampler(sde);
    arma::mat y;
    boost::json::object report;
    const Timing timing = time_median(options, [&] { y = sampler.sample(solution, RunContext{.seed = 42}, report); });

    const double point_steps = double(samples) * double(steps);
    boost::json::object line;
    line["bench"] = "sampler";
    line["case"] = label;
    line["threads"] = threads;
    line["d"] = solution.dimension();
    line["samples"] = samples;
    line["steps"] = steps;
    line["stored_states"] = solution.size();
    add_timing(line, timing);
    line["point_steps_per_second"] = point_steps / timing.median_seconds;
    line["dgemm_gflops"] = dgemm_gflops;
    line["sample_mean_0"] = arma::mean(y.row(0));
    emit(line);
  }
}

}  // namespace hjbtt::bench
