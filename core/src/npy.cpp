// NPY format version 1.0: magic, header length, a Python dict literal padded to 64 bytes, data.
#include "hjbtt/core/npy.hpp"

#include <cstdint>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>

namespace hjbtt {

void write_npy(const std::filesystem::path& file, const arma::mat& samples) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(samples.n_cols) + ", " +
                       std::to_string(samples.n_rows) + "), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  const std::filesystem::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + partial.string());
    const char magic[] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.write(magic, sizeof magic);
    const std::uint16_t length = static_cast<std::uint16_t>(header.size());
    const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
    out.write(length_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(samples.memptr()), static_cast<std::streamsize>(samples.n_elem * sizeof(double)));
    out.flush();
    if (!out) throw std::runtime_error("writing " + partial.string() + " failed (disk full?)");
  }
  std::filesystem::rename(partial, file);
}

arma::mat read_npy(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  char magic[8];
  in.read(magic, 8);
  if (!in || std::string(magic, 6) != "\x93NUMPY" || magic[6] != 1)
    throw std::runtime_error(file.string() + " is not an NPY version 1 file");
  unsigned char length_bytes[2];
  in.read(reinterpret_cast<char*>(length_bytes), 2);
  const std::size_t length = length_bytes[0] | (length_bytes[1] << 8);
  std::string header(length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(length));

  std::smatch match;
  if (header.find("'<f8'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos ||
      !std::regex_search(header, match, std::regex(R"(\((\d+), (\d+)\))")))
    throw std::runtime_error(file.string() + ": expected a 2-D C-order float64 array, header is " + header);
  const arma::uword rows = std::stoull(match[1]), cols = std::stoull(match[2]);
  arma::mat samples(cols, rows);
  in.read(reinterpret_cast<char*>(samples.memptr()), static_cast<std::streamsize>(samples.n_elem * sizeof(double)));
  if (!in) throw std::runtime_error(file.string() + " is truncated");
  return samples;
}

}  // namespace hjbtt
