// Manifest of the exponential_euler integrator plugin.
#include "exponential_euler.hpp"

namespace {

hjbtt::PluginManifest build_manifest() {
  using namespace hjbtt;
  const ExponentialEulerOptions defaults;
  PluginInfo info;
  info.kind = PluginKind::integrator;
  info.name = "exponential_euler";
  info.version = "0.1.0";
  info.summary = "Exponential Euler / ETD2RK (Cox-Matthews) embedded pair: exact flow of the OU linear part "
                 "as a rank-1 TT operator, phi_1 and phi_2 by Gauss-Legendre quadrature, error-controlled steps";
  info.parameters = {
      number_parameter("tolerance", defaults.tolerance,
                       "Largest accepted error estimate of one step relative to |v|: the difference between "
                       "exponential Euler and ETD2RK plus the quadrature error of phi_1.", 1e-12, 1.0),
      number_parameter("rank_tolerance", defaults.rank_tolerance, "Relative L2 tolerance of the rounding after each stage.",
                       1e-15, 1e-1),
      integer_parameter("max_rank", static_cast<std::int64_t>(defaults.max_rank), "Largest TT rank kept by the rounding.", 1, 500),
      number_parameter("retraction_tolerance", defaults.retraction_tolerance,
                       "Largest accepted relative rounding error of a stage; larger errors halve the step.", 1e-15, 1.0),
      number_parameter("initial_step", defaults.initial_step, "First trial step.", 1e-12, 10.0),
      number_parameter("max_step", defaults.max_step,
                       "Largest step. Samplers interpolate the solution linearly in t between steps, so this also "
                       "bounds the interpolation error.", 1e-12, 10.0),
      number_parameter("min_step", defaults.min_step, "Smallest step before the run stops with a failure.", 1e-16, 1.0),
      number_parameter("growth", defaults.growth, "Largest factor by which a step may exceed the previous one.", 1.0, 10.0),
      integer_parameter("order", defaults.order,
                        "Order of the accepted state: 2 advances with ETD2RK, 1 with exponential Euler. The error "
                        "estimate is the difference of the two in both cases.", 1, 2),
      integer_parameter("phi_nodes", defaults.phi_nodes,
                        "Gauss-Legendre nodes of the quadrature of phi_1 and phi_2; each node costs one rank-1 operator "
                        "and adds the rank of G to the stage before rounding.", 1, 16),
      string_parameter("linear_part", "ornstein_uhlenbeck",
                       "Linear part taken exactly: \"ornstein_uhlenbeck\" is laplacian - x . grad around |x|^2 / 2 "
                       "(dissipative), \"hjb\" is laplacian + x . grad, the linear part of the equation as written "
                       "(its flow amplifies high degrees, and the stiff term stays explicit)."),
      number_parameter("divergence_factor", defaults.divergence_factor,
                       "The run stops when the solution norm exceeds this factor times its expected scale.", 2.0, 1e12),
      integer_parameter("max_steps", defaults.max_steps, "Largest number of accepted steps.", 1, 1e9),
  };
  for (ParameterSpec& parameter : viscosity_parameters()) info.parameters.push_back(std::move(parameter));
  info.factory = [](const Parameters& p, PluginContext&) -> std::shared_ptr<PluginObject> {
    ExponentialEulerOptions o;
    o.tolerance = p.number("tolerance");
    o.rank_tolerance = p.number("rank_tolerance");
    o.max_rank = static_cast<arma::uword>(p.integer("max_rank"));
    o.retraction_tolerance = p.number("retraction_tolerance");
    o.initial_step = p.number("initial_step");
    o.max_step = p.number("max_step");
    o.min_step = p.number("min_step");
    o.growth = p.number("growth");
    o.order = static_cast<int>(p.integer("order"));
    o.phi_nodes = static_cast<int>(p.integer("phi_nodes"));
    const std::string linear_part = p.string("linear_part");
    if (linear_part == "ornstein_uhlenbeck") o.linear_part = LinearSplit::ornstein_uhlenbeck;
    else if (linear_part == "hjb") o.linear_part = LinearSplit::hjb;
    else p.fail("linear_part", "expected \"ornstein_uhlenbeck\" or \"hjb\", found \"" + linear_part + "\"");
    o.divergence_factor = p.number("divergence_factor");
    o.max_steps = p.integer("max_steps");
    o.viscosity = read_viscosity(p);
    if (o.min_step > o.max_step) p.fail("min_step", "min_step must not exceed max_step");
    // Rounding to rank_tolerance alone can produce errors up to rank_tolerance, so a smaller
    // retraction_tolerance would reject every step. Rounding and compression errors of that
    // size also enter the error estimate, so a smaller tolerance could not be met either.
    if (o.retraction_tolerance < o.rank_tolerance)
      p.fail("retraction_tolerance", "retraction_tolerance (" + format_number(o.retraction_tolerance) +
                                         ") must be at least rank_tolerance (" + format_number(o.rank_tolerance) + ")");
    if (o.tolerance < o.rank_tolerance)
      p.fail("tolerance", "tolerance (" + format_number(o.tolerance) + ") must be at least rank_tolerance (" +
                              format_number(o.rank_tolerance) + ")");
    return std::make_shared<ExponentialEuler>(o);
  };
  return PluginManifest{{info}};
}

}  // namespace

HJBTT_PLUGIN_MANIFEST(build_manifest())
