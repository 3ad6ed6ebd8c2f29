"""`simulate --sweep KEY=V1,V2,...`: one policy with one (or, over several --sweep, every
combination of) scalar keys set to each value in turn. Each point is a policy of its own and
runs on the very same orders as the others (the shards draw the plans once, then run every
point), so the report's paired differences against the first point are free of population
noise.

A value is read as the key's current value is typed: an integer key takes an integer, a text
key (a duration, a zone, `cancel`/`lapse`) takes the text as given. A list or a table (say
`ewallets`, or `refund_within` as a whole) cannot be swept: name one entry
(`refund_within.card`) or compare policy files instead.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

from ordercli.core.errors import UsageError

MAX_POINTS = 64  # a grid beyond this is a mistake more often than a plan


@dataclass(frozen=True)
class Axis:
    key: str  # dotted for a table entry: refund_within.card
    values: tuple[Any, ...]


def _bad(message: str) -> UsageError:
    return UsageError(f"--sweep: {message}", "bad_sweep")


def _current(values: dict[str, Any], key: str) -> Any:
    """The value a dotted key has in the resolved policy; exit 2 when there is no such key."""
    node: Any = values
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            where = ".".join(parts[: i + 1])
            if isinstance(node, dict) and i == 0:
                known = ", ".join(sorted(k for k in node if k != "extends"))
                raise _bad(f"{where!r} is not a policy key (keys: {known})")
            raise _bad(f"{where!r} is not a policy key")
        node = node[part]
    return node


def _typed(text: str, like: Any, key: str) -> Any:
    if isinstance(like, bool):
        if text not in ("true", "false"):
            raise _bad(f"{key}: {text!r} is not true or false")
        return text == "true"
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            raise _bad(f"{key}: {text!r} is not an integer") from None
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError:
            raise _bad(f"{key}: {text!r} is not a number") from None
    return text


def parse(option: str, values: dict[str, Any]) -> Axis:
    """One `--sweep KEY=V1,V2,...` against the resolved values of the swept policy."""
    key, eq, rest = option.partition("=")
    key = key.strip()
    if not eq or not key:
        raise _bad(f"{option!r} is not KEY=V1,V2,... (e.g. seller_response_within=24h,48h,72h)")
    like = _current(values, key)
    if isinstance(like, (list, dict)):
        kind = "a list" if isinstance(like, list) else "a table"
        hint = f" (sweep one entry, e.g. {key}.{next(iter(like))})" if isinstance(like, dict) and like else ""
        raise _bad(f"{key!r} is {kind}: compare policy files with several --policy instead{hint}")
    texts = [v.strip() for v in rest.split(",")]
    if not rest.strip() or any(not t for t in texts):
        raise _bad(f"{key}: expected comma-separated values, got {rest!r}")
    typed = tuple(_typed(t, like, key) for t in texts)
    if len(set(map(repr, typed))) != len(typed):
        raise _bad(f"{key}: a value is given twice in {rest!r}")
    return Axis(key, typed)


def _set(values: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = values
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in point.items())


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def points(base_name: str, base_meta: dict[str, Any], axes: list[Axis]) -> list[tuple[str, dict[str, Any], dict]]:
    """Every combination, the first axis varying slowest, as (label, policy meta, point):
    each policy checked as `policy use` would check it (exit 2 naming the bad value)."""
    from ordercli.core.policy import policy_from_mapping

    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise _bad("a key is swept twice")
    for a, b in itertools.permutations(keys, 2):
        if b.startswith(a + "."):
            raise _bad(f"{a!r} and {b!r} overlap")
    combos = list(itertools.product(*(a.values for a in axes)))
    if len(combos) > MAX_POINTS:
        raise _bad(f"{len(combos)} points is more than {MAX_POINTS}: sweep fewer values")
    out = []
    for combo in combos:
        point = dict(zip(keys, combo, strict=True))
        values = copy.deepcopy(base_meta["values"])
        origins = dict(base_meta["origins"])
        for k, v in point.items():
            _set(values, k, v)
            origins[k] = "sweep"
        name = label(point)
        try:
            policy_from_mapping(values, name)
        except UsageError as exc:
            raise _bad(f"{name}: {exc.message}") from None
        meta = {**base_meta, "values": values, "origins": origins}
        out.append((name, meta, point))
    return out


def axis_numbers(values: tuple[Any, ...]) -> list[float] | None:
    """The values as numbers for a plot's x axis (durations in hours; working days as days),
    or None when some value is neither (categories)."""
    from ordercli.core.timecalc import WorkingDays, parse_policy_duration

    out = []
    for v in values:
        if isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            out.append(float(v))
            continue
        try:
            d = parse_policy_duration(v, "sweep")
        except UsageError:
            return None
        out.append(float(d.days) * 24 if isinstance(d, WorkingDays) else d.total_seconds() / 3600)
    return out


@dataclass
class Sweep:
    policy: str  # the swept policy's label
    axes: list[Axis]
    runs: list[tuple[str, dict[str, Any], dict]]  # (label, meta, point) per point

    @classmethod
    def of(cls, label_: str, meta: dict[str, Any], options: list[str]) -> Sweep:
        axes = [parse(o, meta["values"]) for o in options]
        return cls(label_, axes, points(label_, meta, axes))

    def policies(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, meta) for name, meta, _ in self.runs]

    def annotate(self, report: dict[str, Any]) -> None:
        """The report's sweep section, and each point's values beside its figures."""
        report["sweep"] = {
            "policy": self.policy,
            "keys": [a.key for a in self.axes],
            "values": {a.key: list(a.values) for a in self.axes},
            "points": len(self.runs),
        }
        for entry, (_, _, point) in zip(report["policies"], self.runs, strict=True):
            entry["point"] = dict(point)
