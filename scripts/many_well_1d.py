#!/usr/bin/python3
"""One odd coordinate of many-well-32 in one dimension: where the mode weight gets lost.

The many-well target is a sum of independent blocks, so each odd coordinate x follows
pi(x) ~ exp(-(x^4 - 6 x^2 - 0.5 x)) with P(x > 0) = 0.8443. This script samples it by the
reverse-time SDE of the HJB solution in three ways and prints P(x > 0) and the moments:

  exact     the score of -log rho_t, from quadrature of the OU transition density.
  project   the L2 projection of that exact v(t) onto Legendre degree p on [-a, a].
  galerkin  the Galerkin solution of the HJB equation on the same basis, as hjbtt computes it,
            with optional spectral viscosity nu. An adaptive Runge-Kutta pair integrates it.

The first isolates the sampler, the second the representation, the third the dynamics.
Usage: many_well_1d.py MODE BOX DEGREE [VISCOSITY]   e.g.  many_well_1d.py galerkin 5 8
"""
import sys

import numpy as np
from numpy.polynomial import legendre

FINAL_TIME = 5.0
SAMPLER_STEPS = 400
SAMPLES = 40000


def potential(x):
    return x**4 - 6 * x**2 - 0.5 * x


# Exact v(t) = -log rho_t up to a constant, by quadrature over the starting point x0 of
# X_t = e^-t x0 + sqrt(1 - e^-2t) xi, in the log domain because rho_0 spans e^-1000 on the box.
GRID = np.linspace(-8, 8, 1601)
LOG_RHO0 = -(potential(GRID) - potential(GRID).min())
LOG_RHO0 -= np.log(np.exp(LOG_RHO0).sum() * (GRID[1] - GRID[0]))


def exact_v(t, y):
    if t < 1e-9:
        return potential(y)
    decay, variance = np.exp(-t), 1 - np.exp(-2 * t)
    exponent = -(y[:, None] - decay * GRID[None, :]) ** 2 / (2 * variance) + LOG_RHO0[None, :]
    top = exponent.max(axis=1)
    return -(top + np.log(np.exp(exponent - top[:, None]).sum(axis=1) * (GRID[1] - GRID[0])))


def exact_score(t, y):
    if t < 1e-9:
        return 4 * y**3 - 12 * y - 0.5
    h = 1e-4
    return (exact_v(t, y + h) - exact_v(t, y - h)) / (2 * h)


class Basis:
    """Orthonormal Legendre polynomials of degree <= p on [-a, a] (uniform probability measure)."""

    def __init__(self, box, degree):
        self.box, self.degree, self.n = box, degree, degree + 1
        self.scale = np.sqrt(2 * np.arange(self.n) + 1)
        nodes, weights = legendre.leggauss(4 * self.n)
        self.nodes, self.weights, self.x = nodes, weights / 2, nodes * box
        self.values = legendre.legvander(nodes, degree) * self.scale
        self.first = self.derivative_values(1)
        self.second = self.derivative_values(2)

    def derivative_values(self, order):
        out = np.zeros_like(self.values)
        for i in range(self.n):
            unit = np.zeros(self.n)
            unit[i] = self.scale[i]
            out[:, i] = legendre.legval(self.nodes, legendre.legder(unit, order)) / self.box**order
        return out

    def project(self, values_at_nodes):
        return self.values.T @ (self.weights * values_at_nodes)

    def gradient(self, coefficients, y):
        return legendre.legval(y / self.box, legendre.legder(coefficients * self.scale)) / self.box


def galerkin_solution(basis, viscosity):
    """Return accepted times and coefficients of the Galerkin HJB solve, or None on divergence."""
    # The damping profile of hjbtt's spectral viscosity: ((i - m) / (p - m))^2 above m.
    cutoff = max(2, basis.degree // 2)
    index = np.arange(basis.n)
    damping = viscosity * np.where(index > cutoff, ((index - cutoff) / max(basis.degree - cutoff, 1)) ** 2, 0.0)

    def rhs(c):
        slope = basis.first @ c
        return basis.project(basis.second @ c + basis.x * slope - slope * slope) - damping * c

    c = basis.project(potential(basis.x))
    t, tau, tolerance = 0.0, 1e-6, 1e-7
    times, states = [0.0], [c.copy()]
    while t < FINAL_TIME:
        tau = min(tau, FINAL_TIME - t)
        # Bogacki-Shampine 3(2) pair: the embedded estimate sets the step.
        k1 = rhs(c)
        k2 = rhs(c + tau / 2 * k1)
        k3 = rhs(c + 3 * tau / 4 * k2)
        candidate = c + tau * (2 * k1 + 3 * k2 + 4 * k3) / 9
        k4 = rhs(candidate)
        error = tau * np.linalg.norm(-5 * k1 / 72 + k2 / 12 + k3 / 9 - k4 / 8) / max(np.linalg.norm(candidate), 1.0)
        if not np.all(np.isfinite(candidate)) or np.linalg.norm(candidate) > 1e7:
            print(f"galerkin solve diverged at t = {t:.3f}")
            return None
        if error < tolerance:
            t, c = t + tau, candidate
            times.append(t)
            states.append(c.copy())
        tau *= min(4.0, max(0.2, 0.9 * (tolerance / max(error, 1e-300)) ** (1 / 3)))
    return np.array(times), np.array(states)


def score_function(mode, box, degree, viscosity):
    if mode == "exact":
        return exact_score
    basis = Basis(box, degree)
    if mode == "project":
        return lambda t, y: basis.gradient(basis.project(exact_v(t, basis.x)), y)
    solution = galerkin_solution(basis, viscosity)
    if solution is None:
        return None
    times, states = solution

    def score(t, y):
        # Linear interpolation in t between accepted states, as the hjbtt solution does.
        i = min(max(np.searchsorted(times, t) - 1, 0), len(times) - 2)
        theta = (t - times[i]) / (times[i + 1] - times[i])
        return basis.gradient((1 - theta) * states[i] + theta * states[i + 1], y)

    return score


def reverse_sde(score):
    # Euler-Maruyama on a grid refined quadratically toward t = 0.
    s = FINAL_TIME * (1 - (1 - np.linspace(0, 1, SAMPLER_STEPS + 1)) ** 2)
    random = np.random.default_rng(1)
    y = random.standard_normal(SAMPLES)
    for m in range(SAMPLER_STEPS):
        h = s[m + 1] - s[m]
        y = y + h * (y - 2 * score(FINAL_TIME - s[m], y)) + np.sqrt(2 * h) * random.standard_normal(SAMPLES)
    return y


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("exact", "project", "galerkin"):
        sys.exit(__doc__.strip().splitlines()[-1])
    mode, box, degree = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    viscosity = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    score = score_function(mode, box, degree, viscosity)
    if score is None:
        sys.exit(1)
    y = reverse_sde(score)
    print(f"{mode} box [-{box:g}, {box:g}] degree {degree} viscosity {viscosity:g}: "
          f"P(x > 0) = {(y > 0).mean():.4f}, mean {y.mean():.4f}, variance {y.var():.4f} "
          f"(exact 0.8443, 1.1880, 1.5486)")


if __name__ == "__main__":
    main()
