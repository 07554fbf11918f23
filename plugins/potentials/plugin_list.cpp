// Parameter declarations and factories of the built-in potentials. Factories read values the
// host has already checked against the declarations (names, types, ranges) and reject what
// only they can judge, such as a covariance that is not positive definite, with a
// ConfigurationError at the offending JSON pointer.
#include "plugin_list.hpp"

#include "banana.hpp"
#include "blocks.hpp"
#include "double_well.hpp"
#include "gaussian.hpp"
#include "gaussian_mixture.hpp"
#include "many_well.hpp"
#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hjbtt {

namespace {

const char* const plugin_version = "0.1.0";

// The AR(1) form {"mean": [...], "std": [...], "correlation": rho} of the gaussian plugin.
std::shared_ptr<PluginObject> make_ar1_gaussian(const Parameters& params) {
  const std::string pointer = params.pointer_of("ar1");
  const boost::json::object& ar1 = params.json("ar1").get_object();

  const std::vector<std::string> keys{"mean", "std", "correlation"};
  for (const auto& [key, value] : ar1) {
    const std::string name(key);
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      const std::string near = nearest_name(name, keys);
      throw ConfigurationError(pointer + "/" + name, "unknown key '" + name + "' in ar1" +
                                                         (near.empty() ? "" : "; did you mean '" + near + "'?") +
                                                         " Valid keys: mean, std, correlation.");
    }
  }
  for (const auto& key : keys)
    if (!ar1.contains(key))
      throw ConfigurationError(pointer, "missing key '" + key +
                                            "' in ar1; give {\"mean\": [d numbers], \"std\": [d positive numbers], "
                                            "\"correlation\": rho with -1 < rho < 1}");

  const arma::vec mean = read_vector(ar1.at("mean"), pointer + "/mean");
  const arma::vec deviations = read_vector(ar1.at("std"), pointer + "/std");
  if (mean.is_empty()) throw ConfigurationError(pointer + "/mean", "the mean is empty; give at least one coordinate");
  if (deviations.n_elem != mean.n_elem)
    throw ConfigurationError(pointer + "/std", "expected " + std::to_string(mean.n_elem) +
                                                   " standard deviations (one per mean entry), found " +
                                                   std::to_string(deviations.n_elem));
  for (arma::uword i = 0; i < deviations.n_elem; ++i)
    if (!(deviations(i) > 0.0))
      throw ConfigurationError(pointer + "/std/" + std::to_string(i),
                               "expected a positive standard deviation, found " + std::to_string(deviations(i)));

  const boost::json::value& rho = ar1.at("correlation");
  if (!rho.is_number())
    throw ConfigurationError(pointer + "/correlation", "expected a number, found " + boost::json::serialize(rho));
  const double correlation = rho.to_number<double>();
  if (!(std::abs(correlation) < 1.0))
    throw ConfigurationError(pointer + "/correlation",
                             "expected a correlation strictly between -1 and 1, found " + boost::json::serialize(rho));

  try {
    return std::make_shared<GaussianPotential>(mean, GaussianPotential::ar1_covariance(deviations, correlation));
  } catch (const std::invalid_argument& error) {
    params.fail("ar1", error.what());
  }
}

std::shared_ptr<PluginObject> make_gaussian(const Parameters& params) {
  const bool has_mean = !params.json("mean").get_array().empty();
  const bool has_covariance = !params.json("covariance").get_array().empty();
  const bool has_ar1 = !params.json("ar1").get_object().empty();

  const char* either_or = "give either \"mean\" and \"covariance\", or \"ar1\" alone";
  if (has_ar1 && (has_mean || has_covariance))
    params.fail(has_mean ? "mean" : "covariance",
                std::string("mean and covariance are mutually exclusive with ar1; ") + either_or);
  if (has_ar1) return make_ar1_gaussian(params);
  if (!has_mean) params.fail("mean", std::string("missing or empty; ") + either_or);
  if (!has_covariance) params.fail("covariance", std::string("missing or empty; ") + either_or);

  const arma::vec mean = read_vector(params.json("mean"), params.pointer_of("mean"));
  const arma::mat covariance = read_matrix(params.json("covariance"), params.pointer_of("covariance"));
  try {
    return std::make_shared<GaussianPotential>(mean, covariance);
  } catch (const std::invalid_argument& error) {
    params.fail("covariance", error.what());
  }
}

// One component's covariance: a number v (v I), an array of d numbers (a diagonal), or d rows of
// d numbers (a full matrix).
arma::mat read_component_covariance(const boost::json::value& value, const std::string& pointer, arma::uword d) {
  const char* forms = "give a variance v (meaning v I), d variances (a diagonal) or d rows of d numbers";
  if (value.is_number()) {
    const double variance = value.to_number<double>();
    if (!(variance > 0.0) || !std::isfinite(variance))
      throw ConfigurationError(pointer, "expected a positive variance, found " + format_value(value));
    return variance * arma::eye(d, d);
  }
  const boost::json::array* entries = value.if_array();
  if (!entries || entries->empty())
    throw ConfigurationError(pointer, "expected a covariance, found " + format_value(value) + "; " + forms);

  arma::mat covariance;
  if ((*entries)[0].is_number()) {
    const arma::vec variances = read_vector(value, pointer);
    if (variances.n_elem != d)
      throw ConfigurationError(pointer, "expected " + std::to_string(d) + " variances (one per coordinate), found " +
                                            std::to_string(variances.n_elem));
    for (arma::uword k = 0; k < d; ++k)
      if (!(variances(k) > 0.0))
        throw ConfigurationError(pointer + "/" + std::to_string(k), "expected a positive variance, found " +
                                                                        format_number(variances(k)));
    covariance = arma::diagmat(variances);
  } else {
    covariance = read_matrix(value, pointer);
  }
  const std::string defect = covariance_defect(covariance, d);
  if (!defect.empty()) throw ConfigurationError(pointer, defect);
  return covariance;
}

std::shared_ptr<PluginObject> make_gaussian_mixture(const Parameters& params) {
  const boost::json::array& mean_list = params.json("means").get_array();
  if (mean_list.empty()) params.fail("means", "the list of means is empty; give one array of d numbers per component");
  std::vector<arma::vec> means;
  for (std::size_t j = 0; j < mean_list.size(); ++j) {
    const std::string pointer = params.pointer_of("means") + "/" + std::to_string(j);
    means.push_back(read_vector(mean_list[j], pointer));
    if (means.back().is_empty()) throw ConfigurationError(pointer, "the mean is empty; give at least one coordinate");
    if (means.back().n_elem != means.front().n_elem)
      throw ConfigurationError(pointer, "expected " + std::to_string(means.front().n_elem) + " numbers like mean 0, found " +
                                            std::to_string(means.back().n_elem));
  }
  const arma::uword count = means.size(), d = means.front().n_elem;

  arma::vec weights(count, arma::fill::ones);
  if (!params.json("weights").get_array().empty()) {
    weights = read_vector(params.json("weights"), params.pointer_of("weights"));
    if (weights.n_elem != count)
      params.fail("weights", "expected " + std::to_string(count) + " weights (one per mean), found " +
                                 std::to_string(weights.n_elem));
    for (arma::uword j = 0; j < count; ++j)
      if (!(weights(j) > 0.0))
        throw ConfigurationError(params.pointer_of("weights") + "/" + std::to_string(j),
                                 "expected a positive weight, found " + format_number(weights(j)));
  }

  // A single number is the shorthand for one isotropic covariance shared by every component.
  const boost::json::value& covariance_value = params.json("covariances");
  std::vector<arma::mat> covariances;
  if (covariance_value.is_number()) {
    covariances.assign(count, read_component_covariance(covariance_value, params.pointer_of("covariances"), d));
  } else {
    const boost::json::array* list = covariance_value.if_array();
    if (!list || list->size() != count)
      params.fail("covariances", "expected a number (v I for every component) or an array of " + std::to_string(count) +
                                     " covariances (one per mean), found " + format_value(covariance_value));
    for (std::size_t j = 0; j < count; ++j)
      covariances.push_back(read_component_covariance((*list)[j], params.pointer_of("covariances") + "/" + std::to_string(j), d));
  }
  return std::make_shared<GaussianMixturePotential>(weights, means, covariances);
}

std::shared_ptr<PluginObject> make_double_well(const Parameters& params) {
  return std::make_shared<DoubleWellPotential>(static_cast<arma::uword>(params.integer("dimension")),
                                               params.number("delta"));
}

std::shared_ptr<PluginObject> make_banana(const Parameters& params) {
  const double a = params.number("a");
  if (!(a > 0.0)) params.fail("a", "expected a positive standard deviation a, found " + std::to_string(a));
  return std::make_shared<BananaPotential>(a, params.number("b"));
}

std::shared_ptr<PluginObject> make_many_well(const Parameters& params) {
  return std::make_shared<ManyWellPotential>(static_cast<arma::uword>(params.integer("pairs")));
}

// Each entry of "blocks" is {"plugin": NAME, "params": {...}, "repeat": n}. The host builds the
// potential from {"plugin", "params"} only, since "repeat" is this plugin's business.
PotentialBlock make_block(const boost::json::value& entry, const std::string& pointer, PluginContext& context) {
  const char* shape = "expected {\"plugin\": NAME, \"params\": {...}, \"repeat\": n} with params and repeat optional";
  if (!entry.is_object()) throw ConfigurationError(pointer, std::string(shape) + ", found " + boost::json::serialize(entry));
  const boost::json::object& object = entry.get_object();

  const std::vector<std::string> keys{"plugin", "params", "repeat"};
  for (const auto& [key, value] : object) {
    const std::string name(key);
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      const std::string near = nearest_name(name, keys);
      throw ConfigurationError(pointer + "/" + name, "unknown key '" + name + "' in a block" +
                                                         (near.empty() ? "" : "; did you mean '" + near + "'?") +
                                                         " Valid keys: plugin, params, repeat.");
    }
  }

  const boost::json::value* plugin = object.if_contains("plugin");
  if (!plugin) throw ConfigurationError(pointer, std::string("missing key 'plugin'; ") + shape);
  if (!plugin->is_string())
    throw ConfigurationError(pointer + "/plugin", "expected the name of a potential plugin as a string, found " +
                                                      boost::json::serialize(*plugin));

  arma::uword repeat = 1;
  if (const boost::json::value* r = object.if_contains("repeat")) {
    // 2.0 counts as an integer, as it does for integer parameters.
    const double copies = r->is_number() ? r->to_number<double>() : 0.0;
    if (!(copies >= 1.0 && copies <= 1e9 && std::floor(copies) == copies))
      throw ConfigurationError(pointer + "/repeat",
                               "expected a positive integer number of copies, found " + boost::json::serialize(*r));
    repeat = static_cast<arma::uword>(copies);
  }

  boost::json::object spec;
  spec["plugin"] = *plugin;
  if (const boost::json::value* p = object.if_contains("params")) spec["params"] = *p;
  return {context.create_potential(spec, pointer), repeat};
}

std::shared_ptr<PluginObject> make_blocks(const Parameters& params, PluginContext& context) {
  const boost::json::array& entries = params.json("blocks").get_array();
  if (entries.empty()) params.fail("blocks", "the list of blocks is empty; give at least one {\"plugin\": NAME, ...}");

  std::vector<PotentialBlock> blocks;
  for (std::size_t i = 0; i < entries.size(); ++i)
    blocks.push_back(make_block(entries[i], params.pointer_of("blocks") + "/" + std::to_string(i), context));
  return std::make_shared<BlockPotential>(blocks);
}

PluginInfo gaussian_plugin() {
  return {PluginKind::potential,
          "gaussian",
          plugin_version,
          "Gaussian N(m, Sigma): Phi = 0.5 (x - m)^T Sigma^-1 (x - m), from mean and covariance or an AR(1) form.",
          {json_parameter("mean", boost::json::array(), ParameterType::array,
                          "Mean m as an array of d numbers; give it with covariance, or use ar1 instead."),
           json_parameter("covariance", boost::json::array(), ParameterType::array,
                          "Covariance Sigma as an array of d rows of d numbers, symmetric positive definite; give it "
                          "with mean."),
           json_parameter("ar1", boost::json::object(), ParameterType::object,
                          "AR(1) form {\"mean\": [d numbers], \"std\": [d numbers s_i], \"correlation\": rho} meaning "
                          "Sigma_ij = s_i s_j rho^|i-j|; use it instead of mean and covariance.")},
          [](const Parameters& params, PluginContext&) { return make_gaussian(params); }};
}

PluginInfo gaussian_mixture_plugin() {
  return {PluginKind::potential,
          "gaussian_mixture",
          plugin_version,
          "Gaussian mixture Phi = -log sum_j w_j N(x; m_j, S_j); no polynomial form, so v(0) is built by TT-cross.",
          {required_parameter("means", ParameterType::array,
                              "Component means m_j as an array of K arrays of d numbers; K is the number of components."),
           json_parameter("weights", boost::json::array(), ParameterType::array,
                          "Component weights w_j as K positive numbers, normalised to sum 1; empty gives equal weights."),
           json_parameter("covariances", 1.0, ParameterType::any,
                          "Component covariances S_j. One number v sets S_j = v I for every component. An array has "
                          "one entry per component: a number v (v I), d variances (a diagonal) or d rows of d numbers "
                          "(symmetric positive definite).")},
          [](const Parameters& params, PluginContext&) { return make_gaussian_mixture(params); }};
}

PluginInfo double_well_plugin() {
  return {PluginKind::potential,
          "double_well",
          plugin_version,
          "Independent double wells Phi = sum_k (x_k^2 - delta)^2, modes at +-sqrt(delta).",
          {integer_parameter("dimension", 1, "Number of coordinates, each an independent double well.", 1),
           number_parameter("delta", 2.0,
                            "Squared position of the modes: (x^2 - delta)^2 has its minima at +-sqrt(delta) "
                            "when delta > 0.",
                            -1000.0, 1000.0)},
          [](const Parameters& params, PluginContext&) { return make_double_well(params); }};
}

PluginInfo banana_plugin() {
  return {PluginKind::potential,
          "banana",
          plugin_version,
          "Two-dimensional banana Phi = x1^2 / (2 a^2) + (x2 - b x1^2)^2 / 2.",
          {number_parameter("a", 1.0, "Standard deviation of x1, a positive number."),
           number_parameter("b", 0.5, "Curvature: given x1, x2 is normal with mean b x1^2 and variance 1.")},
          [](const Parameters& params, PluginContext&) { return make_banana(params); }};
}

PluginInfo many_well_plugin() {
  return {PluginKind::potential,
          "many_well",
          plugin_version,
          "Many-well benchmark: sum over pairs of x_odd^4 - 6 x_odd^2 - 0.5 x_odd + 0.5 x_even^2, 2^pairs modes.",
          {integer_parameter("pairs", 16, "Number m of coordinate pairs; the dimension is 2m.", 1)},
          [](const Parameters& params, PluginContext&) { return make_many_well(params); }};
}

PluginInfo blocks_plugin() {
  return {PluginKind::potential,
          "blocks",
          plugin_version,
          "Sum of potentials placed on consecutive disjoint coordinate ranges (independent blocks).",
          {required_parameter("blocks", ParameterType::array,
                              "Blocks in coordinate order, each {\"plugin\": NAME, \"params\": {...}, \"repeat\": n} "
                              "with repeat (default 1) the number of consecutive copies.")},
          [](const Parameters& params, PluginContext& context) { return make_blocks(params, context); }};
}

}  // namespace

PluginManifest potential_plugin_manifest() {
  return {{gaussian_plugin(), gaussian_mixture_plugin(), double_well_plugin(), banana_plugin(), many_well_plugin(),
           blocks_plugin()}};
}

}  // namespace hjbtt
