"""The objective interface: a training loss for a vector-field model.

An objective factory is called by a pipeline with keyword arguments: ``path=`` (the built
:class:`flowkit.ProbabilityPath`), ``coupling=`` (the built :class:`flowkit.Coupling`), then the
configured parameters, and ``reference=`` (the training data ``[n, *dims]``) when the factory
accepts a ``reference`` parameter that the configuration leaves unset. What the objective needs
from the path is declared in :attr:`Objective.path_requirements` and checked before it is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.core.capabilities import PRIOR, TIME_RANGE, Capability
from flowkit.core.construction import RecordsArguments
from flowkit.core.model import VectorFieldModel
from flowkit.core.path import ProbabilityPath


class Objective(RecordsArguments, ABC):
    """A loss ``L(theta)`` estimated on a data batch; built on a path and a coupling.

    ``path_requirements`` lists the :class:`flowkit.core.capabilities.Capability` objects the
    objective needs from its path (default: its prior and its time range); a subclass that calls
    more of the path adds them, e.g. ``(*Objective.path_requirements, MARGINAL_FIELD)``.

    ``accepts_paired_sources`` declares that :meth:`loss` also takes ``x0=``: source points
    already paired with ``x1`` (by a coupling solved elsewhere, e.g. one step ahead on a worker
    thread), in which case it draws neither from the prior nor from its coupling.
    """

    path: ProbabilityPath
    path_requirements: ClassVar[tuple[Capability, ...]] = (PRIOR, TIME_RANGE)
    accepts_paired_sources: ClassVar[bool] = False

    @abstractmethod
    def loss(
        self,
        *,
        model: VectorFieldModel,
        x1: Tensor,
        y: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """A scalar Monte-Carlo estimate of the loss on the data batch ``x1`` (labels ``y``)."""
