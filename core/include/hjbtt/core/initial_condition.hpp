// The initial condition v(0) = Phi of the HJB equation as a functional tensor train: the exact
// expansion of the potential's polynomial form when it has one, TT-cross interpolation of its
// values otherwise.
#pragma once

#include "hjbtt/core/cross.hpp"
#include "hjbtt/core/ftt.hpp"
#include "hjbtt/potential.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>

namespace hjbtt {

// "auto" takes the polynomial form when the potential has one and the cross otherwise;
// "polynomial" requires the form; "cross" interpolates even a polynomial potential.
enum class InitialConditionMethod { automatic, polynomial, cross };

const char* to_string(InitialConditionMethod method);

struct InitialConditionOptions {
  InitialConditionMethod method = InitialConditionMethod::automatic;
  // cross.rounding_tolerance also rounds the polynomial expansion.
  CrossOptions cross;
};

struct InitialConditionReport {
  InitialConditionMethod method = InitialConditionMethod::polynomial;  // the method used, never automatic
  std::optional<CrossReport> cross;                                    // present when the cross ran
  std::vector<arma::uword> ranks;
  double seconds = 0.0;
};

boost::json::object to_json(const InitialConditionReport& report);

// The method that `options` selects for this potential: polynomial or cross.
InitialConditionMethod resolve_method(const Potential& potential, const InitialConditionOptions& options);

// Checks, without building anything, that the initial condition can be built. Throws
// ConfigurationError at "/initial_condition/method" when the method is "polynomial" and the
// potential has no polynomial form, and at "/basis/params/degree" when the polynomial path is
// taken and a basis degree is below the potential's degree in that coordinate.
void check_initial_condition(const Potential& potential, const BasisSet& bases, const InitialConditionOptions& options);

// Builds v(0) = Phi by the method `options` selects, after the checks above. `description`
// names the potential in messages of the cross (see cross_interpolate for its errors).
FunctionalTT build_initial_condition(const Potential& potential, const BasisSet& bases,
                                     const InitialConditionOptions& options, const std::string& description,
                                     InitialConditionReport& report);

}  // namespace hjbtt
