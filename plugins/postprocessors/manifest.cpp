// The postprocessors plugin library: Langevin correction and sample statistics.
#include "langevin.hpp"
#include "statistics.hpp"

#include "hjbtt/plugin.hpp"

#include <cmath>
#include <sstream>

namespace {

hjbtt::PluginInfo langevin_info() {
  hjbtt::PluginInfo info;
  info.kind = hjbtt::PluginKind::postprocessor;
  info.name = "langevin";
  info.version = "0.1.0";
  info.summary = "Langevin correction with the exact potential: MALA (Metropolis-adjusted) or ULA steps";
  info.parameters = {
      hjbtt::integer_parameter("steps", 20, "Number of Langevin steps applied to every sample", 0.0),
      hjbtt::number_parameter("step_size", 0.01,
                              "Step size h of x' = x - h gradPhi(x) + sqrt(2h) xi, in the units of x squared; "
                              "must be > 0",
                              0.0),
      hjbtt::boolean_parameter("metropolis", true,
                               "true: MALA, which accepts or rejects each move and leaves the target exact; "
                               "false: ULA, which always moves and is biased by O(step_size)"),
  };
  info.factory = [](const hjbtt::Parameters& params, hjbtt::PluginContext&) -> std::shared_ptr<hjbtt::PluginObject> {
    hjbtt::LangevinPostprocessor::Settings settings;
    settings.steps = params.integer("steps");
    settings.step_size = params.number("step_size");
    settings.metropolis = params.boolean("metropolis");

    // The declared minimum is inclusive, so a step size of exactly 0 gets here.
    if (!(settings.step_size > 0.0) || !std::isfinite(settings.step_size)) {
      std::ostringstream message;
      message << "expected a step size > 0, found " << settings.step_size
              << "; use a small positive value such as 0.01 (or steps: 0 to skip the correction)";
      params.fail("step_size", message.str());
    }
    return std::make_shared<hjbtt::LangevinPostprocessor>(settings);
  };
  return info;
}

hjbtt::PluginInfo statistics_info() {
  hjbtt::PluginInfo info;
  info.kind = hjbtt::PluginKind::postprocessor;
  info.name = "statistics";
  info.version = "0.1.0";
  info.summary = "Sample-quality metrics against the potential's reference, beside those of exact draws";
  info.parameters = {
      hjbtt::string_parameter("label", "",
                              "Report key under which the metrics are stored; empty stores them in this "
                              "postprocessor's report entry directly"),
      hjbtt::boolean_parameter("exact_floor", true,
                               "Also report the metrics of as many exact draws from the reference (the "
                               "sampling-noise floor), where the reference can draw them"),
  };
  info.factory = [](const hjbtt::Parameters& params, hjbtt::PluginContext&) -> std::shared_ptr<hjbtt::PluginObject> {
    hjbtt::StatisticsPostprocessor::Settings settings;
    settings.label = params.string("label");
    // The host stores the plugin name under "plugin" in the same report object.
    if (settings.label == "plugin") params.fail("label", "\"plugin\" is reserved for the plugin name; choose another label");
    settings.exact_floor = params.boolean("exact_floor");
    return std::make_shared<hjbtt::StatisticsPostprocessor>(std::move(settings));
  };
  return info;
}

hjbtt::PluginManifest make_manifest() {
  hjbtt::PluginManifest manifest;
  manifest.plugins = {langevin_info(), statistics_info()};
  return manifest;
}

}  // namespace

HJBTT_PLUGIN_MANIFEST(make_manifest())
