// The plugin contract. A plugin library exports two C functions: one returning its ABI tag
// (checked before any C++ type is touched) and one returning its manifest, the list of
// plugins it provides with their kind, name, version, summary, parameter declaration and
// factory. Define both with HJBTT_PLUGIN_MANIFEST.
//
// Lifetime: the host never unloads a plugin library before the process exits, so objects,
// exceptions and function objects created by plugin code stay valid for the whole run.
#pragma once

#include "hjbtt/abi.hpp"
#include "hjbtt/parameters.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hjbtt {

enum class PluginKind { basis, potential, integrator, sampler, postprocessor };

const char* to_string(PluginKind kind);

// Common base of every object a factory returns, so that one factory type serves all kinds.
class PluginObject {
public:
  virtual ~PluginObject() = default;
};

class Potential;
class Basis;

// Host services for factories: the creation of nested plugins, each validated against its own
// declaration. The `blocks` potential builds its blocks this way.
class PluginContext {
public:
  virtual ~PluginContext() = default;
  // `spec` is {"plugin": NAME, "params": {...}} found at JSON pointer `pointer`.
  virtual std::shared_ptr<Potential> create_potential(const boost::json::value& spec, const std::string& pointer) = 0;
};

using PluginFactory = std::function<std::shared_ptr<PluginObject>(const Parameters&, PluginContext&)>;

struct PluginInfo {
  PluginKind kind;
  std::string name;
  std::string version;
  std::string summary;
  std::vector<ParameterSpec> parameters;
  PluginFactory factory;
};

struct PluginManifest {
  std::vector<PluginInfo> plugins;
};

}  // namespace hjbtt

#define HJBTT_EXPORT __attribute__((visibility("default")))

// Defines the two exported entry points. `builder` is an expression of type
// hjbtt::PluginManifest, evaluated once on first use.
#define HJBTT_PLUGIN_MANIFEST(builder)                                          \
  extern "C" HJBTT_EXPORT const char* hjbtt_abi_tag() { return HJBTT_ABI_TAG; } \
  extern "C" HJBTT_EXPORT const hjbtt::PluginManifest* hjbtt_plugin_manifest() { \
    static const hjbtt::PluginManifest manifest = (builder);                    \
    return &manifest;                                                           \
  }
