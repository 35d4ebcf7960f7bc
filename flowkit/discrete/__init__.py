r"""Discrete flow matching (Gat et al., 2024) over token sequences $x \in \{0, \dots, V-1\}^L$.

* the mixture schedulers $\kappa(t)$ (``polynomial``, ``cosine``) of :mod:`flowkit.paths.kappa`,
  shared with the geodesic path and re-exported here;
* :mod:`~flowkit.discrete.priors`: token sources ``uniform`` and ``mask`` (mask token ``V``);
* :mod:`~flowkit.discrete.path`: the mixture path ``mixture`` with its CTMC rates;
* :mod:`~flowkit.discrete.objective`: ``discrete-ce`` (cross-entropy) and ``discrete-gkl``;
* :mod:`~flowkit.discrete.model`: the token-model interface and ``discrete-mlp``;
* :mod:`~flowkit.discrete.solver`: the CTMC sampler ``discrete-euler``;
* :mod:`~flowkit.discrete.data`: ``discrete-checkerboard`` and ``markov-text``, exact distributions;
* :mod:`~flowkit.discrete.metric`: ``discrete-tv``, total variation against the exact distribution.

All are registered by :mod:`flowkit.discrete.plugin`, one of flowkit's built-in plugins.
"""

from flowkit.discrete.data import DiscreteCheckerboard, MarkovText, TokenDataset
from flowkit.discrete.metric import TotalVariation, empirical_probabilities, total_variation
from flowkit.discrete.model import TokenMLP, TokenModel
from flowkit.discrete.objective import DiscreteFlowMatching, position_losses
from flowkit.discrete.path import MIXTURE, TOKEN_STATE, MixturePath
from flowkit.discrete.priors import MaskTokens, TokenPrior, UniformTokens, token_prior
from flowkit.discrete.solver import DiscreteEuler
from flowkit.paths.kappa import KAPPA_SCHEDULERS, CosineKappa, KappaScheduler, PolynomialKappa, kappa_scheduler

__all__ = [
    "KAPPA_SCHEDULERS",
    "MIXTURE",
    "TOKEN_STATE",
    "CosineKappa",
    "DiscreteCheckerboard",
    "DiscreteEuler",
    "DiscreteFlowMatching",
    "KappaScheduler",
    "MarkovText",
    "MaskTokens",
    "MixturePath",
    "PolynomialKappa",
    "TokenDataset",
    "TokenMLP",
    "TokenModel",
    "TokenPrior",
    "TotalVariation",
    "UniformTokens",
    "empirical_probabilities",
    "kappa_scheduler",
    "position_losses",
    "token_prior",
    "total_variation",
]
