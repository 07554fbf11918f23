// Entry points of the hjbtt_potentials plugin library: gaussian, gaussian_mixture,
// double_well, banana, many_well and blocks.
#include "plugin_list.hpp"

HJBTT_PLUGIN_MANIFEST(hjbtt::potential_plugin_manifest())
