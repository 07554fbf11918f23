// Binary solution and checkpoint files: little-endian encoding, FNV-1a checksums, and readers
// that check every length against the bytes present before they allocate anything.
#include "hjbtt/core/solution_io.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <utility>

namespace hjbtt {

namespace {

constexpr char solution_magic[8] = {'H', 'J', 'B', 'T', 'T', 'S', 'O', 'L'};
constexpr char checkpoint_magic[8] = {'H', 'J', 'B', 'T', 'T', 'C', 'K', 'P'};
constexpr std::uint32_t state_tag = 1;
constexpr std::uint32_t end_tag = 2;

// Bounds that no real solution reaches, so larger values mean a corrupt file. Checking them first
// also keeps the size arithmetic below far from overflow.
constexpr std::uint64_t max_mode_size = 1 << 16;
constexpr std::uint64_t max_rank = 1 << 16;

// FNV-1a, 64-bit.
std::uint64_t fnv1a(const char* data, std::size_t size, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Appends values in the file encoding: unsigned integers and doubles little-endian whatever the
// host's byte order, strings as a u64 length and the bytes.
class Encoder {
public:
  void u32(std::uint32_t x) {
    for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>((x >> (8 * i)) & 0xff);
  }
  void u64(std::uint64_t x) {
    for (int i = 0; i < 8; ++i) bytes_ += static_cast<char>((x >> (8 * i)) & 0xff);
  }
  void f64(double x) { u64(std::bit_cast<std::uint64_t>(x)); }
  void raw(const char* data, std::size_t size) { bytes_.append(data, size); }
  void text(const std::string& s) {
    u64(s.size());
    bytes_ += s;
  }

  // The dimension, the shape of each core, then the entries of every core in Armadillo's order
  // (the left rank index fastest, then the mode index, then the right rank index).
  void tensor_train(const TensorTrain& tt) {
    u64(tt.dimension());
    for (const arma::cube& core : tt.cores()) {
      u64(core.n_rows);
      u64(core.n_cols);
      u64(core.n_slices);
    }
    for (const arma::cube& core : tt.cores())
      for (const double x : core) f64(x);
  }

  // Appends the checksum of everything encoded since byte `from`.
  void checksum_from(std::size_t from) { u64(fnv1a(bytes_.data() + from, bytes_.size() - from)); }

  std::size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }

private:
  std::string bytes_;
};

// Reads the encoding back from a file held in memory. Every read first checks that the bytes are
// there, and every error names the file, the item and its byte offset.
class Decoder {
public:
  Decoder(std::string bytes, std::filesystem::path file) : bytes_(std::move(bytes)), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& message) const { throw SolutionFileError(file_.string() + ": " + message); }

  void need(std::uint64_t size, const std::string& item) const {
    if (size > remaining())
      fail("the file is truncated: " + item + " at byte " + std::to_string(position_) + " needs " + std::to_string(size) +
           " bytes but the file ends at byte " + std::to_string(bytes_.size()));
  }

  std::uint32_t u32(const std::string& item) {
    need(4, item);
    std::uint32_t x = 0;
    for (int i = 0; i < 4; ++i) x |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes_[position_ + i])) << (8 * i);
    position_ += 4;
    return x;
  }
  std::uint64_t u64(const std::string& item) {
    need(8, item);
    return unchecked_u64();
  }
  double f64(const std::string& item) { return std::bit_cast<double>(u64(item)); }
  std::string text(const std::string& item) {
    const std::uint64_t size = u64("length of " + item);
    need(size, item);
    std::string s = bytes_.substr(position_, size);
    position_ += size;
    return s;
  }

  // Reads the tensor train of `item`, such as "state record 3".
  TensorTrain tensor_train(const std::string& item) {
    const std::uint64_t d = u64("dimension of " + item);
    if (d > max_mode_size) fail(item + " has the implausible dimension " + std::to_string(d));
    need(24 * d, "the core shapes of " + item);
    std::vector<arma::cube> cores;
    std::uint64_t entries = 0;
    std::uint64_t previous_rank = 1;
    for (std::uint64_t k = 0; k < d; ++k) {
      const std::string core_name = "core " + std::to_string(k + 1) + " of " + item;
      const std::uint64_t r0 = u64("left rank of " + core_name);
      const std::uint64_t n = u64("mode size of " + core_name);
      const std::uint64_t r1 = u64("right rank of " + core_name);
      if (r0 != previous_rank || (k + 1 == d && r1 != 1))
        fail(core_name + " has shape " + std::to_string(r0) + " x " + std::to_string(n) + " x " + std::to_string(r1) +
             ", which does not chain with its neighbours (ranks must match, and the outer ranks are 1)");
      if (n == 0 || n > max_mode_size || r1 == 0 || r1 > max_rank)
        fail(core_name + " has the implausible shape " + std::to_string(r0) + " x " + std::to_string(n) + " x " + std::to_string(r1));
      entries += r0 * n * r1;
      if (entries > remaining() / 8)
        fail("the file is truncated: the cores of " + item + " need more than the " + std::to_string(remaining()) +
             " bytes left after byte " + std::to_string(position_));
      cores.emplace_back(r0, n, r1);
      previous_rank = r1;
    }
    for (std::uint64_t k = 0; k < d; ++k) {
      need(8 * cores[k].n_elem, "the entries of core " + std::to_string(k + 1) + " of " + item);
      for (double& x : cores[k]) x = std::bit_cast<double>(unchecked_u64());
    }
    return TensorTrain(std::move(cores));
  }

  // Checks the checksum that follows the bytes from `from` to here.
  void checksum_from(std::size_t from, const std::string& item) {
    const std::uint64_t expected = fnv1a(bytes_.data() + from, position_ - from);
    const std::size_t at = position_;
    if (u64("checksum of " + item) != expected)
      fail("checksum mismatch in " + item + " (bytes " + std::to_string(from) + " to " + std::to_string(at) +
           "): the file is corrupt");
  }

  void magic(const char (&expected)[8], std::uint32_t version, const char* kind) {
    if (bytes_.size() < 8)
      fail("the file is truncated: it has " + std::to_string(bytes_.size()) + " bytes, fewer than the 8 of the format's magic");
    if ( std::memcmp(bytes_.data(), expected, 8) != 0)
      fail(std::string("not an hjbtt ") + kind + " file (it does not start with '" + std::string(expected, 8) + "')");
    position_ = 8;
    const std::uint32_t found = u32("format version");
    if (found != version)
      fail(std::string(kind) + " format version " + std::to_string(found) + " is not supported; this build reads version " +
           std::to_string(version));
  }

  std::uint64_t remaining() const { return bytes_.size() - position_; }
  std::size_t position() const { return position_; }

private:
  // The caller has checked with need() that the 8 bytes are there.
  std::uint64_t unchecked_u64() {
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[position_ + i])) << (8 * i);
    position_ += 8;
    return x;
  }

  std::string bytes_;
  std::filesystem::path file_;
  std::size_t position_ = 0;
};

std::string read_file(const std::filesystem::path& file, std::uint64_t max_bytes = UINT64_MAX) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error))
    throw SolutionFileError(file.string() + ": not found or not a regular file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw SolutionFileError(file.string() + ": cannot be opened for reading");
  const std::uint64_t size = std::filesystem::file_size(file, error);
  if (error) throw SolutionFileError(file.string() + ": cannot read its size: " + error.message());
  std::string bytes(std::min(size, max_bytes), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw SolutionFileError(file.string() + ": reading failed");
  return bytes;
}

std::string header_bytes(const std::string& pipeline, std::uint64_t dimension) {
  Encoder e;
  e.raw(solution_magic, 8);
  e.u32(solution_file_version);
  e.u32(0);  // flags, none defined
  e.text(pipeline);
  e.u64(dimension);
  e.checksum_from(0);
  return e.bytes();
}

StoredSolution read_header(Decoder& in) {
  in.magic(solution_magic, solution_file_version, "solution");
  in.u32("flags");
  StoredSolution stored;
  stored.pipeline = in.text("pipeline");
  stored.dimension = in.u64("dimension");
  in.checksum_from(0, "the header");
  if (stored.dimension == 0 || stored.dimension > max_mode_size)
    in.fail("the header gives the implausible dimension " + std::to_string(stored.dimension));
  return stored;
}

// Reads one state record after its tag.
StoredState read_state(Decoder& in, std::size_t record_start, const StoredSolution& stored) {
  const std::string name = "state record " + std::to_string(stored.states.size() + 1);
  StoredState state;
  state.time = in.f64("time of " + name);
  for (std::uint64_t k = 0; k < stored.dimension; ++k) {
    const std::string mode = "mode " + std::to_string(k + 1) + " of " + name;
    state.degrees.push_back(in.u64("degree of " + mode));
    state.lower.push_back(in.f64("domain of " + mode));
    state.upper.push_back(in.f64("domain of " + mode));
  }
  state.coefficients = in.tensor_train(name);
  in.checksum_from(record_start, name);

  if (state.coefficients.dimension() != stored.dimension)
    in.fail(name + " has " + std::to_string(state.coefficients.dimension()) + " cores but the solution has dimension " +
            std::to_string(stored.dimension));
  for (std::uint64_t k = 0; k < stored.dimension; ++k)
    if (state.coefficients.mode_size(k) != state.degrees[k] + 1)
      in.fail(name + " has degree " + std::to_string(state.degrees[k]) + " in mode " + std::to_string(k + 1) +
              " but its core has mode size " + std::to_string(state.coefficients.mode_size(k)));
  if (!std::isfinite(state.time) || (!stored.states.empty() && !(state.time > stored.states.back().time)))
    in.fail(name + " has the time " + format_number(state.time) + ", which does not follow the time " +
            (stored.states.empty() ? std::string("0") : format_number(stored.states.back().time)) + " of the state before it");
  return state;
}

}  // namespace

SolutionWriter::SolutionWriter(std::filesystem::path file, const std::string& pipeline, std::uint64_t dimension)
    : file_(std::move(file)) {
  out_.open(file_, std::ios::binary | std::ios::trunc);
  if (!out_) throw SolutionFileError(file_.string() + ": cannot be created");
  write(header_bytes(pipeline, dimension));
}

SolutionWriter::SolutionWriter(std::filesystem::path file, std::uint64_t bytes, std::uint64_t states)
    : file_(std::move(file)), bytes_(bytes), states_(states) {
  std::error_code error;
  const std::uint64_t size = std::filesystem::file_size(file_, error);
  if (error || size < bytes)
    throw SolutionFileError(file_.string() + ": shorter than the " + std::to_string(bytes) + " bytes its checkpoint records");
  std::filesystem::resize_file(file_, bytes, error);
  if (error) throw SolutionFileError(file_.string() + ": cannot be cut back to its checkpoint: " + error.message());
  out_.open(file_, std::ios::binary | std::ios::app);
  if (!out_) throw SolutionFileError(file_.string() + ": cannot be opened for writing");
}

void SolutionWriter::write(const std::string& bytes) {
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out_) throw SolutionFileError(file_.string() + ": writing failed (disk full?)");
  bytes_ += bytes.size();
}

void SolutionWriter::append(double t, const FunctionalTT& v) {
  Encoder e;
  e.u32(state_tag);
  e.f64(t);
  for (const BasisPtr& basis : v.bases()) {
    e.u64(basis->degree());
    e.f64(basis->lower());
    e.f64(basis->upper());
  }
  e.tensor_train(v.coefficients());
  e.checksum_from(0);
  write(e.bytes());
  ++states_;
}

std::uint64_t SolutionWriter::flush() {
  out_.flush();
  if (!out_) throw SolutionFileError(file_.string() + ": writing failed (disk full?)");
  return bytes_;
}

void SolutionWriter::finish() {
  Encoder e;
  e.u32(end_tag);
  e.u64(states_);
  e.checksum_from(0);
  write(e.bytes());
  out_.close();
  if (!out_) throw SolutionFileError(file_.string() + ": closing failed (disk full?)");
}

StoredSolution read_solution(const std::filesystem::path& file) {
  Decoder in(read_file(file), file);
  StoredSolution stored = read_header(in);
  while (true) {
    const std::size_t record_start = in.position();
    const std::uint32_t tag = in.u32("record tag (the end record is missing)");
    if (tag == state_tag) {
      stored.states.push_back(read_state(in, record_start, stored));
    } else if (tag == end_tag) {
      const std::uint64_t count = in.u64("state count of the end record");
      in.checksum_from(record_start, "the end record");
      if (count != stored.states.size())
        in.fail("the end record counts " + std::to_string(count) + " states but the file holds " +
                std::to_string(stored.states.size()));
      if (in.remaining() != 0) in.fail(std::to_string(in.remaining()) + " unexpected bytes follow the end record");
      break;
    } else {
      in.fail("unknown record tag " + std::to_string(tag) + " at byte " + std::to_string(record_start) + "; the file is corrupt");
    }
  }
  if (stored.states.empty()) in.fail("the file holds no states");
  return stored;
}

StoredSolution read_partial_solution(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t states) {
  std::string content = read_file(file, bytes);
  if (content.size() < bytes)
    throw SolutionFileError(file.string() + ": the file has " + std::to_string(content.size()) + " bytes but its checkpoint records " +
                            std::to_string(bytes));
  Decoder in(std::move(content), file);
  StoredSolution stored = read_header(in);
  while (stored.states.size() < states) {
    const std::size_t record_start = in.position();
    const std::uint32_t tag = in.u32("record tag of state " + std::to_string(stored.states.size() + 1));
    if (tag != state_tag)
      in.fail("expected state record " + std::to_string(stored.states.size() + 1) + " at byte " + std::to_string(record_start) +
              " but found the tag " + std::to_string(tag));
    stored.states.push_back(read_state(in, record_start, stored));
  }
  if (in.remaining() != 0)
    in.fail("its checkpoint records " + std::to_string(states) + " states in " + std::to_string(bytes) + " bytes, but they end at byte " +
            std::to_string(in.position()));
  return stored;
}

Solution rebuild_solution(const StoredSolution& stored, const BasisSet& bases, const std::filesystem::path& file) {
  if (stored.dimension != bases.size())
    throw SolutionFileError(file.string() + ": the solution has dimension " + std::to_string(stored.dimension) +
                            " but the pipeline's potential has dimension " + std::to_string(bases.size()));

  // Modes that share a basis of one degree share one object, as they do during the solve.
  std::map<std::pair<const Basis*, arma::uword>, BasisPtr> made;
  Solution solution;
  for (std::size_t i = 0; i < stored.states.size(); ++i) {
    const StoredState& state = stored.states[i];
    BasisSet state_bases;
    for (std::size_t k = 0; k < bases.size(); ++k) {
      BasisPtr& basis = made[{bases[k].get(), state.degrees[k]}];
      if (!basis) basis = bases[k]->degree() == state.degrees[k] ? bases[k] : bases[k]->with_degree(state.degrees[k]);
      if (basis->lower() != state.lower[k] || basis->upper() != state.upper[k])
        throw SolutionFileError(file.string() + ": state " + std::to_string(i + 1) + " was solved on [" + format_number(state.lower[k]) +
                                ", " + format_number(state.upper[k]) + "] in mode " + std::to_string(k + 1) +
                                ", but the basis of the pipeline has the domain [" + format_number(basis->lower()) + ", " +
                                format_number(basis->upper()) + "]");
      state_bases.push_back(basis);
    }
    solution.append(state.time, FunctionalTT(std::move(state_bases), state.coefficients));
  }
  return solution;
}

void write_checkpoint(const std::filesystem::path& file, const Checkpoint& checkpoint) {
  Encoder e;
  e.raw(checkpoint_magic, 8);
  e.u32(checkpoint_file_version);
  e.u32(checkpoint.solve_complete ? 1 : 0);  // flags: bit 0 is "solve complete"
  e.text(checkpoint.pipeline);
  e.text(checkpoint.integrator);
  e.u64(checkpoint.solution_states);
  e.u64(checkpoint.solution_bytes);
  e.f64(checkpoint.initial_seconds);
  e.f64(checkpoint.solve_seconds);
  e.text(checkpoint.report);
  e.u64(checkpoint.integrator_state.numbers.size());
  for (const auto& [name, value] : checkpoint.integrator_state.numbers) {
    e.text(name);
    e.f64(value);
  }
  e.u64(checkpoint.integrator_state.tensors.size());
  for (const auto& [name, tt] : checkpoint.integrator_state.tensors) {
    e.text(name);
    e.tensor_train(tt);
  }
  e.checksum_from(0);

  // NOTE: flushed to the operating system but not synced to the disk, so a process that is killed
  // leaves a valid checkpoint, while a power loss right after the rename may not.
  const std::filesystem::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(e.bytes().data(), static_cast<std::streamsize>(e.size()));
    out.flush();
    if (!out) throw SolutionFileError(partial.string() + ": writing failed (disk full?)");
  }
  std::filesystem::rename(partial, file);
}

Checkpoint read_checkpoint(const std::filesystem::path& file) {
  Decoder in(read_file(file), file);
  in.magic(checkpoint_magic, checkpoint_file_version, "checkpoint");

  Checkpoint checkpoint;
  const std::uint32_t flags = in.u32("flags");
  if (flags > 1) in.fail("unknown flags " + std::to_string(flags) + "; the file is corrupt or from a newer version");
  checkpoint.solve_complete = (flags & 1) != 0;
  checkpoint.pipeline = in.text("pipeline");
  checkpoint.integrator = in.text("integrator name");
  checkpoint.solution_states = in.u64("number of states");
  checkpoint.solution_bytes = in.u64("length of the solution file");
  checkpoint.initial_seconds = in.f64("initial condition time");
  checkpoint.solve_seconds = in.f64("solve time");
  checkpoint.report = in.text("report entries");

  // Each value takes at least 16 bytes (name length and value), and so does each tensor train
  // (name length and dimension). Checking that first stops a corrupt count from looping long.
  const std::uint64_t numbers = in.u64("number of integrator values");
  if (numbers > UINT32_MAX) in.fail("the implausible number of integrator values " + std::to_string(numbers));
  in.need(16 * numbers, "the integrator values");
  for (std::uint64_t i = 0; i < numbers; ++i) {
    const std::string name = in.text("name of integrator value " + std::to_string(i + 1));
    checkpoint.integrator_state.numbers[name] = in.f64("integrator value '" + name + "'");
  }

  const std::uint64_t tensors = in.u64("number of integrator tensor trains");
  if (tensors > UINT32_MAX) in.fail("the implausible number of integrator tensor trains " + std::to_string(tensors));
  in.need(16 * tensors, "the integrator tensor trains");
  for (std::uint64_t i = 0; i < tensors; ++i) {
    const std::string name = in.text("name of integrator tensor train " + std::to_string(i + 1));
    checkpoint.integrator_state.tensors[name] = in.tensor_train("integrator tensor train '" + name + "'");
  }

  in.checksum_from(0, "the checkpoint");
  if (in.remaining() != 0) in.fail(std::to_string(in.remaining()) + " unexpected bytes follow the checksum");
  return checkpoint;
}

}  // namespace hjbtt
