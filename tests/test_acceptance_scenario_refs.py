"""CLI.md: `${ID.PATH}` is replaced in expect values, nested ones included (a mapping or a list
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
    assert "step 2" in result.stderr and "nope" in result.stderr
