// Pipeline parsing, structural validation and plugin instantiation.
#include "hjbtt/core/pipeline.hpp"

#include "hjbtt/errors.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace hjbtt {

namespace {

const char* kind_of(const boost::json::value& v) { return json_kind(v); }

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void reject_unknown_keys(const boost::json::object& object, const std::vector<std::string>& valid, const std::string& pointer) {
  for (const auto& [key, value] : object) {
    const std::string k(key);
    if (std::find(valid.begin(), valid.end(), k) != valid.end()) continue;
    std::string message = "unknown key '" + k + "'";
    const std::string near = nearest_name(k, valid);
    message += near.empty() ? "." : "; did you mean '" + near + "'?";
    message += " Valid keys here: " + join(valid) + ".";
    throw ConfigurationError(pointer + "/" + k, message);
  }
}

// Unescapes one reference token of a JSON pointer (RFC 6901: ~1 is '/', ~0 is '~').
std::string unescape_token(const std::string& token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// Applies POINTER=VALUE, creating intermediate objects as needed.
void apply_override(boost::json::object& document, const std::string& assignment) {
  const std::size_t equals = assignment.find('=');
  if (equals == std::string::npos || assignment.empty() || assignment[0] != '/')
    throw ConfigurationError("", "invalid --set '" + assignment + "': expected POINTER=VALUE with a JSON pointer such as /seed=7");
  const std::string pointer = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);

  boost::json::value value;
  boost::system::error_code error;
  value = boost::json::parse(text, error);
  if (error) value = boost::json::string(text);

  boost::json::value* node = nullptr;
  boost::json::object* parent = &document;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = pointer.find('/', start);
    const std::string token = unescape_token(pointer.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) {
      (*parent)[token] = std::move(value);
      return;
    }
    node = &(*parent)[token];
    if (node->is_null()) *node = boost::json::object();
    if (node->is_array()) {
      // Array elements are addressed by index; only objects inside them can be descended into.
      const std::size_t next = pointer.find('/', slash + 1);
      const std::string index_text = pointer.substr(slash + 1, next == std::string::npos ? std::string::npos : next - slash - 1);
      if (index_text.empty() || index_text.find_first_not_of("0123456789") != std::string::npos || index_text.size() > 9)
        throw ConfigurationError(pointer, "invalid --set: '" + index_text + "' is not an array index");
      const std::size_t index = std::stoul(index_text);
      auto& array = node->as_array();
      if (index >= array.size()) throw ConfigurationError(pointer, "invalid --set: index " + index_text + " is past the end of the array");
      if (next == std::string::npos) {
        array[index] = std::move(value);
        return;
      }
      if (!array[index].is_object()) throw ConfigurationError(pointer, "invalid --set: element " + index_text + " is not an object");
      parent = &array[index].as_object();
      start = next + 1;
      continue;
    }
    if (!node->is_object()) throw ConfigurationError(pointer, "invalid --set: '" + token + "' is not an object");
    parent = &node->as_object();
    start = slash + 1;
  }
}

PluginSpec read_plugin_spec(const boost::json::value* v, const std::string& pointer, const char* section) {
  if (!v) throw ConfigurationError(pointer, std::string("missing ") + section + R"( section: expected {"plugin": NAME, "params": {...}})");
  if (!v->is_object())
    throw ConfigurationError(pointer, std::string("expected an object {\"plugin\": NAME, \"params\": {...}}, found ") + kind_of(*v));
  const auto& object = v->as_object();
  reject_unknown_keys(object, {"plugin", "params"}, pointer);
  const auto* plugin = object.if_contains("plugin");
  if (!plugin) throw ConfigurationError(pointer + "/plugin", std::string("missing plugin name of the ") + section);
  if (!plugin->is_string()) throw ConfigurationError(pointer + "/plugin", std::string("expected a string, found ") + kind_of(*plugin));
  PluginSpec spec;
  spec.name = std::string(plugin->as_string());
  spec.pointer = pointer;
  if (const auto* params = object.if_contains("params")) spec.params = *params;
  return spec;
}

double read_number(const boost::json::object& object, const char* key, double fallback, const std::string& pointer,
                   double minimum, double maximum) {
  const auto* v = object.if_contains(key);
  if (!v) return fallback;
  if (!v->is_number()) throw ConfigurationError(pointer + "/" + key, std::string("expected a number, found ") + kind_of(*v));
  const double x = v->to_number<double>();
  if (!(x >= minimum && x <= maximum)) {
    std::ostringstream message;
    message << "value " << x << " is out of range [" << minimum << ", " << maximum << "]";
    throw ConfigurationError(pointer + "/" + key, message.str());
  }
  return x;
}

// An integer-valued number in [minimum, maximum]; 40.0 counts as an integer, as it does for
// plugin parameters.
arma::uword read_count(const boost::json::object& object, const char* key, arma::uword fallback, const std::string& pointer,
                       double minimum, double maximum) {
  const double x = read_number(object, key, static_cast<double>(fallback), pointer, minimum, maximum);
  if (std::floor(x) != x)
    throw ConfigurationError(pointer + "/" + key, "expected an integer, found " + format_number(x));
  return static_cast<arma::uword>(x);
}

// The "initial_condition" section: how v(0) = Phi is built, and the settings of TT-cross.
void read_initial_condition(const boost::json::value& section, InitialConditionOptions& options) {
  const std::string pointer = "/initial_condition";
  if (!section.is_object()) throw ConfigurationError(pointer, std::string("expected an object, found ") + kind_of(section));
  const auto& object = section.as_object();
  reject_unknown_keys(object, {"method", "tolerance", "max_rank", "max_sweeps", "check_points"}, pointer);

  if (const auto* method = object.if_contains("method")) {
    const std::vector<std::string> methods{"auto", "polynomial", "cross"};
    const std::string name = method->is_string() ? std::string(method->as_string()) : std::string();
    if (name == "auto") options.method = InitialConditionMethod::automatic;
    else if (name == "polynomial") options.method = InitialConditionMethod::polynomial;
    else if (name == "cross") options.method = InitialConditionMethod::cross;
    else {
      const std::string near = method->is_string() ? nearest_name(name, methods) : std::string();
      throw ConfigurationError(pointer + "/method", "expected \"auto\", \"polynomial\" or \"cross\", found " +
                                                        format_value(*method) +
                                                        (near.empty() ? std::string() : "; did you mean '" + near + "'?"));
    }
  }
  CrossOptions& cross = options.cross;
  cross.tolerance = read_number(object, "tolerance", cross.tolerance, pointer, 1e-14, 0.1);
  cross.max_rank = read_count(object, "max_rank", cross.max_rank, pointer, 1, 500);
  cross.max_sweeps = read_count(object, "max_sweeps", cross.max_sweeps, pointer, 1, 100);
  cross.check_points = read_count(object, "check_points", cross.check_points, pointer, 0, 1e7);
}

// The "checkpoint" section: when a solve writes checkpoints.
void read_checkpoint_options(const boost::json::value& section, CheckpointOptions& options) {
  const std::string pointer = "/checkpoint";
  if (!section.is_object()) throw ConfigurationError(pointer, std::string("expected an object, found ") + kind_of(section));
  const auto& object = section.as_object();
  reject_unknown_keys(object, {"enabled", "every_seconds", "every_steps"}, pointer);
  if (const auto* enabled = object.if_contains("enabled")) {
    if (!enabled->is_bool()) throw ConfigurationError(pointer + "/enabled", std::string("expected true or false, found ") + kind_of(*enabled));
    options.enabled = enabled->as_bool();
  }
  options.every_seconds = read_number(object, "every_seconds", options.every_seconds, pointer, 0.0, 1e7);
  const double steps = read_number(object, "every_steps", static_cast<double>(options.every_steps), pointer, 0.0, 1e9);
  if (std::floor(steps) != steps) throw ConfigurationError(pointer + "/every_steps", "expected an integer, found " + format_number(steps));
  options.every_steps = static_cast<std::int64_t>(steps);
}

// The "premap" section: settings of the mode search and the box of the whitened coordinates.
void read_premap_options(const boost::json::value& section, PremapOptions& options) {
  const std::string pointer = "/premap";
  if (!section.is_object()) throw ConfigurationError(pointer, std::string("expected an object, found ") + kind_of(section));
  const auto& object = section.as_object();
  reject_unknown_keys(object, {"width", "start", "max_iterations", "tolerance"}, pointer);
  options.width = read_number(object, "width", options.width, pointer, 1.0, 50.0);
  options.max_iterations = read_count(object, "max_iterations", options.max_iterations, pointer, 1, 1e5);
  options.tolerance = read_number(object, "tolerance", options.tolerance, pointer, 1e-14, 0.1);
  if (const auto* start = object.if_contains("start")) {
    if (!start->is_array()) throw ConfigurationError(pointer + "/start", std::string("expected an array of numbers, found ") + kind_of(*start));
    const auto& values = start->as_array();
    options.start.set_size(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i].is_number() || !std::isfinite(values[i].to_number<double>()))
        throw ConfigurationError(pointer + "/start/" + std::to_string(i), "expected a finite number, found " + format_value(values[i]));
      options.start(i) = values[i].to_number<double>();
    }
  }
}

// "domain": "auto" in the basis parameters switches the pre-map on. The basis plugin then
// receives the box [-width, width] of the whitened coordinates, so that it validates as usual.
void resolve_auto_domain(Pipeline& pipeline) {
  const std::string pointer = pipeline.basis.pointer + "/params/domain";
  boost::json::value* domain = pipeline.basis.params.is_object() ? pipeline.basis.params.as_object().if_contains("domain") : nullptr;
  if (domain != nullptr && domain->is_string()) {
    const std::string name(domain->as_string());
    if (name != "auto") {
      const std::string near = nearest_name(name, {"auto"});
      throw ConfigurationError(pointer, "expected \"auto\" or an interval [lower, upper], found " + format_value(*domain) +
                                            (near.empty() ? std::string() : "; did you mean '" + near + "'?"));
    }
    pipeline.premap.enabled = true;
    *domain = boost::json::array{-pipeline.premap.width, pipeline.premap.width};
  }
  if (!pipeline.premap.enabled && pipeline.document.contains("premap"))
    throw ConfigurationError("/premap", "the premap section applies only with \"domain\": \"auto\" in " + pointer +
                                            "; set that domain to \"auto\" or remove /premap");
}

}  // namespace

Pipeline parse_pipeline(const std::string& text, const std::filesystem::path& base, const std::vector<std::string>& overrides) {
  boost::system::error_code error;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value root = boost::json::parse(text, error, {}, options);
  if (error) throw ConfigurationError("", "the pipeline is not valid JSON: " + error.message());
  if (!root.is_object()) throw ConfigurationError("", std::string("the pipeline must be a JSON object, found ") + kind_of(root));

  Pipeline pipeline;
  pipeline.document = root.as_object();
  for (const auto& assignment : overrides) apply_override(pipeline.document, assignment);
  const auto& doc = pipeline.document;

  reject_unknown_keys(doc, {"hjbtt", "seed", "plugin_paths", "potential", "basis", "hjb", "initial_condition", "integrator",
                            "sampler", "postprocessors", "checkpoint", "premap"},
                      "");

  const auto* version = doc.if_contains("hjbtt");
  if (!version)
    throw ConfigurationError("/hjbtt", "missing format version: add \"hjbtt\": " + std::to_string(pipeline_format_version));
  if (!version->is_number() || version->to_number<double>() != pipeline_format_version)
    throw ConfigurationError("/hjbtt", "unsupported pipeline format " + format_value(*version) + "; this host reads format " +
                                           std::to_string(pipeline_format_version));

  if (const auto* seed = doc.if_contains("seed")) {
    if (seed->is_int64() && seed->as_int64() >= 0) pipeline.seed = static_cast<std::uint64_t>(seed->as_int64());
    else if (seed->is_uint64()) pipeline.seed = seed->as_uint64();
    else throw ConfigurationError("/seed", "expected a non-negative integer, found " + format_value(*seed));
  }

  if (const auto* paths = doc.if_contains("plugin_paths")) {
    if (!paths->is_array()) throw ConfigurationError("/plugin_paths", std::string("expected an array of folder names, found ") + kind_of(*paths));
    std::size_t i = 0;
    for (const auto& p : paths->as_array()) {
      if (!p.is_string()) throw ConfigurationError("/plugin_paths/" + std::to_string(i), std::string("expected a string, found ") + kind_of(p));
      const std::filesystem::path given(std::string(p.as_string()));
      const std::filesystem::path path = given.is_absolute() ? given : base / given;
      std::error_code error;
      if (!std::filesystem::is_directory(path, error))
        throw ConfigurationError("/plugin_paths/" + std::to_string(i), "plugin folder " + path.string() +
                                                                         " does not exist or is not a folder; fix the path (relative paths start at the pipeline's folder)");
      pipeline.plugin_paths.push_back(path);
      ++i;
    }
  }

  if (const auto* hjb = doc.if_contains("hjb")) {
    if (!hjb->is_object()) throw ConfigurationError("/hjb", std::string("expected an object, found ") + kind_of(*hjb));
    reject_unknown_keys(hjb->as_object(), {"final_time", "initial_tolerance"}, "/hjb");
    pipeline.final_time = read_number(hjb->as_object(), "final_time", 5.0, "/hjb", 1e-6, 100.0);
    pipeline.initial_tolerance = read_number(hjb->as_object(), "initial_tolerance", 1e-12, "/hjb", 1e-16, 1e-1);
  }

  if (const auto* initial = doc.if_contains("initial_condition")) read_initial_condition(*initial, pipeline.initial_condition);
  pipeline.initial_condition.cross.rounding_tolerance = pipeline.initial_tolerance;
  pipeline.initial_condition.cross.seed = pipeline.seed;

  if (const auto* checkpoint = doc.if_contains("checkpoint")) read_checkpoint_options(*checkpoint, pipeline.checkpoint);

  if (const auto* premap = doc.if_contains("premap")) read_premap_options(*premap, pipeline.premap);

  pipeline.potential = read_plugin_spec(doc.if_contains("potential"), "/potential", "potential");
  pipeline.basis = read_plugin_spec(doc.if_contains("basis"), "/basis", "basis");
  resolve_auto_domain(pipeline);
  pipeline.integrator = read_plugin_spec(doc.if_contains("integrator"), "/integrator", "integrator");
  pipeline.sampler = read_plugin_spec(doc.if_contains("sampler"), "/sampler", "sampler");

  if (const auto* list = doc.if_contains("postprocessors")) {
    if (!list->is_array()) throw ConfigurationError("/postprocessors", std::string("expected an array, found ") + kind_of(*list));
    std::size_t i = 0;
    for (const auto& item : list->as_array()) {
      pipeline.postprocessors.push_back(read_plugin_spec(&item, "/postprocessors/" + std::to_string(i), "postprocessor"));
      ++i;
    }
  }
  return pipeline;
}

Pipeline load_pipeline(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  std::error_code error;
  if (std::filesystem::is_directory(file, error))
    throw ConfigurationError("", file.string() + " is a folder, not a pipeline file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigurationError("", "cannot read pipeline file " + file.string() + ": it does not exist or is not readable");
  std::ostringstream text;
  text << in.rdbuf();
  Pipeline pipeline = parse_pipeline(text.str(), file.parent_path(), overrides);
  pipeline.file = file;
  return pipeline;
}

namespace {

template <class T>
std::shared_ptr<T> create_as(const PluginRegistry& registry, PluginKind kind, const PluginSpec& spec, PluginContext& context) {
  auto object = std::dynamic_pointer_cast<T>(create_plugin(registry, kind, spec, context));
  if (!object)
    throw ConfigurationError(spec.pointer, "plugin '" + spec.name + "' (" + registry.find(kind, spec.name, spec.pointer).library.string() +
                                               ") declares kind " + to_string(kind) +
                                               " but its factory returned an object of another kind; fix the plugin's manifest");
  return object;
}

class RegistryContext : public PluginContext {
public:
  explicit RegistryContext(const PluginRegistry& registry) : registry_(registry) {}

  // Checked like the top-level plugins, so that a composite never receives a null block.
  std::shared_ptr<Potential> create_potential(const boost::json::value& spec, const std::string& pointer) override {
    const PluginSpec parsed = read_plugin_spec(&spec, pointer, "potential");
    return create_as<Potential>(registry_, PluginKind::potential, parsed, *this);
  }

private:
  const PluginRegistry& registry_;
};

}  // namespace

std::shared_ptr<PluginObject> create_plugin(const PluginRegistry& registry, PluginKind kind, const PluginSpec& spec,
                                            PluginContext& context) {
  const RegisteredPlugin& plugin = registry.find(kind, spec.name, spec.pointer + "/plugin");
  const Parameters params = validate_parameters(plugin.info->parameters, spec.params.is_null() ? nullptr : &spec.params,
                                                spec.pointer + "/params", spec.name);
  std::shared_ptr<PluginObject> object;
  try {
    object = plugin.info->factory(params, context);
  } catch (const ConfigurationError&) {
    throw;
  } catch (const std::exception& error) {
    throw ConfigurationError(spec.pointer, "plugin '" + spec.name + "' (" + plugin.library.string() +
                                               ") failed to start: " + error.what());
  } catch (...) {
    throw ConfigurationError(spec.pointer, "plugin '" + spec.name + "' (" + plugin.library.string() +
                                               ") failed to start with an unknown exception");
  }
  if (!object) throw ConfigurationError(spec.pointer, "plugin '" + spec.name + "' returned no object from its factory");
  return object;
}

RunObjects instantiate(const Pipeline& pipeline, const PluginRegistry& registry) {
  RegistryContext context(registry);
  RunObjects run;
  run.potential = create_as<Potential>(registry, PluginKind::potential, pipeline.potential, context);
  const auto basis = create_as<Basis>(registry, PluginKind::basis, pipeline.basis, context);
  run.bases.assign(run.potential->dimension(), BasisPtr(basis));
  run.integrator = create_as<Integrator>(registry, PluginKind::integrator, pipeline.integrator, context);
  run.sampler = create_as<Sampler>(registry, PluginKind::sampler, pipeline.sampler, context);
  for (const auto& spec : pipeline.postprocessors)
    run.postprocessors.push_back(create_as<Postprocessor>(registry, PluginKind::postprocessor, spec, context));
  return run;
}

}  // namespace hjbtt
