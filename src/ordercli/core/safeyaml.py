"""The one way ordercli reads YAML (scenario and behaviour files, which may come from a pull request
in CI): PyYAML's safe loader, bounded.

An alias (`*a`) stands for the whole value anchored as `&a`, so a few lines nesting aliases expand
to billions of values (an "alias bomb": nine levels of nine aliases are 9^9 leaves), and an alias
inside its own anchor makes a value that holds itself. Whoever walks the loaded value (the scenario
runner comparing `expect`, the behaviour checker) would spin or recurse without end. So a document
is measured as it would be written out without aliases before it is built: at most ALIAS_BUDGET
values more than its own, and no value inside itself. Anchors used a few times, as people do, are
far below that bound.

A key given twice in one mapping is refused too: PyYAML keeps the last value and drops the first
without a word, so a file would run other than it reads.
"""

from __future__ import annotations

from typing import Any

from ordercli.core.keypath import index, join

# Values a document may gain by expanding its aliases, beyond those it spells out.
ALIAS_BUDGET = 100_000
# Levels of nesting: far beyond any scenario or behaviour file, and within what every reader of the
# value (orjson's 255 levels, Python's recursion limit, whatever another library set it to) can walk.
MAX_DEPTH = 100


class YamlRefused(ValueError):
    """Text that is not YAML, or YAML that expands beyond the bound: the message says which, and
    `path` the key it is about (as ordercli.core.keypath names keys), where it is about one."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


def load(text: str, *, timestamps: bool = True) -> Any:
    """The value of one YAML document, with the safe loader's types (without its timestamp type
    when `timestamps` is false: `2030-02-30T09:00:00Z` then stays text)."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader(timestamps))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YamlRefused(f"is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        # PyYAML builds nested values recursively
        raise YamlRefused("nests its values too deep") from None


def _loader(timestamps: bool) -> Any:
    # made afresh for each file (it costs microseconds): a class kept from an earlier import of
    # yaml would build another module's nodes once yaml is imported again (pytester does that)
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_document(self) -> Any:
            node = super().compose_document()
            _check_expansion(node)
            return node

    if not timestamps:
        Loader.yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
    return Loader


def _check_expansion(root: Any) -> None:
    """Refuses a node graph that holds itself, or whose aliases add more than ALIAS_BUDGET values.
    An alias is the very node of its anchor, so the graph is walked once per node (sizes are
    remembered), however large its expansion."""
    expanded: dict[int, int] = {}  # id(node) -> values it stands for, itself included
    walking: set[int] = set()

    def size(node: Any, path: str = "", depth: int = 1) -> int:
        if depth > MAX_DEPTH:
            raise YamlRefused("nests its values too deep")
        key = id(node)
        if key in expanded:
            return expanded[key]
        if key in walking:
            raise YamlRefused("has an alias inside the value it names (&NAME ... *NAME): the value would hold itself")
        walking.add(key)
        total = 1
        if isinstance(node.value, list):  # a sequence's nodes, or a mapping's (key, value) pairs
            seen: dict[tuple[str, str], Any] = {}
            for i, item in enumerate(node.value):
                if not isinstance(item, tuple):
                    total += size(item, index(path, i), depth + 1)
                    continue
                k, v = item
                name = k.value if isinstance(k.value, str) else ""
                if isinstance(k.value, str) and k.tag != "tag:yaml.org,2002:merge":
                    first: Any = seen.setdefault((k.tag, k.value), k)
                    if first is not k:
                        raise YamlRefused(
                            f"the key is given twice (lines {first.start_mark.line + 1} and "
                            f"{k.start_mark.line + 1}): the second would replace the first",
                            join(path, name),
                        )
                total += size(k, path, depth + 1) + size(v, join(path, name), depth + 1)
        walking.discard(key)
        expanded[key] = total
        return total

    if size(root) - len(expanded) > ALIAS_BUDGET:
        raise YamlRefused(
            f"expands through its aliases (*NAME) to more than {ALIAS_BUDGET:,} values beyond those it "
            "spells out: write the values out, or use fewer aliases"
        )
