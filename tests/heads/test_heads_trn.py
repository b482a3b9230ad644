from __future__ import annotations

import itertools
import math

import pytest
import torch

from heads.trn import TRNMultiscaleHead
from heads.tuples import combination_at, draw_ranks, spread_ranks


@pytest.mark.parametrize("n, size", [(3, 2), (4, 3), (8, 5), (8, 8), (16, 8), (16, 15)])
def test_combination_at_follows_itertools_order(n, size):
    expected = list(itertools.combinations(range(n), size))
    if len(expected) > 500:
        ranks = list(range(0, len(expected), 97)) + [len(expected) - 1]
    else:
        ranks = list(range(len(expected)))
    assert [combination_at(n, size, r) for r in ranks] == [expected[r] for r in ranks]
    with pytest.raises(IndexError):
        combination_at(n, size, len(expected))


def test_spread_and_drawn_ranks_are_distinct_and_in_range():
    assert spread_ranks(8, 3) == [1, 4, 6]
    assert spread_ranks(2, 3) == [0, 1] and spread_ranks(1, 3) == [0]
    for total in (3, 4, 8, 12870):
        assert len(set(spread_ranks(total, 3))) == min(3, total)
        drawn = draw_ranks(total, 3)
        assert len(set(drawn)) == 3 and all(0 <= r < total for r in drawn)


@pytest.mark.parametrize("steps", [3, 8, 16])
def test_eval_tuples_are_ordered_unique_and_sized_per_scale(steps):
    head = TRNMultiscaleHead(steps, 5).eval()
    assert [s.scale for s in head.scales] == list(range(steps, 1, -1))
    for scale in head.scales:
        tuples = [tuple(t) for t in scale.tuples().tolist()]
        assert len(tuples) == min(3, math.comb(steps, scale.scale))
        assert len(set(tuples)) == len(tuples)
        for t in tuples:
            assert len(t) == scale.scale and list(t) == sorted(set(t)) and 0 <= t[0] and t[-1] < steps
    assert [tuple(t) for t in head.scales[0].tuples().tolist()] == [tuple(range(steps))]


def test_eval_forward_is_deterministic_whatever_the_rng():
    head = TRNMultiscaleHead(8, 5).eval()
    x = torch.randn(2, 8, 256)
    with torch.no_grad():
        torch.manual_seed(1)
        first = head(x)
        torch.manual_seed(2)
        second = head(x)
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def drawn_tuples(head: TRNMultiscaleHead, seed: int) -> list[list[list[int]]]:
    torch.manual_seed(seed)
    return [scale.tuples().tolist() for scale in head.scales]


def test_training_tuples_are_random_and_seeded():
    head = TRNMultiscaleHead(8, 5).train()
    assert drawn_tuples(head, 0) == drawn_tuples(head, 0)
    assert drawn_tuples(head, 0) != drawn_tuples(head, 1)
    for scale_tuples, scale in zip(drawn_tuples(head, 3), head.scales):
        assert len(scale_tuples) == min(3, math.comb(8, scale.scale))
        assert len({tuple(t) for t in scale_tuples}) == len(scale_tuples)
        assert all(t == sorted(t) and len(t) == scale.scale for t in scale_tuples)


def test_forward_sums_every_tuple_score_of_every_scale():
    torch.manual_seed(0)
    head = TRNMultiscaleHead(4, 5).eval()
    x = torch.randn(2, 4, 256)
    with torch.no_grad():
        expected = torch.zeros(2, 5)
        for scale in head.scales:
            for t in scale.eval_tuples.tolist():
                expected += scale.mlp(x[:, t].flatten(1))
        torch.testing.assert_close(head(x), expected)


def test_training_forward_is_reproducible_under_a_seed():
    head = TRNMultiscaleHead(8, 5).train()
    x = torch.randn(2, 8, 256)
    with torch.no_grad():
        torch.manual_seed(5)
        first = head(x)
        torch.manual_seed(5)
        second = head(x)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
