"""The modules of flowkit's built-in plugins, loaded like any other plugin.

Each module holds :data:`flowkit.hookimpl` functions that register one family of components
(as pytest lists its default plugins); the registry core names no component itself.
"""

BUILTIN_PLUGINS: tuple[str, ...] = (
    "flowkit.paths.plugin",
    "flowkit.couplings.plugin",
    "flowkit.objectives.plugin",
    "flowkit.solvers.plugin",
    "flowkit.models.plugin",
    "flowkit.data.plugin",
    "flowkit.metrics.plugin",
    "flowkit.pipeline.plugin",
    "flowkit.manifolds.plugin",
    "flowkit.discrete.plugin",
)
