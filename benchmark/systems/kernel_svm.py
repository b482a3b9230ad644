"""χ²-kernel SVMs and ℓp-norm multiple kernel learning: the hybrid framework's SVM baselines
(docs/protocols.md, section C).

**Kernel.** The exponential χ² kernel of non-negative features,
k(x, y) = exp(−γ · Σ_d (x_d − y_d)² / (x_d + y_d)) (scikit-learn's ``chi2_kernel``), with
γ = width / (mean χ² distance between training videos): ``width`` is the kernel width relative to
the data's own scale, chosen on held-out videos.

**Classifier.** One binary SVC per class on a precomputed kernel (one-vs-rest, for single- and
multi-label data alike); a video's score for a class is that SVM's margin. A class with a single
label value in the training part (no positive, or only positives) gets a constant margin of −1
(or +1).

**ℓp-norm MKL** (Kloft, Brefeld, Sonnenburg & Zien, JMLR 12, 2011). The kernel is K = Σ_m θ_m K_m
with θ ≥ 0 and ‖θ‖_p = 1. Training alternates (1) the SVMs on K for a fixed θ and (2) the
closed-form update of θ,

    θ_m = ‖w_m‖^{2/(p+1)} / (Σ_m' ‖w_m'‖^{2p/(p+1)})^{1/p},   ‖w_m‖² = θ_m² · Σ_c (α∘y)_c^T K_m (α∘y)_c,

where (α∘y)_c are the dual coefficients of class c's SVM (the classes share θ, so their block
norms add up), until θ moves by less than ``tol``. It starts from the uniform θ_m = M^{-1/p}.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics.pairwise import additive_chi2_kernel, chi2_kernel
from sklearn.svm import SVC

CONSTANT_MARGIN = 1.0


def check_non_negative(features: np.ndarray, what: str) -> np.ndarray:
    """``features`` as float64; a ValueError if any value is negative (the χ² kernel needs x ≥ 0)."""
    array = np.asarray(features, dtype=np.float64)
    if array.size and array.min() < 0:
        raise ValueError(f"{what}: the χ² kernel needs non-negative features, found {array.min():g}")
    return array


def chi2_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N, M) χ² distances Σ_d (x_d − y_d)² / (x_d + y_d) (a 0/0 term counts 0)."""
    return -additive_chi2_kernel(check_non_negative(x, "x"), check_non_negative(y, "y"))


def chi2_gamma(train: np.ndarray, width: float) -> float:
    """γ = width / (the mean χ² distance between two training videos, the pair of a video with itself
    left out)."""
    n = len(train)
    if n < 2:
        raise ValueError("chi2_gamma needs at least two training videos")
    mean = chi2_distances(train, train).sum() / (n * (n - 1))
    return width / mean if mean > 0 else width


def chi2_gram(x: np.ndarray, y: np.ndarray, gamma: float) -> np.ndarray:
    """(N, M) kernel matrix exp(−γ · χ²(x_i, y_j))."""
    return chi2_kernel(check_non_negative(x, "x"), check_non_negative(y, "y"), gamma=gamma)


def one_vs_rest_targets(labels: np.ndarray, num_classes: int, multi_label: bool) -> np.ndarray:
    """(N, K) 0/1 targets: the multi-label matrix as given, or one-hot class indices."""
    labels = np.asarray(labels)
    if multi_label:
        return labels.astype(np.int64)
    return np.eye(num_classes, dtype=np.int64)[labels.astype(np.int64)]


@dataclass
class KernelSVMs:
    """One binary SVC per class on a precomputed kernel; a float is the constant margin of a class
    with one label value only in training."""

    machines: list[SVC | float]

    def decision(self, kernel: np.ndarray) -> np.ndarray:
        """(N, K) margins of the videos whose kernel rows against the training videos are ``kernel``."""
        columns = [
            np.full(len(kernel), machine) if isinstance(machine, float) else machine.decision_function(kernel)
            for machine in self.machines
        ]
        return np.stack(columns, axis=1)

    def dual_quadratic_forms(self, kernels: Sequence[np.ndarray]) -> np.ndarray:
        """(M,) Σ_c (α∘y)_c^T K_m (α∘y)_c over the classes' SVMs, for each training kernel K_m."""
        forms = np.zeros(len(kernels))
        for machine in self.machines:
            if isinstance(machine, float):
                continue
            coefficients, support = machine.dual_coef_[0], machine.support_
            for m, kernel in enumerate(kernels):
                forms[m] += coefficients @ kernel[np.ix_(support, support)] @ coefficients
        return forms


def fit_kernel_svms(kernel: np.ndarray, targets: np.ndarray, c: float) -> KernelSVMs:
    """One SVC(kernel="precomputed", C=c) per column of the (N, K) 0/1 ``targets``."""
    machines: list[SVC | float] = []
    for column in np.asarray(targets).T:
        if column.min() == column.max():
            machines.append(CONSTANT_MARGIN if column[0] else -CONSTANT_MARGIN)
        else:
            machines.append(SVC(kernel="precomputed", C=c).fit(kernel, column))
    return KernelSVMs(machines)


def combine_kernels(kernels: Sequence[np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Σ_m θ_m K_m."""
    return sum(float(t) * k for t, k in zip(theta, kernels))


def mkl_weight_update(block_norms: np.ndarray, p: float = 2.0) -> np.ndarray:
    """The closed-form ℓp-norm MKL step: θ_m = ‖w_m‖^{2/(p+1)} / (Σ_m' ‖w_m'‖^{2p/(p+1)})^{1/p}
    from the block norms ‖w_m‖ (so that ‖θ‖_p = 1)."""
    norms = np.asarray(block_norms, dtype=np.float64)
    if p < 1 or (norms < 0).any() or not norms.any():
        raise ValueError(f"need p >= 1 and non-negative block norms, not all zero; got p={p}, {norms}")
    return norms ** (2 / (p + 1)) / np.sum(norms ** (2 * p / (p + 1))) ** (1 / p)


@dataclass
class MKLResult:
    """The kernel weights θ (‖θ‖_p = 1), the SVMs trained on Σ θ_m K_m, and how the loop ended."""

    theta: np.ndarray
    svms: KernelSVMs
    iterations: int
    converged: bool

    def decision(self, kernels: Sequence[np.ndarray]) -> np.ndarray:
        """(N, K) margins of videos whose kernel rows against the training videos are ``kernels``."""
        return self.svms.decision(combine_kernels(kernels, self.theta))


def fit_mkl(
    kernels: Sequence[np.ndarray],
    targets: np.ndarray,
    c: float,
    p: float = 2.0,
    tol: float = 1e-3,
    max_iter: int = 50,
) -> MKLResult:
    """ℓp-norm MKL of the (N, N) training ``kernels`` for the (N, K) 0/1 ``targets`` (see the module doc)."""
    theta = np.full(len(kernels), len(kernels) ** (-1 / p))
    svms = fit_kernel_svms(combine_kernels(kernels, theta), targets, c)
    for iteration in range(1, max_iter + 1):
        block_norms = theta * np.sqrt(np.maximum(svms.dual_quadratic_forms(kernels), 0.0))
        if not block_norms.any():  # no class has a support vector: nothing to weigh
            return MKLResult(theta, svms, iteration, True)
        updated = mkl_weight_update(block_norms, p)
        moved = float(np.abs(updated - theta).max())
        theta = updated
        svms = fit_kernel_svms(combine_kernels(kernels, theta), targets, c)
        if moved < tol:
            return MKLResult(theta, svms, iteration, True)
    return MKLResult(theta, svms, max_iter, False)
