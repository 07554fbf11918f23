// Reproducible random streams. Every stream is keyed by the pipeline seed and a list of
// integers (phase, block of samples, ...), so the numbers drawn for a block of samples do not
// depend on how blocks are scheduled over threads.
#pragma once

#include <armadillo>

#include <cstdint>
#include <initializer_list>
#include <random>

namespace hjbtt {

// SplitMix64 finaliser: a bijective mixer used to turn (seed, keys) into a generator seed.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class RandomStream {
public:
  RandomStream(std::uint64_t seed, std::initializer_list<std::uint64_t> keys) {
    std::uint64_t state = mix64(seed);
    for (std::uint64_t key : keys) state = mix64(state ^ mix64(key + 0x632be59bd9b4e019ULL));
    engine_.seed(state);
  }

  double normal() { return normal_(engine_); }
  double uniform() { return uniform_(engine_); }

  arma::mat normal(arma::uword rows, arma::uword cols) {
    arma::mat m(rows, cols);
    for (double& x : m) x = normal_(engine_);
    return m;
  }

  std::mt19937_64& engine() { return engine_; }

private:
  std::mt19937_64 engine_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

}  // namespace hjbtt
