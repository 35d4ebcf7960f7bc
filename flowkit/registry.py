"""The component registry: built-ins and entry-point plugins, looked up by kind and name.

Plugins are modules with :data:`flowkit.hookimpl` functions for the hooks in
:mod:`flowkit.hookspecs`. The registry loads the built-in plugin modules listed in
:data:`flowkit._builtin_plugins.BUILTIN_PLUGINS`, then every entry point of the group
``flowkit`` (unless ``FLOWKIT_DISABLE_PLUGIN_AUTOLOAD=1``), and calls each plugin's hooks
separately, so a plugin that fails to import or to register is recorded in
:attr:`Registry.failures` while the rest keeps working.

Components can also be registered in process, without a distribution:
:func:`register` (``flowkit.register(kind, name, factory, **metadata)``, or as a decorator)
adds one to the default registry, with the module that defines the factory as its provider;
:func:`scoped` restores the registry when its ``with`` block ends (tests, notebooks). In-process
registrations meet the same duplicate-name and parameter checks as plugin registrations.

A component may also be named by a **factory reference** ``"package.module:factory"`` (a
dotted attribute path after the colon, e.g. ``"my_flows.paths:TrigPath"`` or
``"my_flows:Solvers.fast"``) wherever a registered name is accepted: :meth:`Registry.get`
imports the module and uses the attribute as the factory, with the same parameter checks.
Importing a module runs its code, exactly like ``import``; nothing is ever unpickled, and a
module that cannot be imported raises :class:`UnknownComponentError` saying which component
and how to make it importable.

Module-level functions (:func:`names`, :func:`create`, :func:`get`, ...) use a process-wide
default registry built on first use; :func:`reload` rebuilds it (e.g. after installing a plugin)
and keeps the in-process registrations.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib
import importlib.metadata
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pluggy

from flowkit import hookspecs
from flowkit._builtin_plugins import BUILTIN_PLUGINS
from flowkit.core.signatures import binding_problem, keyword_names
from flowkit.exceptions import (
    DuplicateComponentError,
    InvalidParameterError,
    PluginLoadError,
    UnknownComponentError,
    UnknownKindError,
)
from flowkit.validation import short_repr

ENTRY_POINT_GROUP = "flowkit"
REFERENCE_SEPARATOR = ":"
AUTOLOAD_ENV = "FLOWKIT_DISABLE_PLUGIN_AUTOLOAD"
KINDS = hookspecs.KINDS

__all__ = [
    "ENTRY_POINT_GROUP",
    "KINDS",
    "ComponentSpec",
    "PluginFailure",
    "Registry",
    "components",
    "create",
    "default_registry",
    "distribution_of",
    "failures",
    "get",
    "is_reference",
    "names",
    "raise_for_failures",
    "register",
    "reference_to",
    "reload",
    "resolve_reference",
    "scoped",
]


@attrs.frozen
class Provider:
    """Who registered a component: plugin name, distribution and version.

    For an in-process registration (``in_process``) ``plugin`` is the module that defines the
    factory and ``distribution`` and ``version`` are empty.
    """

    plugin: str
    distribution: str
    version: str
    in_process: bool = False


@attrs.frozen
class ComponentSpec:
    """A registered component: its kind, name, factory, provider and metadata."""

    kind: str
    name: str
    factory: Callable[..., Any]
    provider: Provider
    metadata: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def description(self) -> str:
        """The one-line description given at registration (``""`` if none)."""
        return str(self.metadata.get("description", ""))

    def parameters(self) -> list[str]:
        """The keyword parameters the factory accepts (``["**kwargs"]`` if it takes any)."""
        names = keyword_names(self.factory)
        return ["**kwargs"] if names is None else names

    def provenance(self) -> dict[str, str | None]:
        """Who provides this component, as plain data (the fields of ``flowkit plugins --json``).

        ``distribution`` and ``version``: the installed distribution that provides it (for an
        in-process registration or a factory reference, the one whose files hold its module, if
        any; ``None`` otherwise); ``entry_point``: the plugin's name in the ``flowkit``
        entry-point group (``None`` in process); ``module``: the module defining the factory.
        """
        provider = self.provider
        if provider.in_process:
            distribution, version = distribution_of(provider.plugin) or (None, None)
            return {"distribution": distribution, "version": version, "entry_point": None, "module": provider.plugin}
        return {
            "distribution": provider.distribution,
            "version": provider.version,
            "entry_point": provider.plugin,
            "module": getattr(self.factory, "__module__", None),
        }


@attrs.frozen
class PluginFailure:
    """A plugin that failed to load or register: which one, where from, and why."""

    plugin: str
    distribution: str
    entry_point: str
    error: str


def _autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in {"", "0", "false", "no"}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Registry:
    """Components of every kind, from the built-in plugins and the ``flowkit`` entry points."""

    def __init__(self, *, autoload: bool | None = None, builtin_plugins: tuple[str, ...] = BUILTIN_PLUGINS):
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._providers: dict[str, Provider] = {}
        self._components: dict[str, dict[str, ComponentSpec]] = {kind: {} for kind in KINDS}
        self.failures: list[PluginFailure] = []
        self._in_process: dict[tuple[str, str], ComponentSpec] = {}
        from flowkit import __version__

        for module_name in builtin_plugins:
            self._load(module_name, Provider(module_name, "flowkit", __version__), entry_point=module_name)
        if autoload is None:
            autoload = not _autoload_disabled()
        self.autoload = bool(autoload)
        if autoload:
            self._load_entry_points()
        self._collect()

    # -- loading -------------------------------------------------------------------------
    def _load(self, target: str, provider: Provider, *, entry_point: str) -> None:
        try:
            plugin = importlib.import_module(target)
        except Exception as exc:  # a broken plugin must not break flowkit
            self._fail(provider, entry_point, f"import failed: {_describe(exc)}")
            return
        self._register_plugin(plugin, provider, entry_point)

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            provider = Provider(
                ep.name,
                dist.metadata["Name"] if dist is not None else "<unknown>",
                dist.version if dist is not None else "<unknown>",
            )
            where = f"{ep.name} = {ep.value}"
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(provider, where, f"import failed: {_describe(exc)}")
                continue
            self._register_plugin(plugin, provider, where)

    def _register_plugin(self, plugin: object, provider: Provider, entry_point: str) -> None:
        if provider.plugin in self._providers:
            self._fail(provider, entry_point, f"a plugin named {provider.plugin!r} is already loaded")
            return
        try:
            self._pm.register(plugin, name=provider.plugin)
        except Exception as exc:  # pluggy validation errors: wrong hook names or signatures
            self._fail(provider, entry_point, f"invalid plugin: {_describe(exc)}")
            return
        unknown = sorted(c.name for c in self._pm.get_hookcallers(plugin) or [] if not c.has_spec())
        if unknown:
            self._pm.unregister(plugin)
            self._fail(
                provider,
                entry_point,
                f"implements unknown hook(s) {', '.join(unknown)}; "
                f"flowkit's hooks are {', '.join(hookspecs.HOOK_BY_KIND.values())}",
            )
            return
        self._providers[provider.plugin] = provider

    def _fail(self, provider: Provider, entry_point: str, error: str) -> None:
        self.failures.append(PluginFailure(provider.plugin, provider.distribution, entry_point, error))

    def _collect(self) -> None:
        """Call every plugin's hooks one at a time, so one failing plugin spoils nothing else."""
        for kind in KINDS:
            hook = getattr(self._pm.hook, hookspecs.HOOK_BY_KIND[kind])
            for impl in reversed(hook.get_hookimpls()):  # registration order
                provider = self._providers[impl.plugin_name]
                staged: dict[str, ComponentSpec] = {}
                try:
                    impl.function(register=_registrar(kind, provider, staged))
                    for name in staged:
                        existing = self._components[kind].get(name)
                        if existing is not None:
                            raise DuplicateComponentError(
                                f"{kind} {name!r} is provided by both {_provider_label(existing.provider)} "
                                f"and {_provider_label(provider)}; uninstall one of them or rename the component"
                            )
                except Exception as exc:
                    self._fail(provider, impl.plugin_name, f"{hookspecs.HOOK_BY_KIND[kind]} failed: {_describe(exc)}")
                    continue
                self._components[kind].update(staged)

    # -- lookup --------------------------------------------------------------------------
    def _kind(self, kind: str) -> dict[str, ComponentSpec]:
        try:
            return self._components[kind]
        except (KeyError, TypeError):
            raise UnknownKindError(f"unknown component kind {kind!r}; accepted kinds: {', '.join(KINDS)}") from None

    def names(self, kind: str) -> list[str]:
        """The registered names of ``kind``, sorted."""
        return sorted(self._kind(kind))

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The :class:`ComponentSpec` of ``kind``/``name``; unknown names list the alternatives.

        ``name`` may be a factory reference ``"module:factory"`` (see the module docstring).
        """
        components = self._kind(kind)
        try:
            return components[name]
        except (KeyError, TypeError):
            pass
        if isinstance(name, str) and REFERENCE_SEPARATOR in name:
            return resolve_reference(kind, name)
        lines = [f"unknown {kind} {name!r}."]
        close = difflib.get_close_matches(str(name), list(components), n=1)
        if close:
            lines[0] += f" Did you mean {close[0]!r}?"
        if components:
            lines.append(f"Registered {kind} names:")
            for spec in sorted(components.values(), key=lambda s: s.name):
                lines.append(f"  {spec.name:<16} from {_provider_label(spec.provider)}")
        else:
            lines.append(f"No {kind} is registered.")
        if self.failures:
            failed = ", ".join(f.plugin for f in self.failures)
            lines.append(f"Plugins that failed to load (see `flowkit plugins`): {failed}")
        if not self.autoload:
            lines.append(
                f"Plugin autoloading is off ({AUTOLOAD_ENV}={os.environ[AUTOLOAD_ENV]}), so installed plugin "
                f"distributions were not loaded; unset {AUTOLOAD_ENV} to use them."
                if _autoload_disabled()
                else "This registry was built with autoload=False, so installed plugin distributions were not loaded."
            )
        lines.append(
            "A component can also be named by a factory reference 'package.module:factory', or registered "
            "in process with flowkit.register(kind, name, factory)."
        )
        raise UnknownComponentError("\n".join(lines))

    def create(self, kind: str, name: str, **params: Any) -> Any:
        """Build the component ``kind``/``name`` with keyword ``params``.

        An unknown parameter, a missing required one, or a value the factory rejects raises
        :class:`InvalidParameterError` naming the parameter and the accepted ones.
        """
        spec = self.get(kind, name)
        accepted = spec.parameters()
        problem = binding_problem(spec.factory, params, partial=False)
        if problem is not None:
            unknown = [key for key in params if key not in accepted]
            if unknown and not any(a.startswith("**") for a in accepted):
                close = difflib.get_close_matches(unknown[0], accepted, n=1)
                problem = f"unknown parameter {unknown[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            raise InvalidParameterError(
                f"{kind} {name!r}: {problem}. Accepted parameters: {', '.join(accepted) or '(none)'}"
            )
        try:
            return spec.factory(**params)
        except InvalidParameterError as exc:  # already names the parameter: add which component it was
            exc.args = (f"{kind} {name!r}: {exc}", *exc.args[1:])
            raise
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"{kind} {name!r}: invalid parameters {short_repr(params)}: {exc}. "
                f"Accepted parameters: {', '.join(accepted) or '(none)'}"
            ) from exc

    def register(
        self, kind: str, name: str, factory: Callable[..., Any], /, *, replace: bool = False, **metadata: Any
    ) -> ComponentSpec:
        """Register ``factory`` as ``kind``/``name`` in process; the factory's module is its provider.

        The name must be new for its kind (:class:`DuplicateComponentError` names both providers)
        unless ``replace`` is true, which replaces the registered component (a built-in, a
        plugin's or an earlier in-process one). ``metadata`` is stored as a plugin's is
        (``description=`` is shown by ``flowkit plugins``).
        """
        components = self._kind(kind)
        _check_registration(kind, name, factory)
        spec = ComponentSpec(kind, name, factory, Provider(_defining_module(factory), "", "", True), dict(metadata))
        existing = components.get(name)
        if existing is not None and not replace:
            raise DuplicateComponentError(
                f"{kind} {name!r} is provided by both {_provider_label(existing.provider)} and "
                f"{_provider_label(spec.provider)}; choose another name, pass replace=True to replace it, "
                "or register inside `with flowkit.registry.scoped():` so that it is removed afterwards"
            )
        components[name] = spec
        self._in_process[(kind, name)] = spec
        return spec

    @contextlib.contextmanager
    def scoped(self) -> Iterator[Registry]:
        """A ``with`` block after which the registry is as before: registrations made inside are gone."""
        components = {kind: dict(specs) for kind, specs in self._components.items()}
        in_process = dict(self._in_process)
        failures = list(self.failures)
        try:
            yield self
        finally:
            self._components = components
            self._in_process = in_process
            self.failures = failures

    def in_process(self) -> list[ComponentSpec]:
        """The components registered in process (:meth:`register`), in registration order."""
        return list(self._in_process.values())

    def components(self, kind: str | None = None) -> list[ComponentSpec]:
        """Every registered component (of ``kind`` if given), ordered by kind then name."""
        kinds = KINDS if kind is None else (kind,)
        return [spec for k in kinds for _, spec in sorted(self._kind(k).items())]

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying pluggy plugin manager."""
        return self._pm


def _check_registration(kind: str, name: Any, factory: Any) -> None:
    """The checks every registration meets, from a plugin hook or in process."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"component name must be a non-empty string, got {name!r}")
    if ":" in name:
        raise InvalidParameterError(
            f"component name {name!r} must not contain ':' (reserved for factory references 'module:factory')"
        )
    if not callable(factory):
        raise InvalidParameterError(f"factory for {kind} {name!r} is not callable: {factory!r}")


def _registrar(kind: str, provider: Provider, staged: dict[str, ComponentSpec]) -> Callable[..., None]:
    """The ``register(name, factory, **metadata)`` callable handed to one plugin's hook."""

    def register(name: str, factory: Callable[..., Any], **metadata: Any) -> None:
        _check_registration(kind, name, factory)
        if name in staged:
            raise DuplicateComponentError(f"{kind} {name!r} registered twice by plugin {provider.plugin!r}")
        staged[name] = ComponentSpec(kind, name, factory, provider, dict(metadata))

    return register


def is_reference(name: object) -> bool:
    """Whether ``name`` is a factory reference ``"module:factory"`` rather than a registered name."""
    return isinstance(name, str) and REFERENCE_SEPARATOR in name


def reference_to(factory: Callable[..., Any]) -> str | None:
    """The factory reference ``"module:qualname"`` that :func:`resolve_reference` turns back into
    ``factory``, or ``None`` when there is none (a lambda, a function defined inside another,
    an object defined in ``__main__``, a name that does not lead back to ``factory``)."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module == "__main__" or "<" in qualname:
        return None
    reference = f"{module}{REFERENCE_SEPARATOR}{qualname}"
    try:
        found = _import_attribute(module, qualname)
    except Exception:
        return None
    return reference if found is factory else None


def _import_attribute(module_name: str, attribute: str) -> Any:
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def resolve_reference(kind: str, reference: str) -> ComponentSpec:
    """The :class:`ComponentSpec` of the factory reference ``"package.module:factory"``.

    Imports ``package.module`` (running its code) and follows the dotted attribute path after the
    colon. An unimportable module, a missing attribute or a non-callable one raises
    :class:`UnknownComponentError` naming the component and how to fix it.
    """
    module_name, _, attribute = reference.partition(REFERENCE_SEPARATOR)
    where = f"{kind} {reference!r}"
    form = "a factory reference is 'package.module:factory' (a module path, one colon, an attribute path)"
    if (
        not module_name
        or not attribute
        or not all(p.isidentifier() for p in (*module_name.split("."), *attribute.split(".")))
    ):
        raise UnknownComponentError(
            f"{where} is neither a registered {kind} name nor a valid factory reference; {form}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise UnknownComponentError(
                f"{where} cannot be built: module {module_name!r} is not importable in this process. Install the "
                f"distribution that provides it, or add the folder that holds it to PYTHONPATH (or sys.path)"
            ) from None
        raise UnknownComponentError(
            f"{where} cannot be built: importing {module_name!r} failed: {_describe(exc)}"
        ) from exc
    except Exception as exc:
        raise UnknownComponentError(
            f"{where} cannot be built: importing {module_name!r} failed: {_describe(exc)}"
        ) from exc
    target: Any = module
    for depth, part in enumerate(attribute.split(".")):
        if not hasattr(target, part):
            owner = ".".join([module_name, *attribute.split(".")[:depth]])
            close = difflib.get_close_matches(part, [n for n in dir(target) if not n.startswith("_")], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownComponentError(f"{where} cannot be built: {owner!r} has no attribute {part!r}.{hint}")
        target = getattr(target, part)
    if not callable(target):
        raise UnknownComponentError(
            f"{where} cannot be built: {module_name}.{attribute} is a {type(target).__name__}, not a callable factory"
        )
    provider = Provider(module_name, "", "", True)
    return ComponentSpec(
        kind, reference, target, provider, {"description": (inspect.getdoc(target) or "").partition("\n")[0]}
    )


@functools.cache
def _distributions_by_package() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> tuple[str, str] | None:
    """``(distribution, version)`` of the installed distribution whose files hold ``module``
    (by its top-level package), or ``None`` (a module on ``sys.path`` outside any distribution)."""
    names = _distributions_by_package().get(module.partition(".")[0], [])
    for name in names:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        return str(distribution.metadata["Name"]), str(distribution.version)
    return None


def _provider_label(provider: Provider) -> str:
    if provider.in_process:
        return f"module {provider.plugin!r} (registered in process)"
    return f"{provider.distribution} {provider.version} (plugin {provider.plugin!r})"


def _defining_module(factory: Callable[..., Any]) -> str:
    module = getattr(factory, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(factory), "__module__", None)
    return module if isinstance(module, str) else "<unknown>"


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


def reload() -> Registry:
    """Rebuild the default registry (re-reads entry points and the autoload setting).

    In-process registrations are kept; one whose name a newly loaded plugin now provides is
    recorded in :func:`failures` and the plugin's component wins.
    """
    global _default
    previous = _default
    _distributions_by_package.cache_clear()
    _default = Registry()
    for spec in previous.in_process() if previous is not None else ():
        try:
            _default.register(spec.kind, spec.name, spec.factory, **spec.metadata)
        except DuplicateComponentError as exc:
            _default._fail(spec.provider, spec.provider.plugin, _describe(exc))
    return _default


def register(kind: str, name: str, factory: Callable[..., Any] | None = None, /, **metadata: Any) -> Any:
    """Register a component in process: ``flowkit.register("path", "trig", TrigPath, description=...)``.

    Without ``factory`` it is a decorator::

        @flowkit.register("solver", "my-euler", description="Euler, my way")
        class MyEuler(flowkit.FixedStepSolver): ...

    The component is then found by name everywhere a registered one is (``Pipeline`` configs,
    the CLI, benchmark suites run in this process) and listed by ``flowkit plugins`` with the
    defining module as its provider. ``replace=True`` replaces an existing component of that
    name; otherwise a taken name raises :class:`DuplicateComponentError`. Returns the factory
    (so the decorator leaves the class or function unchanged).
    """
    if factory is None:

        def decorate(target: Callable[..., Any]) -> Callable[..., Any]:
            default_registry().register(kind, name, target, **metadata)
            return target

        return decorate
    default_registry().register(kind, name, factory, **metadata)
    return factory


@contextlib.contextmanager
def scoped() -> Iterator[Registry]:
    """A ``with`` block that restores the default registry on exit (tests, notebooks)::

        with flowkit.registry.scoped():
            flowkit.register("path", "trig", TrigPath)
            Pipeline({"path": "trig", ...}).fit()
        # "trig" is unregistered again

    A :func:`reload` inside the block is undone too.
    """
    global _default
    registry = default_registry()
    with registry.scoped():
        try:
            yield registry
        finally:
            _default = registry


def names(kind: str) -> list[str]:
    """The registered names of ``kind`` in the default registry."""
    return default_registry().names(kind)


def get(kind: str, name: str) -> ComponentSpec:
    """The :class:`ComponentSpec` of ``kind``/``name`` in the default registry."""
    return default_registry().get(kind, name)


def create(kind: str, name: str, **params: Any) -> Any:
    """Build a component from the default registry: ``create("path", "ot", sigma_min=1e-4)``."""
    return default_registry().create(kind, name, **params)


def components(kind: str | None = None) -> list[ComponentSpec]:
    """Every component in the default registry (of ``kind`` if given)."""
    return default_registry().components(kind)


def failures() -> list[PluginFailure]:
    """Plugins that failed to load or register in the default registry."""
    return list(default_registry().failures)


def raise_for_failures(registry: Registry | None = None) -> None:
    """Raise :class:`PluginLoadError` describing every failed plugin, if any (for strict setups)."""
    found = (registry or default_registry()).failures
    if found:
        raise PluginLoadError(
            "plugins failed to load:\n"
            + "\n".join(f"  {f.plugin} ({f.distribution}, entry point {f.entry_point}): {f.error}" for f in found)
        )
