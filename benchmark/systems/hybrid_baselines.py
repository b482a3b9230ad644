"""The hybrid framework's baselines (docs/protocols.md, section C): χ²-kernel SVMs on the video-level
features, and the plain late averages of its models' scores.

* ``svm_spatial`` / ``svm_motion``: one χ²-kernel SVM per feature (one-vs-rest); C and the kernel
  width chosen on the held-out part;
* ``svm_ef``: early fusion, one SVM on the average of the two χ² kernels (each at the width chosen
  for its feature), C chosen on the held-out part;
* ``svm_lf``: late fusion, the margins of the spatial and the motion SVM averaged;
* ``svm_mkl``: the two kernels combined by ℓp-norm multiple kernel learning (p = 2), C chosen on
  the held-out part (:mod:`benchmark.systems.kernel_svm`);
* ``cnn_lstm_spatial`` / ``cnn_lstm_motion``: a stream's CNN and LSTM scores averaged;
  ``cnn_lstm_all``: all four averaged; ``cnn_average``: the two CNNs averaged (the two-stream CNN).

The SVMs take the video-level features as extracted (the time average of the frame features, not
standardised: the χ² kernel needs non-negative inputs) and are fitted on the training part only;
the held-out part only chooses C and the widths, and the test set chooses nothing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.systems.hybrid_features import Part
from benchmark.systems.hybrid_settings import HybridSettings
from benchmark.systems.kernel_svm import (
    KernelSVMs,
    MKLResult,
    chi2_gamma,
    chi2_gram,
    fit_kernel_svms,
    fit_mkl,
    one_vs_rest_targets,
)
from benchmark.systems.score_fusion import fusion_metric

SVM_COMPONENTS = ("svm_spatial", "svm_motion", "svm_ef", "svm_lf", "svm_mkl")
AVERAGES: dict[str, tuple[str, ...]] = {
    "cnn_lstm_spatial": ("spatial_cnn", "spatial_lstm"),
    "cnn_lstm_motion": ("motion_cnn", "motion_lstm"),
    "cnn_lstm_all": ("spatial_cnn", "motion_cnn", "spatial_lstm", "motion_lstm"),
    "cnn_average": ("spatial_cnn", "motion_cnn"),
}
STREAMS = ("spatial", "motion")


@dataclass(frozen=True)
class ComponentResult:
    name: str
    scores: np.ndarray  # (N, K) test scores
    labels: np.ndarray
    columns: dict[str, Any]  # extra row columns (training settings, detail, zero_row_fraction)
    held_out: np.ndarray | None = None  # (N_val, K) held-out scores of the hybrid's members
    choice: Any = None  # what the component chose on the held-out part (the regularised net's λ)


@dataclass(frozen=True)
class KernelChoice:
    """One feature's kernel: the chosen width, its γ and the train / held-out / test kernel matrices."""

    width: float
    gamma: float
    train: np.ndarray  # (N_train, N_train)
    held_out: np.ndarray  # (N_val, N_train)
    test: np.ndarray  # (N_test, N_train)


def video_features(part: Part) -> list[np.ndarray]:
    """Per stream the (N, C_s) time average of the frame features, in float64."""
    return [x.astype(np.float64).mean(axis=1) for x in (part.spatial, part.motion)]


def _kernels(features: list[np.ndarray], width: float) -> KernelChoice:
    train, held_out, test = features
    gamma = chi2_gamma(train, width)
    return KernelChoice(
        width, gamma, chi2_gram(train, train, gamma), chi2_gram(held_out, train, gamma), chi2_gram(test, train, gamma)
    )


def _best_svm(
    kernel: KernelChoice, targets: np.ndarray, held_out: Part, multi_label: bool, c_grid: tuple[float, ...]
) -> tuple[float, float, KernelSVMs]:
    """(held-out metric, C, SVMs) of the best C (ties: the first of the grid)."""
    best: tuple[float, float, KernelSVMs] | None = None
    for c in c_grid:
        svms = fit_kernel_svms(kernel.train, targets, c)
        metric = fusion_metric(svms.decision(kernel.held_out), held_out.labels, multi_label)
        if best is None or metric > best[0]:
            best = (metric, c, svms)
    assert best is not None
    return best


def _metric_name(multi_label: bool) -> str:
    return "mAP" if multi_label else "top-1"


def svm_results(
    parts: dict[str, Part], num_classes: int, multi_label: bool, settings: HybridSettings, features: Sequence[str]
) -> list[ComponentResult]:
    """The five SVM baselines on the (unstandardised) ``parts``; ``features`` names each stream's frame
    features for the rows (e.g. "pooled maps (128-d)")."""
    train, held_out, test = parts["train"], parts["val"], parts["test"]
    targets = one_vs_rest_targets(train.labels, num_classes, multi_label)
    per_part = [video_features(p) for p in (train, held_out, test)]
    metric = _metric_name(multi_label)
    columns = {"epochs": None, "batch_size": None, "lr": None, "test_views": 1}
    results, kernels, margins = [], [], []
    for s, (stream, component) in enumerate(zip(STREAMS, SVM_COMPONENTS[:2])):
        feature = [f[s] for f in per_part]
        best: tuple[float, float, KernelSVMs, KernelChoice] | None = None
        for width in settings.chi2_width_grid:
            kernel = _kernels(feature, width)
            value, c, svms = _best_svm(kernel, targets, held_out, multi_label, settings.svm_c_grid)
            if best is None or value > best[0]:
                best = (value, c, svms, kernel)
        assert best is not None
        value, c, svms, kernel = best
        kernels.append(kernel)
        margins.append(svms.decision(kernel.test))
        detail = (
            f"{stream} chi2-kernel SVM (one-vs-rest) C={c:g} width={kernel.width:g} (gamma={kernel.gamma:.4g}), "
            f"held-out {metric} {value:.4f}; video-level features: {features[s]}, time-averaged"
        )
        results.append(ComponentResult(component, margins[-1], test.labels, {**columns, "detail": detail}))

    early = [(a + b) / 2 for a, b in zip(*((k.train, k.held_out, k.test) for k in kernels))]
    value, c, svms = _best_svm(KernelChoice(0.0, 0.0, *early), targets, held_out, multi_label, settings.svm_c_grid)
    both = f"video-level features: spatial {features[0]}, motion {features[1]}, time-averaged"
    detail = (
        f"one SVM on the mean of the two chi2 kernels (widths as chosen per feature), C={c:g}, "
        f"held-out {metric} {value:.4f}; {both}"
    )
    results.append(ComponentResult("svm_ef", svms.decision(early[2]), test.labels, {**columns, "detail": detail}))

    detail = "margins of svm_spatial and svm_motion averaged"
    results.append(ComponentResult("svm_lf", (margins[0] + margins[1]) / 2, test.labels, {**columns, "detail": detail}))

    mkl, c, value = _best_mkl(kernels, targets, held_out, multi_label, settings)
    theta = ", ".join(f"{t:.3f}" for t in mkl.theta)
    ending = f"converged after {mkl.iterations}" if mkl.converged else f"stopped at {mkl.iterations}"
    detail = (
        f"lp-norm MKL p={settings.mkl_p:g} of the two chi2 kernels: theta=({theta}) (spatial, motion), {ending} "
        f"iterations, C={c:g}, held-out {metric} {value:.4f}; {both}"
    )
    scores = mkl.decision([k.test for k in kernels])
    results.append(ComponentResult("svm_mkl", scores, test.labels, {**columns, "detail": detail}, choice=mkl))
    return results


def _best_mkl(
    kernels: list[KernelChoice], targets: np.ndarray, held_out: Part, multi_label: bool, settings: HybridSettings
) -> tuple[MKLResult, float, float]:
    best: tuple[float, float, MKLResult] | None = None
    for c in settings.svm_c_grid:
        mkl = fit_mkl([k.train for k in kernels], targets, c, settings.mkl_p, settings.mkl_tol, settings.mkl_max_iter)
        value = fusion_metric(mkl.decision([k.held_out for k in kernels]), held_out.labels, multi_label)
        if best is None or value > best[0]:
            best = (value, c, mkl)
    assert best is not None
    return best[2], best[1], best[0]


def average_results(by_name: dict[str, ComponentResult]) -> list[ComponentResult]:
    """The plain late averages of :data:`AVERAGES` (the members' test scores, same videos and order)."""
    results = []
    for name, members in AVERAGES.items():
        scores = np.mean([by_name[m].scores for m in members], axis=0)
        labels = by_name[members[0]].labels
        detail = "scores of " + ", ".join(members) + " averaged"
        results.append(ComponentResult(name, scores, labels, {"test_views": 1, "detail": detail}))
    return results
