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
# K(0), the peak of each kernel: the limit of G(v) / v as v -> 0 (see _side_mass).
_PEAK = {"triangular": 1.0, "gaussian": 1.0 / np.sqrt(2 * np.pi), "epanechnikov": 0.75, "cosine": np.pi / 4,
         "box": 0.5}
# Below this |v| the kernel is flat to far beyond double precision between 0 and v: G(v) / v = K(0).
_FLAT = 1e-300
_H_MIN = float(np.finfo(np.float64).tiny)


def kernel_pdf(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) of a standard kernel (integrates to one; compact support [-1, 1] except the Gaussian)."""
    u = np.asarray(u, dtype=np.float64)
    inside = np.abs(u) <= 1.0
    if kernel == "gaussian":
        with np.errstate(over="ignore"):  # u * u overflows to inf for |u| > 1e154: exp(-inf) = 0, the limit
            return np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
    if kernel == "box":
        return np.where(inside, 0.5, 0.0)
    if kernel == "triangular":
        return np.clip(1.0 - np.abs(u), 0.0, None)
    if kernel == "epanechnikov":
        v = np.clip(u, -1.0, 1.0)  # (u * u overflowed for |u| > 1e154, at a tiny bandwidth)
        return np.where(inside, 0.75 * (1.0 - v * v), 0.0)
    if kernel == "cosine":
        return np.where(inside, np.pi / 4 * np.cos(np.pi / 2 * np.clip(u, -1, 1)), 0.0)
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def kernel_cdf(u: np.ndarray, kernel: str) -> np.ndarray:
    """The integral of K from -inf to u: 1/2 + :func:`kernel_half_cdf` (K is symmetric)."""
    return 0.5 + kernel_half_cdf(u, kernel)


def kernel_half_cdf(v: np.ndarray, kernel: str) -> np.ndarray:
    """G(v) = the integral of K from 0 to v = kernel_cdf(v) - 1/2 (odd in v), in closed form.

    Computed without the 1/2, so it keeps full relative precision for tiny |v|: the kernel mass in
    [a_min, a_max] is G(v_max) - G(v_min), which kernel_cdf(v_max) - kernel_cdf(v_min) rounded to
    0 - 0.5 + 0.5 - once the bandwidth dwarfed the interval (|v| < 1e-16), and the renormalised
    density was then 0 / 0.
    """
    v = np.asarray(v, dtype=np.float64)
    if kernel == "gaussian":
        return 0.5 * special.erf(v / np.sqrt(2))
    w = np.clip(v, -1.0, 1.0)
    if kernel == "box":
        return 0.5 * w
    if kernel == "triangular":
        return w - 0.5 * w * np.abs(w)
    if kernel == "epanechnikov":
        return 0.75 * w - 0.25 * w**3
    if kernel == "cosine":
        return 0.5 * np.sin(np.pi / 2 * w)
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def kernel_half_ppf(g: np.ndarray, kernel: str) -> np.ndarray:
    """Inverse of :func:`kernel_half_cdf` for g in [-1/2, 1/2] (precise for tiny |g|, as G is)."""
    g = np.clip(np.asarray(g, dtype=np.float64), -0.5, 0.5)
    if kernel == "gaussian":
        return np.sqrt(2) * special.erfinv(2 * g)
    if kernel == "box":
        return 2 * g
    if kernel == "triangular":
        # |v| - v^2 / 2 = |g|: |v| = 1 - sqrt(1 - 2|g|), written without that difference (which is 0 for tiny g)
        a = np.abs(g)
        return np.sign(g) * 2 * a / (1 + np.sqrt(1 - 2 * a))
    if kernel == "epanechnikov":
        # the root in [-1, 1] of 0.75 v - 0.25 v^3 = g (trigonometric form of the cubic)
        return 2 * np.sin(np.arcsin(np.clip(2 * g, -1, 1)) / 3)
    if kernel == "cosine":
        return 2 / np.pi * np.arcsin(np.clip(2 * g, -1, 1))
    check_choice(kernel, "kernel", KERNELS)
    raise AssertionError  # unreachable


def check_kernel_args(kernel: str, bandwidth, boundary: str) -> float:
    check_choice(kernel, "kernel", KERNELS)
    check_choice(boundary, "boundary", BOUNDARIES)
    # check_real, not float(): float(True) is 1.0 and float("0.5") parses a string
    h = check_real(bandwidth, "bandwidth")
    if h <= 0:
        raise ValidationError("bandwidth", f"must be a finite number > 0, got {bandwidth!r}")
    if h < _H_MIN:
        # A subnormal h has lost most of its digits, and K(0) / h overflows: the kernel's peak, and
        # so the smoothed policy, is not a float any more (h / 2 even rounds to 0 below 1e-323).
        raise ValidationError("bandwidth", f"must be >= {_H_MIN:.4g} (the smallest normal float), got {bandwidth!r}")
    return h


def _side_mass(d, bandwidth: float, kernel: str) -> np.ndarray:
    """The integral of K(s / h) for s from 0 to d, i.e. h G(d / h), in action units.

    Written as d G(v) / v (v = d / h) while |v| < 1: at a bandwidth far beyond the interval, v and
    G(v) are tiny or even underflow, but G(v) / v tends to K(0) and d keeps its digits, so the
    renormalised density K(u) / mass tends smoothly to the uniform 1 / (a_max - a_min). At a tiny
    bandwidth v overflows to inf and h G(inf) = h / 2 is exact.
    """
    d = np.asarray(d, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        v = d / bandwidth
        g = kernel_half_cdf(v, kernel)
        flat = np.abs(v) < _FLAT  # (d = 0 included) G(v) / v = K(0) to double precision
        ratio = np.where(flat, _PEAK[kernel], g / np.where(flat, 1.0, v))
        return np.where(np.abs(v) < 1.0, d * ratio, bandwidth * g)


def _scaled_mass(center, bandwidth: float, kernel: str, a_min: float, a_max: float) -> np.ndarray:
    """h Z(c) = the integral of K((a - c) / h) over [a_min, a_max]: the renormalised density is
    K(u) / (h Z(c)), computed as one division so neither the tiny K(u) / h nor the tiny Z (huge h)
    nor the huge K(u) / h (tiny h) is formed on its own."""
    c = np.asarray(center, dtype=np.float64)
    # G is odd: for c inside the interval the two terms have the same sign, so nothing cancels
    return _side_mass(a_max - c, bandwidth, kernel) - _side_mass(a_min - c, bandwidth, kernel)


def smoothed_density(action, center, bandwidth: float, kernel: str, a_min: float, a_max: float,
                     boundary: str = "renormalize") -> np.ndarray:
    """pi_h(a | x) of the kernel-smoothed deterministic policy with centre c = pi(x).

    ``action`` and ``center`` broadcast (e.g. (n,) and (n,), or (n, m) nodes and (n, 1) centres).
    Zero outside [a_min, a_max]. With ``boundary="none"`` the kernel is not renormalised.
    """
    a = np.asarray(action, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64)
    with np.errstate(over="ignore"):  # u = +-inf at a tiny bandwidth: K(+-inf) = 0, the limit
        u = (a - c) / bandwidth
    k = np.where((a >= a_min) & (a <= a_max), kernel_pdf(u, kernel), 0.0)
    if boundary == "renormalize":
        return k / _scaled_mass(c, bandwidth, kernel, a_min, a_max)
    return k / bandwidth


def smoothed_quadrature(center, bandwidth: float, kernel: str, a_min: float, a_max: float,
                        boundary: str = "renormalize", n_nodes: int = 24):
    """Nodes and weights to integrate f(a) against pi_h(a | x): sum_j weight_ij f(node_ij).

    Gauss-Legendre on [lo, c] and [c, hi] separately (the triangular kernel has a kink at c),
    with [lo, hi] = [c - R h, c + R h] ∩ [a_min, a_max]. The integrand is smooth on each piece, so
    24 nodes per piece integrate a smooth reward times the kernel to near machine precision.
    Returns (nodes, weights), each (n, 2 * n_nodes); the weights include pi_h.
    """
    c = np.atleast_1d(np.asarray(center, dtype=np.float64))
    with np.errstate(over="ignore"):  # 8 h overflows for h > 2e307: the interval then bounds both pieces
        R = _RADIUS[kernel] * bandwidth
    # The pieces' lengths as min(R h, distance to the edge), not hi - lo: c - R h rounds to c once h
    # is below c's precision (h < 4e-16 at c = 5), and every weight was then 0 (a smoothed value of 0).
    left = np.minimum(R, c - a_min)
    right = np.minimum(R, a_max - c)
    g, gw = np.polynomial.legendre.leggauss(int(n_nodes))
    # nodes as offsets from c, which keep their digits where c + offset rounds to c: the kernel is
    # evaluated at offset / h, not at (node - c) / h
    offsets = np.concatenate([-left[:, None] * (1 - g) / 2, right[:, None] * (1 + g) / 2], axis=1)
    wts = np.concatenate([left[:, None] / 2 * gw, right[:, None] / 2 * gw], axis=1)
    with np.errstate(over="ignore"):
        k = kernel_pdf(offsets / bandwidth, kernel)
    mass = _scaled_mass(c, bandwidth, kernel, a_min, a_max)[:, None] if boundary == "renormalize" else bandwidth
    return c[:, None] + offsets, wts * k / mass


def sample_smoothed(center, bandwidth: float, kernel: str, a_min: float, a_max: float, rng) -> np.ndarray:
    """One draw per row from the renormalised smoothed policy pi_h(. | x) (inverse-CDF sampling)."""
    c = np.asarray(center, dtype=np.float64)
    # On the G = kernel_cdf - 1/2 scale: with kernel_cdf both ends rounded to 1/2 once the bandwidth
    # dwarfed the interval, and every draw was c (a point mass instead of the uniform limit).
    with np.errstate(over="ignore"):  # +-inf at a tiny bandwidth: G = +-1/2, the limit
        lo = kernel_half_cdf((a_min - c) / bandwidth, kernel)
        hi = kernel_half_cdf((a_max - c) / bandwidth, kernel)
    g = lo + (hi - lo) * rng.random(c.shape)
    with np.errstate(over="ignore"):  # (h * inf: a Gaussian draw at g = +-1/2 exactly, clipped)
        return np.clip(c + bandwidth * kernel_half_ppf(g, kernel), a_min, a_max)
