"""Ordered frame tuples for relation heads, addressed by their rank in ``itertools.combinations``.

Ranks are unranked on demand, so no scale ever materialises its full combination list
(C(16, 8) = 12,870 tuples for T = 16).
"""
from __future__ import annotations

import math

import torch


def combination_at(n: int, size: int, rank: int) -> tuple[int, ...]:
    """The ``rank``-th tuple of ``itertools.combinations(range(n), size)`` (lexicographic order)."""
    total = math.comb(n, size)
    if not 0 <= rank < total:
        raise IndexError(f"rank {rank} out of range for C({n}, {size}) = {total}")
    chosen: list[int] = []
    candidate = 0
    for position in range(size):
        remaining = size - position - 1
        while True:
            starting_here = math.comb(n - candidate - 1, remaining)
            if rank < starting_here:
                break
            rank -= starting_here
            candidate += 1
        chosen.append(candidate)
        candidate += 1
    return tuple(chosen)


def spread_ranks(total: int, count: int) -> list[int]:
    """``count`` distinct ranks evenly spread over ``range(total)``: the centre of each of ``count``
    equal slices of the list (all ranks when ``total <= count``)."""
    if total <= count:
        return list(range(total))
    return [(2 * i + 1) * total // (2 * count) for i in range(count)]


def draw_ranks(total: int, count: int) -> list[int]:
    """``count`` distinct ranks drawn uniformly from ``range(total)`` with torch's global RNG
    (all ranks when ``total <= count``). O(count) draws whatever ``total`` is."""
    if total <= count:
        return list(range(total))
    drawn: list[int] = []
    while len(drawn) < count:
        rank = int(torch.randint(total, (1,)).item())
        if rank not in drawn:
            drawn.append(rank)
    return drawn


def tuples_tensor(n: int, size: int, ranks: list[int]) -> torch.Tensor:
    """(len(ranks), size) long tensor of the tuples at ``ranks``."""
    return torch.tensor([combination_at(n, size, r) for r in ranks], dtype=torch.long)
