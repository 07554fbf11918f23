// Pipelines: the JSON document that describes a run. Parsing checks the document's own
// structure, and unknown keys are errors. Instantiation then validates every plugin's
// parameters against its declaration and creates the objects, before any numerical work.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/initial_condition.hpp"
#include "hjbtt/core/premap.hpp"
#include "hjbtt/core/registry.hpp"
#include "hjbtt/integrator.hpp"
#include "hjbtt/postprocessor.hpp"
#include "hjbtt/potential.hpp"
#include "hjbtt/sampler.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hjbtt {

// The pipeline format version this host reads (the "hjbtt" key).
constexpr int pipeline_format_version = 1;

struct PluginSpec {
  std::string name;
  boost::json::value params;  // null when absent
  std::string pointer;        // JSON pointer of the {"plugin": ..., "params": ...} object
};

// When a solve writes checkpoints (the "checkpoint" key). A checkpoint is written when either
// trigger fires, when SIGINT or SIGTERM stops the solve, and when the solve ends. Checkpoints
// never change the results.
struct CheckpointOptions {
  bool enabled = true;
  double every_seconds = 30.0;  // wall-clock interval; 0 turns this trigger off
  std::int64_t every_steps = 0; // accepted steps between checkpoints; 0 turns this trigger off
};

struct Pipeline {
  std::filesystem::path file;
  boost::json::object document;  // as run, with command-line overrides applied
  std::uint64_t seed = 0;
  std::vector<std::filesystem::path> plugin_paths;  // resolved against the pipeline's folder
  double final_time = 5.0;
  double initial_tolerance = 1e-12;
  // The "initial_condition" section; its rounding tolerance is hjb.initial_tolerance and its
  // cross seed is the pipeline seed.
  InitialConditionOptions initial_condition;
  // The "premap" section, enabled by "domain": "auto" in the basis parameters. The basis spec
  // then carries the box [-width, width] in place of "auto", while `document` keeps "auto".
  PremapOptions premap;
  PluginSpec potential, basis, integrator, sampler;
  std::vector<PluginSpec> postprocessors;
  CheckpointOptions checkpoint;
};

// Parses pipeline text; `base` is the folder relative plugin paths are resolved against.
// `overrides` are POINTER=VALUE strings (VALUE is JSON, or a plain string when not JSON).
Pipeline parse_pipeline(const std::string& text, const std::filesystem::path& base,
                        const std::vector<std::string>& overrides = {});

// Reads and parses a pipeline file.
Pipeline load_pipeline(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

struct RunObjects {
  std::shared_ptr<Potential> potential;
  BasisSet bases;  // one per coordinate
  std::shared_ptr<Integrator> integrator;
  std::shared_ptr<Sampler> sampler;
  std::vector<std::shared_ptr<Postprocessor>> postprocessors;
};

// Validates every plugin's parameters and creates the objects.
RunObjects instantiate(const Pipeline& pipeline, const PluginRegistry& registry);

// Creates one plugin of `kind` from its spec, validating its parameters. Exceptions thrown by
// the factory become ConfigurationError at the spec's pointer, naming the plugin and its file.
std::shared_ptr<PluginObject> create_plugin(const PluginRegistry& registry, PluginKind kind, const PluginSpec& spec,
                                            PluginContext& context);

}  // namespace hjbtt
