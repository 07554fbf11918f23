// Sample-quality metrics against a potential's reference.
#include "hjbtt/core/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace hjbtt {

namespace {

boost::json::array to_json(const arma::vec& values) {
  boost::json::array array;
  array.reserve(values.n_elem);
  for (double x : values) array.push_back(x);
  return array;
}

boost::json::array to_json(const arma::mat& matrix) {
  boost::json::array rows;
  rows.reserve(matrix.n_rows);
  for (arma::uword i = 0; i < matrix.n_rows; ++i) rows.push_back(to_json(arma::vec(matrix.row(i).t())));
  return rows;
}

}  // namespace

arma::vec sample_mean(const arma::mat& samples) {
  if (samples.n_cols == 0) throw std::invalid_argument("sample_mean: no samples given");
  return arma::mean(samples, 1);
}

arma::mat sample_covariance(const arma::mat& samples) {
  if (samples.n_cols < 2) {
    throw std::invalid_argument("sample_covariance: needs at least 2 samples, got " + std::to_string(samples.n_cols));
  }

  // Centring first and one BLAS-3 product avoids both a transposed copy of the samples and the
  // cancellation of the E[x x^T] - m m^T form.
  arma::mat centred = samples.each_col() - sample_mean(samples);
  return centred * centred.t() / static_cast<double>(samples.n_cols - 1);
}

double covariance_relative_error(const arma::mat& estimate, const arma::mat& exact) {
  if (arma::size(estimate) != arma::size(exact)) {
    throw std::invalid_argument("covariance_relative_error: the estimate is " + std::to_string(estimate.n_rows) +
                                " x " + std::to_string(estimate.n_cols) + " but the exact covariance is " +
                                std::to_string(exact.n_rows) + " x " + std::to_string(exact.n_cols));
  }
  return arma::norm(estimate - exact, "fro") / arma::norm(exact, "fro");
}

double mean_error(const arma::vec& estimate, const arma::vec& exact_mean, const arma::mat& exact_covariance) {
  if (estimate.n_elem != exact_mean.n_elem || exact_covariance.n_rows != exact_mean.n_elem) {
    throw std::invalid_argument("mean_error: the estimate has " + std::to_string(estimate.n_elem) +
                                " entries, the exact mean " + std::to_string(exact_mean.n_elem) +
                                " and the exact covariance " + std::to_string(exact_covariance.n_rows) + " rows");
  }
  return arma::norm(estimate - exact_mean) / std::sqrt(arma::trace(exact_covariance));
}

double ks_distance(const arma::rowvec& values, const std::function<double(double)>& cdf) {
  if (values.n_elem == 0) throw std::invalid_argument("ks_distance: no values given");
  const arma::rowvec sorted = arma::sort(values);
  const double n = static_cast<double>(sorted.n_elem);

  // The empirical CDF jumps from i/n to (i+1)/n at the i-th smallest value (counting from 0), so
  // the supremum is attained just before or at one of the jumps. Tied values are covered too,
  // because the jumps of a tie are consecutive in this loop.
  double distance = 0.0;
  for (arma::uword i = 0; i < sorted.n_elem; ++i) {
    const double exact = cdf(sorted(i));
    distance = std::max({distance, exact - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - exact});
  }
  return distance;
}

arma::vec positive_fraction(const arma::mat& samples) {
  if (samples.n_cols == 0) throw std::invalid_argument("positive_fraction: no samples given");
  arma::vec fraction(samples.n_rows, arma::fill::zeros);
  for (arma::uword j = 0; j < samples.n_cols; ++j) {
    for (arma::uword k = 0; k < samples.n_rows; ++k) {
      if (samples(k, j) > 0.0) fraction(k) += 1.0;
    }
  }
  return fraction / static_cast<double>(samples.n_cols);
}

arma::uvec finite_columns(const arma::mat& samples) {
  arma::uvec finite(samples.n_cols);
  arma::uword count = 0;
  for (arma::uword j = 0; j < samples.n_cols; ++j) {
    if (samples.col(j).is_finite()) finite(count++) = j;
  }
  finite.resize(count);
  return finite;
}

boost::json::object sample_statistics(const arma::mat& samples, const Reference* reference) {
  const arma::uword d = samples.n_rows;
  boost::json::object result;
  result["samples"] = samples.n_cols;

  // Non-finite samples would turn every metric into NaN, so they are left out and counted,
  // which keeps the count visible next to the metrics of the rest.
  const arma::uvec finite = finite_columns(samples);
  result["nonfinite_samples"] = samples.n_cols - finite.n_elem;
  if (finite.n_elem < 2) {
    result["note"] = "fewer than 2 finite samples, so no statistics were computed";
    return result;
  }
  const arma::mat finite_copy = finite.n_elem < samples.n_cols ? arma::mat(samples.cols(finite)) : arma::mat();
  const arma::mat& x = finite.n_elem < samples.n_cols ? finite_copy : samples;

  // Sample moments, reported with or without a reference.
  const arma::vec mean = sample_mean(x);
  const arma::mat covariance = sample_covariance(x);
  const arma::vec positive = positive_fraction(x);
  result["mean"] = to_json(mean);
  result["covariance"] = to_json(covariance);
  result["positive_fraction"] = to_json(positive);
  if (reference == nullptr) {
    result["reference"] = "none";
    return result;
  }

  // Moment errors against the exact law.
  const arma::vec exact_mean = reference->mean();
  const arma::mat exact_covariance = reference->covariance();
  if (exact_mean.n_elem != d || exact_covariance.n_rows != d || exact_covariance.n_cols != d) {
    throw std::invalid_argument("sample_statistics: the samples have " + std::to_string(d) +
                                " rows but the reference has dimension " + std::to_string(exact_mean.n_elem) +
                                "; pass the reference of the potential the samples were drawn for");
  }
  result["covariance_relative_error"] = covariance_relative_error(covariance, exact_covariance);
  result["mean_error"] = mean_error(mean, exact_mean, exact_covariance);
  if (!reference->has_marginals()) return result;

  // Marginal distances and mode weights, one coordinate at a time.
  arma::vec ks(d);
  arma::vec positive_exact(d);
  for (arma::uword k = 0; k < d; ++k) {
    ks(k) = ks_distance(x.row(k), [&](double value) { return reference->marginal_cdf(k, value); });
    positive_exact(k) = 1.0 - reference->marginal_cdf(k, 0.0);
  }
  result["ks"] = to_json(ks);
  result["ks_max"] = ks.max();
  result["positive_fraction_exact"] = to_json(positive_exact);
  result["positive_fraction_max_error"] = arma::abs(positive - positive_exact).max();
  return result;
}

}  // namespace hjbtt
