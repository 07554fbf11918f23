// The subcommands of hjbtt_bench. Each prints one JSON object per case on standard output.
// `dgemm_gflops` is the DGEMM rate measured at the start of the same run (0 when skipped).
#pragma once

#include "harness.hpp"

namespace hjbtt::bench {

void run_round(const RunOptions& options, double dgemm_gflops);
void run_rhs(const RunOptions& options, double dgemm_gflops);
void run_gradient(const RunOptions& options, double dgemm_gflops);
void run_sampler(const RunOptions& options, double dgemm_gflops);
void run_linear_d(const RunOptions& options, double dgemm_gflops);

}  // namespace hjbtt::bench
