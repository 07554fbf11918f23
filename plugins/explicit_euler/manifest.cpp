// Manifest of the explicit_euler integrator plugin.
#include "explicit_euler.hpp"

namespace {

hjbtt::PluginManifest build_manifest() {
  using namespace hjbtt;
  const ExplicitEulerOptions defaults;
  PluginInfo info;
  info.kind = PluginKind::integrator;
  info.name = "explicit_euler";
  info.version = "0.1.0";
  info.summary = "Adaptive explicit Euler with stiffness and retraction step control";
  info.parameters = {
      number_parameter("rank_tolerance", defaults.rank_tolerance, "Relative L2 tolerance of the rounding after each step.", 1e-15, 1e-1),
      integer_parameter("max_rank", static_cast<std::int64_t>(defaults.max_rank), "Largest TT rank kept by the rounding.", 1, 500),
      number_parameter("retraction_tolerance", defaults.retraction_tolerance,
                       "Largest accepted relative rounding error of one step; larger errors halve the step.", 1e-15, 1.0),
      number_parameter("stability_factor", defaults.stability_factor,
                       "Step bound c in tau <= c / lambda, lambda the estimated spectral radius of the linearisation.", 1e-3, 2.0),
      number_parameter("initial_step", defaults.initial_step, "First trial step.", 1e-12, 10.0),
      number_parameter("max_step", defaults.max_step, "Largest step.", 1e-12, 10.0),
      number_parameter("min_step", defaults.min_step, "Smallest step before the run stops with a failure.", 1e-16, 1.0),
      number_parameter("growth", defaults.growth, "Largest factor by which a step may exceed the previous one.", 1.0, 10.0),
      integer_parameter("bisection_steps", defaults.bisection_steps,
                        "Bisection steps that enlarge a step again after the retraction halved it.", 0, 20),
      integer_parameter("power_iterations", defaults.power_iterations,
                        "Power iterations per stiffness estimate (warm-started from the previous step).", 1, 100),
      integer_parameter("power_rank", static_cast<std::int64_t>(defaults.power_rank), "TT rank of the power-iteration vector.", 1, 64),
      number_parameter("divergence_factor", defaults.divergence_factor,
                       "The run stops when the solution norm exceeds this factor times its expected scale.", 2.0, 1e12),
      integer_parameter("max_steps", defaults.max_steps, "Largest number of accepted steps.", 1, 1e9),
      number_parameter("projection_tolerance", defaults.projection_tolerance,
                       "Degree adaptivity: raise the basis degree when tau |N - P N| exceeds this fraction of |v|; "
                       "0 keeps the degree fixed.", 0.0, 1.0),
      integer_parameter("max_degree", static_cast<std::int64_t>(defaults.max_degree),
                        "Highest basis degree that degree adaptivity may reach.", 0, 64),
      integer_parameter("degree_increment", static_cast<std::int64_t>(defaults.degree_increment),
                        "Degree added to a mode at each raise.", 1, 16),
      string_parameter("degree_raise", "modes",
                       "Which modes a failed projection criterion raises: \"modes\", those whose own share of the "
                       "projection error is large; \"all\", every mode at once."),
      string_parameter("assembly", "auto",
                       "How each step forms v + tau F(v): \"randomized\" rounds it by a sketch without forming the "
                       "rank-2 r^2 squared gradient, \"exact\" forms F(v) and rounds the sum, \"auto\" takes "
                       "randomized from TT ranks of about 4 in every mode on. All agree within rank_tolerance."),
      number_parameter("fixed_step", defaults.fixed_step,
                       "A step length that every step takes, with no step control (for comparisons); 0 keeps the "
                       "adaptive controller.", 0.0, 10.0),
  };
  for (ParameterSpec& parameter : viscosity_parameters()) info.parameters.push_back(std::move(parameter));
  info.factory = [](const Parameters& p, PluginContext&) -> std::shared_ptr<PluginObject> {
    ExplicitEulerOptions o;
    o.rank_tolerance = p.number("rank_tolerance");
    o.max_rank = static_cast<arma::uword>(p.integer("max_rank"));
    o.retraction_tolerance = p.number("retraction_tolerance");
    o.stability_factor = p.number("stability_factor");
    o.initial_step = p.number("initial_step");
    o.max_step = p.number("max_step");
    o.min_step = p.number("min_step");
    o.growth = p.number("growth");
    o.bisection_steps = static_cast<int>(p.integer("bisection_steps"));
    o.power_iterations = static_cast<int>(p.integer("power_iterations"));
    o.power_rank = static_cast<arma::uword>(p.integer("power_rank"));
    o.divergence_factor = p.number("divergence_factor");
    o.max_steps = p.integer("max_steps");
    o.projection_tolerance = p.number("projection_tolerance");
    o.max_degree = static_cast<arma::uword>(p.integer("max_degree"));
    o.degree_increment = static_cast<arma::uword>(p.integer("degree_increment"));
    const std::string degree_raise = p.string("degree_raise");
    if (degree_raise == "all") o.raise_all_modes = true;
    else if (degree_raise != "modes") p.fail("degree_raise", "expected \"modes\" or \"all\", found \"" + degree_raise + "\"");
    const std::string assembly = p.string("assembly");
    if (assembly == "auto") o.assembly = Assembly::automatic;
    else if (assembly == "exact") o.assembly = Assembly::exact;
    else if (assembly == "randomized") o.assembly = Assembly::randomized;
    else p.fail("assembly", "expected \"auto\", \"exact\" or \"randomized\", found \"" + assembly + "\"");
    o.fixed_step = p.number("fixed_step");
    o.viscosity = read_viscosity(p);
    if (o.min_step > o.max_step) p.fail("min_step", "min_step must not exceed max_step");
    // Rounding to rank_tolerance alone can produce errors up to rank_tolerance, so a smaller
    // retraction_tolerance would reject every step.
    if (o.retraction_tolerance < o.rank_tolerance)
      p.fail("retraction_tolerance", "retraction_tolerance (" + format_number(o.retraction_tolerance) +
                                         ") must be at least rank_tolerance (" + format_number(o.rank_tolerance) + ")");
    return std::make_shared<ExplicitEuler>(o);
  };
  return PluginManifest{{info}};
}

}  // namespace

HJBTT_PLUGIN_MANIFEST(build_manifest())
