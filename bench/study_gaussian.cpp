// hjbtt_study_gaussian: the score error of a Gaussian pipeline's HJB solution against the exact
// score, at every accepted time of the solve. scripts/experiments.sh runs it, and
// scripts/experiments.py plots its output.
//
// For pi = N(m, Sigma) the forward marginal is rho_t = N(e^-t m, Sigma_t) with
// Sigma_t = e^-2t Sigma + (1 - e^-2t) I, so the exact score is grad v(t, x) = Sigma_t^-1 (x - e^-t m).
// The program loads the pipeline and its plugins as `hjbtt run` does, solves the HJB equation
// with the pipeline's integrator, and prints one JSON object on standard output. Its fields:
//   "steps", "max_rank"   the solve
//   "solve_seconds"       its wall time, measured as the host measures it
//   "solve_cpu_seconds"   its processor time over all threads, which depends less on other
//                         programs sharing the machine
//   "history"   per stored time (t = 0 first): t, tau, max_rank, exact_rank, score_relative_error
// score_relative_error = sqrt(E|g - s|^2 / E|s|^2) over exact draws x ~ rho_t, g the solution's
// gradient and s the exact score. exact_rank is the largest TT rank of the exact quadratic v(t)
// in degree-2 bases: at bond k it is 2 + rank of the off-diagonal block P_t[1..k, k+1..d] of
// the precision P_t = Sigma_t^-1, because v splits into a quadratic in x_1..x_k (with the
// constant), one in x_k+1..x_d, and the cross terms.
#include "hjbtt/core/pipeline.hpp"
#include "hjbtt/core/random.hpp"
#include "hjbtt/core/registry.hpp"
#include "hjbtt/errors.hpp"

#include <boost/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

// Solves on one BLAS thread, as the host does, so that solve times compare with report.json.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace {

using namespace hjbtt;

constexpr const char* usage =
    "usage: hjbtt_study_gaussian PIPELINE [--set POINTER=VALUE]... [--points N]\n"
    "  PIPELINE            a pipeline whose potential is Gaussian (its reference gives m and Sigma)\n"
    "  --set POINTER=VALUE override a pipeline value, as in `hjbtt run`\n"
    "  --points N          exact draws of rho_t per stored time for the score error (default 20000)\n";

struct StoredState {
  double t = 0.0;
  double tau = 0.0;
  FunctionalTT v;
};

class StateRecorder : public IntegrationObserver {
public:
  explicit StateRecorder(std::vector<StoredState>& states) : states_(states) {}
  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    states_.push_back({record.t, record.step, v});
  }

private:
  std::vector<StoredState>& states_;
};

// Computes the largest TT rank of the quadratic (x - mu)^T P (x - mu) / 2 + c on degree-2
// bases: the maximum over bonds k of 2 + rank(P[0..k-1, k..d-1]). The left functions at bond k are the
// constant, the quadratic in x_1..x_k and the linear forms of the cross terms, and these are
// independent because P is positive definite.
arma::uword quadratic_tt_rank(const arma::mat& precision) {
  const arma::uword d = precision.n_rows;
  const double tolerance = 1e-10 * arma::norm(precision, 2);
  arma::uword largest = 1;
  for (arma::uword k = 1; k < d; ++k) {
    const arma::vec singular = arma::svd(arma::mat(precision.submat(0, k, k - 1, d - 1)));
    largest = std::max<arma::uword>(largest, 2 + arma::accu(singular > tolerance));
  }
  return largest;
}

// Throws ConfigurationError unless the potential's gradient is Sigma^-1 (x - m) at random
// points, because the exact score used below holds for a Gaussian target only.
void check_gaussian(const Potential& potential, const arma::vec& mean, const arma::mat& precision) {
  RandomStream random(0, {0x67617573ULL});
  const arma::mat X = random.normal(mean.n_elem, 16);
  const arma::mat exact = precision * (X.each_col() - mean);
  const arma::mat gradient = potential.gradient(X);
  const double error = arma::norm(gradient - exact, "fro") / arma::norm(exact, "fro");
  // Two separate inversions of the covariance agree to about 1e-14, far inside this bound.
  if (!(error < 1e-8)) {
    const std::string message = "the potential's gradient differs from Sigma^-1 (x - m) of its reference by " +
                                format_number(error) +
                                " relative; this study needs a pipeline whose potential is gaussian";
    throw ConfigurationError("/potential", message);
  }
}

boost::json::object study(const std::string& file, const std::vector<std::string>& overrides, arma::uword points) {
  // Pipeline and plugins as `hjbtt run` loads them. The initial condition is the expansion of the
  // polynomial form, which is what the host builds for a potential that has one.
  const Pipeline pipeline = load_pipeline(file, overrides);
  PluginRegistry registry;
  for (const auto& directory : pipeline.plugin_paths) registry.load_directory(directory);
  for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
  const RunObjects run = instantiate(pipeline, registry);

  const auto reference = run.potential->reference();
  const auto polynomial = run.potential->polynomial();
  if (!reference || !polynomial)
    throw ConfigurationError("/potential",
                             "this study needs a potential with a reference and a polynomial form, such as gaussian");
  const arma::vec mean = reference->mean();
  const arma::mat covariance = reference->covariance();
  const arma::mat identity = arma::eye(mean.n_elem, mean.n_elem);
  check_gaussian(*run.potential, mean, arma::inv_sympd(covariance));
  const FunctionalTT v0 = ftt_from_polynomial(*polynomial, run.bases, pipeline.initial_tolerance);

  // Solve and store every accepted state. Only the integration is timed.
  std::vector<StoredState> states{{0.0, 0.0, v0}};
  StateRecorder recorder(states);
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  run.integrator->integrate(v0, 0.0, pipeline.final_time, recorder, RunContext{pipeline.seed, 0, nullptr});
  const double solve_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double solve_cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  // Score error at every stored time. The same standard normal draws are mapped to rho_t at
  // every t, so the error curve is free of sample-to-sample jumps.
  RandomStream random(pipeline.seed, {0x73636f7265ULL});
  const arma::mat standard = random.normal(mean.n_elem, points);
  boost::json::array history;
  arma::uword max_rank = 0;
  for (const StoredState& state : states) {
    const double decay = std::exp(-state.t);
    const arma::mat sigma_t = decay * decay * covariance + (1.0 - decay * decay) * identity;
    const arma::mat lower = arma::chol(sigma_t, "lower");
    const arma::mat precision_t = arma::inv_sympd(sigma_t);
    const arma::mat centred = lower * standard;
    const arma::mat X = centred.each_col() + decay * mean;
    const arma::mat exact = precision_t * centred;
    const arma::mat gradient = state.v.gradient(X);
    const double error = arma::norm(gradient - exact, "fro") / arma::norm(exact, "fro");

    const arma::uword rank = state.v.coefficients().max_rank();
    max_rank = std::max(max_rank, rank);
    boost::json::object row;
    row["t"] = state.t;
    row["tau"] = state.tau;
    row["max_rank"] = static_cast<std::uint64_t>(rank);
    row["exact_rank"] = static_cast<std::uint64_t>(quadratic_tt_rank(precision_t));
    row["score_relative_error"] = error;
    history.push_back(std::move(row));
  }

  boost::json::object result;
  result["pipeline"] = file;
  boost::json::array override_list;
  for (const auto& text : overrides) override_list.push_back(boost::json::string(text));
  result["overrides"] = std::move(override_list);
  result["dimension"] = static_cast<std::uint64_t>(mean.n_elem);
  result["points"] = static_cast<std::uint64_t>(points);
  result["steps"] = static_cast<std::uint64_t>(states.size() - 1);
  result["solve_seconds"] = solve_seconds;
  result["solve_cpu_seconds"] = solve_cpu_seconds;
  result["max_rank"] = static_cast<std::uint64_t>(max_rank);
  result["history"] = std::move(history);
  return result;
}

int usage_error(const std::string& message) {
  std::cerr << "hjbtt_study_gaussian: " << message << "\n\n" << usage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // The same allocator settings as the host, so that the solve times are comparable.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  std::string file;
  std::vector<std::string> overrides;
  arma::uword points = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      std::cout << usage;
      return 0;
    }
    if (argument == "--set" || argument == "--points") {
      if (i + 1 >= argc) return usage_error(argument + " needs a value");
      const std::string value = argv[++i];
      if (argument == "--set") {
        overrides.push_back(value);
        continue;
      }
      std::size_t used = 0;
      long long count = 0;
      try {
        count = std::stoll(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || count < 2)
        return usage_error("--points expects a whole number of at least 2, got '" + value + "'");
      points = static_cast<arma::uword>(count);
    } else if (!argument.empty() && argument[0] == '-') {
      return usage_error("unknown option '" + argument + "'");
    } else if (file.empty()) {
      file = argument;
    } else {
      return usage_error("unexpected argument '" + argument + "'");
    }
  }
  if (file.empty()) return usage_error("missing PIPELINE file");

  try {
    std::cout << boost::json::serialize(study(file, overrides, points)) << "\n";
    return 0;
  } catch (const ConfigurationError& error) {
    std::cerr << "hjbtt_study_gaussian: invalid pipeline: " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "hjbtt_study_gaussian: " << error.what() << "\n";
    return 1;
  }
}
