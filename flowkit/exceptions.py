"""Exception types raised by flowkit.

Every error flowkit raises on bad input derives from :class:`FlowkitError`, and also from the
built-in exception a Python user would expect (``LookupError`` for unknown names, ``ValueError``
for invalid values, ``TypeError`` for wrong shapes), so ``except ValueError`` keeps working.
Messages name what was wrong and what is accepted.
"""

from __future__ import annotations


class FlowkitError(Exception):
    """Base class of every error flowkit raises on purpose."""


class UnknownKindError(FlowkitError, LookupError):
    """A component kind that the registry does not know (accepted kinds are listed)."""

    def __str__(self) -> str:  # LookupError's str() would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownComponentError(FlowkitError, LookupError):
    """A component name that is not registered for its kind (registered names are listed)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(FlowkitError, ValueError):
    """Two plugins registered the same (kind, name); both providers are named."""


class PluginLoadError(FlowkitError, RuntimeError):
    """A plugin failed to import or to register its components."""


class InvalidParameterError(FlowkitError, ValueError):
    """An unknown or invalid parameter or argument value (factory parameters, times out of range)."""


class ParameterTypeError(InvalidParameterError, TypeError):
    """A parameter or argument of the wrong type (not callable, not the component class needed, ...)."""


class CapabilityError(InvalidParameterError, TypeError):
    """A component lacks a method or attribute that a component it is combined with needs
    (e.g. the ``fm`` objective and a path without ``marginal_vector_field``); the member is named."""


class ShapeError(FlowkitError, TypeError):
    """A tensor argument has the wrong shape or dtype for a public interface."""


class NonFiniteError(FlowkitError, FloatingPointError):
    """A tensor that must be finite (input, loss, ODE state) contains NaN or infinity."""


class SolverError(FlowkitError, RuntimeError):
    """An ODE solve (step limit reached, step size underflow, ...) or an assignment solve could not complete."""


class ConfigError(FlowkitError, ValueError):
    """A pipeline or benchmark configuration is malformed (unknown key, wrong type, ...)."""


class CheckpointError(FlowkitError, OSError):
    """A checkpoint directory is missing, incomplete or corrupt."""


class NotRebuildableWarning(UserWarning):
    """A component object given to a pipeline cannot be recorded as a factory reference with
    plain-data parameters: a saved pipeline holds its state but needs the object again on load."""


class DataFilesError(FlowkitError, FileNotFoundError):
    """A data set's files are missing or malformed; the message names the files and where to put them."""


class OutputError(FlowkitError, OSError):
    """An output file or directory cannot be written (missing directory, no permission, disk full)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT / SIGTERM (see :mod:`flowkit.pipeline.interrupts`).

    Not a :class:`FlowkitError` (nothing was wrong), but a ``KeyboardInterrupt``, so a script that
    does not catch it stops as on Ctrl-C. ``step``: the steps taken; ``checkpoint``: the
    checkpoint directory holding the state kept (``None`` without one); ``checkpoint_step``: the
    step of that checkpoint (``step`` after a graceful stop, earlier after an abort); ``signal``:
    the signal's name; ``aborted``: whether a second signal ended the run without a new checkpoint.
    """

    def __init__(
        self,
        message: str,
        *,
        step: int,
        checkpoint: str | None,
        checkpoint_step: int | None,
        signal: str,
        aborted: bool,
    ):
        super().__init__(message)
        self.step = step
        self.checkpoint = checkpoint
        self.checkpoint_step = checkpoint_step
        self.signal = signal
        self.aborted = aborted

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ProviderVersionWarning(UserWarning):
    """A checkpoint's component was provided by another version of its distribution than the
    one installed: it loads, but may behave differently."""
