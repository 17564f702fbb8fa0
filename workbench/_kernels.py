"""Smoothing kernels on a bounded action interval, shared by continuous-action OPE and its simulators.

A deterministic target policy pi(x) = c has no density, so no importance weight. Smoothing it with
a kernel K and bandwidth h gives the policy pi_h(a | x) = K_h(a - c) / Z(c) on [a_min, a_max],
with K_h(u) = K(u / h) / h and Z(c) = the kernel mass that falls inside the interval
(``boundary="renormalize"``). With the box kernel this is exactly the smoothed policy of Rucker,
Zhu & Mineiro (2023): pi_h(a | x) = 1 / |[c - h, c + h] ∩ [a_min, a_max]| for |a - c| <= h.

``boundary="none"`` keeps Z = 1 (the textbook kernel of Kallus & Zhou 2018). Near an edge part of
the kernel mass then falls outside the interval, where no action is ever logged, so the kernel
IPS estimate loses up to half of the value at an edge (with symmetric kernels): a bias that does
not vanish with n and only shrinks as h -> 0. The renormalised kernel is a proper density, and the
estimator is then exactly unbiased for the value of the smoothed policy pi_h.

This is a private module (no public names): :mod:`workbench.ope.continuous` and
:mod:`workbench.data.simulate_continuous` both use it, so the estimand an estimator targets and
the "truth" a simulator reports are computed by the same code.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from ._validation import ValidationError, check_choice, check_real

KERNELS = ("triangular", "gaussian", "epanechnikov", "cosine", "box")
BOUNDARIES = ("renormalize", "none")
# Half-width of the support in units of h (the Gaussian is truncated at 8 h for quadrature only:
# the mass beyond is below 1e-15).
_RADIUS = {"triangular": 1.0, "gaussian": 8.0, "epanechnikov": 1.0, "cosine": 1.0, "box": 1.0}


def kernel_pdf(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) of a standard kernel (integrates to one; compact support [-1, 1] except the Gaussian)."""
    u = np.asarray(u, dtype=np.float64)
    inside = np.abs(u) <= 1.0
    if kernel == "box":
        return np.where(inside, 0.5, 0.0)
    if kernel == "triangular":
        return np.clip(1.0 - np.abs(u), 0.0, None)
    if kernel == "epanechnikov":
        return np.clip(0.75 * (1.0 - u * u), 0.0, None)
    if kernel == "cosine":
        return np.where(inside, np.pi / 4 * np.cos(np.pi / 2 * np.clip(u, -1, 1)), 0.0)
    if kernel == "gaussian":
        return np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def kernel_cdf(u: np.ndarray, kernel: str) -> np.ndarray:
    """The integral of K from -inf to u, in closed form."""
    u = np.asarray(u, dtype=np.float64)
    if kernel == "gaussian":
        return special.ndtr(u)
    v = np.clip(u, -1.0, 1.0)
    if kernel == "box":
        return (v + 1.0) / 2.0
    if kernel == "triangular":
        return np.where(v <= 0, 0.5 * (1 + v) ** 2, 1 - 0.5 * (1 - v) ** 2)
    if kernel == "epanechnikov":
        return 0.5 + 0.75 * v - 0.25 * v**3
    if kernel == "cosine":
        return 0.5 + 0.5 * np.sin(np.pi / 2 * v)
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def check_kernel_args(kernel: str, bandwidth, boundary: str) -> float:
    check_choice(kernel, "kernel", KERNELS)
    check_choice(boundary, "boundary", BOUNDARIES)
    # check_real, not float(): float(True) is 1.0 and float("0.5") parses a string
    h = check_real(bandwidth, "bandwidth")
    if h <= 0:
        raise ValidationError("bandwidth", f"must be a finite number > 0, got {bandwidth!r}")
    return h


def kernel_mass_inside(center, bandwidth: float, kernel: str, a_min: float, a_max: float) -> np.ndarray:
    """Z(c): the share of the kernel centred at c that lies in [a_min, a_max]."""
    c = np.asarray(center, dtype=np.float64)
    return kernel_cdf((a_max - c) / bandwidth, kernel) - kernel_cdf((a_min - c) / bandwidth, kernel)


def smoothed_density(action, center, bandwidth: float, kernel: str, a_min: float, a_max: float,
                     boundary: str = "renormalize") -> np.ndarray:
    """pi_h(a | x) of the kernel-smoothed deterministic policy with centre c = pi(x).

    ``action`` and ``center`` broadcast (e.g. (n,) and (n,), or (n, m) nodes and (n, 1) centres).
    Zero outside [a_min, a_max]. With ``boundary="none"`` the kernel is not renormalised.
    """
    a = np.asarray(action, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64)
    k = kernel_pdf((a - c) / bandwidth, kernel) / bandwidth
    k = np.where((a >= a_min) & (a <= a_max), k, 0.0)
    if boundary == "renormalize":
        k = k / kernel_mass_inside(c, bandwidth, kernel, a_min, a_max)
    return k


def smoothed_quadrature(center, bandwidth: float, kernel: str, a_min: float, a_max: float,
                        boundary: str = "renormalize", n_nodes: int = 24):
    """Nodes and weights to integrate f(a) against pi_h(a | x): sum_j weight_ij f(node_ij).

    Gauss-Legendre on [lo, c] and [c, hi] separately (the triangular kernel has a kink at c),
    with [lo, hi] = [c - R h, c + R h] ∩ [a_min, a_max]. The integrand is smooth on each piece, so
    24 nodes per piece integrate a smooth reward times the kernel to near machine precision.
    Returns (nodes, weights), each (n, 2 * n_nodes); the weights include pi_h.
    """
    c = np.atleast_1d(np.asarray(center, dtype=np.float64))
    R = _RADIUS[kernel] * bandwidth
    lo = np.maximum(c - R, a_min)
    hi = np.minimum(c + R, a_max)
    g, gw = np.polynomial.legendre.leggauss(int(n_nodes))
    pieces_n, pieces_w = [], []
    for left, right in ((lo, c), (c, hi)):
        half = (right - left)[:, None] / 2
        nodes = (left + right)[:, None] / 2 + half * g[None, :]
        pieces_n.append(nodes)
        pieces_w.append(half * gw[None, :])
    nodes = np.concatenate(pieces_n, axis=1)
    wts = np.concatenate(pieces_w, axis=1)
    wts = wts * smoothed_density(nodes, c[:, None], bandwidth, kernel, a_min, a_max, boundary)
    return nodes, wts


def kernel_ppf(p: np.ndarray, kernel: str) -> np.ndarray:
    """Inverse of :func:`kernel_cdf` for p in [0, 1] (used to sample from a smoothed policy)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    if kernel == "gaussian":
        return special.ndtri(p)
    if kernel == "box":
        return 2 * p - 1
    if kernel == "triangular":
        return np.where(p <= 0.5, np.sqrt(2 * p) - 1, 1 - np.sqrt(2 * (1 - p)))
    if kernel == "epanechnikov":
        # Root in [-1, 1] of 0.5 + 0.75 v - 0.25 v^3 = p (trigonometric form of the cubic).
        return 2 * np.sin(np.arcsin(np.clip(2 * p - 1, -1, 1)) / 3)
    if kernel == "cosine":
        return 2 / np.pi * np.arcsin(np.clip(2 * p - 1, -1, 1))
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def sample_smoothed(center, bandwidth: float, kernel: str, a_min: float, a_max: float, rng) -> np.ndarray:
    """One draw per row from the renormalised smoothed policy pi_h(. | x) (inverse-CDF sampling)."""
    c = np.asarray(center, dtype=np.float64)
    lo = kernel_cdf((a_min - c) / bandwidth, kernel)
    hi = kernel_cdf((a_max - c) / bandwidth, kernel)
    u = lo + (hi - lo) * rng.random(c.shape)
    return np.clip(c + bandwidth * kernel_ppf(u, kernel), a_min, a_max)
