"""ordercli: a sandbox of a marketplace's order-cancellation lifecycle, as a command-line tool and a
Python library.

    from ordercli import Sandbox

    world = Sandbox(start="2030-03-04T09:00:00Z", policy="aliexpress")
    order = world.place("alice", "acme", "Blue headset", "19.99")

The names below are imported on first use, so that `ordercli --version` loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The one place the version is written: pyproject.toml reads it from here (setuptools `attr:`), and
# `ordercli --version` prints it without importing anything else.
__version__ = "0.2.0"

__all__ = [
    "NotFound",
    "OrderCliError",
    "Refused",
    "Sandbox",
    "Session",
    "StorageError",
    "UsageError",
    "__version__",
]

_LAZY = {
    "Sandbox": "ordercli.api",
    "Session": "ordercli.api",
    "OrderCliError": "ordercli.core.errors",
    "UsageError": "ordercli.core.errors",
    "NotFound": "ordercli.core.errors",
    "Refused": "ordercli.core.errors",
    "StorageError": "ordercli.core.errors",
}

if TYPE_CHECKING:
    from ordercli.api import Sandbox, Session
    from ordercli.core.errors import NotFound, OrderCliError, Refused, StorageError, UsageError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ordercli' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
