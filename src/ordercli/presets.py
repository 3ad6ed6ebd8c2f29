"""Policy presets and policy files (TOML). Reading files lives here so `policy` stays pure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordercli.errors import UsageError
from ordercli.policy import POLICY_KEYS, Policy, policy_from_mapping

PRESETS = ("aliexpress", "ebay")
_DIR = Path(__file__).parent / "presets"


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"policy file {str(path)!r} does not exist", "bad_policy") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"policy file {str(path)!r} cannot be read: {exc}", "bad_policy") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"policy file {str(path)!r} is not valid TOML: {exc}", "bad_policy") from None


def resolve(raw: dict[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Fill every key a policy leaves out from the preset it extends (default aliexpress)."""
    raw = {k: v for k, v in raw.items() if k != "name"}
    for key in raw:
        if key not in POLICY_KEYS:
            raise UsageError(f"policy: unknown key {key!r}", "bad_policy")
    parent = raw.pop("extends", None)
    if parent is None and "aliexpress" not in seen:
        parent = "aliexpress"
    if parent is None:
        return raw
    if parent not in PRESETS:
        raise UsageError(f"policy: bad value for 'extends': {parent!r} (expected one of {', '.join(PRESETS)})", "bad_policy")
    if parent in seen:
        return raw
    base = resolve(_read_toml(_DIR / f"{parent}.toml"), seen + (parent,))
    refund = dict(base.get("refund_within", {}))
    refund.update(raw.get("refund_within", {}) if isinstance(raw.get("refund_within"), dict) else {})
    merged = {**base, **raw}
    if isinstance(raw.get("refund_within", {}), dict):
        merged["refund_within"] = refund
    return merged


def load(name_or_file: str) -> tuple[str, dict[str, Any], Policy]:
    """A preset name or a TOML file -> (name, resolved values, Policy)."""
    if name_or_file in PRESETS:
        name = name_or_file
        values = resolve(_read_toml(_DIR / f"{name}.toml"), (name,) if name == "aliexpress" else ())
    else:
        path = Path(name_or_file)
        name = path.stem
        values = resolve(_read_toml(path))
    return name, values, policy_from_mapping(values, name)


def default() -> tuple[str, dict[str, Any], Policy]:
    return load("aliexpress")
