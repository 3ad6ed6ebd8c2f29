"""The one place the simulation makes a world: an empty in-memory world at `start` under a
policy, built through the World constructor only (the store's internals are free to change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordercli.core.world import CountingWorld, World, empty_tables


def new_tables(start: datetime, policy_meta: dict[str, Any]) -> dict[str, Any]:
    """`policy_meta` is `presets.Loaded.meta()`: the policy as a data file records it."""
    return empty_tables(start, policy_meta)


def new_world(start: datetime, policy_meta: dict[str, Any], history: bool = True) -> World:
    """`history=False`: a world that counts its events and notices but keeps none (CountingWorld),
    for a run whose history no one reads."""
    return (World if history else CountingWorld)(new_tables(start, policy_meta))
