// Sample-quality metrics: how far a set of samples (d x N, one sample per column) is from the
// exact law of the target, measured against a potential's Reference.
//
// The metrics and their sampling-noise scale for N exact draws:
//   covariance_relative_error = ||C_hat - C||_F / ||C||_F   about sqrt((d + 1) / N) for N(0, I)
//   mean_error                = ||m_hat - m|| / sqrt(tr C)  about 1 / sqrt(N)
//   ks(k)  = sup_x |F_hat_k(x) - F_k(x)|, per coordinate      below 1.36 / sqrt(N) with 95 % probability
//   positive_fraction(k) = share of samples with x_k > 0, the mode weight of a target that is
//   symmetric about 0 in coordinate k; exact value 1 - F_k(0).
#pragma once

#include "hjbtt/potential.hpp"

#include <armadillo>
#include <boost/json.hpp>

#include <functional>

namespace hjbtt {

// Computes the mean of the columns.
arma::vec sample_mean(const arma::mat& samples);

// Computes the unbiased sample covariance, normalised by N - 1, so it needs N >= 2. Cost O(d^2 N).
arma::mat sample_covariance(const arma::mat& samples);

// Computes ||estimate - exact||_F / ||exact||_F.
double covariance_relative_error(const arma::mat& estimate, const arma::mat& exact);

// Computes ||estimate - exact_mean|| / sqrt(tr exact_covariance), the mean error in units of
// the target's overall spread, so that scaling all coordinates by one factor leaves it unchanged.
double mean_error(const arma::vec& estimate, const arma::vec& exact_mean, const arma::mat& exact_covariance);

// Computes the Kolmogorov-Smirnov distance sup_x |F_hat(x) - cdf(x)| between the empirical CDF of `values`
// and an exact CDF. Sorts a copy of the values, so the cost is O(N log N) plus N calls of cdf.
double ks_distance(const arma::rowvec& values, const std::function<double(double)>& cdf);

// Computes the share of the samples with x_k > 0, for each coordinate k.
arma::vec positive_fraction(const arma::mat& samples);

// Finds the columns whose entries are all finite and returns their indices.
arma::uvec finite_columns(const arma::mat& samples);

// Computes every metric above for `samples` against `reference` and returns a report object.
// Its fields:
//   "samples"                      number of columns given
//   "nonfinite_samples"            columns with a NaN or infinite entry, left out of every metric
//   "mean", "covariance"           sample moments (an array, and an array of rows)
//   "positive_fraction"            per coordinate
//   "covariance_relative_error",
//   "mean_error"                   when there is a reference
//   "ks", "ks_max",
//   "positive_fraction_exact",
//   "positive_fraction_max_error"  when the reference has marginals
//   "reference": "none"            when `reference` is null
// With fewer than two finite samples only the counts and a "note" are returned, because a
// covariance cannot be estimated. Throws std::invalid_argument when the reference's dimension
// differs from the number of rows.
boost::json::object sample_statistics(const arma::mat& samples, const Reference* reference);

}  // namespace hjbtt
