"""Closed-form proximal step for the sparse-group-lasso penalty on a fusion layer's weight.

The regularised feature fusion network penalises its fusion weight W (P × D, one row per fusion
unit) with

    g(W) = (λ2 / 2) · ‖W‖_{2,1} + λ3 · ‖W‖_{1,1},    ‖W‖_{2,1} = Σ_r ‖w_r‖_2,  ‖W‖_{1,1} = Σ |w_ij|.

Proximal gradient descent takes a gradient step V on the smooth part of the objective with step
size η, then W ← prox_{η g}(V) = argmin_W 1/(2η)‖W − V‖² + g(W). This prox separates over rows and
is exactly the composition of an element-wise soft threshold and a row-wise group shrinkage:

    U   = sign(V) · max(|V| − η·λ3, 0)
    w_r = max(0, 1 − (η·λ2/2) / ‖u_r‖_2) · u_r

(the sparse-group-lasso prox; Friedman, Hastie & Tibshirani 2010, Simon et al. 2013). The
published update is written with thresholds λ3 and λ2: the step size and the 1/2 of the group
term are absorbed there into the λ's. Here they are explicit, so that η·λ3 and η·λ2/2 are the
thresholds of the objective exactly as written above.
"""
from __future__ import annotations

import torch
from torch import Tensor


def sparse_group_penalty(weight: Tensor, lambda2: float, lambda3: float) -> Tensor:
    """g(W) = (λ2/2)·Σ_r ‖w_r‖_2 + λ3·Σ |w_ij| for a (P × D) weight."""
    return 0.5 * lambda2 * weight.norm(dim=1).sum() + lambda3 * weight.abs().sum()


@torch.no_grad()
def proximal_step_(weight: Tensor, lr: float, lambda2: float, lambda3: float) -> Tensor:
    """Replace the (P × D) ``weight`` in place by prox_{lr·g}(weight) and return it.

    Element threshold ``lr · lambda3``, then row threshold ``lr · lambda2 / 2``; a row whose
    soft-thresholded norm is at most the row threshold becomes exactly zero (that fusion unit
    no longer reads any input). ``lambda2 = lambda3 = 0`` leaves ``weight`` unchanged.
    """
    if weight.dim() != 2:
        raise ValueError(f"proximal_step_ expects a 2-D (P x D) weight, got shape {tuple(weight.shape)}")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if lambda2 < 0 or lambda3 < 0:
        raise ValueError(f"lambda2 and lambda3 must be >= 0, got lambda2={lambda2}, lambda3={lambda3}")
    if lambda3 > 0:
        weight.copy_(torch.nn.functional.softshrink(weight, lr * lambda3))
    if lambda2 > 0:
        group_threshold = 0.5 * lr * lambda2
        norms = weight.norm(dim=1, keepdim=True)
        # An all-zero row stays zero; clamp_min only avoids 0/0.
        scale = (1.0 - group_threshold / norms.clamp_min(torch.finfo(weight.dtype).tiny)).clamp_min(0.0)
        weight.mul_(scale)
    return weight


def zero_row_fraction(weight: Tensor) -> float:
    """Fraction of rows of a 2-D weight that are exactly zero."""
    if weight.dim() != 2:
        raise ValueError(f"zero_row_fraction expects a 2-D weight, got shape {tuple(weight.shape)}")
    return float((weight == 0).all(dim=1).float().mean())
