// A report-only postprocessor: sample-quality metrics against the potential's reference
// (moment errors, marginal Kolmogorov-Smirnov distances, mode weights by sign), and the same
// metrics for as many exact draws, which is the sampling-noise floor the first set should be
// read against. The samples are not changed.
#pragma once

#include "hjbtt/postprocessor.hpp"

#include <string>

namespace hjbtt {

class StatisticsPostprocessor : public Postprocessor {
public:
  struct Settings {
    // Key of the report entry that receives the metrics; empty puts them into the report itself.
    std::string label;
    // Also report the metrics of exact draws from the reference, where it can draw them.
    bool exact_floor = true;
  };

  explicit StatisticsPostprocessor(Settings settings) : settings_(std::move(settings)) {}

  void process(arma::mat& samples, const Potential& potential, const RunContext& context,
               boost::json::object& report) override;

private:
  Settings settings_;
};

}  // namespace hjbtt
