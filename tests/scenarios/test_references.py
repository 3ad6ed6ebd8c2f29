"""docs/cli.md: `${ID.PATH}` is replaced in expect values, nested ones included (a mapping or a list
compared whole)."""

from __future__ import annotations

import json
from pathlib import Path

NESTED = """\
name: nested refs
start: 2030-03-04T09:00:00Z
steps:
  - id: o
    run: orders place --buyer ann --seller shop --item K --amount 1
  - run: orders list
    expect:
      "0.next_deadline": {kind: ship_by, at: "${o.ship_by}"}
      "0.actions.buyer": ["cancel request", "${o.actions.buyer.1}"]
"""


def test_references_inside_nested_expect_values_are_replaced(cli, tmp_path: Path) -> None:
    path = tmp_path / "nested.scenario.yaml"
    path.write_text(NESTED)
    report = json.loads(cli("scenario", "run", str(path), "--json").stdout)
    assert [s["passed"] for s in report[0]["steps"]] == [True, True]


def test_a_nested_reference_to_no_earlier_step_is_malformed(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.scenario.yaml"
    path.write_text(NESTED.replace("${o.ship_by}", "${nope.ship_by}"))
    result = cli("scenario", "run", str(path), code=2)
    assert ': steps[1].expect["0.next_deadline"]: ' in result.stderr and "nope" in result.stderr


def test_a_huge_number_expected_is_reported_not_an_internal_error(cli, tmp_path: Path) -> None:
    # YAML reads 43 nines as an integer beyond 64 bits: the step fails (exit 1), and the JSON
    # report still prints, with the number as written
    path = tmp_path / "huge.scenario.yaml"
    path.write_text(
        "name: huge\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock show\n    expect: {now: " + "9" * 43 + "}\n"
    )
    result = cli("scenario", "run", str(path), "--json", code=1)
    assert result.stderr == ""
    step = json.loads(result.stdout)[0]["steps"][0]
    assert step["passed"] is False and step["mismatches"][0]["expected"] == int("9" * 43)
