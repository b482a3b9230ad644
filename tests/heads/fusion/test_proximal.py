from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from heads.fusion.proximal import (
    proximal_step_,
    sparse_group_penalty,
    zero_row_fraction,
)


def prox_objective(w: np.ndarray, v: np.ndarray, lr: float, lambda2: float, lambda3: float) -> float:
    """1/(2·lr)‖W − V‖² + (λ2/2)‖W‖_{2,1} + λ3‖W‖_{1,1}, written independently of the module."""
    return (
        ((w - v) ** 2).sum() / (2 * lr)
        + 0.5 * lambda2 * np.sqrt((w**2).sum(axis=1)).sum()
        + lambda3 * np.abs(w).sum()
    )


def numeric_prox(v: np.ndarray, lr: float, lambda2: float, lambda3: float) -> np.ndarray:
    """L-BFGS on a smoothed objective (|x| ≈ √(x² + ε²), ‖w‖ ≈ √(‖w‖² + ε²)), started from V,
    with ε shrunk step by step (each solve starts from the previous one)."""
    shape = v.shape
    w = v.ravel()
    for eps in (1e-2, 1e-4, 1e-6, 1e-8):

        def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
            w = flat.reshape(shape)
            row = np.sqrt((w**2).sum(axis=1, keepdims=True) + eps**2)
            element = np.sqrt(w**2 + eps**2)
            value = ((w - v) ** 2).sum() / (2 * lr) + 0.5 * lambda2 * row.sum() + lambda3 * element.sum()
            grad = (w - v) / lr + 0.5 * lambda2 * w / row + lambda3 * w / element
            return value, grad.ravel()

        options = {"maxiter": 20000, "gtol": 1e-13, "ftol": 1e-16}
        w = minimize(fun, w, jac=True, method="L-BFGS-B", options=options).x
    return w.reshape(shape)


@pytest.mark.parametrize(
    "seed, lr, lambda2, lambda3",
    [(0, 0.7, 1.0, 0.3), (1, 0.1, 8.0, 0.5), (2, 1.0, 0.5, 0.0), (3, 0.5, 0.0, 0.8), (4, 0.3, 12.0, 2.0)],
)
def test_closed_form_matches_numerical_minimisation(seed, lr, lambda2, lambda3):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(6, 5))
    closed = proximal_step_(torch.tensor(v), lr, lambda2, lambda3).numpy()
    numeric = numeric_prox(v, lr, lambda2, lambda3)
    f_closed = prox_objective(closed, v, lr, lambda2, lambda3)
    f_numeric = prox_objective(numeric, v, lr, lambda2, lambda3)
    assert f_closed <= f_numeric + 1e-9
    np.testing.assert_allclose(closed, numeric, atol=1e-4)
    # A convex function with no better point nearby is at its global minimum.
    for _ in range(200):
        probe = closed + 1e-3 * rng.normal(size=v.shape)
        assert f_closed <= prox_objective(probe, v, lr, lambda2, lambda3) + 1e-12


def test_thresholds_are_lr_lambda3_and_half_lr_lambda2():
    v = torch.tensor([[3.0, -4.0], [0.2, 0.1]], dtype=torch.float64)
    lr, lambda2, lambda3 = 0.5, 2.0, 1.0
    w = proximal_step_(v.clone(), lr, lambda2, lambda3)
    # Soft threshold 0.5: first row (2.5, −3.5), norm √18.5; group threshold 0.5 · 2 / 2 = 0.5.
    u = torch.tensor([2.5, -3.5], dtype=torch.float64)
    torch.testing.assert_close(w[0], (1 - 0.5 / u.norm()) * u)
    assert torch.equal(w[1], torch.zeros(2, dtype=torch.float64))


def test_zero_penalties_are_the_identity():
    v = torch.randn(7, 9)
    w = v.clone()
    proximal_step_(w, 0.7, 0.0, 0.0)
    assert torch.equal(w, v)


def test_step_is_in_place_without_grad():
    weight = torch.nn.Parameter(torch.randn(4, 3))
    before = weight.data_ptr()
    out = proximal_step_(weight, 0.1, 5.0, 0.1)
    assert out.data_ptr() == before and out is weight
    assert weight.grad_fn is None and weight.requires_grad


def test_zero_rows_grow_with_lambda2():
    torch.manual_seed(0)
    v = torch.randn(50, 8)
    lambdas = [0.0, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 20.0]
    fractions = [zero_row_fraction(proximal_step_(v.clone(), 0.5, lam, 0.1)) for lam in lambdas]
    assert all(a <= b for a, b in zip(fractions, fractions[1:]))
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(set(fractions)) >= 4  # strictly increasing over a range, not a single jump


def test_penalty_decreases_and_bad_input_is_rejected():
    v = torch.randn(5, 4, dtype=torch.float64)
    w = proximal_step_(v.clone(), 0.3, 2.0, 0.4)
    assert sparse_group_penalty(w, 2.0, 0.4) < sparse_group_penalty(v, 2.0, 0.4)
    with pytest.raises(ValueError, match="2-D"):
        proximal_step_(torch.randn(3), 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="lr"):
        proximal_step_(torch.randn(3, 2), 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="lambda"):
        proximal_step_(torch.randn(3, 2), 0.1, -1.0, 1.0)
