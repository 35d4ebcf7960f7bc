r"""The likelihood engine: log-densities of flows and bits per dimension.

- :func:`log_prob`: $\log p_1(x)$ in nats by the instantaneous change of variables, integrating
  from $t = 1$ back to $t = 0$ with an exact or Hutchinson divergence
  (:mod:`flowkit.likelihood.engine`, :mod:`flowkit.likelihood.divergence`);
- :func:`sample_with_log_prob`: samples with their log-density from one forward solve;
- :func:`bits_per_dim`: nats to bits per dimension, with the dequantisation term for quantised
  data (:mod:`flowkit.likelihood.bits`).
"""

from flowkit.likelihood.bits import bits_per_dim
from flowkit.likelihood.engine import log_prob, prior_log_prob, sample_with_log_prob

__all__ = ["bits_per_dim", "log_prob", "prior_log_prob", "sample_with_log_prob"]
