r"""Recipes: named, parametrised fragments of a pipeline configuration for published methods.

A recipe fixes the components that define a method and ties their parameters together; the
rest of the configuration (data, model size, training) stays the user's. In a configuration
``recipe = { name = "sb-cfm", sigma = 0.5 }`` (or ``recipe = "sb-cfm"``) is expanded when the
configuration is read; keys given beside it override the recipe's (and a saved configuration
holds the expanded components, so a checkpoint does not depend on the recipe's later changes).

* ``sb-cfm`` (Tong et al., 2023, Schrodinger-bridge CFM): the Brownian-bridge path ``bridge``
  (plugin ``flowkit-bridge``) with noise ``sigma``, paired by entropic OT at the *absolute*
  temperature $\varepsilon = 2 \sigma^2$ (``sinkhorn`` with ``epsilon``), trained with ``cfm``. With this
  temperature the entropic OT plan is the static Schrodinger bridge between the batches for a
  Brownian reference of variance $\sigma^2$, and the bridge path interpolates it in time.
* ``sf2m`` (Tong et al., 2023, simulation-free score and flow matching): the same path and
  coupling, trained with ``sf2m`` on a ``score-flow-mlp``, sampled by ``euler-maruyama`` with the
  learned score and diffusion $g = \sigma$, the Schrodinger bridge's SDE
  $dx = [v + \frac{\sigma^2}{2} \mathrm{score}]\, dt + \sigma\, dW$.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowkit.core.signatures import keyword_names
from flowkit.exceptions import ConfigError
from flowkit.validation import require_float

__all__ = ["RECIPES", "expand_recipe", "recipe", "recipe_names"]


def _sigma(sigma: Any) -> float:
    return require_float("recipe parameter sigma", sigma, above=0.0, error=ConfigError)


def sb_cfm(*, sigma: float = 0.5) -> dict[str, Any]:
    r"""Schrodinger-bridge CFM: ``bridge`` path with $\sigma$, ``sinkhorn`` at $\varepsilon = 2 \sigma^2$, ``cfm``."""
    sigma = _sigma(sigma)
    return {
        "path": {"name": "bridge", "sigma": sigma},
        "coupling": {"name": "sinkhorn", "epsilon": 2 * sigma**2},
        "objective": "cfm",
    }


def sf2m(*, sigma: float = 0.5, steps: int = 100) -> dict[str, Any]:
    """Score and flow matching: ``sb-cfm``'s path and coupling, the ``sf2m`` objective on a
    ``score-flow-mlp``, sampled by ``euler-maruyama`` with the learned score and ``g = sigma``."""
    fragment = sb_cfm(sigma=sigma)
    fragment.update(
        objective="sf2m",
        model="score-flow-mlp",
        solver={"name": "euler-maruyama", "steps": steps, "diffusion": _sigma(sigma), "score": "model"},
    )
    return fragment


RECIPES: dict[str, Callable[..., dict[str, Any]]] = {"sb-cfm": sb_cfm, "sf2m": sf2m}
"""The recipes by name: each a function of keyword parameters returning a config fragment."""


def recipe_names() -> list[str]:
    """The names of the recipes."""
    return sorted(RECIPES)


def recipe(name: str, **params: Any) -> dict[str, Any]:
    """The configuration fragment of recipe ``name`` with ``params``; unknown names or parameters raise ConfigError."""
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}; recipes: {', '.join(recipe_names())}")
    factory = RECIPES[name]
    accepted = keyword_names(factory) or []
    unknown = [key for key in params if key not in accepted]
    if unknown:
        raise ConfigError(f"recipe {name!r} has no parameter {unknown[0]!r}; accepted: {', '.join(accepted)}")
    return factory(**params)


def expand_recipe(value: Any) -> dict[str, Any]:
    """The fragment for a config's ``recipe`` value: a name, or a table with ``name`` and parameters."""
    if isinstance(value, str):
        return recipe(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return recipe(value["name"], **{k: v for k, v in value.items() if k != "name"})
    raise ConfigError(
        f"recipe must be a recipe name or a table with 'name' and parameters ({', '.join(recipe_names())}), got {value!r}"
    )
