"""Metrics that read the data set itself, not only held-out points: :class:`DataMetric`.

Some measurements need more than ``EvaluationContext.reference``: the data's exact density
(``data-density``) or further independent draws of the data (``noise-floor``). Such a metric
subclasses :class:`DataMetric` and implements :meth:`DataMetric.measure`, which receives the
:class:`flowkit.Dataset` beside the context; :meth:`flowkit.Pipeline.evaluate` passes its data
set. Called with a context alone, a data metric raises a clear error.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

from flowkit.core import Dataset, EvaluationContext, Metric
from flowkit.exceptions import InvalidParameterError


class DataMetric(Metric):
    """A :class:`flowkit.Metric` that also needs the data set (see :meth:`measure`)."""

    name: str = "data metric"

    @abstractmethod
    def measure(self, context: EvaluationContext, dataset: Dataset) -> Mapping[str, float]:
        """``{metric_name: value}`` from ``context`` and the ``dataset`` the reference was drawn from."""

    def __call__(self, context: EvaluationContext) -> Mapping[str, float]:
        """Refuse: a data metric needs the data set (``measure(context, dataset)``)."""
        raise InvalidParameterError(
            f"metric {self.name!r} needs the data set as well as the EvaluationContext: call "
            f"metric.measure(context, dataset) (flowkit.Pipeline.evaluate does)"
        )
