"""Late fusion of per-video class scores of several streams (spatial / motion CNNs, LSTMs, fusion nets).

A fusion is fitted on scores of a held-out part carved out of the TRAINING set (a run's
``holdout_fraction``, :func:`datamodules.sampling.holdout.hold_out`): the streams are trained on the rest,
score the held-out videos, and the fusion learns from those scores only. ``fit_score_fusion``
takes validation arrays and nothing else, so test scores cannot leak into the fitted weights or C;
the returned :class:`FittedFusion` is immutable and only applies what was fitted.

Methods (input scores: per stream an (N, K) array of softmax scores, or of per-class sigmoid
scores for multi-label data):

* ``average``: the mean of the streams' scores (the two-stream baseline);
* ``weighted_average``: Σ_s w_s·scores_s with w on the simplex, found by exhaustive grid search with
  step 1/``weight_steps`` (default 1/20 = 0.05) maximising top-1 accuracy, or mAP over classes for
  multi-label data; ties go to the lower log loss of the fused scores (so a useless stream whose
  weight does not change the top-1 still gets weight 0), then to the first grid point;
* ``linear_svm``: a linear SVM (sklearn ``LinearSVC``, one-vs-rest, also for multi-label data) on
  the concatenated scores of all streams, C chosen from ``svm_c_grid`` by 3-fold cross-validation
  inside the held-out part (stratified where every class has 3 examples), then refitted on the whole
  held-out part. Its fused scores are SVM margins, not probabilities: rank and argmax them only.

Multi-label metrics (the weight search, the SVM's cross-validation) are the mean average precision
over the classes that have a positive example (:func:`benchmark.results.metrics.mean_average_precision`):
a held-out part or fold may lack a rare class, which would otherwise count as AP 0.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from benchmark.results.metrics import mean_average_precision

FusionMethod = Literal["average", "weighted_average", "linear_svm"]
METHODS: tuple[str, ...] = ("average", "weighted_average", "linear_svm")

WEIGHT_STEPS = 20
SVM_C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
SVM_FOLDS = 3
SVM_MAX_ITER = 20_000
LOG_EPS = 1e-12


def _check_scores(scores: Sequence[np.ndarray], what: str) -> list[np.ndarray]:
    if len(scores) < 1:
        raise ValueError(f"{what}: no streams given")
    arrays = [np.asarray(s, dtype=np.float64) for s in scores]
    shape = arrays[0].shape
    for s, a in enumerate(arrays):
        if a.ndim != 2 or a.shape != shape:
            raise ValueError(f"{what}: stream {s} has shape {a.shape}, expected (N, K) like stream 0 {shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{what}: stream {s} has non-finite scores")
    if shape[0] < 1:
        raise ValueError(f"{what}: no items")
    return arrays


def _check_labels(labels: np.ndarray, num_items: int, num_classes: int, multi_label: bool) -> np.ndarray:
    labels = np.asarray(labels)
    if multi_label:
        if labels.shape != (num_items, num_classes) or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"multi-label targets must be a 0/1 ({num_items}, {num_classes}) matrix, got {labels.shape}")
        return labels.astype(np.int64)
    if labels.shape != (num_items,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"single-label targets must be ({num_items},) class indices, got {labels.dtype} {labels.shape}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"class indices must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return labels.astype(np.int64)


def fusion_metric(scores: np.ndarray, labels: np.ndarray, multi_label: bool) -> float:
    """Top-1 accuracy, or the mAP over the classes that have a positive example."""
    if multi_label:
        return mean_average_precision(scores, labels, scores.shape[1], multi_label=True)
    return float(np.mean(scores.argmax(axis=1) == labels))


def multilabel_map_scorer() -> object:
    """A scikit-learn scorer: :func:`fusion_metric` of a one-vs-rest estimator's decision values."""
    return make_scorer(
        lambda labels, decision: fusion_metric(np.asarray(decision, dtype=np.float64), labels, True),
        response_method="decision_function",
    )


def _log_loss(scores: np.ndarray, labels: np.ndarray, multi_label: bool) -> float:
    p = np.clip(scores, LOG_EPS, 1.0)
    if multi_label:
        q = np.clip(1.0 - scores, LOG_EPS, 1.0)
        return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(q)))
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def simplex_grid(num_streams: int, steps: int) -> np.ndarray:
    """All weight vectors with entries in {0, 1/steps, …, 1} summing to 1, one per row."""
    if steps < 1:
        raise ValueError(f"weight_steps must be >= 1, got {steps}")
    rows = [c for c in itertools.product(range(steps + 1), repeat=num_streams - 1) if sum(c) <= steps]
    return np.array([(*c, steps - sum(c)) for c in rows], dtype=np.float64) / steps


@dataclass(frozen=True)
class FittedFusion:
    """A fitted score fusion; :meth:`predict_scores` applies it to new (test) scores."""

    method: str
    num_streams: int
    num_classes: int
    multi_label: bool
    weights: tuple[float, ...] | None
    svm_c: float | None
    validation_score: float  # fused held-out metric (linear_svm: mean cross-validated metric of the chosen C)
    svm: Any = field(default=None, repr=False, compare=False)

    def predict_scores(self, scores: Sequence[np.ndarray]) -> np.ndarray:
        """(N, K) fused scores of per-stream (N, K) scores, streams in the order used for fitting."""
        arrays = _check_scores(scores, "predict_scores")
        if len(arrays) != self.num_streams or arrays[0].shape[1] != self.num_classes:
            raise ValueError(
                f"fitted on {self.num_streams} streams of {self.num_classes} classes, "
                f"got {len(arrays)} streams of {arrays[0].shape[1]}"
            )
        if self.method == "linear_svm":
            return _svm_scores(self.svm, np.concatenate(arrays, axis=1), self.num_classes)
        assert self.weights is not None
        return sum(w * a for w, a in zip(self.weights, arrays))

    def describe(self) -> str:
        metric = "mAP" if self.multi_label else "top-1"
        if self.method == "linear_svm":
            fitted = f"C={self.svm_c:g}"
        else:
            fitted = "weights=(" + ", ".join(f"{w:.3g}" for w in self.weights or ()) + ")"
        return f"{self.method} {fitted}, held-out {metric} {self.validation_score:.4f}"


def _svm_scores(svm: Any, features: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, K) decision values; classes the SVM never saw get each row's lowest value − 1."""
    decision = svm.decision_function(features)
    classes = svm.classes_
    if decision.ndim == 1:  # binary LinearSVC: one margin for classes_[1]
        decision = np.stack([-decision, decision], axis=1)
    out = np.repeat(decision.min(axis=1, keepdims=True) - 1.0, num_classes, axis=1)
    out[:, classes] = decision
    return out


def _fit_weights(
    arrays: list[np.ndarray], labels: np.ndarray, multi_label: bool, steps: int
) -> tuple[tuple[float, ...], float]:
    best_key, best_weights = None, None
    for weights in simplex_grid(len(arrays), steps):
        fused = sum(w * a for w, a in zip(weights, arrays))
        score = fusion_metric(fused, labels, multi_label)
        key = (score, -_log_loss(fused, labels, multi_label))
        if best_key is None or key > best_key:
            best_key, best_weights = key, weights
    return tuple(float(w) for w in best_weights), best_key[0]


def _fit_svm(
    features: np.ndarray, labels: np.ndarray, multi_label: bool, c_grid: Sequence[float], seed: int
) -> tuple[Any, float, float]:
    base = LinearSVC(max_iter=SVM_MAX_ITER, random_state=seed)
    if multi_label:
        estimator, grid, scoring = OneVsRestClassifier(base), {"estimator__C": list(c_grid)}, multilabel_map_scorer()
        cv = KFold(SVM_FOLDS, shuffle=True, random_state=seed)
    else:
        counts = np.bincount(labels)
        if len(np.unique(labels)) < 2:
            raise ValueError("linear_svm needs at least two classes in the held-out labels")
        estimator, grid, scoring = base, {"C": list(c_grid)}, "accuracy"
        stratified = counts[counts > 0].min() >= SVM_FOLDS
        cv = (StratifiedKFold if stratified else KFold)(SVM_FOLDS, shuffle=True, random_state=seed)
    search = GridSearchCV(estimator, grid, scoring=scoring, cv=cv, refit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # folds without a positive example of some class (CCV's rare classes)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        search.fit(features, labels)
    c = float(next(iter(search.best_params_.values())))
    return search.best_estimator_, c, float(search.best_score_)


def fit_score_fusion(
    method: FusionMethod,
    val_scores: Sequence[np.ndarray],
    val_labels: np.ndarray,
    multi_label: bool = False,
    *,
    weight_steps: int = WEIGHT_STEPS,
    svm_c_grid: Sequence[float] = SVM_C_GRID,
    seed: int = 0,
) -> FittedFusion:
    """Fit ``method`` on held-out scores (one (N, K) array per stream) and their labels
    ((N,) class indices, or an (N, K) 0/1 matrix when ``multi_label``)."""
    if method not in METHODS:
        raise ValueError(f"unknown score fusion {method!r}; known: {', '.join(METHODS)}")
    arrays = _check_scores(val_scores, "fit_score_fusion")
    num_items, num_classes = arrays[0].shape
    labels = _check_labels(val_labels, num_items, num_classes, multi_label)
    common = dict(method=method, num_streams=len(arrays), num_classes=num_classes, multi_label=multi_label)
    if method == "linear_svm":
        svm, c, cv_score = _fit_svm(np.concatenate(arrays, axis=1), labels, multi_label, svm_c_grid, seed)
        return FittedFusion(**common, weights=None, svm_c=c, validation_score=cv_score, svm=svm)
    if method == "average":
        weights = tuple(1.0 / len(arrays) for _ in arrays)
        fused = sum(w * a for w, a in zip(weights, arrays))
        score = fusion_metric(fused, labels, multi_label)
    else:
        weights, score = _fit_weights(arrays, labels, multi_label, weight_steps)
    return FittedFusion(**common, weights=weights, svm_c=None, validation_score=score)
