// Plugin manifest of the Legendre basis: basis "legendre" with parameters "degree" and "domain".
#include "legendre.hpp"

#include "hjbtt/plugin.hpp"

#include <memory>

namespace {

hjbtt::PluginManifest legendre_manifest() {
  hjbtt::PluginInfo legendre;
  legendre.kind = hjbtt::PluginKind::basis;
  legendre.name = "legendre";
  legendre.version = "0.1.0";
  legendre.summary = "Legendre polynomials, orthonormal for the uniform probability measure on an interval";
  legendre.parameters = hjbtt::legendre_parameters();
  legendre.factory = [](const hjbtt::Parameters& params, hjbtt::PluginContext&) -> std::shared_ptr<hjbtt::PluginObject> {
    return hjbtt::make_legendre_basis(params);
  };
  return hjbtt::PluginManifest{{legendre}};
}

}  // namespace

HJBTT_PLUGIN_MANIFEST(legendre_manifest())
