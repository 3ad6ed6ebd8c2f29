"""Scenario and behaviour files come from pull requests in CI: what a YAML file may expand to through
its aliases is bounded (an alias bomb is exit 2 naming the file, at once), a value that holds itself
and nesting too deep for the parser are refused the same way, and anchors used as people use them
still work. (Policy files are TOML, which has no aliases.)"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordercli.cli.app import app
from ordercli.core import safeyaml

PLACE = 'orders place --buyer alice --seller acme --item "Blue headset" --amount 19.99'
BEHAVIOUR = Path(__file__).resolve().parent.parent.parent / "examples" / "marketplace.behaviour.yaml"


def bomb(levels: int, indent: str) -> str:
    """`levels` anchors, each a list of nine aliases of the one before: 9**levels leaves."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)
    ]
    return "".join(f"{indent}{line}\n" for line in lines)


def scenario_with(expect_block: str) -> str:
    return f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock show\n    expect:\n{expect_block}"


def refused(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    assert result.stdout == ""
    return json.loads(result.stderr)["error"]


def test_an_alias_bomb_in_a_scenario_is_refused_in_a_real_process(tmp_path: Path, run_process) -> None:
    """Nine levels of nine: 387,420,489 leaves, which the runner would walk for minutes. The
    subprocess's own timeout (60 s) is a bound on a hang, not a speed goal."""
    f = tmp_path / "bomb.yaml"
    f.write_text(scenario_with(bomb(9, "      ")))
    proc = run_process("scenario", "run", str(f))
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode() == (
        f"error: scenario {f}: expands through its aliases (*NAME) to more than 100,000 values beyond those it "
        "spells out: write the values out, or use fewer aliases\n"
    )


@pytest.mark.parametrize(
    "text, says",
    [
        (scenario_with(bomb(9, "      ")), "expands through its aliases"),
        # a value that holds itself: walking it would never end
        ("start: now\nsteps:\n  - run: clock show\n    expect: &e {x: *e}\n", "has an alias inside the value it names"),
        ("start: now\nsteps: &s\n  - run: clock show\n  - *s\n", "has an alias inside the value it names"),
        # deeper than the YAML parser can nest
        (
            "start: now\nsteps:\n  - run: clock show\n    expect: {x: " + "[" * 5000 + "]" * 5000 + "}\n",
            "nests its values too deep",
        ),
    ],
)
def test_a_scenario_that_expands_too_far_is_bad_scenario(tmp_path: Path, text: str, says: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    other = tmp_path / "other.yaml"
    other.write_text(f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: {PLACE}\n")
    report = tmp_path / "junit.xml"
    error = refused("scenario", "run", str(other), str(f), "--junit", str(report))
    assert error["code"] == "bad_scenario"
    assert error["message"].startswith(f"scenario {f}: {says}")
    assert not report.exists()  # nothing ran, the file before it neither


def test_anchors_as_people_use_them_still_work(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        textwrap.dedent(f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
            expect: &placed {{status: awaiting_shipment, buyer: alice, seller: acme}}
          - run: orders show ${{o.id}}
            expect: *placed
          - run: orders show ${{o.id}}
            expect:
              <<: *placed
              item: Blue headset
    """).lstrip()
    )
    result = CliRunner().invoke(app, ["scenario", "run", str(f), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [s["passed"] for s in json.loads(result.stdout)[0]["steps"]] == [True, True, True]


def test_the_bound_is_on_what_aliases_add_not_on_a_files_size() -> None:
    # five levels (59,049 leaves) are below the bound, six (531,441) above it
    assert safeyaml.load("x:\n" + bomb(5, "  "))["x"]["a4"][8][8][8][8][8] == "x"
    with pytest.raises(safeyaml.YamlRefused, match="expands through its aliases"):
        safeyaml.load("x:\n" + bomb(6, "  "))
    # a long list spelled out is not an expansion
    assert len(safeyaml.load("[" + ", ".join(["1"] * 200_000) + "]")) == 200_000


def test_timestamps_are_the_callers_choice() -> None:
    assert safeyaml.load("at: 2030-03-04T09:00:00Z", timestamps=False) == {"at": "2030-03-04T09:00:00Z"}
    assert safeyaml.load("at: 2030-03-04T09:00:00Z")["at"].year == 2030


def flow_bomb(levels: int) -> str:
    """The same bomb as one flow list: [&a0 [...], &a1 [*a0, ...], ...]."""
    items = ["&a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)
    ]
    return "[" + ", ".join(items) + "]"


@pytest.mark.parametrize(
    "days, says",
    [
        # a bad value is named with its repr in the message: 9**9 leaves of it
        (flow_bomb(9), "expands through its aliases"),
        ("&l [*l]", "has an alias inside the value it names"),
    ],
)
def test_a_behaviour_file_that_expands_too_far_is_bad_behaviour(tmp_path: Path, days: str, says: str) -> None:
    """The same loader reads behaviour files: refused before anything is simulated."""
    text = BEHAVIOUR.read_text(encoding="utf-8")
    assert "\n  days: 28" in text
    f = tmp_path / "b.behaviour.yaml"
    f.write_text(text.replace("\n  days: 28", f"\n  days: {days}", 1))
    error = refused("simulate", str(f), "--policy", "aliexpress", "--orders", "50", "--workers", "1")
    assert error["code"] == "bad_behaviour"
    assert error["message"].startswith(f"behaviour file {f}: {says}")



def test_nesting_is_bounded_whatever_the_recursion_limit() -> None:
    """Another library in the process may raise the recursion limit (then PyYAML builds a deep value
    and only a later reader would fail): the bound is the loader's own."""
    import sys

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        with pytest.raises(safeyaml.YamlRefused, match="nests its values too deep"):
            safeyaml.load("x: " + "[" * 150 + "]" * 150 + "\n")
    finally:
        sys.setrecursionlimit(before)
    value = safeyaml.load("x: " + "[" * 50 + "]" * 50 + "\n")["x"]
    depth = 0
    while value:
        value, depth = value[0], depth + 1
    assert depth == 49  # 50 brackets: 49 lists inside the outer one
