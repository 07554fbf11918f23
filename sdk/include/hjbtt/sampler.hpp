// A sampler turns the stored HJB solution into samples of the target (d x N), and records
// what it did (steps, points outside the box) in its part of the report.
#pragma once

#include "hjbtt/core/solution.hpp"
#include "hjbtt/plugin.hpp"
#include "hjbtt/run_context.hpp"

#include <boost/json.hpp>

namespace hjbtt {

class Sampler : public PluginObject {
public:
  virtual arma::mat sample(const Solution& solution, const RunContext& context, boost::json::object& report) = 0;
};

}  // namespace hjbtt
