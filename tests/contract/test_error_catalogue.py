"""The error catalogue (src/ordercli/core/error_catalogue.py, `ordercli errors`, docs/errors.md) both ways:
every code the program can raise is listed (an AST scan of src/ for the codes given to the error
classes), and every listed code is produced here by a command and asserted, with its exit status."""

from __future__ import annotations

import ast
import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

import ordercli.cli.render
import ordercli.core.engine
import ordercli.store
from ordercli.core.error_catalogue import CATALOGUE

SRC = Path(__file__).resolve().parent.parent.parent / "src" / "ordercli"
ERROR_CLASSES = {"OrderCliError", "Interrupted", "UsageError", "NotFound", "Refused", "StorageError"}
EXIT_OF_CLASS = {
    "OrderCliError": 1, "Interrupted": 130, "UsageError": 2, "NotFound": 3, "Refused": 4, "StorageError": 5}


def raised_codes() -> dict[str, set[int]]:
    """code -> exit statuses, for every error class call in src/ with a literal code, and every
    `validate.choice(..., code)`, which raises UsageError with the code it is given."""
    found: dict[str, set[int]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ERROR_CLASSES:
                args = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "code")]
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, set()).add(EXIT_OF_CLASS[name])
                    else:  # a code passed through a variable: only validate.choice and the reader's Source may
                        where = f"{path}:{node.lineno}"
                        assert path.name in ("validate.py", "reader.py"), f"{where}: error code is not a literal"
            elif name == "Source":  # ordercli.core.reader: an input file, refused with exit 2 and its code
                assert len(node.args) == 2 and isinstance(node.args[1], ast.Constant), f"{path}:{node.lineno}"
                found.setdefault(node.args[1].value, set()).add(2)
            elif name == "choice" and len(node.args) >= 4 and isinstance(node.args[3], ast.Constant):
                found.setdefault(node.args[3].value, set()).add(2)
    return found


def test_every_raised_code_is_in_the_catalogue_with_its_exit_status():
    raised = raised_codes()
    assert len(raised) > 40, "the scan found too little to be real"
    missing = sorted(set(raised) - set(CATALOGUE))
    assert not missing, f"codes raised in src/ but not in the catalogue: {missing}"
    for code, exits in raised.items():
        assert exits == {CATALOGUE[code][0]}, f"{code}: raised with exit {exits}, catalogue says {CATALOGUE[code][0]}"


def test_the_catalogue_lists_only_codes_the_program_raises():
    raised = raised_codes()
    stale = sorted(set(CATALOGUE) - set(raised))
    assert not stale, f"catalogue codes nothing raises: {stale}"


def test_ordercli_errors_prints_the_catalogue(cli):
    listed = cli.json("errors")
    assert [(e["code"], e["exit"]) for e in listed] == [(c, x) for c, (x, _) in CATALOGUE.items()]
    assert all(e["meaning"] for e in listed)
    rows = cli("errors", "--format", "csv").stdout.splitlines()
    assert rows[0] == "code,exit,meaning" and len(rows) == len(CATALOGUE) + 1


def test_docs_list_every_code():
    text = (SRC.parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    for code, (exit_, _) in CATALOGUE.items():
        assert f"| `{code}` | {exit_} |" in text, f"docs/errors.md lacks {code}"


# -- every listed code, produced ---------------------------------------------------------------

def place(cli, *extra: str) -> str:
    return cli.place(*extra)["id"]


def ship(cli) -> str:
    oid = place(cli)
    cli.json("seller", "ship", oid)
    return oid


def cancelled(cli) -> str:
    oid = place(cli)
    cli.json("cancel", "request", oid, "--reason", "other")
    cli.json("seller", "respond", oid, "accept")
    return oid


def scenario(tmp_path: Path, body: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def damaged(cli, db: Path) -> None:
    place(cli)
    data = json.loads(db.read_text())
    data["meta"]["1"]["next_order"] = 1  # points at ORD-0001, which exists
    db.write_text(json.dumps(data))


def unknown_status(cli, db: Path) -> None:
    place(cli)
    data = json.loads(db.read_text())
    data["orders"]["1"]["status"] = "lost"
    db.write_text(json.dumps(data))


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ordercli.store.os, "replace", fail)


class _FullStdout:
    """Stands for the sys module in ordercli.cli.render: stdout is a full disk, stderr the real one."""

    class stdout:  # noqa: N801
        @staticmethod
        def write(data):
            raise OSError(errno.ENOSPC, "No space left on device")

        flush = write

    def __getattr__(self, name):
        import sys

        return getattr(sys, name)


def raise_in_pay(exc: BaseException) -> Callable[..., None]:
    def pay(*args, **kwargs):
        raise exc

    return pay


# code -> how to produce it: (setup(cli, db, tmp_path, monkeypatch) -> argv)
Recipe = Callable[[Any, Path, Path, pytest.MonkeyPatch], list[str]]  # (cli, db, tmp_path, monkeypatch)
P = ["orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Mug"]
RECIPES: dict[str, Recipe] = {
    "internal_error": lambda c, d, t, m: (m.setattr(ordercli.core.engine, "pay", raise_in_pay(RuntimeError("boom"))),
                                          ["orders", "pay", place(c, "--unpaid")])[1],
    "interrupted": lambda c, d, t, m: (m.setattr(ordercli.core.engine, "pay", raise_in_pay(KeyboardInterrupt())),
                                       ["orders", "pay", place(c, "--unpaid")])[1],
    "usage": lambda c, d, t, m: ["orders", "lst"],
    "bad_value": lambda c, d, t, m: [*P[:-1], "", "--amount", "1"],
    "bad_amount": lambda c, d, t, m: [*P, "--amount", "5.5", "--currency", "JPY"],
    "bad_currency": lambda c, d, t, m: [*P, "--amount", "5", "--currency", "XYZ"],
    "bad_quantity": lambda c, d, t, m: [*P, "--amount", "5", "--quantity", "0"],
    "bad_payment": lambda c, d, t, m: [*P, "--amount", "5", "--payment", "cash"],
    "reserved_name": lambda c, d, t, m: ["orders", "place", "--buyer", "support", "--seller", "bo", "--item", "x",
                                         "--amount", "1"],
    "same_party": lambda c, d, t, m: ["orders", "place", "--buyer", "bo", "--seller", "bo", "--item", "x",
                                      "--amount", "1"],
    "bad_status": lambda c, d, t, m: ["orders", "list", "--status", "lost"],
    "unknown_reason": lambda c, d, t, m: ["cancel", "request", place(c), "--reason", "because"],
    "bad_answer": lambda c, d, t, m: ["seller", "respond", place(c), "maybe"],
    "bad_outcome": lambda c, d, t, m: ["dispute", "resolve", place(c), "maybe"],
    "bad_format": lambda c, d, t, m: ["orders", "list", "--format", "xml"],
    "unknown_field": lambda c, d, t, m: ["orders", "list", "--format", "json", "--fields", "id"],  # --json is added
    "unknown_schema": lambda c, d, t, m: ["schema", "orders"],
    "bad_duration": lambda c, d, t, m: ["clock", "tick", "5x"],
    "bad_instant": lambda c, d, t, m: ["clock", "set", "2030-03-04T09:00:00.5Z"],
    "time_overflow": lambda c, d, t, m: (c.json("clock", "set", "9999-12-31T12:00:00Z"), [*P, "--amount", "1"])[1],
    "bad_path": lambda c, d, t, m: ["--db", "", "orders", "list"],
    "bad_import": lambda c, d, t, m: ["orders", "import", str((t / "x.ndjson", (t / "x.ndjson").write_text("{"))[0])],
    "bad_policy": lambda c, d, t, m: ["policy", "use", "nope"],
    "bad_scenario": lambda c, d, t, m: ["scenario", "run", scenario(t, "name: x\nsteps: 5\n")],
    "nothing_selected": lambda c, d, t, m: [
        "scenario", "run", scenario(t, f"start: {c.start}\nsteps:\n  - run: clock show\n"), "-k", "nomatch"],
    "bad_lock_timeout": lambda c, d, t, m: (m.setenv("ORDERCLI_LOCK_TIMEOUT", "soon"), [*P, "--amount", "1"])[1],
    "order_not_found": lambda c, d, t, m: ["orders", "show", "ORD-9999"],
    "refund_not_found": lambda c, d, t, m: ["refund", "status", place(c)],
    "no_data_file": lambda c, d, t, m: ["--db", str(t / "none.json"), "db", "backup", str(t / "b.json")],
    "not_party": lambda c, d, t, m: ["orders", "pay", place(c, "--unpaid"), "--as", "mallory"],
    "already_paid": lambda c, d, t, m: ["orders", "pay", place(c)],
    "not_paid": lambda c, d, t, m: ["seller", "ship", place(c, "--unpaid")],
    "not_shipped": lambda c, d, t, m: ["orders", "confirm", place(c)],
    "already_shipped": lambda c, d, t, m: ["seller", "ship", ship(c)],
    "order_cancelled": lambda c, d, t, m: ["seller", "ship", cancelled(c)],
    "order_completed": lambda c, d, t, m: (c.json("orders", "confirm", oid := ship(c)), ["seller", "ship", oid])[1],
    "cancel_after_shipment": lambda c, d, t, m: ["cancel", "request", ship(c), "--reason", "other"],
    "request_pending": lambda c, d, t, m: (c.json("cancel", "request", oid := place(c), "--reason", "other"),
                                           ["seller", "ship", oid])[1],
    "no_pending_request": lambda c, d, t, m: ["cancel", "withdraw", place(c)],
    "dispute_open": lambda c, d, t, m: (c.json("dispute", "open", oid := ship(c), "--reason", "damaged"),
                                        ["dispute", "open", oid, "--reason", "damaged"])[1],
    "no_open_dispute": lambda c, d, t, m: ["dispute", "resolve", ship(c), "refund"],
    "wrong_dispute_reason": lambda c, d, t, m: ["dispute", "open", ship(c), "--reason", "shipping-delay"],
    "refund_not_overdue": lambda c, d, t, m: ["dispute", "open", cancelled(c), "--reason", "refund-not-received"],
    "refund_held": lambda c, d, t, m: (c.json("refund", "hold", oid := cancelled(c)), ["refund", "hold", oid])[1],
    "refund_not_held": lambda c, d, t, m: ["refund", "release", cancelled(c)],
    "refund_paid": lambda c, d, t, m: (c.json("refund", "settle", oid := cancelled(c)), ["refund", "settle", oid])[1],
    "clock_backwards": lambda c, d, t, m: (place(c), ["clock", "set", "2030-01-01T00:00:00Z"])[1],
    "no_pending_deadline": lambda c, d, t, m: ["clock", "next"],
    "world_has_orders": lambda c, d, t, m: (place(c), ["policy", "use", "ebay"])[1],
    "storage_unreadable": lambda c, d, t, m: (d.write_text('{"meta": {"1"'), ["orders", "list"])[1],  # not JSON
    "not_a_file": lambda c, d, t, m: ["--db", str(t), "orders", "list"],  # a folder, not a file
    "read_only": lambda c, d, t, m: (m.setattr("os.access", lambda *a, **k: False), [*P, "--amount", "1"])[1],
    "output_failed": lambda c, d, t, m: (m.setattr(ordercli.cli.render, "sys", _FullStdout()), ["orders", "list"])[1],
    "saved_output_failed": lambda c, d, t, m: (m.setattr(ordercli.cli.render, "sys", _FullStdout()),
                                               [*P, "--amount", "1"])[1],
    "saved_interrupted": lambda c, d, t, m: (m.setattr(ordercli.cli.render, "emit_json",
                                                       raise_in_pay(KeyboardInterrupt())), [*P, "--amount", "1"])[1],
    "no_such_file": lambda c, d, t, m: ["db", "restore", str(t / "nothing.json")],
    "bad_restore_path": lambda c, d, t, m: (place(c), ["db", "restore", str(d)])[1],
    "not_ordercli_data": lambda c, d, t, m: (d.write_text('{"hello": 1}'), ["orders", "list"])[1],
    "newer_schema": lambda c, d, t, m: (d.write_text(json.dumps({"meta": {"1": {"app": "ordercli", "schema": 99}}})),
                                        ["orders", "list"])[1],
    "damaged_data": lambda c, d, t, m: (damaged(c, d), [*P, "--amount", "1"])[1],
    "data_problems": lambda c, d, t, m: (unknown_status(c, d), ["db", "check"])[1],
    "database_busy": lambda c, d, t, m: (m.setenv("ORDERCLI_LOCK_TIMEOUT", "0.1"), [*P, "--amount", "1"])[1],
    "write_failed": lambda c, d, t, m: (full_disk(m), [*P, "--amount", "1"])[1],
    "bad_backup_path": lambda c, d, t, m: (place(c), ["db", "backup", str(d)])[1],
}


def _request_limit(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    oid = place(c)
    for _ in range(3):
        c.json("cancel", "request", oid, "--reason", "other")
        c.json("seller", "respond", oid, "reject")
    return ["cancel", "request", oid, "--reason", "other"]


def _nested(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    """A scenario step that runs `scenario run` fails with nested_scenario: the step's output says so."""
    path = scenario(t, f"name: x\nstart: {c.start}\nsteps:\n  - run: scenario run x.yaml\n")
    report = json.loads(c("scenario", "run", path, "--json", code=1).stdout)
    return ["NESTED", report[0]["steps"][0]["output"]["error"]["code"]]


RECIPES["request_limit"] = _request_limit


def _under(c, t: Path, text: str) -> None:
    """The world's policy from a policy file (issue 19's keys)."""
    (t / "p.toml").write_text(text)
    c.json("policy", "use", str(t / "p.toml"))


RECIPES["cancel_window_closed"] = lambda c, d, t, m: (
    _under(c, t, 'cancel_request_within = "1h"\n'), oid := place(c), c.json("clock", "tick", "1h"),
    ["cancel", "request", oid, "--reason", "other"])[-1]
RECIPES["seller_only_cancel"] = lambda c, d, t, m: (
    _under(c, t, "cancel_requests_max = 0\n"), ["cancel", "request", place(c), "--reason", "other"])[-1]
RECIPES["packing_not_used"] = lambda c, d, t, m: ["seller", "pack", place(c)]
RECIPES["already_packed"] = lambda c, d, t, m: (
    _under(c, t, "pack_before_ship = true\n"), c.json("seller", "pack", oid := place(c)), ["seller", "pack", oid])[-1]
RECIPES["not_packed"] = lambda c, d, t, m: (
    _under(c, t, "pack_before_ship = true\n"), ["seller", "ship", place(c)])[-1]
RECIPES["seller_cancel_not_allowed"] = lambda c, d, t, m: ["seller", "cancel", place(c), "--reason", "out-of-stock"]
RECIPES["nested_scenario"] = _nested


EXAMPLE_BEHAVIOUR = str(Path(__file__).resolve().parent.parent.parent / "examples" / "marketplace.behaviour.yaml")
SIM = ["simulate", EXAMPLE_BEHAVIOUR, "--policy", "aliexpress", "--orders", "50", "--workers", "1"]


def _bad_scheduler(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    import ordercli.simulate.runner

    m.setattr(ordercli.simulate.runner, "CONNECT_TIMEOUT", "1s")
    return [*SIM, "--scheduler", "tcp://127.0.0.1:9"]


def _missing_extra(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    import sys

    m.setitem(sys.modules, "matplotlib", None)  # as if ordercli[plot] were not installed
    return [*SIM, "--plot", str(t / "p.png")]


RECIPES["bad_behaviour"] = lambda c, d, t, m: ["simulate", str(t / "none.yaml"), "--policy", "aliexpress"]
RECIPES["bad_scheduler"] = _bad_scheduler
RECIPES["missing_extra"] = _missing_extra
RECIPES["output_is_input"] = lambda c, d, t, m: [
    "scenario", "run", (s := scenario(t, f"start: {c.start}\nsteps:\n  - run: clock show\n")), "--junit", s
]
RECIPES["foreign_file"] = lambda c, d, t, m: (
    place(c), ["db", "backup", str((t / "notes.txt", (t / "notes.txt").write_text("mine"))[0])]
)[1]


def _dangling(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    link = t / "link.json"
    link.symlink_to(t / "no-such-folder" / "world.json")
    return ["--db", str(link), *P, "--amount", "1"]


RECIPES["dangling_link"] = _dangling
RECIPES["bad_log"] = lambda c, d, t, m: [
    "behaviour", "fit", str((t / "log.ndjson", (t / "log.ndjson").write_text("{nope\n"))[0]),
    "--out", str(t / "f.yaml")]
RECIPES["bad_sweep"] = lambda c, d, t, m: [*SIM, "--sweep", "ewallets=card"]
RECIPES["file_exists"] = lambda c, d, t, m: [
    *SIM, "--save-sample", str((t / "s.json", (t / "s.json").write_text(""))[0])
]



def _idempotency_conflict(c, d: Path, t: Path, m: pytest.MonkeyPatch) -> list[str]:
    c.json("clock", "tick", "1h", "--idempotency-key", "K")
    return ["clock", "tick", "2h", "--idempotency-key", "K"]


RECIPES["idempotency_conflict"] = _idempotency_conflict

def test_every_catalogue_code_has_a_recipe():
    assert set(RECIPES) == set(CATALOGUE)


@pytest.mark.parametrize("code", list(CATALOGUE))
def test_each_code_is_produced(code: str, world, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    exit_ = CATALOGUE[code][0]
    args = RECIPES[code](world, db, tmp_path, monkeypatch)
    if args[0] == "NESTED":
        assert args[1] == code
        return
    if code == "database_busy":
        with FileLock(str(db) + ".lock", timeout=0):
            result = world.runner.invoke(ordercli_app(), [*args, "--json"])
    else:
        result = world.runner.invoke(ordercli_app(), [*args, "--json"])
    assert result.exit_code == exit_, f"{code}: exit {result.exit_code}\nstderr: {result.stderr}"
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["exit"]) == (code, exit_)


def ordercli_app():
    from ordercli.cli.app import app

    return app
