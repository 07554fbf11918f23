// The commands of the hjbtt host: run a pipeline, sample a saved solution, validate a pipeline,
// list and describe plugins.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hjbtt::cli {

struct RunOptions {
  std::filesystem::path pipeline;
  std::filesystem::path output = "hjbtt-out";
  std::vector<std::string> overrides;
  bool force = false;
  bool resume = false;              // continue the unfinished run whose checkpoint is in `output`
  std::filesystem::path solution;   // `sample`: a saved solution file, or the folder holding solution.bin
};

// Each returns the process exit status: 0 success, 2 usage or pipeline error, 1 run failure.
// run_command also serves `hjbtt sample`, which sets `solution` and skips the solve.
int run_command(const RunOptions& options);
int validate_command(const RunOptions& options);
int plugins_command();
int describe_command(const std::string& name);

}  // namespace hjbtt::cli
