// The plugin registry: finds plugin libraries, checks their ABI tag, reads their manifests and
// looks plugins up by kind and the name users type. Libraries are never unloaded, so every
// object, function and exception that plugin code creates stays valid until the process exits.
#pragma once

#include "hjbtt/plugin.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hjbtt {

struct RegisteredPlugin {
  const PluginInfo* info = nullptr;
  std::filesystem::path library;
};

class PluginRegistry {
public:
  // Loads every file named libhjbtt_*.so in `directory`. A missing directory is skipped.
  void load_directory(const std::filesystem::path& directory);

  // Loads one plugin library. Throws PluginLoadError when the file is missing, is not a shared
  // library, has no manifest or carries another ABI tag, and ConfigurationError when one of its
  // plugins has the kind and name of a plugin already loaded from another file.
  void load_library(const std::filesystem::path& file);

  // The plugin of this kind and name; ConfigurationError at `pointer` listing the valid names.
  const RegisteredPlugin& find(PluginKind kind, const std::string& name, const std::string& pointer) const;

  std::vector<std::string> names(PluginKind kind) const;
  std::vector<RegisteredPlugin> all() const;
  const std::vector<std::filesystem::path>& searched_directories() const { return searched_; }

private:
  std::map<std::pair<PluginKind, std::string>, RegisteredPlugin> plugins_;
  std::vector<std::filesystem::path> loaded_files_;
  std::vector<std::filesystem::path> searched_;
};

// The directories searched by default: $HJBTT_PLUGIN_PATH (colon-separated), then the plugin
// folder next to the running program (build tree) and the installed one.
std::vector<std::filesystem::path> default_plugin_directories();

}  // namespace hjbtt
