// `hjbtt run`: load the pipeline and its plugins, validate everything, solve the HJB equation,
// sample, post-process, and write samples.npy and report.json. Errors in the pipeline exit with
// status 2 before any work; failures during the run exit with 1 and leave no samples behind.
#include "run.hpp"

#include "terminal_log.hpp"

#include "hjbtt/core/npy.hpp"
#include "hjbtt/core/pipeline.hpp"
#include "hjbtt/core/solution.hpp"
#include "hjbtt/errors.hpp"

#include <boost/json.hpp>
#include <boost/version.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef HJBTT_VERSION
#define HJBTT_VERSION "unknown"
#endif

// OpenBLAS's own threads would compete with the OpenMP threads that process sample blocks.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace hjbtt::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

PluginRegistry load_registry(const Pipeline& pipeline) {
  PluginRegistry registry;
  for (const auto& directory : pipeline.plugin_paths) registry.load_directory(directory);
  for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
  return registry;
}

boost::json::array to_json(const std::vector<arma::uword>& values) {
  boost::json::array out;
  for (auto v : values) out.push_back(static_cast<std::uint64_t>(v));
  return out;
}

boost::json::object versions() {
  boost::json::object v;
  v["hjbtt"] = HJBTT_VERSION;
  v["abi"] = HJBTT_ABI_TAG;
  v["armadillo"] = arma::arma_version::as_string();
  v["boost"] = BOOST_LIB_VERSION;
  v["pipeline_format"] = pipeline_format_version;
  return v;
}

// Stores every accepted state and its record; the records become the report's history.
class SolutionRecorder : public IntegrationObserver {
public:
  explicit SolutionRecorder(Solution& solution) : solution_(solution) {}

  void accepted(const FunctionalTT& v, const StepRecord& record) override {
    solution_.append(record.t, v);
    boost::json::object step;
    step["t"] = record.t;
    step["tau"] = record.step;
    step["ranks"] = to_json(record.ranks);
    step["degrees"] = to_json(record.degrees);
    step["projection_error"] = record.projection_error;
    step["retraction_error"] = record.retraction_error;
    step["stiffness"] = record.stiffness;
    step["rejected"] = record.rejected;
    history_.push_back(std::move(step));
    max_rank_ = std::max(max_rank_, v.coefficients().max_rank());
  }

  boost::json::array& history() { return history_; }
  arma::uword max_rank() const { return max_rank_; }

private:
  Solution& solution_;
  boost::json::array history_;
  arma::uword max_rank_ = 0;
};

void write_text_atomically(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text << '\n';
    if (!out) throw std::runtime_error("writing " + partial.string() + " failed");
  }
  std::filesystem::rename(partial, file);
}

// Builds the initial condition v(0) = Phi from the potential's exact polynomial form.
FunctionalTT initial_condition(const Potential& potential, const BasisSet& bases, double tolerance) {
  const auto polynomial = potential.polynomial();
  if (!polynomial)
    throw ConfigurationError("/potential", "this potential has no polynomial form; black-box potentials need TT-cross "
                                           "interpolation, which this version does not implement yet");
  const auto degree = polynomial_degrees(*polynomial, potential.dimension());
  for (std::size_t k = 0; k < degree.size(); ++k)
    if (degree[k] > bases[k]->degree())
      throw ConfigurationError("/basis/params/degree", "the potential has degree " + std::to_string(degree[k]) + " in x_" +
                                                           std::to_string(k + 1) + " but the basis has degree " +
                                                           std::to_string(bases[k]->degree()) + "; raise the degree to at least " +
                                                           std::to_string(degree[k]));
  return ftt_from_polynomial(*polynomial, bases, tolerance);
}

bool directory_has_files(const std::filesystem::path& directory) {
  std::error_code error;
  return std::filesystem::is_directory(directory, error) && !std::filesystem::is_empty(directory, error);
}

void print_error(const char* prefix, const std::exception& error) {
  std::fprintf(stderr, "hjbtt: %s: %s\n", prefix, error.what());
}

}  // namespace

int run_command(const RunOptions& options) {
  TerminalLog log;
  boost::json::object report;
  report["status"] = "running";
  report["versions"] = versions();
  boost::json::object timings;

  Pipeline pipeline;
  RunObjects run;
  try {
    pipeline = load_pipeline(options.pipeline, options.overrides);
    const PluginRegistry registry = load_registry(pipeline);
    run = instantiate(pipeline, registry);
    if (std::filesystem::exists(options.output) && !std::filesystem::is_directory(options.output))
      throw ConfigurationError("", "--out " + options.output.string() + " exists and is not a directory");
    if (directory_has_files(options.output) && !options.force)
      throw ConfigurationError("", "output directory " + options.output.string() +
                                       " is not empty; choose another --out or pass --force to overwrite its results");
  } catch (const ConfigurationError& error) {
    print_error("invalid pipeline", error);
    return 2;
  } catch (const PluginLoadError& error) {
    print_error("plugin error", error);
    return 2;
  } catch (const std::exception& error) {
    print_error("error", error);
    return 2;
  }

  std::filesystem::create_directories(options.output);
  for (const char* name : {"samples.npy", "report.json"}) std::filesystem::remove(options.output / name);
  report["pipeline"] = pipeline.document;
  report["seed"] = pipeline.seed;
  if (openblas_set_num_threads) openblas_set_num_threads(1);

  const auto run_start = Clock::now();
  Solution solution;
  SolutionRecorder recorder(solution);
  try {
    // Initial condition.
    auto start = Clock::now();
    FunctionalTT v0 = initial_condition(*run.potential, run.bases, pipeline.initial_tolerance);
    timings["initial_condition"] = seconds_since(start);
    log.info("potential '" + pipeline.potential.name + "' in d = " + std::to_string(v0.dimension()) +
             ", initial TT max rank " + std::to_string(v0.coefficients().max_rank()));

    // HJB solve.
    start = Clock::now();
    solution.append(0.0, v0);
    RunContext solve_context{pipeline.seed, 0, &log};
    run.integrator->integrate(v0, 0.0, pipeline.final_time, recorder, solve_context);
    timings["solve"] = seconds_since(start);
    report["history"] = std::move(recorder.history());
    log.info("solved to T = " + std::to_string(pipeline.final_time) + " in " + std::to_string(solution.size() - 1) +
             " steps, max rank " + std::to_string(recorder.max_rank()) + ", " + std::to_string(seconds_since(start)) + " s");

    // Sampling.
    start = Clock::now();
    boost::json::object sampler_report;
    RunContext sample_context{pipeline.seed, 1, &log};
    arma::mat samples = run.sampler->sample(solution, sample_context, sampler_report);
    timings["sample"] = seconds_since(start);
    sampler_report["plugin"] = pipeline.sampler.name;
    report["sampler"] = std::move(sampler_report);
    log.info("drew " + std::to_string(samples.n_cols) + " samples in " + std::to_string(seconds_since(start)) + " s");

    // Post-processing chain.
    boost::json::array post_reports;
    boost::json::array post_timings;
    for (std::size_t i = 0; i < run.postprocessors.size(); ++i) {
      start = Clock::now();
      boost::json::object post_report;
      RunContext post_context{pipeline.seed, 2 + i, &log};
      run.postprocessors[i]->process(samples, *run.potential, post_context, post_report);
      post_report["plugin"] = pipeline.postprocessors[i].name;
      post_reports.push_back(std::move(post_report));
      post_timings.push_back(seconds_since(start));
    }
    timings["postprocessors"] = std::move(post_timings);
    report["postprocessors"] = std::move(post_reports);

    if (!samples.is_finite())
      throw NumericalFailure("the post-processed samples contain non-finite values; no samples were written");

    start = Clock::now();
    write_npy(options.output / "samples.npy", samples);
    timings["write"] = seconds_since(start);
    timings["total"] = seconds_since(run_start);
    report["timings"] = timings;
    report["status"] = "complete";
    write_text_atomically(options.output / "report.json", boost::json::serialize(report));

    std::cout << "samples: " << (options.output / "samples.npy").string() << " (" << samples.n_cols << " x " << samples.n_rows
              << ", float64)\nreport:  " << (options.output / "report.json").string() << "\n";
    return 0;
  } catch (const std::exception& error) {
    log.finish_progress();
    const bool config = dynamic_cast<const ConfigurationError*>(&error) != nullptr;
    print_error(config ? "invalid pipeline" : "run failed", error);
    report["status"] = "failed";
    report["error"] = error.what();
    // The steps accepted before a failure show how it developed (step sizes, stiffness, norms).
    if (!report.contains("history")) report["history"] = std::move(recorder.history());
    timings["total"] = seconds_since(run_start);
    report["timings"] = timings;
    try {
      write_text_atomically(options.output / "report.json", boost::json::serialize(report));
    } catch (const std::exception& write_error) {
      print_error("could not write the failure report", write_error);
    }
    return config ? 2 : 1;
  }
}

int validate_command(const RunOptions& options) {
  try {
    const Pipeline pipeline = load_pipeline(options.pipeline, options.overrides);
    const PluginRegistry registry = load_registry(pipeline);
    const RunObjects run = instantiate(pipeline, registry);
    if (const auto polynomial = run.potential->polynomial()) initial_condition(*run.potential, run.bases, 1e-2);
    std::cout << options.pipeline.string() << ": valid (potential '" << pipeline.potential.name << "' in d = "
              << run.potential->dimension() << ", " << run.postprocessors.size() << " postprocessors)\n";
    return 0;
  } catch (const std::exception& error) {
    print_error("invalid pipeline", error);
    return 2;
  }
}

int plugins_command() {
  try {
    PluginRegistry registry;
    for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
    for (const auto& plugin : registry.all())
      std::cout << to_string(plugin.info->kind) << "\t" << plugin.info->name << "\t" << plugin.info->version << "\t"
                << plugin.info->summary << "\t" << plugin.library.string() << "\n";
    return 0;
  } catch (const std::exception& error) {
    print_error("plugin error", error);
    return 2;
  }
}

int describe_command(const std::string& name) {
  try {
    PluginRegistry registry;
    for (const auto& directory : default_plugin_directories()) registry.load_directory(directory);
    bool found = false;
    std::vector<std::string> all;
    for (const auto& plugin : registry.all()) {
      all.push_back(plugin.info->name);
      if (plugin.info->name != name) continue;
      found = true;
      std::cout << plugin.info->name << " (" << to_string(plugin.info->kind) << ", version " << plugin.info->version
                << ")\n  " << plugin.info->summary << "\n  file: " << plugin.library.string() << "\nparameters:\n";
      for (const auto& p : plugin.info->parameters) {
        std::cout << "  " << p.name << " (" << to_string(p.type) << (p.required() ? ", required" : ", default " + boost::json::serialize(p.default_value));
        if (p.minimum || p.maximum)
          std::cout << ", range [" << (p.minimum ? format_number(*p.minimum) : "-inf") << ", "
                    << (p.maximum ? format_number(*p.maximum) : "inf") << "]";
        std::cout << ")\n      " << p.description << "\n";
      }
    }
    if (!found) {
      std::string message = "no plugin named '" + name + "'";
      const std::string near = nearest_name(name, all);
      if (!near.empty()) message += "; did you mean '" + near + "'?";
      std::fprintf(stderr, "hjbtt: %s (run 'hjbtt plugins' for the list)\n", message.c_str());
      return 2;
    }
    return 0;
  } catch (const std::exception& error) {
    print_error("plugin error", error);
    return 2;
  }
}

}  // namespace hjbtt::cli
