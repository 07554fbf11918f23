// Plugin parameters: each plugin declares its parameters once (name, type, default, range,
// one sentence), the host validates a pipeline against that declaration before any work, and
// the plugin reads the validated values through typed getters.
#pragma once

#include "hjbtt/errors.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace hjbtt {

enum class ParameterType { number, integer, boolean, string, array, object, any };

const char* to_string(ParameterType type);

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::number;
  std::string description;
  boost::json::value default_value;  // null means "required"
  std::optional<double> minimum;      // inclusive bounds for number and integer
  std::optional<double> maximum;

  bool required() const { return default_value.is_null(); }
};

// Shorthands for plugin manifests.
ParameterSpec number_parameter(std::string name, double default_value, std::string description,
                               std::optional<double> minimum = std::nullopt,
                               std::optional<double> maximum = std::nullopt);
ParameterSpec integer_parameter(std::string name, std::int64_t default_value, std::string description,
                                std::optional<double> minimum = std::nullopt,
                                std::optional<double> maximum = std::nullopt);
ParameterSpec boolean_parameter(std::string name, bool default_value, std::string description);
ParameterSpec string_parameter(std::string name, std::string default_value, std::string description);
ParameterSpec required_parameter(std::string name, ParameterType type, std::string description);
ParameterSpec json_parameter(std::string name, boost::json::value default_value, ParameterType type,
                             std::string description);

// Validated parameter values with defaults filled in. `pointer` is where they sit in the
// pipeline, so that a plugin's own checks can name the place in their messages.
class Parameters {
public:
  Parameters() = default;
  Parameters(boost::json::object values, std::string pointer)
      : values_(std::move(values)), pointer_(std::move(pointer)) {}

  double number(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
  const boost::json::value& json(const std::string& name) const;

  const boost::json::object& values() const { return values_; }
  const std::string& pointer() const { return pointer_; }
  std::string pointer_of(const std::string& name) const { return pointer_ + "/" + name; }

  // Throws ConfigurationError at this parameter's pointer.
  [[noreturn]] void fail(const std::string& name, const std::string& message) const;

private:
  boost::json::object values_;
  std::string pointer_;
};

// Checks `given` against `specs`: unknown names (with the nearest valid one suggested),
// missing required values, types and ranges. Returns the values with defaults filled in.
Parameters validate_parameters(const std::vector<ParameterSpec>& specs, const boost::json::value* given,
                               const std::string& pointer, const std::string& plugin_name);

// A number in the shortest form that reads back exactly enough for messages (1e-06, 0.5, 64).
std::string format_number(double x);

// The kind of a JSON value for messages: "a number", "an array", "null", ...
const char* json_kind(const boost::json::value& value);

// A JSON value for messages: numbers as format_number prints them, anything else as JSON.
std::string format_value(const boost::json::value& value);

// The valid name closest to `name` by edit distance, or empty when nothing is close.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace hjbtt
