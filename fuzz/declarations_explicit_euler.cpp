// The explicit_euler plugin's manifest compiled into the fuzzer, so that the fuzzer checks pipelines
// against the real declarations and factories without loading the module. The manifest macro
// is redefined to a named accessor instead of the module's exported C entry points.
#include "declarations.hpp"

#include "hjbtt/plugin.hpp"

#undef HJBTT_PLUGIN_MANIFEST
#define HJBTT_PLUGIN_MANIFEST(builder) \
  hjbtt::PluginManifest hjbtt::fuzz::bundled_explicit_euler_manifest() { return (builder); }

#include "../plugins/explicit_euler/manifest.cpp"
