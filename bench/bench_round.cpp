// `round`: TensorTrain::round on random tensor trains of rank 2r truncated to rank r, the
// situation after an axpy of two rank-r trains, over d in {10, 20, 40}, n in {5, 9},
// r in {8, 16, 32}.
#include "cases.hpp"
#include "subcommands.hpp"

#include <string>

namespace hjbtt::bench {

void run_round(const RunOptions& options, double dgemm_gflops) {
  for (const std::size_t d : {10, 20, 40}) {
    for (const arma::uword n : {5, 9}) {
      for (const arma::uword r : {8, 16, 32}) {
        const std::string label = "round/d" + std::to_string(d) + "/n" + std::to_string(n) + "/r" + std::to_string(r);
        if (!selected(options, label)) continue;

        RandomStream random(7, {d, n, r});
        const TensorTrain input = random_tensor_train(d, n, 2 * r, random);
        TensorTrain rounded;
        double error = 0.0;
        // Rounding works in place, so every run starts from a fresh copy made outside the timing.
        // Tolerance 0 leaves the rank cap as the only truncation criterion.
        const Timing timing = time_median(options, [&] { rounded = input; }, [&] { error = rounded.round(0.0, r); });

        const std::vector<arma::uword> modes(d, n);
        const double flops = round_flops(input.ranks(), modes, rounded.ranks());
        boost::json::object line;
        line["bench"] = "round";
        line["case"] = label;
        line["d"] = d;
        line["n"] = n;
        line["r"] = r;
        line["input_max_rank"] = input.max_rank();
        line["output_max_rank"] = rounded.max_rank();
        line["relative_error"] = error;
        add_timing(line, timing);
        line["gflop"] = flops * 1e-9;
        line["gflops"] = flops * 1e-9 / timing.median_seconds;
        line["dgemm_gflops"] = dgemm_gflops;
        emit(line);
      }
    }
  }
}

}  // namespace hjbtt::bench
