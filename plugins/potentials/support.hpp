// Small pieces shared by the built-in potentials: the row-count check every value() and
// gradient() starts with, the standard normal CDF, Horner evaluation of a coefficient list,
// and reading numbers out of JSON parameters with messages that name the JSON pointer.
#pragma once

#include <armadillo>
#include <boost/json.hpp>

#include <cmath>
#include <string>

namespace hjbtt {

// Throws std::invalid_argument naming the potential, the expected and the found dimension.
void check_point_rows(const std::string& potential, arma::uword dimension, const arma::mat& X);

inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// sum_j coefficients(j) * x^j, elementwise.
arma::rowvec evaluate_monomials(const arma::vec& coefficients, const arma::rowvec& x);

// The numbers of a JSON array. Throws ConfigurationError at `pointer` (or at the offending
// element) when `value` is not an array of finite numbers.
arma::vec read_vector(const boost::json::value& value, const std::string& pointer);

// A matrix given as an array of rows of numbers. Throws ConfigurationError at `pointer` when
// the rows are not arrays of numbers of one common length.
arma::mat read_matrix(const boost::json::value& value, const std::string& pointer);

}  // namespace hjbtt
