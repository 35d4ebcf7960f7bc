"""Registers the discrete flow-matching family: path ``mixture``, objectives ``discrete-ce`` and
``discrete-gkl``, model ``discrete-mlp``, solver ``discrete-euler``, data sets
``discrete-checkerboard`` and ``markov-text``, metric ``discrete-tv``."""

from __future__ import annotations

import functools

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    from flowkit.discrete.path import MixturePath

    register(
        "mixture",
        MixturePath,
        description="discrete mixture path over tokens, kappa(t) delta_x1 + (1-kappa) delta_x0 (source='uniform'|'mask', scheduler=, exponent=)",
    )


@hookimpl
def flowkit_register_objectives(register: Register) -> None:
    from flowkit.discrete.objective import DiscreteFlowMatching

    register(
        "discrete-ce",
        DiscreteFlowMatching,
        description="discrete flow matching: cross-entropy of x1 under the model's p_{1|t}(. | x_t)",
    )
    register(
        "discrete-gkl",
        functools.partial(DiscreteFlowMatching, form="generalized-kl"),
        description="discrete flow matching: generalized KL between true and modelled CTMC rates",
    )


@hookimpl
def flowkit_register_models(register: Register) -> None:
    from flowkit.discrete.model import TokenMLP

    register(
        "discrete-mlp",
        TokenMLP,
        description="token MLP: logits of p_{1|t} [batch, length, vocab] (vocab_size=, length=)",
    )


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    from flowkit.discrete.solver import DiscreteEuler

    register(
        "discrete-euler",
        DiscreteEuler,
        description="CTMC Euler jumps of a discrete path (steps=, final='sample'|'argmax', seed=, div_free=)",
    )


@hookimpl
def flowkit_register_datasets(register: Register) -> None:
    from flowkit.discrete.data import DiscreteCheckerboard, MarkovText

    register(
        "discrete-checkerboard",
        DiscreteCheckerboard,
        description="checkerboard as token pairs (column, row) on a grid (exact probabilities)",
    )
    register(
        "markov-text", MarkovText, description="token sequences of a fixed random Markov chain (exact probabilities)"
    )


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    from flowkit.discrete.metric import TotalVariation

    register(
        "discrete-tv",
        TotalVariation,
        description="total variation of token samples against the exact distribution (joint and per position)",
    )
