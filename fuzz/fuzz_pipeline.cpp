// libFuzzer target over what `hjbtt validate` does with a pipeline before any numerical work:
// parse_pipeline on the input bytes, then validate_parameters of every plugin entry against the
// bundled plugins' real declarations, then their factories where the parameters keep them cheap.
//
// Input: optional leading lines that start with '/' are --set overrides (POINTER=VALUE); the
// rest is the pipeline text. The seed corpus is examples/*.json.
//
// A finding is a sanitizer report, a crash, or an exception from parsing or validation that is
// not hjbtt::ConfigurationError. The host would report such an exception as a failed run (exit
// status 1) instead of an invalid pipeline (status 2). Factories may throw any std::exception,
// because create_plugin turns those into ConfigurationError too.
#include "declarations.hpp"
#include "plugin_list.hpp"

#include "hjbtt/core/pipeline.hpp"
#include "hjbtt/errors.hpp"
#include "hjbtt/plugin.hpp"
#include "hjbtt/potential.hpp"

#include <armadillo>
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace {

using namespace hjbtt;

const std::vector<PluginInfo>& declarations() {
  static const std::vector<PluginInfo> all = [] {
    std::vector<PluginInfo> list;
    for (const PluginManifest& manifest : {potential_plugin_manifest(), fuzz::bundled_legendre_manifest(), fuzz::bundled_explicit_euler_manifest(),
                                           fuzz::bundled_reverse_sde_manifest(), fuzz::bundled_postprocessors_manifest()})
      list.insert(list.end(), manifest.plugins.begin(), manifest.plugins.end());
    return list;
  }();
  return all;
}

const PluginInfo* find_declaration(PluginKind kind, const std::string& name) {
  for (const auto& info : declarations())
    if (info.kind == kind && info.name == name) return &info;
  return nullptr;
}

// Factories allocate in proportion to dimensions, repeats and sample counts, so they run only
// when no integer exceeds 64 and no array contains more than 64 values. Larger inputs stop after
// validation, so an execution stays short while parsing and validation see every input.
bool cheap_to_build(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::int64: return v.get_int64() <= 64;
    case boost::json::kind::uint64: return v.get_uint64() <= 64;
    case boost::json::kind::double_: return !(v.get_double() > 64.0);
    case boost::json::kind::array:
      if (v.get_array().size() > 64) return false;
      for (const auto& item : v.get_array())
        if (!cheap_to_build(item)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& [key, item] : v.get_object())
        if (!cheap_to_build(item)) return false;
      return true;
    default: return true;
  }
}

[[noreturn]] void finding(const char* what, const std::exception& error) {
  std::fprintf(stderr, "fuzz_pipeline: %s threw %s: %s\n", what, typeid(error).name(), error.what());
  std::abort();
}

class FuzzContext;

// Mirrors create_plugin without a registry: validation must throw only ConfigurationError.
std::shared_ptr<PluginObject> create(PluginKind kind, const std::string& name, const boost::json::value& params,
                                     const std::string& pointer, FuzzContext& context);

// Builds the blocks of the `blocks` potential like the host's context, but rejects blocks
// nested inside blocks, so that nested repeats cannot multiply dimensions.
class FuzzContext : public PluginContext {
public:
  std::shared_ptr<Potential> create_potential(const boost::json::value& spec, const std::string& pointer) override {
    if (depth_ >= 1) throw ConfigurationError(pointer, "fuzz_pipeline builds no blocks nested inside blocks");
    if (!spec.is_object()) throw ConfigurationError(pointer, "expected an object");
    const auto* name = spec.as_object().if_contains("plugin");
    if (!name || !name->is_string()) throw ConfigurationError(pointer + "/plugin", "expected a string");
    const auto* params = spec.as_object().if_contains("params");
    ++depth_;
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    auto object = create(PluginKind::potential, std::string(name->as_string()), params ? *params : boost::json::value(), pointer, *this);
    if (!object) throw ConfigurationError(pointer, "block too large for fuzz_pipeline to build");
    auto potential = std::dynamic_pointer_cast<Potential>(object);
    if (!potential) std::abort();
    return potential;
  }

private:
  int depth_ = 0;
};

std::shared_ptr<PluginObject> create(PluginKind kind, const std::string& name, const boost::json::value& params,
                                     const std::string& pointer, FuzzContext& context) {
  const PluginInfo* info = find_declaration(kind, name);
  if (!info) throw ConfigurationError(pointer + "/plugin", "no bundled " + std::string(to_string(kind)) + " named '" + name + "'");
  Parameters validated;
  try {
    validated = validate_parameters(info->parameters, params.is_null() ? nullptr : &params, pointer + "/params", name);
  } catch (const ConfigurationError&) {
    throw;
  } catch (const std::exception& error) {
    finding("validate_parameters", error);
  }
  if (!cheap_to_build(params)) return nullptr;

  std::shared_ptr<PluginObject> object;
  try {
    object = info->factory(validated, context);
  } catch (const std::exception&) {
    throw ConfigurationError(pointer, "factory rejected the parameters");
  }
  // The host rejects a null object too, but a bundled factory should never return one.
  if (!object) std::abort();
  return object;
}

// Exercises a built potential once at the origin: value and gradient must have the shapes the
// contract promises. 64 blocks of 64 repeats of 64 coordinates is the largest buildable case.
void evaluate_at_origin(const Potential& potential) {
  const arma::uword d = potential.dimension();
  if (d == 0) std::abort();
  if (d > 64 * 64 * 64) return;
  const arma::mat x(d, 2, arma::fill::zeros);
  const arma::rowvec value = potential.value(x);
  const arma::mat gradient = potential.gradient(x);
  if (value.n_elem != 2 || gradient.n_rows != d || gradient.n_cols != 2) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Armadillo prints every failed check before it throws, and those throws are expected here.
  arma::set_cerr_stream(arma::get_cout_stream());
  std::FILE* discard = std::freopen("/dev/null", "w", stdout);
  (void)discard;
  // A plugin missing here would silently be fuzzed as "unknown plugin" only.
  const std::pair<PluginKind, const char*> expected[] = {
      {PluginKind::potential, "gaussian"},      {PluginKind::potential, "blocks"},    {PluginKind::basis, "legendre"},
      {PluginKind::integrator, "explicit_euler"}, {PluginKind::sampler, "reverse_sde"}, {PluginKind::postprocessor, "langevin"},
      {PluginKind::postprocessor, "statistics"}};
  for (const auto& [kind, name] : expected) {
    if (find_declaration(kind, name)) continue;
    std::fprintf(stderr, "fuzz_pipeline: the declaration of %s '%s' is missing\n", to_string(kind), name);
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);

  std::vector<std::string> overrides;
  while (!text.empty() && text[0] == '/') {
    const std::size_t end = text.find('\n');
    overrides.push_back(text.substr(0, end));
    text = end == std::string::npos ? std::string() : text.substr(end + 1);
  }

  Pipeline pipeline;
  try {
    // A folder that does not exist, so relative plugin_paths never resolve to real folders.
    pipeline = parse_pipeline(text, "/nonexistent/hjbtt-fuzz", overrides);
  } catch (const ConfigurationError&) {
    return 0;
  } catch (const std::exception& error) {
    finding("parse_pipeline", error);
  }

  FuzzContext context;
  const auto build = [&](PluginKind kind, const PluginSpec& spec) -> std::shared_ptr<PluginObject> {
    try {
      return create(kind, spec.name, spec.params, spec.pointer, context);
    } catch (const ConfigurationError&) {
      return nullptr;
    }
  };
  if (auto potential = std::dynamic_pointer_cast<Potential>(build(PluginKind::potential, pipeline.potential)))
    evaluate_at_origin(*potential);
  build(PluginKind::basis, pipeline.basis);
  build(PluginKind::integrator, pipeline.integrator);
  build(PluginKind::sampler, pipeline.sampler);
  for (const auto& spec : pipeline.postprocessors) build(PluginKind::postprocessor, spec);
  return 0;
}
