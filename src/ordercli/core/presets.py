"""Policy presets and policy files (TOML). Reading files lives here so `policy` stays pure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordercli.core.policy import POLICY, Policy, policy_from_mapping
from ordercli.core.reader import Source, check, read_file
from ordercli.core.validate import path as validate_path

PRESETS = ("aliexpress", "aliexpress-2020", "ebay", "amazon", "etsy", "shopee-my", "walmart", "temu")
_PRESET_ONLY_KEYS = ("name", "description")  # a preset file names and describes itself
_DIR = Path(__file__).parent / "presets"


@dataclass
class Loaded:
    name: str
    source: str  # "preset" or "file"
    values: dict[str, Any]  # every key resolved
    origins: dict[str, str]  # key -> "preset aliexpress" | "file PATH"
    policy: Policy

    def meta(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "values": self.values, "origins": self.origins}


def _source(origin: str) -> Source:
    """How messages name a policy's origin: `policy file PATH`, or `preset NAME`."""
    return Source(origin.replace("file ", "policy file ", 1) if origin.startswith("file ") else origin, "bad_policy")


def _read_toml(path: Path, origin: str = "") -> dict[str, Any]:
    source = _source(origin or f"file {path}")
    raw = read_file(
        path, source, "toml", missing=f"policy file {str(path)!r} does not exist (presets: {', '.join(PRESETS)})"
    )
    assert isinstance(raw, dict)  # a TOML document is a table
    return raw


def _resolve(raw: dict[str, Any], origin: str, seen: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Fill every key a policy leaves out from the preset it extends (default aliexpress)."""
    if origin.startswith("preset "):
        raw = {k: v for k, v in raw.items() if k not in _PRESET_ONLY_KEYS}
    # each file's own keys and values, named in the file: the resolved whole is checked again
    check(raw, POLICY, _source(origin), partial=True)
    # a policy file extends aliexpress unless it says otherwise; a preset without `extends` states
    # its whole table (its payment methods are its own, not aliexpress's plus its own)
    default_parent = None if origin.startswith("preset ") else "aliexpress"
    parent = raw.pop("extends", default_parent)
    if parent is not None and parent not in PRESETS:
        raise _source(origin).bad("extends", f"one of {', '.join(PRESETS)}", parent)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if parent is not None and parent not in seen:
        values, origins = _resolve(
            _read_toml(_DIR / f"{parent}.toml", f"preset {parent}"), f"preset {parent}", seen + (parent,)
        )
    for key, value in raw.items():
        if key == "refund_within" and isinstance(value, dict):
            merged = dict(values.get("refund_within", {}))
            for method, window in value.items():
                merged[method] = window
                origins[f"refund_within.{method}"] = origin
            values["refund_within"] = merged
        else:
            values[key] = value
            origins[key] = origin
    return values, origins


def load(name_or_file: str) -> Loaded:
    """A preset name or a TOML file, resolved and checked (exit 2 naming a bad key)."""
    if name_or_file in PRESETS:
        name, source = name_or_file, "preset"
        origin = f"preset {name}"
        raw = _read_toml(_DIR / f"{name}.toml", origin)
    else:
        path = Path(validate_path(name_or_file, "policy file"))
        raw = _read_toml(path)
        name = path.stem
        source, origin = "file", f"file {path}"
    values, origins = _resolve(raw, origin, (name,) if source == "preset" else ())
    return Loaded(name, source, values, origins, policy_from_mapping(values, name, _source(origin)))


def describe_presets() -> list[dict[str, Any]]:
    """`policy list`: every preset with its one-line description."""
    out = []
    for name in PRESETS:
        raw = _read_toml(_DIR / f"{name}.toml", f"preset {name}")
        out.append({"name": name, "description": str(raw.get("description", "")), "extends": raw.get("extends")})
    return out


def value_sources(name: str) -> dict[str, str]:
    """The comment beside each value of a preset file (its source, or "modelling choice"), by dotted
    key: what docs/marketplaces.md shows next to every number."""
    out: dict[str, str] = {}
    table = ""
    for line in (_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            table = text[1:-1] + "."
        elif "=" in text and not text.startswith("#"):
            key = text.split("=", 1)[0].strip().strip('"')
            comment = text.split("#", 1)[1].strip() if "#" in text else ""
            out[table + key] = comment
    return out


def default() -> Loaded:
    return load("aliexpress")
