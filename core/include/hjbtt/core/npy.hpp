// NumPy .npy output: samples as an N x d float64 array that numpy.load reads as it is.
#pragma once

#include <armadillo>

#include <filesystem>

namespace hjbtt {

// Writes the d x N column-major matrix `samples` as an N x d C-order array. The memory layouts
// coincide, so the data is written in one block. Writes to a temporary name and renames it.
void write_npy(const std::filesystem::path& file, const arma::mat& samples);

// Reads a 2-D float64 .npy file written by write_npy back into a d x N matrix.
arma::mat read_npy(const std::filesystem::path& file);

}  // namespace hjbtt
