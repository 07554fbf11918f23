// The declarations (parameters, summaries) and factories of the built-in potentials. They live
// in the static library rather than in manifest.cpp so that unit tests can build potentials
// from JSON parameters exactly as the host does, without loading the module.
#pragma once

#include "hjbtt/plugin.hpp"

namespace hjbtt {

PluginManifest potential_plugin_manifest();

}  // namespace hjbtt
