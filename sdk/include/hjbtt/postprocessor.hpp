// A postprocessor transforms samples (d x N) in place, such as a Langevin corrector, or
// only reports on them, such as statistics against the potential's reference. Postprocessors
// run in the order the pipeline lists them.
#pragma once

#include "hjbtt/plugin.hpp"
#include "hjbtt/potential.hpp"
#include "hjbtt/run_context.hpp"

#include <boost/json.hpp>

namespace hjbtt {

class Postprocessor : public PluginObject {
public:
  virtual void process(arma::mat& samples, const Potential& potential, const RunContext& context,
                       boost::json::object& report) = 0;
};

}  // namespace hjbtt
