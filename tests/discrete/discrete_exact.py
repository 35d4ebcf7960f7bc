"""Brute-force discrete flow matching on a tiny state space, independent of flowkit.discrete.

States of a sequence of ``L`` positions with ``S`` values each (``S = V``, or ``V + 1`` with the
mask token ``V``) are enumerated; the source ``p0`` is uniform or all-mask, the data ``q`` a table
over ``V^L`` sequences, and the mixture path conditionally independent per position.
"""

from __future__ import annotations

import itertools

import torch


def states(num_states: int, length: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(num_states), repeat=length))


def source_probability(value: int, vocab: int, source: str) -> float:
    if source == "uniform":
        return 1.0 / vocab if value < vocab else 0.0
    return 1.0 if value == vocab else 0.0


def conditional(x: tuple[int, ...], x1: tuple[int, ...], kappa: float, vocab: int, source: str) -> float:
    """``P(x_t = x | x1)`` with the source marginalised: prod_i kappa [x_i = x1_i] + (1 - kappa) p0(x_i)."""
    p = 1.0
    for xi, yi in zip(x, x1):
        p *= kappa * (xi == yi) + (1.0 - kappa) * source_probability(xi, vocab, source)
    return p


def marginal(q: dict[tuple[int, ...], float], kappa: float, vocab: int, length: int, source: str) -> dict:
    """``p_t(x) = sum_x1 q(x1) P(x_t = x | x1)`` over every state."""
    num_states = vocab + (source == "mask")
    return {
        x: sum(w * conditional(x, x1, kappa, vocab, source) for x1, w in q.items()) for x in states(num_states, length)
    }


def posterior(q: dict, x: tuple[int, ...], kappa: float, vocab: int, source: str) -> torch.Tensor:
    """``p_{1|t}(y | x)`` per position, ``[L, V]`` (float64); uniform where ``p_t(x) = 0``."""
    table = torch.zeros(len(x), vocab, dtype=torch.float64)
    for x1, w in q.items():
        joint = w * conditional(x, x1, kappa, vocab, source)
        for i, yi in enumerate(x1):
            table[i, yi] += joint
    total = table.sum(dim=1, keepdim=True)
    return torch.where(total > 0, table / total.clamp_min(1e-300), torch.full_like(table, 1.0 / vocab))
