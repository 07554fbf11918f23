// The commands of the hjbtt host: run a pipeline, validate it, list and describe plugins.
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
};

// Each returns the process exit status: 0 success, 2 usage or pipeline error, 1 run failure.
int run_command(const RunOptions& options);
int validate_command(const RunOptions& options);
int plugins_command();
int describe_command(const std::string& name);

}  // namespace hjbtt::cli
