// `rhs` and `linear-d`: the HJB right-hand side F(v) = L v - P_p |grad v|^2, one explicit Euler
// retraction, and the power-iteration stiffness estimate, all on Legendre degree 4 (n = 5)
// over [-5, 5]^d with the state of hjb_test_state.
//
// Reference times for `rhs` come from the authors' Python/PyTorch implementation on the same
// case (one thread, median of 3): one F(v) 0.82 s at d = 20, r = 8 and 5.6 s at d = 10, r = 16;
// one Euler step with truncation 0.80 s and one power-iteration stiffness estimate 24 s at
// d = 20, r = 8. The reference does not state whether its F(v) rounds the squared gradient or
// how many power iterations it runs, so each of our rows names what it times.
#include "cases.hpp"
#include "subcommands.hpp"

#include "hjbtt/core/hjb.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace hjbtt::bench {

namespace {

constexpr arma::uword degree = 4;
constexpr double lower = -5.0, upper = 5.0;
constexpr std::uint64_t state_seed = 42;

// Euler step size and retraction settings of the Euler rows: the integrator's default rank
// tolerance, with the rank capped at the input rank so the state keeps its size.
constexpr double euler_step = 1e-3;
constexpr double rank_tolerance = 1e-6;
constexpr int power_iterations = 3;

std::string case_label(const std::string& name, std::size_t d, arma::uword r) {
  return "rhs/" + name + "/d" + std::to_string(d) + "/r" + std::to_string(r);
}

boost::json::object case_line(const std::string& bench, const std::string& label, std::size_t d, arma::uword r,
                              double dgemm_gflops) {
  boost::json::object line;
  line["bench"] = bench;
  line["case"] = label;
  line["d"] = d;
  line["n"] = degree + 1;
  line["r"] = r;
  line["dgemm_gflops"] = dgemm_gflops;
  return line;
}

void add_reference(boost::json::object& line, std::optional<double> reference_seconds, const Timing& timing) {
  if (!reference_seconds) return;
  line["reference_seconds"] = *reference_seconds;
  line["speedup_vs_reference"] = *reference_seconds / timing.median_seconds;
}

struct ReferenceCase {
  std::size_t d;
  arma::uword r;
  std::optional<double> evaluate_seconds;
  std::optional<double> euler_seconds;
  std::optional<double> stiffness_seconds;
};

void run_rhs_case(const RunOptions& options, double dgemm_gflops, const ReferenceCase& reference) {
  const std::size_t d = reference.d;
  const arma::uword r = reference.r;
  const BasisSet bases = legendre_bases(d, degree, lower, upper);
  // The constructor builds the product tensors; that one-time cost stays outside the timings.
  const HjbOperator hjb(bases);
  const TensorTrain v = hjb_test_state(bases, r, state_seed);

  // F(v) alone, unrounded, with and without the projection error (which also forms the
  // unprojected square of the gradient and two inner products).
  for (const bool with_error : {false, true}) {
    const std::string label = case_label(with_error ? "evaluate-projection-error" : "evaluate", d, r);
    if (!selected(options, label)) continue;
    RightHandSide rhs;
    const Timing timing = time_median(options, [&] { rhs = hjb.evaluate(v, with_error); });
    boost::json::object line = case_line("rhs", label, d, r, dgemm_gflops);
    line["input_max_rank"] = v.max_rank();
    line["output_max_rank"] = rhs.value.max_rank();
    line["projection_error"] = rhs.projection_error;
    add_timing(line, timing);
    add_reference(line, reference.evaluate_seconds, timing);
    emit(line);
  }

  // The parts of F(v), timed one by one, to show where evaluate spends its time: the linear
  // part L v, the projected squared gradient P_p N(v), their difference (an axpy), the norm
  // |P_p N(v)| that evaluate reports when no projection error is requested (a TT inner
  // product), and the projection error alone.
  {
    const TensorTrain linear = hjb.linear_part(v);
    const TensorTrain nonlinear = hjb.projected_gradient_product(v, v);
    const std::vector<arma::uword> modes(d, degree + 1);
    TensorTrain result;
    double value = 0.0;
    const std::vector<std::pair<std::string, std::function<void()>>> parts = {
        {"part-linear", [&] { result = hjb.linear_part(v); }},
        {"part-projected-square", [&] { result = hjb.projected_gradient_product(v, v); }},
        {"part-combine", [&] { result = axpy(-1.0, nonlinear, linear); }},
        {"part-norm", [&] { value = std::sqrt(dot(nonlinear, nonlinear)); }},
        {"part-projection-error", [&] { value = hjb.projection_error(v); }},
    };
    for (const auto& [name, work] : parts) {
      const std::string label = case_label(name, d, r);
      if (!selected(options, label)) continue;
      const Timing timing = time_median(options, work);
      boost::json::object line = case_line("rhs", label, d, r, dgemm_gflops);
      add_timing(line, timing);
      if (name == "part-norm") {
        const double flops = dot_flops(nonlinear.ranks(), nonlinear.ranks(), modes);
        line["gflop"] = flops * 1e-9;
        line["gflops"] = flops * 1e-9 / timing.median_seconds;
      }
      emit(line);
    }
  }

  // The retraction of one Euler step: y = v + tau F(v), rounded to rank r. F has ranks
  // 2 r + 2 r^2, so y has 3 r + 2 r^2 before rounding.
  const std::string retraction_label = case_label("euler-retraction", d, r);
  const std::string step_label = case_label("euler-step", d, r);
  if (selected(options, retraction_label) || selected(options, step_label)) {
    const TensorTrain f = hjb.evaluate(v, false).value;
    const std::vector<arma::uword> modes(d, degree + 1);

    if (selected(options, retraction_label)) {
      TensorTrain y;
      std::vector<arma::uword> unrounded_ranks;
      double error = 0.0;
      const Timing timing = time_median(options, [&] {
        y = axpy(euler_step, f, v);
        unrounded_ranks = y.ranks();
        error = y.round(rank_tolerance, r);
      });
      const double flops = round_flops(unrounded_ranks, modes, y.ranks());
      boost::json::object line = case_line("rhs", retraction_label, d, r, dgemm_gflops);
      line["input_max_rank"] = *std::max_element(unrounded_ranks.begin(), unrounded_ranks.end());
      line["output_max_rank"] = y.max_rank();
      line["retraction_error"] = error;
      add_timing(line, timing);
      line["round_gflop"] = flops * 1e-9;
      line["round_gflops"] = flops * 1e-9 / timing.median_seconds;
      add_reference(line, reference.euler_seconds, timing);
      emit(line);
    }

    // The whole step as the integrator does it without step-size control: F(v), axpy, round.
    if (selected(options, step_label)) {
      TensorTrain y;
      const Timing timing = time_median(options, [&] {
        y = axpy(euler_step, hjb.evaluate(v, false).value, v);
        y.round(rank_tolerance, r);
      });
      boost::json::object line = case_line("rhs", step_label, d, r, dgemm_gflops);
      line["output_max_rank"] = y.max_rank();
      add_timing(line, timing);
      add_reference(line, reference.euler_seconds, timing);
      emit(line);
    }
  }

  // The stiffness estimate, warm-started as the integrator does from the previous direction:
  // one untimed call produces that direction. Iterates are rounded to `rank`, which is r here
  // and 4 (the integrator's default power_rank) in the second row.
  for (const arma::uword rank : {r, arma::uword(4)}) {
    const std::string label = case_label("spectral-radius", d, r) + "/rank" + std::to_string(rank);
    if (!selected(options, label)) continue;
    TensorTrain warm;
    hjb.spectral_radius(v, warm, power_iterations, rank);
    TensorTrain direction;
    double lambda = 0.0;
    const Timing timing = time_median(options, [&] { direction = warm; },
                                      [&] { lambda = hjb.spectral_radius(v, direction, power_iterations, rank); });
    boost::json::object line = case_line("rhs", label, d, r, dgemm_gflops);
    line["iterations"] = power_iterations;
    line["iterate_rank"] = rank;
    line["estimate"] = lambda;
    add_timing(line, timing);
    if (rank == r) add_reference(line, reference.stiffness_seconds, timing);
    emit(line);
  }
}

// Exact and randomized assembly of one Euler step with projection error, as the integrator
// takes it: y = v + tau F(v) rounded at the integrator's default tolerance with the rank capped
// at r. The randomized rows use a sketch of rank r + 10 (the integrator's choice for cap r).
// Rows (label rhs/assembly/NAME/dD/rR):
//   exact-step        HjbOperator::evaluate(v, true), axpy and round;
//   randomized-step   sketch_euler_step (exact norms and the sketch) and one retract;
//   randomized-norms  the two factored norm sweeps alone (|P N| and |N|), with GFLOP/s;
//   randomized-retract  one retract of an already built sketch, as each trial step costs;
//   compressed-F-TOL  evaluate_compressed(v, true) at relative tolerance TOL of |F|.
// The differences between the two paths are computed outside the timings. The exact and
// compressed-F rows at r = 32 take minutes and several GB (F has rank 2112), so they run only
// when --filter names them (e.g. --filter rhs/assembly/exact-step/d10/r32).
void run_assembly_case(const RunOptions& options, double dgemm_gflops, std::size_t d, arma::uword r) {
  const auto label_of = [&](const std::string& name) { return case_label("assembly/" + name, d, r); };
  const auto requested = [&](const std::string& label) {
    const bool heavy = r >= 32 && (label.find("exact") != std::string::npos || label.find("compressed") != std::string::npos);
    if (heavy) return !options.filter.empty() && selected(options, label);
    return selected(options, label);
  };
  const std::vector<std::string> names = {"exact-step", "randomized-step", "randomized-norms", "randomized-retract",
                                          "compressed-F-1e-2", "compressed-F-1e-4"};
  bool any = false;
  for (const auto& name : names) any = any || requested(label_of(name));
  if (!any) return;

  const BasisSet bases = legendre_bases(d, degree, lower, upper);
  const HjbOperator hjb(bases);
  const TensorTrain v = hjb_test_state(bases, r, state_seed);
  const std::vector<arma::uword> modes(d, degree + 1), full_modes(d, 2 * degree + 1);
  const arma::uword sketch_rank = r + 10;

  // The exact step; its F and result are kept for the comparisons below.
  std::optional<RightHandSide> exact;
  TensorTrain exact_state;
  double exact_error = 0.0, exact_seconds = 0.0;
  if (requested(label_of("exact-step"))) {
    std::vector<arma::uword> unrounded_ranks;
    const Timing timing = time_median(options, [&] {
      exact = hjb.evaluate(v, true);
      exact_state = axpy(euler_step, exact->value, v);
      unrounded_ranks = exact_state.ranks();
      exact_error = exact_state.round(rank_tolerance, r);
    });
    // Nominal flops of the dense steps: the inner products of the projected (n) and the full
    // (2 n - 1) square, both of ranks 2 r_k^2, and the rounding of y.
    std::vector<arma::uword> square_ranks = v.ranks();
    for (std::size_t k = 1; k < d; ++k) square_ranks[k] = 2 * square_ranks[k] * square_ranks[k];
    const double flops = dot_flops(square_ranks, square_ranks, modes) + dot_flops(square_ranks, square_ranks, full_modes) +
                         round_flops(unrounded_ranks, modes, exact_state.ranks());
    boost::json::object line = case_line("rhs", label_of("exact-step"), d, r, dgemm_gflops);
    line["input_max_rank"] = v.max_rank();
    line["rhs_max_rank"] = exact->value.max_rank();
    line["output_max_rank"] = exact_state.max_rank();
    line["retraction_error"] = exact_error;
    line["projection_error"] = exact->projection_error;
    add_timing(line, timing);
    line["gflop"] = flops * 1e-9;
    line["gflops"] = flops * 1e-9 / timing.median_seconds;
    emit(line);
    exact_seconds = timing.median_seconds;
  }

  if (requested(label_of("randomized-step"))) {
    std::optional<SketchedEulerStep> step;
    SketchedEulerStep::Retraction result;
    const Timing timing = time_median(options, [&] {
      RandomStream random(state_seed, {d, r});
      step = hjb.sketch_euler_step(v, true, sketch_rank, random);
      result = step->retract(euler_step, rank_tolerance, r);
    });
    boost::json::object line = case_line("rhs", label_of("randomized-step"), d, r, dgemm_gflops);
    line["sketch_rank"] = sketch_rank;
    line["output_max_rank"] = result.state.max_rank();
    line["retraction_error"] = result.error;
    line["projection_error"] = step->projection_error();
    add_timing(line, timing);
    if (exact) {
      // Both results are within their errors of the same y, so they differ by at most the sum.
      const double y_norm = norm(exact_state);
      line["exact_retraction_error"] = exact_error;
      line["difference_to_exact"] = norm(axpy(-1.0, result.state, exact_state)) / y_norm;
      line["projection_error_difference"] = std::abs(step->projection_error() - exact->projection_error);
      line["rhs_norm_relative_difference"] = std::abs(step->rhs_norm() - norm(exact->value)) / norm(exact->value);
      line["speedup_vs_exact"] = exact_seconds / timing.median_seconds;
    }
    emit(line);
  }

  if (requested(label_of("randomized-norms"))) {
    double projected2 = 0.0, full2 = 0.0;
    const Timing timing = time_median(options, [&] {
      projected2 = hjb.projected_square_norm2(v);
      full2 = hjb.full_square_norm2(v);
    });
    const double flops = factored_norm_flops(v.ranks(), (3 * degree) / 2 + 1) + factored_norm_flops(v.ranks(), 2 * degree + 1);
    boost::json::object line = case_line("rhs", label_of("randomized-norms"), d, r, dgemm_gflops);
    line["projection_error"] = std::sqrt(std::max(full2 - projected2, 0.0) / full2);
    add_timing(line, timing);
    line["gflop"] = flops * 1e-9;
    line["gflops"] = flops * 1e-9 / timing.median_seconds;
    emit(line);
  }

  if (requested(label_of("randomized-retract"))) {
    RandomStream random(state_seed, {d, r});
    const SketchedEulerStep step = hjb.sketch_euler_step(v, false, sketch_rank, random);
    SketchedEulerStep::Retraction result;
    const Timing timing = time_median(options, [&] { result = step.retract(euler_step, rank_tolerance, r); });
    boost::json::object line = case_line("rhs", label_of("randomized-retract"), d, r, dgemm_gflops);
    line["sketch_rank"] = sketch_rank;
    line["retraction_error"] = result.error;
    add_timing(line, timing);
    emit(line);
  }

  for (const double relative : {1e-2, 1e-4}) {
    const std::string label = label_of(relative == 1e-2 ? "compressed-F-1e-2" : "compressed-F-1e-4");
    if (!requested(label)) continue;
    RandomStream norm_random(state_seed, {d, r});
    const double f_norm = hjb.sketch_euler_step(v, false, 1, norm_random).rhs_norm();
    CompressionSettings settings;
    settings.tolerance = relative * f_norm;
    RightHandSide compressed;
    const Timing timing = time_median(options, [&] {
      RandomStream random(state_seed, {d, r});
      compressed = hjb.evaluate_compressed(v, true, settings, random);
    });
    boost::json::object line = case_line("rhs", label, d, r, dgemm_gflops);
    line["tolerance"] = relative;
    line["sketch_rank"] = compressed.sketch_rank;  // 0: fell back to the exact F
    line["output_max_rank"] = compressed.value.max_rank();
    line["error_bound"] = compressed.value_error / f_norm;
    if (exact) line["error"] = norm(axpy(-1.0, compressed.value, exact->value)) / f_norm;
    add_timing(line, timing);
    emit(line);
  }
}

}  // namespace

void run_rhs(const RunOptions& options, double dgemm_gflops) {
  run_rhs_case(options, dgemm_gflops, {20, 8, 0.82, 0.80, 24.0});
  run_rhs_case(options, dgemm_gflops, {10, 16, 5.6, std::nullopt, std::nullopt});
  for (const arma::uword r : {8, 16, 32})
    for (const std::size_t d : {10, 20}) run_assembly_case(options, dgemm_gflops, d, r);
}

void run_linear_d(const RunOptions& options, double dgemm_gflops) {
  constexpr arma::uword r = 8;
  std::vector<double> log_d, log_seconds, log_min_seconds;
  for (const std::size_t d : {10, 20, 40, 80}) {
    const std::string label = "linear-d/evaluate/d" + std::to_string(d) + "/r" + std::to_string(r);
    if (!selected(options, label)) continue;
    const BasisSet bases = legendre_bases(d, degree, lower, upper);
    const HjbOperator hjb(bases);
    const TensorTrain v = hjb_test_state(bases, r, state_seed);
    RightHandSide rhs;
    const Timing timing = time_median(options, [&] { rhs = hjb.evaluate(v, false); });

    boost::json::object line = case_line("linear-d", label, d, r, dgemm_gflops);
    line["output_max_rank"] = rhs.value.max_rank();
    add_timing(line, timing);
    line["seconds_per_mode"] = timing.median_seconds / double(d);
    emit(line);
    log_d.push_back(std::log(double(d)));
    log_seconds.push_back(std::log(timing.median_seconds));
    log_min_seconds.push_back(std::log(timing.min_seconds));
  }
  if (log_d.size() < 2) return;

  // Least-squares slope of log(time) against log(d): 1 means the cost is linear in d. The fit
  // on the fastest runs is given too, because it is less sensitive to other load on the machine.
  const arma::vec x(log_d);
  const auto slope = [&x](const arma::vec& y) {
    return arma::accu((x - arma::mean(x)) % (y - arma::mean(y))) / arma::accu(arma::square(x - arma::mean(x)));
  };
  boost::json::object line;
  line["bench"] = "linear-d";
  line["case"] = "linear-d/fit";
  line["points"] = log_d.size();
  line["exponent"] = slope(arma::vec(log_seconds));
  line["exponent_from_min"] = slope(arma::vec(log_min_seconds));
  emit(line);
}

}  // namespace hjbtt::bench
