// Helpers shared by the built-in potentials.
#include "support.hpp"

#include "hjbtt/errors.hpp"

#include <stdexcept>

namespace hjbtt {

void check_point_rows(const std::string& potential, arma::uword dimension, const arma::mat& X) {
  if (X.n_rows != dimension)
    throw std::invalid_argument(potential + " potential: expected points with " + std::to_string(dimension) +
                                " rows (its dimension), found " + std::to_string(X.n_rows) + " rows");
}

arma::rowvec evaluate_monomials(const arma::vec& coefficients, const arma::rowvec& x) {
  arma::rowvec y(x.n_elem, arma::fill::zeros);
  for (arma::uword j = coefficients.n_elem; j-- > 0;) y = y % x + coefficients(j);
  return y;
}

arma::vec read_vector(const boost::json::value& value, const std::string& pointer) {
  if (!value.is_array())
    throw ConfigurationError(pointer, "expected an array of numbers, found " + boost::json::serialize(value));
  const boost::json::array& array = value.get_array();
  arma::vec numbers(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string where = pointer + "/" + std::to_string(i);
    if (!array[i].is_number())
      throw ConfigurationError(where, "expected a number, found " + boost::json::serialize(array[i]));
    numbers(i) = array[i].to_number<double>();
    if (!std::isfinite(numbers(i))) throw ConfigurationError(where, "expected a finite number");
  }
  return numbers;
}

arma::mat read_matrix(const boost::json::value& value, const std::string& pointer) {
  if (!value.is_array())
    throw ConfigurationError(pointer, "expected an array of rows (arrays of numbers), found " +
                                          boost::json::serialize(value));
  const boost::json::array& rows = value.get_array();
  arma::mat matrix;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const arma::vec row = read_vector(rows[i], pointer + "/" + std::to_string(i));
    if (i == 0) matrix.set_size(rows.size(), row.n_elem);
    if (row.n_elem != matrix.n_cols)
      throw ConfigurationError(pointer + "/" + std::to_string(i),
                               "expected a row of " + std::to_string(matrix.n_cols) + " numbers like row 0, found " +
                                   std::to_string(row.n_elem));
    matrix.row(i) = row.t();
  }
  return matrix;
}

}  // namespace hjbtt
