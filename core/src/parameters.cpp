// Parameter declarations and their validation against a pipeline's JSON.
#include "hjbtt/parameters.hpp"
#include "hjbtt/plugin.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace hjbtt {

const char* to_string(ParameterType type) {
  switch (type) {
    case ParameterType::number: return "number";
    case ParameterType::integer: return "integer";
    case ParameterType::boolean: return "boolean";
    case ParameterType::string: return "string";
    case ParameterType::array: return "array";
    case ParameterType::object: return "object";
    case ParameterType::any: return "any JSON value";
  }
  return "?";
}

const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::basis: return "basis";
    case PluginKind::potential: return "potential";
    case PluginKind::integrator: return "integrator";
    case PluginKind::sampler: return "sampler";
    case PluginKind::postprocessor: return "postprocessor";
  }
  return "?";
}

ParameterSpec number_parameter(std::string name, double default_value, std::string description,
                               std::optional<double> minimum, std::optional<double> maximum) {
  return {std::move(name), ParameterType::number, std::move(description), default_value, minimum, maximum};
}

ParameterSpec integer_parameter(std::string name, std::int64_t default_value, std::string description,
                                std::optional<double> minimum, std::optional<double> maximum) {
  return {std::move(name), ParameterType::integer, std::move(description), default_value, minimum, maximum};
}

ParameterSpec boolean_parameter(std::string name, bool default_value, std::string description) {
  return {std::move(name), ParameterType::boolean, std::move(description), default_value, {}, {}};
}

ParameterSpec string_parameter(std::string name, std::string default_value, std::string description) {
  return {std::move(name), ParameterType::string, std::move(description), boost::json::value(default_value), {}, {}};
}

ParameterSpec required_parameter(std::string name, ParameterType type, std::string description) {
  return {std::move(name), type, std::move(description), nullptr, {}, {}};
}

ParameterSpec json_parameter(std::string name, boost::json::value default_value, ParameterType type,
                             std::string description) {
  return {std::move(name), type, std::move(description), std::move(default_value), {}, {}};
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

const char* json_kind(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "an integer";
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "?";
}

namespace {

bool is_integral(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
         std::abs(v.get_double()) < 9.0e15;
}

bool matches(const boost::json::value& v, ParameterType type) {
  switch (type) {
    case ParameterType::number: return v.is_number();
    case ParameterType::integer: return is_integral(v);
    case ParameterType::boolean: return v.is_bool();
    case ParameterType::string: return v.is_string();
    case ParameterType::array: return v.is_array();
    case ParameterType::object: return v.is_object();
    case ParameterType::any: return true;
  }
  return false;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

std::string format_value(const boost::json::value& value) {
  if (value.is_number()) return format_number(value.to_number<double>());
  if (value.is_array()) {
    std::string out = "[";
    for (const auto& item : value.as_array()) out += (out.size() > 1 ? ", " : "") + format_value(item);
    return out + "]";
  }
  return boost::json::serialize(value);
}

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t distance = edit_distance(name, c);
    if (distance < best_distance) {
      best = c;
      best_distance = distance;
    }
  }
  return best;
}

Parameters validate_parameters(const std::vector<ParameterSpec>& specs, const boost::json::value* given,
                               const std::string& pointer, const std::string& plugin_name) {
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);

  if (given && !given->is_null() && !given->is_object())
    throw ConfigurationError(pointer, std::string("expected an object of parameters for plugin '") + plugin_name +
                                          "', found " + json_kind(*given));

  boost::json::object values;
  if (given && given->is_object()) {
    for (const auto& [key, value] : given->as_object()) {
      const std::string k(key);
      if (std::find(names.begin(), names.end(), k) == names.end()) {
        std::string message = "unknown parameter '" + k + "' for plugin '" + plugin_name + "'";
        const std::string near = nearest_name(k, names);
        message += near.empty() ? "." : "; did you mean '" + near + "'?";
        message += names.empty() ? " (it takes no parameters)" : " Valid parameters: " + join_names(names) + ".";
        throw ConfigurationError(pointer + "/" + k, message);
      }
    }
  }

  for (const auto& spec : specs) {
    const std::string where = pointer + "/" + spec.name;
    const boost::json::value* v = nullptr;
    if (given && given->is_object()) v = given->as_object().if_contains(spec.name);
    if (!v) {
      if (spec.required())
        throw ConfigurationError(where, "missing required parameter '" + spec.name + "' of plugin '" + plugin_name +
                                            "' (" + to_string(spec.type) + ": " + spec.description + ")");
      values[spec.name] = spec.default_value;
      continue;
    }
    if (!matches(*v, spec.type))
      throw ConfigurationError(where, std::string("expected ") + to_string(spec.type) + ", found " + json_kind(*v) +
                                          " (" + format_value(*v) + ")");
    if (v->is_number()) {
      const double x = v->to_number<double>();
      if ((spec.minimum && x < *spec.minimum) || (spec.maximum && x > *spec.maximum)) {
        std::ostringstream range;
        range << "[" << (spec.minimum ? format_number(*spec.minimum) : "-inf") << ", "
              << (spec.maximum ? format_number(*spec.maximum) : "inf") << "]";
        throw ConfigurationError(where, "value " + format_value(*v) + " is out of range " + range.str() + " (" +
                                            spec.description + ")");
      }
    }
    values[spec.name] = *v;
  }
  return Parameters(std::move(values), pointer);
}

namespace {
const boost::json::value& lookup(const boost::json::object& values, const std::string& pointer, const std::string& name) {
  const boost::json::value* v = values.if_contains(name);
  if (!v)
    throw std::logic_error("plugin read parameter '" + name + "' at " + pointer + " that it did not declare");
  return *v;
}
}  // namespace

double Parameters::number(const std::string& name) const { return lookup(values_, pointer_, name).to_number<double>(); }

std::int64_t Parameters::integer(const std::string& name) const {
  const auto& v = lookup(values_, pointer_, name);
  if (v.is_double()) return static_cast<std::int64_t>(v.get_double());
  return v.to_number<std::int64_t>();
}

bool Parameters::boolean(const std::string& name) const { return lookup(values_, pointer_, name).as_bool(); }

std::string Parameters::string(const std::string& name) const {
  return std::string(lookup(values_, pointer_, name).as_string());
}

const boost::json::value& Parameters::json(const std::string& name) const { return lookup(values_, pointer_, name); }

void Parameters::fail(const std::string& name, const std::string& message) const {
  throw ConfigurationError(pointer_of(name), message);
}

}  // namespace hjbtt
