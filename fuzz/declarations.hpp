// The manifests of the bundled plugins, linked into the fuzzer from their static libraries and
// manifest sources instead of loaded as modules. The names differ from the manifests' own
// builder functions, so that each accessor calls the builder and not itself.
#pragma once

#include "hjbtt/plugin.hpp"

namespace hjbtt::fuzz {

PluginManifest bundled_explicit_euler_manifest();
PluginManifest bundled_legendre_manifest();
PluginManifest bundled_postprocessors_manifest();
PluginManifest bundled_reverse_sde_manifest();

}  // namespace hjbtt::fuzz
