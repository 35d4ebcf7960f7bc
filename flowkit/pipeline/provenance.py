"""Provenance: which distribution (and version) provided each component of a pipeline.

:func:`component_provenance` lists, for every configured component (``path``, ``coupling``,
``objective``, ``model``, ``solver``, ``data`` and each of ``callbacks``), one plain-data entry::

    {"key": "path", "kind": "path", "name": "trig",
     "distribution": "flowkit-trig", "version": "0.3.0", "entry_point": "trig", "module": "flowkit_trig"}

with the fields of :meth:`flowkit.registry.ComponentSpec.provenance` (a component registered in
process or named by a factory reference has ``entry_point`` ``None`` and names its module; its
``distribution`` is the one holding that module, if any). Checkpoints (``state.json``), the
demo's ``metrics.json`` and benchmark records store these entries.

:func:`check_providers` compares a checkpoint's entries with this process's registry before the
pipeline is built: a component whose name is unknown here raises
:class:`flowkit.exceptions.UnknownComponentError` naming the distribution and version to install
(or the module to import), and one provided by another version of its distribution than the
recorded one gives a :class:`flowkit.exceptions.ProviderVersionWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flowkit import registry
from flowkit.exceptions import ProviderVersionWarning, UnknownComponentError
from flowkit.pipeline.config import COMPONENT_KINDS, ComponentConfig, PipelineConfig

__all__ = ["check_providers", "component_provenance", "configured_components", "provenance_entries"]


def configured_components(config: PipelineConfig) -> Iterator[tuple[str, str, ComponentConfig]]:
    """``(key, kind, component)`` for every configured component; callbacks are keyed ``callbacks[i]``."""
    for key, component in config.components().items():
        yield key, COMPONENT_KINDS[key], component
    for index, callback in enumerate(config.callbacks):
        yield f"callbacks[{index}]", "callback", callback


def _provider(kind: str, name: str) -> dict[str, Any]:
    try:
        return registry.get(kind, name).provenance()
    except UnknownComponentError:
        if not registry.is_reference(name):
            raise
    # A component object whose class cannot be imported by its name (it needs the object on load):
    # its module still says where it came from.
    module = name.partition(registry.REFERENCE_SEPARATOR)[0]
    distribution, version = registry.distribution_of(module) or (None, None)
    return {"distribution": distribution, "version": version, "entry_point": None, "module": module}


def provenance_entries(components: Iterable[tuple[str, str, ComponentConfig]]) -> list[dict[str, Any]]:
    """One provenance entry (see the module docstring) per ``(key, kind, component)``."""
    return [
        {"key": key, "kind": kind, "name": component.name, **_provider(kind, component.name)}
        for key, kind, component in components
    ]


def component_provenance(config: PipelineConfig) -> list[dict[str, Any]]:
    """The provenance entries of every component ``config`` names."""
    return provenance_entries(configured_components(config))


def _install_hint(entry: Mapping[str, Any]) -> str:
    distribution, version = entry.get("distribution"), entry.get("version")
    if distribution:
        pin = f"=={version}" if version else ""
        return (
            f"it was provided by the distribution {distribution} {version or ''}".rstrip()
            + (
                f" (plugin {entry['entry_point']!r})"
                if entry.get("entry_point")
                else f" (module {entry.get('module')!r})"
            )
            + f", which is not installed here: install it with `pip install '{distribution}{pin}'`"
        )
    return (
        f"it was registered in process by the module {entry.get('module')!r}: import that module (or call "
        "flowkit.register) before loading"
    )


def check_providers(config: PipelineConfig, recorded: Any, *, skip: Iterable[str] = ()) -> None:
    """Check that this process provides ``config``'s components as the checkpoint ``recorded`` them.

    ``recorded``: the checkpoint's provenance entries (a list; anything else, e.g. from a
    checkpoint written before provenance was recorded, is ignored); ``skip``: configuration keys
    given as objects. Raises :class:`UnknownComponentError` for a component that cannot be found,
    naming what provided it; warns once with :class:`ProviderVersionWarning` listing the components
    whose distribution is installed at another version.
    """
    entries = (
        {e["key"]: e for e in recorded if isinstance(e, Mapping) and "key" in e} if isinstance(recorded, list) else {}
    )
    skipped = set(skip)
    changed: list[str] = []
    for key, kind, component in configured_components(config):
        entry = entries.get(key)
        if key in skipped or entry is None or entry.get("name") != component.name:
            continue
        try:
            spec = registry.get(kind, component.name)
        except UnknownComponentError as exc:
            if registry.is_reference(component.name) and not entry.get("distribution"):
                continue  # nothing to install: the pipeline's own error says how to rebuild it
            key_name = key.partition("[")[0]
            fix = f" or pass {key_name}=... to Pipeline.load" if key_name in COMPONENT_KINDS else ""
            raise UnknownComponentError(
                f"this checkpoint's {kind} {component.name!r} ({key}) cannot be built: "
                f"{_install_hint(entry)}{fix}.\n{exc}"
            ) from None
        now = spec.provenance()
        if (
            entry.get("distribution")
            and now["distribution"] == entry["distribution"]
            and now["version"] != entry.get("version")
        ):
            changed.append(
                f"{kind} {component.name!r} ({key}): {entry['distribution']} {entry.get('version')} -> {now['version']}"
            )
    if changed:
        warnings.warn(
            "this checkpoint's components were saved with other versions of their distributions than are "
            "installed, so they may behave differently: " + "; ".join(changed),
            ProviderVersionWarning,
            stacklevel=3,
        )
