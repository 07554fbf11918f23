// The hjbtt command line: sampling from unnormalised densities through HJB solutions in
// functional tensor-train form, configured by JSON pipelines and runtime-loaded plugins.
#include "run.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#ifndef HJBTT_VERSION
#define HJBTT_VERSION "unknown"
#endif

namespace {

const char* usage = R"(usage:
  hjbtt run PIPELINE [--out DIR] [--force] [--resume] [--set POINTER=VALUE]...
  hjbtt sample --solution DIR [--out OUT] [--force] [--set POINTER=VALUE]...
  hjbtt validate PIPELINE [--set POINTER=VALUE]...
  hjbtt plugins
  hjbtt describe NAME
  hjbtt --version | --help

Commands:
  run       solve the HJB equation, sample, post-process; writes DIR/samples.npy (N x d float64),
            DIR/solution.bin (the solution, for 'sample') and DIR/report.json. DIR defaults to
            ./hjbtt-out and must be empty unless --force or --resume. The solve writes
            DIR/checkpoint.bin as it goes (pipeline key "checkpoint", every 30 s by default).
  sample    sample the solution that 'run' saved in DIR again without solving; writes
            OUT/samples.npy and OUT/report.json. --set may change the seed, the sampler and
            the postprocessors, but not the potential, basis, hjb, initial_condition or
            integrator sections that the solution depends on.
  validate  check a pipeline and every plugin parameter without running it.
  plugins   list the plugins found (kind, name, version, summary, file).
  describe  print a plugin's parameters with types, defaults and ranges.

Options:
  --out DIR             output directory of 'run' and 'sample'
  --force               overwrite results in a non-empty output directory
  --resume              continue the unfinished run whose checkpoint is in DIR; give the same
                        PIPELINE and --set values as that run
  --solution DIR        the output directory of a finished 'run', or its solution.bin file
  --set POINTER=VALUE   override a pipeline value by JSON pointer, e.g. --set /seed=7
                        or --set /sampler/params/samples=1000 (VALUE is JSON, else a string)

Plugins are searched in the pipeline's plugin_paths, in $HJBTT_PLUGIN_PATH (colon-separated),
and next to the program. Exit status: 0 success, 2 usage, pipeline, solution-file or checkpoint
error, 1 run failure, 130 or 143 when SIGINT or SIGTERM stopped the run.
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "hjbtt: %s\n\n%s", message.c_str(), usage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // The evaluation kernels allocate and free many temporaries of a few hundred kilobytes. Above
  // glibc's default mmap threshold each one is a fresh mapping, which cost as much system time
  // as the arithmetic itself in the sampler, so keep such blocks on the heap.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing command");

  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("hjbtt %s\n", HJBTT_VERSION);
      return 0;
    }
  }

  const std::string command = args[0];
  if (command == "plugins") return args.size() == 1 ? hjbtt::cli::plugins_command() : usage_error("'plugins' takes no arguments");
  if (command == "describe") {
    if (args.size() != 2) return usage_error("'describe' takes one plugin name");
    return hjbtt::cli::describe_command(args[1]);
  }
  if (command != "run" && command != "sample" && command != "validate") return usage_error("unknown command '" + command + "'");

  hjbtt::cli::RunOptions options;
  bool have_pipeline = false;
  bool have_solution = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--out" || a == "--set" || a == "--solution") {
      if (i + 1 >= args.size()) return usage_error(a + " needs a value");
      if (a == "--solution" && command != "sample") return usage_error("--solution belongs to 'sample'");
      if (a == "--out") options.output = args[++i];
      else if (a == "--set") options.overrides.push_back(args[++i]);
      else {
        options.solution = args[++i];
        have_solution = true;
      }
    } else if (a == "--force") {
      options.force = true;
    } else if (a == "--resume") {
      if (command != "run") return usage_error("--resume belongs to 'run'");
      options.resume = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else if (!have_pipeline && command != "sample") {
      options.pipeline = a;
      have_pipeline = true;
    } else {
      return usage_error("unexpected argument '" + a + "'" +
                         (command == "sample" ? "; 'sample' takes the pipeline from the saved solution" : ""));
    }
  }
  if (command == "sample") {
    if (!have_solution || options.solution.empty()) return usage_error("'sample' needs --solution DIR");
    return hjbtt::cli::run_command(options);
  }
  if (!have_pipeline) return usage_error("missing PIPELINE file");
  return command == "run" ? hjbtt::cli::run_command(options) : hjbtt::cli::validate_command(options);
}
