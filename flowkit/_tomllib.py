"""The TOML reader flowkit parses configurations and suites with.

``tomllib`` is in the standard library from Python 3.11; on Python 3.10 (the oldest flowkit
supports) its backport ``tomli``, which has the same API (``loads``, ``load``,
``TOMLDecodeError``), stands in. Import it as ``from flowkit._tomllib import tomllib``.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["tomllib"]
