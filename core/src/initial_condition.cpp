// Chooses between the exact polynomial expansion and TT-cross interpolation for v(0) = Phi,
// and reports what was done.
#include "hjbtt/core/initial_condition.hpp"

#include "hjbtt/errors.hpp"

#include <chrono>
#include <limits>

namespace hjbtt {

const char* to_string(InitialConditionMethod method) {
  switch (method) {
    case InitialConditionMethod::automatic: return "auto";
    case InitialConditionMethod::polynomial: return "polynomial";
    case InitialConditionMethod::cross: return "cross";
  }
  return "unknown";
}

InitialConditionMethod resolve_method(const Potential& potential, const InitialConditionOptions& options) {
  if (options.method != InitialConditionMethod::automatic) return options.method;
  return potential.polynomial() ? InitialConditionMethod::polynomial : InitialConditionMethod::cross;
}

void check_initial_condition(const Potential& potential, const BasisSet& bases, const InitialConditionOptions& options) {
  if (resolve_method(potential, options) != InitialConditionMethod::polynomial) return;

  const auto polynomial = potential.polynomial();
  if (!polynomial)
    throw ConfigurationError("/initial_condition/method",
                             "\"polynomial\" needs a potential with a polynomial form, and this one has none; use "
                             "\"cross\" or \"auto\" to interpolate it from its values");
  const auto degree = polynomial_degrees(*polynomial, potential.dimension());
  for (std::size_t k = 0; k < degree.size(); ++k)
    if (degree[k] > bases[k]->degree())
      throw ConfigurationError("/basis/params/degree", "the potential has degree " + std::to_string(degree[k]) + " in x_" +
                                                           std::to_string(k + 1) + " but the basis has degree " +
                                                           std::to_string(bases[k]->degree()) +
                                                           "; raise the degree to at least " + std::to_string(degree[k]));
}

FunctionalTT build_initial_condition(const Potential& potential, const BasisSet& bases,
                                     const InitialConditionOptions& options, const std::string& description,
                                     InitialConditionReport& report) {
  check_initial_condition(potential, bases, options);
  const auto start = std::chrono::steady_clock::now();

  report = InitialConditionReport();
  report.method = resolve_method(potential, options);
  FunctionalTT v;
  if (report.method == InitialConditionMethod::polynomial) {
    v = ftt_from_polynomial(*potential.polynomial(), bases, options.cross.rounding_tolerance);
  } else {
    CrossReport cross;
    v = cross_interpolate(potential, bases, options.cross, description, cross);
    report.cross = std::move(cross);
  }

  report.ranks = v.coefficients().ranks();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return v;
}

boost::json::object to_json(const InitialConditionReport& report) {
  boost::json::object out;
  out["method"] = to_string(report.method);
  boost::json::array ranks;
  for (const arma::uword r : report.ranks) ranks.push_back(static_cast<std::uint64_t>(r));
  out["ranks"] = std::move(ranks);
  out["seconds"] = report.seconds;
  if (report.cross) out["cross"] = to_json(*report.cross);
  return out;
}

}  // namespace hjbtt
