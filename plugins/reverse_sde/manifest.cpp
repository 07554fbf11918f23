// Manifest of the reverse_sde sampler plugin.
#include "reverse_sde.hpp"

namespace {

hjbtt::PluginManifest build_manifest() {
  using namespace hjbtt;
  const ReverseSdeOptions defaults;
  PluginInfo info;
  info.kind = PluginKind::sampler;
  info.name = "reverse_sde";
  info.version = "0.1.0";
  info.summary = "Euler-Maruyama on the reverse-time SDE, started from N(0, I)";
  info.parameters = {
      integer_parameter("samples", static_cast<std::int64_t>(defaults.samples), "Number of samples to draw.", 1, 1e9),
      integer_parameter("steps", static_cast<std::int64_t>(defaults.steps), "Euler-Maruyama steps from t = T to t = 0.", 1, 1e7),
      number_parameter("grid_power", defaults.grid_power,
                       "Exponent q of the time grid t_m = T (1 - m/K)^q; larger values refine more toward t = 0.", 1.0, 4.0),
      string_parameter("extrapolation", "linear",
                       "Score outside the box: \"linear\" continues it from the nearest box point with unit curvature, "
                       "\"polynomial\" evaluates the polynomial there."),
  };
  info.factory = [](const Parameters& p, PluginContext&) -> std::shared_ptr<PluginObject> {
    ReverseSdeOptions o;
    o.samples = static_cast<arma::uword>(p.integer("samples"));
    o.steps = static_cast<arma::uword>(p.integer("steps"));
    o.grid_power = p.number("grid_power");
    const std::string extrapolation = p.string("extrapolation");
    if (extrapolation != "linear" && extrapolation != "polynomial")
      p.fail("extrapolation", "expected \"linear\" or \"polynomial\", found \"" + extrapolation + "\"");
    o.polynomial_extrapolation = extrapolation == "polynomial";
    return std::make_shared<ReverseSde>(o);
  };
  return PluginManifest{{info}};
}

}  // namespace

HJBTT_PLUGIN_MANIFEST(build_manifest())
