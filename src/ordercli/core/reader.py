"""The one reader of input files: policy TOML, scenario YAML/JSON, behaviour YAML.

A file is read into a mapping (`read_file`: TOML, YAML through `safeyaml`'s bounds, or JSON), then read
against a declaration of its keys (`check`): a `Table` of `Key`s, each with its `Value`, `Table`,
`MapOf` or `ListOf`, whether it is required, its default and what the docs say of it. Every refusal
is a `UsageError` with the input's error code, in one style that says where, what was expected and
what was found:

    policy file p.toml: refund_within.paypal: expected a duration like "72h" or "7 working days", found 'soon'
    scenario s.yaml: steps[2].expect_exit: expected an exit code from 0 to 255, found 300
    behaviour file b.yaml: buyers: unknown key (expected one of name, description, orders, ...)

The path names the key from the top of the file: mapping keys joined by dots, list items by their
index from 0 (as jq and JSON Path count), a key that is not a plain word in brackets (`sellers["a b"]`).

Importing this module costs nothing beyond the standard library's basics: the parsers (tomllib,
yaml, orjson) are imported by `read_file`, only when a file of their kind is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ordercli.core.errors import UsageError
from ordercli.core.keypath import TOP as TOP  # the names of keys, re-exported for the readers
from ordercli.core.keypath import index as index
from ordercli.core.keypath import join as join

Format = Literal["toml", "yaml", "json"]
_SHOWN = 80  # characters of a found value a message shows


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


# -- where, and how a refusal reads ----------------------------------------------------------------


def show(value: Any) -> str:
    """A found value as the file spells it (true, null, 'text', [1, 2]), cut to a line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass(frozen=True)
class Source:
    """An input being read: how messages name it (`policy file p.toml`) and its error code."""

    label: str
    code: str

    def refuse(self, message: str) -> UsageError:
        """The file as a whole (cannot be read, is not valid YAML, ...)."""
        return UsageError(f"{self.label}: {message}", self.code)

    def problem(self, path: str, message: str) -> UsageError:
        """Something wrong at `path` that is not a type (a reference, a total, a rule between keys)."""
        return UsageError(f"{self.label}: {path or TOP}: {message}", self.code)

    def bad(self, path: str, expected: str, found: Any) -> UsageError:
        return self.problem(path, f"expected {expected}, found {show(found)}")

    def unknown(self, path: str, allowed: tuple[str, ...] | list[str]) -> UsageError:
        return self.problem(path, f"unknown key (expected one of {', '.join(allowed)})")

    def missing(self, path: str, expected: str) -> UsageError:
        return self.problem(path, f"missing: expected {expected}")


# -- reading a file ----------------------------------------------------------------------------------


def format_of(path: Path, default: Format = "yaml") -> Format:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "json"
    return default


def read_file(
    path: Path, source: Source, fmt: Format | None = None, *, timestamps: bool = False, missing: str | None = None
) -> Any:
    """The value of the file at `path` (TOML, YAML or JSON; by default as its suffix says, else
    YAML), with YAML's alias and depth bounds (`safeyaml`). YAML timestamps stay text unless
    `timestamps`: an impossible date (2030-02-30) is then refused naming its key, as in JSON.
    `missing` is the message for a file that does not exist (default: cannot be read)."""
    fmt = fmt or format_of(path)
    if "\x00" in str(path):
        raise source.refuse("is not a usable file path")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing is not None:
            raise UsageError(missing, source.code) from None
        raise source.refuse("cannot be read: No such file or directory") from None
    except OSError as exc:
        raise source.refuse(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise source.refuse(f"cannot be read: {exc}") from None
    if fmt == "toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise source.refuse(f"is not valid TOML: {exc}") from None
    if fmt == "json":
        import orjson

        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise source.refuse(f"is not valid JSON: {exc}") from None
        twice = _json_key_given_twice(text)
        if twice is not None:  # as safeyaml refuses it in YAML: JSON parsers keep the last value without a word
            raise source.problem(twice, "the key is given twice in one object: the second would replace the first")
        return value
    from ordercli.core import safeyaml

    try:
        return safeyaml.load(text, timestamps=timestamps)
    except safeyaml.YamlRefused as exc:
        raise (source.problem(exc.path, str(exc)) if exc.path else source.refuse(str(exc))) from None


def _json_key_given_twice(text: str) -> str | None:
    """The path of the first key given twice in one object of a JSON text (valid JSON), or None. The
    parser's hook sees an object's pairs, not where the object is: the path is found afterwards, by the
    object's identity."""
    import json

    twice: list[tuple[str, int]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items) and not twice:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    twice.append((key, id(obj)))
                    break
                seen.add(key)
        return obj

    doc = json.loads(text, object_pairs_hook=pairs)
    if not twice:
        return None
    key, target = twice[0]

    def find(node: Any, path: str) -> str | None:
        if isinstance(node, dict):
            if id(node) == target:
                return join(path, key)
            children = [(join(path, k), v) for k, v in node.items()]
        elif isinstance(node, list):
            children = [(index(path, i), v) for i, v in enumerate(node)]
        else:
            return None
        return next((found for p, v in children if (found := find(v, p)) is not None), None)

    return find(doc, TOP)


# -- declarations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A scalar (or any value): `test` says whether a value is one (it may raise ValueError
    for no); `expected` is what messages and docs call it."""

    expected: str
    test: Callable[[Any], bool] | None = None

    def accepts(self, value: Any) -> bool:
        if self.test is None:
            return True
        try:
            return bool(self.test(value))
        except (ValueError, TypeError, LookupError):
            return False


@dataclass(frozen=True)
class Key:
    """One key of a Table: its value, whether a file must give it, its default, what docs say."""

    name: str
    value: Spec
    required: bool = False
    default: Any = NO_DEFAULT
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A mapping whose keys are declared: any other key is refused. A missing (null) table is
    empty when `null_is_empty`."""

    keys: tuple[Key, ...]
    expected: str = "a mapping"
    null_is_empty: bool = False

    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def key(self, name: str) -> Key:
        for k in self.keys:
            if k.name == name:
                return k
        raise KeyError(name)

    def get(self, data: dict[str, Any] | None, name: str) -> Any:
        """The value of `name` in checked `data`, or its declared default."""
        if data is not None and name in data:
            return data[name]
        default = self.key(name).default
        if default is NO_DEFAULT:
            raise KeyError(name)
        return default


@dataclass(frozen=True)
class MapOf:
    """A mapping of names the file chooses (payment methods, seller types) to values alike."""

    value: Spec
    key_expected: str = "a name"
    key_test: Callable[[str], bool] | None = None
    non_empty: bool = False
    expected: str = "a mapping"


@dataclass(frozen=True)
class ListOf:
    item: Spec
    length: int | None = None
    non_empty: bool = False
    expected: str = "a list"


Spec = Value | Table | MapOf | ListOf


def check(data: Any, spec: Spec, source: Source, path: str = "", *, partial: bool = False) -> Any:
    """`data` when it is what `spec` declares; else the first thing wrong, as a UsageError naming its
    path. With `partial`, a Table's required keys may be missing (a policy file extending a preset)."""
    if isinstance(spec, Value):
        if not spec.accepts(data):
            raise source.bad(path, spec.expected, data)
        return data
    if isinstance(spec, Table):
        if data is None and spec.null_is_empty:
            return {}
        if not isinstance(data, dict):
            raise source.bad(path or TOP, spec.expected, data)
        names = spec.names()
        for k in data:
            if k not in names:
                raise source.unknown(join(path, k), names)
        for key in spec.keys:
            here = join(path, key.name)
            if key.name in data:
                check(data[key.name], key.value, source, here)
            elif key.required and not partial:
                raise source.missing(here, expected_of(key.value))
        return data
    if isinstance(spec, MapOf):
        if not isinstance(data, dict):
            raise source.bad(path or TOP, spec.expected, data)
        if spec.non_empty and not data:
            raise source.bad(path or TOP, f"{spec.expected} with at least one entry", data)
        for k, v in data.items():
            here = join(path, k)
            if spec.key_test is not None and not (isinstance(k, str) and spec.key_test(k)):
                raise source.problem(here, f"the key is not {spec.key_expected}")
            check(v, spec.value, source, here)
        return data
    if not isinstance(data, list):
        raise source.bad(path or TOP, spec.expected, data)
    if spec.length is not None and len(data) != spec.length:
        raise source.bad(path, f"{spec.expected} of {spec.length}", data)
    if spec.non_empty and not data:
        raise source.bad(path, f"a non-empty {spec.expected.removeprefix('a ')}", data)
    for i, item in enumerate(data):
        check(item, spec.item, source, index(path, i))
    return data


def expected_of(spec: Spec) -> str:
    return spec.expected


def describe(table: Table) -> list[dict[str, Any]]:
    """The keys of `table` as docs show them: name, what it holds, required or its default, doc."""
    return [
        {
            "name": k.name,
            "expected": expected_of(k.value),
            "required": k.required,
            "default": None if k.default is NO_DEFAULT else k.default,
            "doc": k.doc,
        }
        for k in table.keys
    ]
