// `gradient`: FunctionalTT::gradient throughput at d = 20, Legendre degree 8 (n = 9) on
// [-5, 5], r in {4, 8, 16, 32}, N = 20000 standard normal points. A coordinate falls outside
// the box with probability 6e-7, so the points are, bar a few, where the FTT is controlled.
#include "cases.hpp"
#include "subcommands.hpp"

#include <string>

namespace hjbtt::bench {

void run_gradient(const RunOptions& options, double dgemm_gflops) {
  constexpr std::size_t d = 20;
  constexpr arma::uword degree = 8, points = 20000;
  const BasisSet bases = legendre_bases(d, degree, -5.0, 5.0);
  RandomStream point_stream(3, {d, points});
  const arma::mat x = point_stream.normal(d, points);

  for (const arma::uword r : {4, 8, 16, 32}) {
    const std::string label = "gradient/d" + std::to_string(d) + "/n" + std::to_string(degree + 1) + "/r" + std::to_string(r);
    if (!selected(options, label)) continue;

    RandomStream random(5, {d, r});
    const FunctionalTT f(bases, random_tensor_train(d, degree + 1, r, random));
    arma::mat gradient;
    const Timing timing = time_median(options, [&] { gradient = f.gradient(x); });

    const std::vector<arma::uword> modes(d, degree + 1);
    const double flops = gradient_flops_per_point(f.coefficients().ranks(), modes) * double(points);
    boost::json::object line;
    line["bench"] = "gradient";
    line["case"] = label;
    line["d"] = d;
    line["n"] = degree + 1;
    line["r"] = r;
    line["points"] = points;
    add_timing(line, timing);
    line["points_per_second"] = double(points) / timing.median_seconds;
    line["gflop"] = flops * 1e-9;
    line["gflops"] = flops * 1e-9 / timing.median_seconds;
    line["dgemm_gflops"] = dgemm_gflops;
    line["check"] = gradient(0, 0);
    emit(line);
  }
}

}  // namespace hjbtt::bench
