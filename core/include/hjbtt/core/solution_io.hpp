// Saved HJB solutions and solve checkpoints on disk.
//
// A solution file contains the resolved pipeline it was solved for and every accepted state (time,
// degree and domain of each mode, TT cores). It is written one state at a time while the solve
// runs, so a checkpoint only has to record how far the file is valid. A checkpoint file contains
// that length, the integrator's state and the report's entries so far. Both formats are binary
// with a versioned header, little-endian integers and IEEE-754 doubles, and FNV-1a checksums.
// docs/robustness.md describes the layout byte by byte.
#pragma once

#include "hjbtt/core/ftt.hpp"
#include "hjbtt/core/solution.hpp"
#include "hjbtt/integrator.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hjbtt {

// Format versions written by this build; readers reject any other version.
constexpr std::uint32_t solution_file_version = 1;
constexpr std::uint32_t checkpoint_file_version = 1;

// A solution or checkpoint file that cannot be used. The message names the file and the defect.
class SolutionFileError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One state as stored, before its bases are rebuilt from the basis plugin.
struct StoredState {
  double time = 0.0;
  std::vector<arma::uword> degrees;  // p_k of each mode
  std::vector<double> lower, upper;  // domain [lower_k, upper_k] of each mode
  TensorTrain coefficients;
};

struct StoredSolution {
  std::string pipeline;  // the resolved pipeline as JSON text
  std::uint64_t dimension = 0;
  std::vector<StoredState> states;
};

// Writes a solution file one state at a time: the header when created, a record per append(),
// and the end record in finish(). Until then the file is incomplete, and the caller renames it
// to its final name only after finish().
class SolutionWriter {
public:
  // Creates `file`, replacing an earlier one, and writes the header.
  SolutionWriter(std::filesystem::path file, const std::string& pipeline, std::uint64_t dimension);

  // Reopens a file that a checkpoint found valid up to `bytes` with `states` states, and drops
  // whatever an interrupted run wrote after that.
  SolutionWriter(std::filesystem::path file, std::uint64_t bytes, std::uint64_t states);

  void append(double t, const FunctionalTT& v);

  // Hands the buffered records to the operating system and returns the length written so far.
  std::uint64_t flush();

  std::uint64_t states() const { return states_; }
  const std::filesystem::path& file() const { return file_; }

  // Writes the end record (the number of states) and closes the file.
  void finish();

private:
  void write(const std::string& bytes);

  std::filesystem::path file_;
  std::ofstream out_;
  std::uint64_t bytes_ = 0;
  std::uint64_t states_ = 0;
};

// Reads a complete solution file. Throws SolutionFileError naming the file and what is wrong:
// another format, a version this build does not read, a truncated file or a checksum mismatch.
StoredSolution read_solution(const std::filesystem::path& file);

// Reads the first `states` states of a solution file that is still being written, of which the
// first `bytes` bytes are valid.
StoredSolution read_partial_solution(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t states);

// Rebuilds every stored state on bases of its own degrees, made from `bases` (the pipeline's
// bases, one per mode) by Basis::with_degree. A domain that differs from the stored one is an
// error naming `file`, because the coefficients would then describe another function.
Solution rebuild_solution(const StoredSolution& stored, const BasisSet& bases, const std::filesystem::path& file);

// The state that a run needs to continue a solve that was stopped.
struct Checkpoint {
  std::string pipeline;                // the resolved pipeline as JSON text
  std::string integrator;              // plugin name of the integrator that wrote the state
  std::uint64_t solution_states = 0;   // states in the solution file at the checkpoint
  std::uint64_t solution_bytes = 0;    // valid length of the solution file at the checkpoint
  bool solve_complete = false;         // the solve reached the final time; only sampling is left
  double initial_seconds = 0.0;        // time spent on the initial condition
  double solve_seconds = 0.0;          // time spent solving up to the checkpoint
  std::string report;                  // report entries of the solve so far (history, ...), a JSON object
  IntegratorState integrator_state;
};

// Writes a checkpoint under a temporary name and renames it, so a crash leaves the earlier one.
void write_checkpoint(const std::filesystem::path& file, const Checkpoint& checkpoint);

Checkpoint read_checkpoint(const std::filesystem::path& file);

}  // namespace hjbtt
