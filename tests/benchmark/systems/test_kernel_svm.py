"""The χ² kernel and the ℓp-norm MKL step against values computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.systems.kernel_svm import (
    chi2_distances,
    chi2_gamma,
    chi2_gram,
    combine_kernels,
    fit_kernel_svms,
    fit_mkl,
    mkl_weight_update,
    one_vs_rest_targets,
)


def test_chi2_kernel_by_hand():
    x = np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([[3.0, 2.0], [0.0, 1.0], [0.0, 3.0]])
    # (1−3)²/4 + 0 = 1;  1²/1 + 1²/1 = 2;  0/0 counts 0, (1−3)²/4 = 1
    assert chi2_distances(x, y)[[0, 1, 2], [0, 1, 2]] == pytest.approx([1.0, 2.0, 1.0])
    assert chi2_distances(x[:1], y[1:2])[0, 0] == pytest.approx(1 / 1 + 1 / 3)  # (1−0)²/1 + (2−1)²/3
    gram = chi2_gram(x, y, gamma=0.5)
    assert gram[0, 0] == pytest.approx(math.exp(-0.5)) and gram[1, 1] == pytest.approx(math.exp(-1.0))
    assert chi2_gram(x, x, gamma=3.0).diagonal() == pytest.approx([1.0, 1.0, 1.0])


def test_chi2_gamma_is_the_width_over_the_mean_distance_between_videos():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # distances 2, 0, 2 between the three pairs
    assert chi2_gamma(train, width=1.0) == pytest.approx(3 / 4)  # mean 4/3
    assert chi2_gamma(train, width=2.0) == pytest.approx(3 / 2)


def test_chi2_kernel_refuses_negative_features():
    with pytest.raises(ValueError, match="non-negative"):
        chi2_gram(np.array([[1.0, -0.5]]), np.array([[1.0, 1.0]]), gamma=1.0)


def test_mkl_step_by_hand():
    # p = 2: θ_m ∝ ‖w_m‖^{2/3}, ‖θ‖_2 = 1. Block norms 1 and 2√2 give θ ∝ (1, 2).
    assert mkl_weight_update(np.array([1.0, 2 * math.sqrt(2)]), p=2) == pytest.approx(np.array([1, 2]) / math.sqrt(5))
    # p = 1: θ_m = ‖w_m‖ / Σ ‖w‖
    assert mkl_weight_update(np.array([1.0, 3.0]), p=1) == pytest.approx([0.25, 0.75])
    theta = mkl_weight_update(np.array([0.3, 0.1, 2.0]), p=2)
    assert np.linalg.norm(theta) == pytest.approx(1.0)


# Two training videos, one per class, and two kernels in which they lie at squared distances
# d_1 = K11 + K22 − 2·K12 = 1 and d_2 = 4. With Σ θ_m K_m the hard-margin SVM has α = 2 / (θ·d) for
# both videos, so ‖w_m‖² = θ_m² α² d_m, and the MKL fixed point θ_m ∝ ‖w_m‖^{2/3} is θ ∝ d.
KERNELS = [0.5 * np.eye(2), 2.0 * np.eye(2)]
DISTANCES = np.array([1.0, 4.0])
TARGETS = one_vs_rest_targets(np.array([0, 1]), 2, multi_label=False)


def test_one_svm_step_and_its_kernel_weight_update_by_hand():
    theta = np.full(2, 1 / math.sqrt(2))
    svms = fit_kernel_svms(combine_kernels(KERNELS, theta), TARGETS, c=100.0)
    alpha = 2 / (theta @ DISTANCES)  # 2√2 / 5
    for machine in svms.machines:
        assert np.abs(machine.dual_coef_[0]) == pytest.approx([alpha, alpha], rel=1e-3)
    forms = svms.dual_quadratic_forms(KERNELS)  # two classes, each α²·d_m
    assert forms == pytest.approx(2 * alpha**2 * DISTANCES, rel=1e-3)
    assert forms == pytest.approx([16 / 25, 64 / 25], rel=1e-3)
    updated = mkl_weight_update(theta * np.sqrt(forms), p=2)
    assert updated == pytest.approx(np.array([1, 2 ** (2 / 3)]) / math.sqrt(1 + 2 ** (4 / 3)), rel=1e-3)


def test_mkl_converges_to_the_hand_solved_weights():
    result = fit_mkl(KERNELS, TARGETS, c=100.0, p=2, tol=1e-9, max_iter=200)
    assert result.converged
    assert result.theta == pytest.approx(DISTANCES / np.linalg.norm(DISTANCES), rel=1e-3)  # (1, 4) / √17
    margins = result.decision(KERNELS)
    assert margins[0, 0] > 0 > margins[1, 0] and margins[1, 1] > 0 > margins[0, 1]


def test_a_class_without_positives_gets_a_constant_margin():
    targets = np.array([[1, 0], [0, 0], [1, 0]])
    svms = fit_kernel_svms(np.eye(3), targets, c=1.0)
    assert svms.decision(np.eye(3))[:, 1].tolist() == [-1.0, -1.0, -1.0]
    assert svms.dual_quadratic_forms([np.eye(3)]).shape == (1,)
