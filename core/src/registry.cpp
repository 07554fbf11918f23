// Plugin discovery and loading through Boost.DLL.
#include "hjbtt/core/registry.hpp"

#include "hjbtt/errors.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace hjbtt {

namespace {

// Loaded libraries live until exit on purpose: plugin objects and the exceptions they throw
// may be alive anywhere in the host, so unloading is never safe before the process ends.
std::vector<boost::dll::shared_library>& resident_libraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}

bool looks_like_elf(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// Boost.DLL turns every dlopen failure into the same error code. dlerror() names the cause, such
// as a missing symbol or a truncated file, so the file is opened once more to read it.
std::string loader_message(const std::filesystem::path& file, const boost::system::error_code& error) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle) {
    dlclose(handle);
    return error.message();
  }
  const char* cause = dlerror();
  return cause ? cause : error.message();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

void PluginRegistry::load_directory(const std::filesystem::path& directory) {
  searched_.push_back(directory);
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) return;

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("libhjbtt_", 0) == 0 && entry.path().extension() == ".so")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) load_library(file);
}

void PluginRegistry::load_library(const std::filesystem::path& file) {
  std::error_code error;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(file, error);
  if (std::find(loaded_files_.begin(), loaded_files_.end(), canonical) != loaded_files_.end()) return;

  if (!std::filesystem::exists(file))
    throw PluginLoadError("plugin library " + file.string() + " not found; check plugin_paths in the pipeline or HJBTT_PLUGIN_PATH");
  if (!looks_like_elf(file))
    throw PluginLoadError("plugin library " + file.string() + " is not a shared library (no ELF header); remove it from the plugin directory");

  // Every symbol is bound at load time (rtld_now): with lazy binding a library built against
  // another core would load, and the process would die at the first call of a missing function.
  boost::dll::shared_library library;
  boost::system::error_code load_error;
  library.load(boost::dll::fs::path(file.string()), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
               load_error);
  if (load_error)
    throw PluginLoadError("plugin library " + file.string() + " could not be loaded: " + loader_message(file, load_error) +
                          "; rebuild it against this version of hjbtt");

  if (!library.has("hjbtt_abi_tag") || !library.has("hjbtt_plugin_manifest"))
    throw PluginLoadError("plugin library " + file.string() +
                          " has no hjbtt manifest (symbols hjbtt_abi_tag and hjbtt_plugin_manifest); "
                          "define it with HJBTT_PLUGIN_MANIFEST, or remove the file from the plugin directory");

  // The tag is a plain C string, so it can be compared before any C++ type crosses over.
  const char* tag = library.get<const char*()>("hjbtt_abi_tag")();
  const std::string host_tag = HJBTT_ABI_TAG;
  if (tag == nullptr || host_tag != tag)
    throw PluginLoadError("plugin library " + file.string() + " was built for another ABI:\n  plugin: " +
                          std::string(tag ? tag : "(null)") + "\n  host:   " + host_tag +
                          "\nRebuild the plugin against this hjbtt SDK with the same compiler and libraries.");

  const PluginManifest* manifest = library.get<const PluginManifest*()>("hjbtt_plugin_manifest")();
  if (!manifest) throw PluginLoadError("plugin library " + file.string() + " returned a null manifest");

  for (const PluginInfo& info : manifest->plugins) {
    const auto key = std::make_pair(info.kind, info.name);
    const auto existing = plugins_.find(key);
    if (existing != plugins_.end())
      throw ConfigurationError("", std::string("two plugins of kind ") + to_string(info.kind) + " are named '" + info.name +
                                       "':\n  " + existing->second.library.string() + "\n  " + file.string() +
                                       "\nRemove one of the files or take its directory off the plugin path.");
  }
  for (const PluginInfo& info : manifest->plugins) plugins_[{info.kind, info.name}] = RegisteredPlugin{&info, canonical};

  loaded_files_.push_back(canonical);
  resident_libraries().push_back(std::move(library));
}

const RegisteredPlugin& PluginRegistry::find(PluginKind kind, const std::string& name, const std::string& pointer) const {
  const auto it = plugins_.find({kind, name});
  if (it != plugins_.end()) return it->second;

  const std::vector<std::string> valid = names(kind);
  std::string message = std::string("unknown ") + to_string(kind) + " plugin '" + name + "'";
  const std::string near = nearest_name(name, valid);
  message += near.empty() ? "." : "; did you mean '" + near + "'?";
  message += " Valid " + std::string(to_string(kind)) + " plugins: " + join(valid) + ".";
  // A plugin is most often unknown because its folder is not searched, so the folders are
  // listed even when plugins of this kind were found elsewhere.
  if (valid.empty()) message += " No plugin library was found.";
  std::vector<std::string> folders;
  for (const auto& directory : searched_) {
    std::error_code error;
    folders.push_back(directory.string() + (std::filesystem::is_directory(directory, error) ? "" : " (does not exist)"));
  }
  message += " Folders searched: " + join(folders) + ". Add the folder of the plugin's library to plugin_paths in the pipeline or to HJBTT_PLUGIN_PATH.";
  throw ConfigurationError(pointer, message);
}

std::vector<std::string> PluginRegistry::names(PluginKind kind) const {
  std::vector<std::string> out;
  for (const auto& [key, plugin] : plugins_)
    if (key.first == kind) out.push_back(key.second);
  return out;
}

std::vector<RegisteredPlugin> PluginRegistry::all() const {
  std::vector<RegisteredPlugin> out;
  for (const auto& [key, plugin] : plugins_) out.push_back(plugin);
  return out;
}

std::vector<std::filesystem::path> default_plugin_directories() {
  std::vector<std::filesystem::path> directories;
  if (const char* path = std::getenv("HJBTT_PLUGIN_PATH")) {
    std::string list = path;
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t end = std::min(list.find(':', start), list.size());
      if (end > start) directories.emplace_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  boost::system::error_code error;
  const auto program = boost::dll::program_location(error);
  if (!error) {
    const std::filesystem::path bin = std::filesystem::path(program.parent_path().string());
    directories.push_back(bin.parent_path() / "plugins");                // build tree
    directories.push_back(bin.parent_path() / "lib" / "hjbtt" / "plugins");  // installed
  }
  return directories;
}

}  // namespace hjbtt
