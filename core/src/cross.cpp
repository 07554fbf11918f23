// Tensor-train cross interpolation on Gauss grids: batched evaluation, maxvol, the two-site
// sweeps, the nodal-to-modal map and the error checks on random points.
#include "hjbtt/core/cross.hpp"

#include "hjbtt/core/random.hpp"
#include "hjbtt/errors.hpp"
#include "hjbtt/parameters.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

namespace hjbtt {

namespace {

// Points per call of the function. Large enough that a batched potential runs at full speed,
// small enough that the d x N batch stays in cache-sized memory.
constexpr arma::uword evaluation_chunk = 4096;

// Keys of the random streams, combined with CrossOptions::seed.
constexpr std::uint64_t start_stream = 0xc5055;
constexpr std::uint64_t node_check_stream = 0xc5056;
constexpr std::uint64_t box_check_stream = 0xc5057;

// Rank of the random index sets the first sweep starts from.
constexpr arma::uword start_rank = 2;

// The Gauss nodes of every mode and the maps from node values to basis coefficients.
struct GaussGrid {
  std::vector<arma::vec> nodes;
  std::vector<arma::mat> to_coefficients;  // n_k x n_k, B W with B(i, q) = phi_i(x_q)
  std::vector<double> lower, upper;
};

GaussGrid make_grid(const BasisSet& bases) {
  GaussGrid grid;
  for (const BasisPtr& basis : bases) {
    arma::vec nodes, weights;
    basis->quadrature(basis->size(), nodes, weights);
    arma::mat values = basis->evaluate(nodes.t());
    values.each_row() %= weights.t();
    grid.nodes.push_back(std::move(nodes));
    grid.to_coefficients.push_back(std::move(values));
    grid.lower.push_back(basis->lower());
    grid.upper.push_back(basis->upper());
  }
  return grid;
}

std::string format_point(const arma::vec& x) {
  std::string out = "(";
  for (arma::uword k = 0; k < x.n_elem && k < 8; ++k) out += (k ? ", " : "") + format_number(x(k));
  return out + (x.n_elem > 8 ? ", ...)" : ")");
}

// Evaluates the function at points that a fill callback writes one column at a time, in chunks
// processed by several threads, and counts the evaluations.
class Evaluator {
public:
  Evaluator(const BatchFunction& f, arma::uword dimension, const std::string& description)
      : f_(f), dimension_(dimension), description_(description) {}

  // fill(index, column) writes the coordinates of point `index` into column[0 .. d - 1].
  template <class Fill>
  arma::rowvec operator()(arma::uword count, const Fill& fill, arma::uword& counter) const {
    arma::rowvec values(count);
    const arma::uword chunks = (count + evaluation_chunk - 1) / evaluation_chunk;
    std::exception_ptr failure;
    std::mutex failure_mutex;

#pragma omp parallel for schedule(dynamic)
    for (arma::uword chunk = 0; chunk < chunks; ++chunk) {
      try {
        const arma::uword start = chunk * evaluation_chunk;
        const arma::uword size = std::min(evaluation_chunk, count - start);
        arma::mat points(dimension_, size);
        for (arma::uword j = 0; j < size; ++j) fill(start + j, points.colptr(j));
        const arma::rowvec chunk_values = f_(points);
        if (chunk_values.n_elem != size)
          throw std::runtime_error(description_ + " returned " + std::to_string(chunk_values.n_elem) + " values for " +
                                   std::to_string(size) + " points; value() must return one value per column");
        values.cols(start, start + size - 1) = chunk_values;
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    counter += count;

    // The first non-finite value is reported, whichever thread computed it.
    for (arma::uword j = 0; j < count; ++j) {
      if (std::isfinite(values(j))) continue;
      arma::vec point(dimension_);
      fill(j, point.memptr());
      throw NumericalFailure(description_ + " returned " + format_number(values(j)) + " at x = " + format_point(point) +
                             ", a point of the basis box where TT-cross interpolation samples Phi. The initial "
                             "condition needs Phi finite on the whole box: fix the potential, or choose a basis "
                             "domain on which it is finite.");
    }
    return values;
  }

private:
  const BatchFunction& f_;
  arma::uword dimension_;
  std::string description_;
};

// Index sets of the cross. left[k] contains r_k multi-indices of modes 0 .. k-1 (one per column)
// and right[k] contains r_k multi-indices of modes k .. d-1, for k = 0 .. d.
struct IndexSets {
  std::vector<arma::umat> left, right;
};

// Random start: r multi-indices of the whole grid, whose tails are the right sets. The left
// sets are built by the first sweep, which runs left to right.
IndexSets random_start(const GaussGrid& grid, arma::uword rank, RandomStream& random) {
  const arma::uword d = grid.nodes.size();
  arma::umat start(d, rank);
  for (arma::uword j = 0; j < rank; ++j)
    for (arma::uword k = 0; k < d; ++k) {
      const arma::uword n = grid.nodes[k].n_elem;
      start(k, j) = std::min<arma::uword>(static_cast<arma::uword>(random.uniform() * static_cast<double>(n)), n - 1);
    }

  IndexSets sets;
  sets.left.resize(d + 1);
  sets.right.resize(d + 1);
  sets.left[0].set_size(0, 1);
  sets.right[d].set_size(0, 1);
  for (arma::uword k = 1; k < d; ++k) sets.right[k] = start.rows(k, d - 1);
  return sets;
}

// Values on the superblock of modes k and k + 1, as an (r_k n_k) x (n_{k+1} r_{k+2}) matrix:
// row a + r_k i is left multi-index a followed by node i of mode k, and column j + n_{k+1} b is
// node j of mode k + 1 followed by right multi-index b. These are the unfoldings of a core pair.
arma::mat superblock(const Evaluator& evaluate, const GaussGrid& grid, const IndexSets& sets, arma::uword k,
                     arma::uword& counter) {
  const arma::uword d = grid.nodes.size();
  const arma::umat& left = sets.left[k];
  const arma::umat& right = sets.right[k + 2];
  const arma::uword r0 = left.n_cols, n0 = grid.nodes[k].n_elem;
  const arma::uword n1 = grid.nodes[k + 1].n_elem, r1 = right.n_cols;
  const arma::uword rows = r0 * n0, cols = n1 * r1;

  const auto fill = [&](arma::uword index, double* x) {
    const arma::uword row = index % rows, col = index / rows;
    const arma::uword a = row % r0, i = row / r0, j = col % n1, b = col / n1;
    for (arma::uword m = 0; m < k; ++m) x[m] = grid.nodes[m](left(m, a));
    x[k] = grid.nodes[k](i);
    x[k + 1] = grid.nodes[k + 1](j);
    for (arma::uword m = k + 2; m < d; ++m) x[m] = grid.nodes[m](right(m - k - 2, b));
  };
  const arma::rowvec values = evaluate(rows * cols, fill, counter);
  return arma::mat(values.memptr(), rows, cols);
}

// The smallest rank whose discarded singular values have a norm within `relative` of the
// whole, then capped; `capped` is set when the cap cut it.
arma::uword truncation_rank(const arma::vec& s, double relative, arma::uword cap, bool& capped) {
  const double threshold = relative * arma::norm(s);
  arma::uword keep = s.n_elem;
  double tail = 0.0;
  while (keep > 1 && tail + s(keep - 1) * s(keep - 1) <= threshold * threshold) {
    tail += s(keep - 1) * s(keep - 1);
    --keep;
  }
  if (keep > cap) {
    capped = true;
    keep = cap;
  }
  return keep;
}

void svd_or_throw(arma::mat& U, arma::vec& s, arma::mat& V, const arma::mat& S) {
  if (!arma::svd_econ(U, s, V, S, "both", "dc") && !arma::svd_econ(U, s, V, S, "both", "std"))
    throw NumericalFailure("TT-cross interpolation: the SVD of a " + std::to_string(S.n_rows) + " x " +
                           std::to_string(S.n_cols) + " superblock failed");
}

arma::cube cube_from(const arma::mat& m, arma::uword r0, arma::uword n, arma::uword r1) {
  return arma::cube(m.memptr(), r0, n, r1);
}

// One step of a left-to-right sweep at modes k, k + 1: core k becomes the interpolating core
// U inv(U(rows, :)) and the left set of mode k + 1 the maxvol rows.
void forward_step(std::vector<arma::cube>& cores, IndexSets& sets, const arma::mat& S, const GaussGrid& grid,
                  arma::uword k, double relative, arma::uword cap, bool& capped) {
  const arma::uword r0 = sets.left[k].n_cols, n0 = grid.nodes[k].n_elem;
  const arma::uword n1 = grid.nodes[k + 1].n_elem, r1 = sets.right[k + 2].n_cols;

  arma::mat U, V;
  arma::vec s;
  svd_or_throw(U, s, V, S);
  const arma::uword r = truncation_rank(s, relative, cap, capped);
  const arma::mat Ur = U.cols(0, r - 1);

  arma::mat interpolation;
  const arma::uvec rows = maxvol(Ur, interpolation);
  cores[k] = cube_from(interpolation, r0, n0, r);
  const arma::mat next = Ur.rows(rows) * arma::diagmat(s.head(r)) * V.cols(0, r - 1).t();
  cores[k + 1] = cube_from(next, r, n1, r1);

  arma::umat left(k + 1, r);
  for (arma::uword q = 0; q < r; ++q) {
    const arma::uword a = rows(q) % r0, i = rows(q) / r0;
    if (k > 0) left.col(q).head(k) = sets.left[k].col(a);
    left(k, q) = i;
  }
  sets.left[k + 1] = std::move(left);
}

// One step of a right-to-left sweep at modes k, k + 1: core k + 1 becomes the interpolating
// core and the right set of mode k + 1 the maxvol columns.
void backward_step(std::vector<arma::cube>& cores, IndexSets& sets, const arma::mat& S, const GaussGrid& grid,
                   arma::uword k, double relative, arma::uword cap, bool& capped) {
  const arma::uword d = grid.nodes.size();
  const arma::uword r0 = sets.left[k].n_cols, n0 = grid.nodes[k].n_elem;
  const arma::uword n1 = grid.nodes[k + 1].n_elem, r1 = sets.right[k + 2].n_cols;

  arma::mat U, V;
  arma::vec s;
  svd_or_throw(U, s, V, S);
  const arma::uword r = truncation_rank(s, relative, cap, capped);
  const arma::mat Vr = V.cols(0, r - 1);

  arma::mat interpolation;
  const arma::uvec cols = maxvol(Vr, interpolation);
  const arma::mat interpolation_t = interpolation.t();
  cores[k + 1] = cube_from(interpolation_t, r, n1, r1);
  const arma::mat previous = U.cols(0, r - 1) * arma::diagmat(s.head(r)) * Vr.rows(cols).t();
  cores[k] = cube_from(previous, r0, n0, r);

  arma::umat right(d - k - 1, r);
  for (arma::uword q = 0; q < r; ++q) {
    const arma::uword j = cols(q) % n1, b = cols(q) / n1;
    right(0, q) = j;
    if (k + 2 < d) right.col(q).tail(d - k - 2) = sets.right[k + 2].col(b);
  }
  sets.right[k + 1] = std::move(right);
}

TensorTrain node_values_to_coefficients(const std::vector<arma::cube>& cores, const GaussGrid& grid) {
  TensorTrain tt(cores);
  for (arma::uword k = 0; k < cores.size(); ++k) tt.apply_mode_matrix(k, grid.to_coefficients[k]);
  return tt;
}

double relative_error(const arma::rowvec& approximation, const arma::rowvec& exact) {
  const double error = arma::norm(approximation - exact);
  const double scale = arma::norm(exact);
  if (scale == 0.0) return error == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return error / scale;
}

// The error report: random multi-indices of the Gauss grid, then uniform points of the box.
void check_errors(const FunctionalTT& v, const Evaluator& evaluate, const GaussGrid& grid, const CrossOptions& options,
                  CrossReport& report) {
  const arma::uword d = grid.nodes.size();
  const arma::uword count = options.check_points;
  report.check_points = count;
  if (count == 0) return;

  arma::mat nodes(d, count);
  RandomStream node_random(options.seed, {node_check_stream});
  for (arma::uword j = 0; j < count; ++j)
    for (arma::uword k = 0; k < d; ++k) {
      const arma::uword n = grid.nodes[k].n_elem;
      const auto i = std::min<arma::uword>(static_cast<arma::uword>(node_random.uniform() * static_cast<double>(n)), n - 1);
      nodes(k, j) = grid.nodes[k](i);
    }

  arma::mat box(d, count);
  RandomStream box_random(options.seed, {box_check_stream});
  for (arma::uword j = 0; j < count; ++j)
    for (arma::uword k = 0; k < d; ++k) box(k, j) = grid.lower[k] + (grid.upper[k] - grid.lower[k]) * box_random.uniform();

  const auto copy_from = [](const arma::mat& X) {
    return [&X](arma::uword index, double* x) { std::copy(X.colptr(index), X.colptr(index) + X.n_rows, x); };
  };
  const arma::rowvec node_exact = evaluate(count, copy_from(nodes), report.check_evaluations);
  const arma::rowvec box_exact = evaluate(count, copy_from(box), report.check_evaluations);
  const arma::rowvec box_approximation = v.value(box);

  report.node_relative_error = relative_error(v.value(nodes), node_exact);
  report.relative_l2_error = relative_error(box_approximation, box_exact);
  report.max_error = arma::abs(box_approximation - box_exact).max();
  const double scale = arma::abs(box_exact).max();
  report.max_relative_error = scale > 0.0 ? report.max_error / scale : (report.max_error == 0.0 ? 0.0 : HUGE_VAL);
}

}  // namespace

arma::uvec maxvol(const arma::mat& A, arma::mat& interpolation) {
  const arma::uword m = A.n_rows, r = A.n_cols;
  if (r == 0 || m < r)
    throw std::invalid_argument("maxvol: expected a tall matrix, found " + std::to_string(m) + " x " + std::to_string(r));

  // Start from the pivot rows of Gaussian elimination with partial pivoting, which already
  // have a large volume, so the exchanges below are few.
  arma::mat work = A;
  arma::uvec rows(r);
  std::vector<char> taken(m, 0);
  for (arma::uword j = 0; j < r; ++j) {
    arma::uword pivot = m;
    double largest = -1.0;
    for (arma::uword i = 0; i < m; ++i)
      if (!taken[i] && std::abs(work(i, j)) > largest) {
        largest = std::abs(work(i, j));
        pivot = i;
      }
    rows(j) = pivot;
    taken[pivot] = 1;
    if (largest > 0.0 && j + 1 < r)
      work.cols(j + 1, r - 1) -= work.col(j) * (work.row(pivot).cols(j + 1, r - 1) / work(pivot, j));
  }

  arma::mat transposed;
  const arma::mat square = A.rows(rows);
  if (!arma::solve(transposed, square.t(), A.t(), arma::solve_opts::no_approx))
    throw NumericalFailure("maxvol: the " + std::to_string(m) + " x " + std::to_string(r) +
                           " matrix is rank deficient, so no submatrix of full rank exists");
  interpolation = transposed.t();

  // Exchange the row j of the submatrix for row i while some |interpolation(i, j)| > 1.01:
  // the volume then grows by that factor. The update is the Sherman-Morrison formula.
  const arma::uword max_exchanges = 100 * r + 100;
  for (arma::uword exchange = 0; exchange < max_exchanges; ++exchange) {
    const arma::uword index = arma::abs(interpolation).index_max();
    const arma::uword i = index % m, j = index / m;
    const double pivot = interpolation(i, j);
    if (std::abs(pivot) <= 1.01) break;
    const arma::vec column = interpolation.col(j);
    arma::rowvec row = interpolation.row(i);
    row(j) -= 1.0;
    interpolation -= column * row / pivot;
    rows(j) = i;
  }

  // The chosen rows are the identity in exact arithmetic; the updates leave rounding there.
  interpolation.rows(rows) = arma::eye(r, r);
  return rows;
}

FunctionalTT cross_interpolate(const BatchFunction& f, const BasisSet& bases, const CrossOptions& options,
                               const std::string& description, CrossReport& report) {
  const auto start_time = std::chrono::steady_clock::now();
  const arma::uword d = bases.size();
  if (d == 0) throw std::invalid_argument("cross_interpolate: no bases given");
  if (options.max_rank == 0 || options.max_sweeps == 0)
    throw std::invalid_argument("cross_interpolate: max_rank and max_sweeps must be at least 1");

  report = CrossReport();
  const GaussGrid grid = make_grid(bases);
  const Evaluator evaluate(f, d, description);
  std::vector<arma::cube> cores(d);
  TensorTrain coefficients;

  if (d == 1) {
    // The grid is one fibre: its node values are the whole tensor.
    const arma::vec& nodes = grid.nodes[0];
    const arma::rowvec values = evaluate(nodes.n_elem, [&](arma::uword i, double* x) { x[0] = nodes(i); }, report.evaluations);
    cores[0] = arma::cube(1, nodes.n_elem, 1);
    cores[0].slice(0).row(0) = values;
    coefficients = node_values_to_coefficients(cores, grid);
    report.sweeps = 1;
    report.converged = true;
  } else {
    RandomStream random(options.seed, {start_stream});
    IndexSets sets = random_start(grid, std::min(start_rank, options.max_rank), random);
    const double relative = options.tolerance / std::sqrt(static_cast<double>(d - 1));

    TensorTrain previous;
    for (arma::uword sweep = 0; sweep < options.max_sweeps; ++sweep) {
      bool capped = false;
      if (sweep % 2 == 0) {
        for (arma::uword k = 0; k + 1 < d; ++k)
          forward_step(cores, sets, superblock(evaluate, grid, sets, k, report.evaluations), grid, k, relative,
                       options.max_rank, capped);
      } else {
        for (arma::uword k = d - 1; k-- > 0;)
          backward_step(cores, sets, superblock(evaluate, grid, sets, k, report.evaluations), grid, k, relative,
                        options.max_rank, capped);
      }

      // The coefficients are orthonormal-basis coefficients, so this is the relative L2 change
      // of the interpolating function over the box.
      coefficients = node_values_to_coefficients(cores, grid);
      double change = std::numeric_limits<double>::infinity();
      if (sweep > 0) {
        const double size = norm(coefficients);
        const double difference = norm(coefficients - previous);
        change = size > 0.0 ? difference / size : (difference == 0.0 ? 0.0 : change);
      }
      report.sweeps = sweep + 1;
      report.sweep_change = change;
      report.rank_capped = capped;
      if (change <= options.tolerance) {
        report.converged = true;
        break;
      }
      previous = coefficients;
    }
  }

  coefficients.round(options.rounding_tolerance, std::numeric_limits<arma::uword>::max());
  FunctionalTT v(bases, std::move(coefficients));
  report.ranks = v.coefficients().ranks();
  check_errors(v, evaluate, grid, options, report);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return v;
}

FunctionalTT cross_interpolate(const Potential& potential, const BasisSet& bases, const CrossOptions& options,
                               const std::string& description, CrossReport& report) {
  if (potential.dimension() != bases.size())
    throw std::invalid_argument("cross_interpolate: " + description + " has dimension " +
                                std::to_string(potential.dimension()) + " but " + std::to_string(bases.size()) +
                                " bases were given");
  return cross_interpolate([&potential](const arma::mat& X) { return potential.value(X); }, bases, options, description,
                           report);
}

boost::json::object to_json(const CrossReport& report) {
  boost::json::object out;
  boost::json::array ranks;
  for (const arma::uword r : report.ranks) ranks.push_back(static_cast<std::uint64_t>(r));
  // JSON has no infinity, so a change that was never measured (a single sweep) is null.
  const auto number_or_null = [](double x) { return std::isfinite(x) ? boost::json::value(x) : boost::json::value(nullptr); };

  out["evaluations"] = static_cast<std::uint64_t>(report.evaluations);
  out["check_evaluations"] = static_cast<std::uint64_t>(report.check_evaluations);
  out["sweeps"] = static_cast<std::uint64_t>(report.sweeps);
  out["converged"] = report.converged;
  out["rank_capped"] = report.rank_capped;
  out["sweep_change"] = number_or_null(report.sweep_change);
  out["ranks"] = std::move(ranks);
  out["check_points"] = static_cast<std::uint64_t>(report.check_points);
  out["node_relative_error"] = number_or_null(report.node_relative_error);
  out["relative_l2_error"] = number_or_null(report.relative_l2_error);
  out["max_error"] = number_or_null(report.max_error);
  out["max_relative_error"] = number_or_null(report.max_relative_error);
  out["seconds"] = report.seconds;
  return out;
}

}  // namespace hjbtt
