// Error types shared by the host, the core and plugins. The host maps them to exit codes:
// a ConfigurationError (bad pipeline, bad parameter, unknown plugin) exits with 2, a
// NumericalFailure (divergence, non-finite values from a potential) and any other error with 1.
#pragma once

#include <stdexcept>
#include <string>

namespace hjbtt {

// The pipeline or a parameter is invalid; `pointer` is the JSON pointer of the offending value.
class ConfigurationError : public std::runtime_error {
public:
  ConfigurationError(std::string pointer, const std::string& message)
      : std::runtime_error(pointer.empty() ? message : pointer + ": " + message), pointer_(std::move(pointer)) {}
  const std::string& pointer() const { return pointer_; }

private:
  std::string pointer_;
};

// The numerics failed in a way the user can act on; the message names cause and remedies.
class NumericalFailure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A plugin library could not be loaded or used (missing file, no manifest, ABI mismatch).
class PluginLoadError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace hjbtt
