// Sample statistics against the potential's reference, beside the exact-sampling floor.
#include "statistics.hpp"

#include "hjbtt/core/random.hpp"
#include "hjbtt/core/statistics.hpp"

#include <sstream>
#include <stdexcept>

namespace hjbtt {

namespace {

// Key of the exact draws' random stream within the phase; sample blocks use small keys.
constexpr std::uint64_t exact_floor_stream = 0xf1004;

// "0.0123" when the report has the field, "n/a" when it does not.
std::string field_text(const boost::json::object& object, const char* name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_number()) return "n/a";
  std::ostringstream text;
  text.precision(3);
  text << value->to_number<double>();
  return text.str();
}

}  // namespace

void StatisticsPostprocessor::process(arma::mat& samples, const Potential& potential, const RunContext& context,
                                      boost::json::object& report) {
  if (samples.n_rows != potential.dimension()) {
    throw std::invalid_argument("statistics: the samples have " + std::to_string(samples.n_rows) +
                                " rows but the potential has dimension " + std::to_string(potential.dimension()));
  }

  // Metrics of the samples themselves.
  const std::shared_ptr<const Reference> reference = potential.reference();
  boost::json::object result = sample_statistics(samples, reference.get());

  // The same metrics for as many exact draws. Their moments are pure noise and only repeat the
  // reference, so the floor keeps the errors a reader compares with and drops the moments.
  boost::json::object floor;
  bool has_floor = false;
  if (settings_.exact_floor && reference != nullptr) {
    if (reference->can_draw()) {
      RandomStream random(context.seed, {context.phase, exact_floor_stream});
      floor = sample_statistics(reference->draw(samples.n_cols, random), reference.get());
      for (const char* moment : {"mean", "covariance", "positive_fraction", "positive_fraction_exact"}) {
        floor.erase(moment);
      }
      result["exact_floor"] = floor;
      has_floor = true;
    } else {
      result["exact_floor"] = "unavailable: the reference cannot draw exact samples";
    }
  }

  // One summary line, with the floor in brackets where there is one.
  if (context.log != nullptr) {
    std::ostringstream line;
    line << "statistics" << (settings_.label.empty() ? "" : " [" + settings_.label + "]") << ": ";
    const auto metric = [&](const char* title, const char* name) {
      line << title << " " << field_text(result, name);
      if (has_floor) line << " (exact draws " << field_text(floor, name) << ")";
    };
    if (reference == nullptr) {
      line << samples.n_cols << " samples, no reference to compare with (mean and covariance reported)";
    } else {
      metric("covariance error", "covariance_relative_error");
      line << ", ";
      metric("mean error", "mean_error");
      line << ", ";
      metric("max KS", "ks_max");
    }
    context.log->info(line.str());
  }

  if (settings_.label.empty()) {
    for (auto& field : result) report[field.key()] = std::move(field.value());
  } else {
    report[settings_.label] = std::move(result);
  }
}

}  // namespace hjbtt
