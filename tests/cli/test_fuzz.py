"""Fuzzing the CLI with hostile input, in-process through Typer's CliRunner.

(a) random argument lists (real command words and options mixed with random text, unicode, empty
    strings, numbers and very long strings): the exit code is one of docs/cli.md's (0, 2-5; 1 is a bug),
    no traceback is ever shown, and a failure prints nothing on stdout and one error on stderr;
(b) random data files (random bytes, random JSON values, and a real world file with a key deleted,
    a value of another type, or cut short): reading and writing commands exit 0, 2-5, never 1, never
    show a traceback, and a failed command leaves the file byte for byte as it was (readers never
    change it at all). A damaged file is exit 5, not an internal error.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ordercli.cli.app import app
from ordercli.core import engine
from ordercli.core.timecalc import UTC
from ordercli.core.world import World
from ordercli.store import new_world_tables

START = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday

# ORDERCLI_FUZZ_EXAMPLES=5000 for a deeper run than CI's.
FUZZ = settings(
    max_examples=int(os.environ.get("ORDERCLI_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- a real world, with an order in every state -----------------------------------------------------


def build_world() -> bytes:
    w = World(new_world_tables(START))

    def place(**kw: Any) -> str:
        args = {"buyer": "alice", "seller": "acme", "item": "Blue headset", "amount": "19.99"}
        return engine.place_order(w, **{**args, **kw})["id"]

    done = place(seller="globex", payment="bank-transfer")             # ORD-0001: completed
    engine.seller_ship(w, done)
    engine.clock_tick(w, "2d")
    engine.confirm(w, done)
    silent = place()                                                   # ORD-0002: seller_silent, refunded
    engine.cancel_request(w, silent, "other")
    engine.clock_tick(w, "72h")
    engine.refund_settle(w, silent)
    shipped = place()                                                  # ORD-0003: shipped, disputed
    engine.seller_ship(w, shipped, "LP00123")
    engine.dispute_open(w, shipped, "not-received")
    requested = place(payment="alipay", amount="5")                    # ORD-0004: cancel_requested
    engine.cancel_request(w, requested, "shipping-delay", "too slow")
    accepted = place(payment="paypal", currency="EUR", quantity=3)     # ORD-0005: cancelled, refund held
    engine.cancel_request(w, accepted, "second-thought")
    engine.seller_respond(w, accepted, "accept")
    engine.refund_hold(w, accepted)
    place(unpaid=True, buyer="bob")                                    # ORD-0006: awaiting_payment
    unpaid = place(unpaid=True)                                        # ORD-0007: unpaid_cancelled
    engine.cancel_request(w, unpaid, "wrong-product")
    place()                                                            # ORD-0008: awaiting_shipment
    return orjson.dumps(w.tables)


WORLD_BYTES = build_world()
WORLD = json.loads(WORLD_BYTES)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (a tuple of keys and indexes) into a JSON value."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(prefix + (k,))
            out.extend(paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(prefix + (i,))
            out.extend(paths(v, prefix + (i,)))
    return out


ALL_PATHS = paths(WORLD)
ORDER_PATHS = [p for p in ALL_PATHS if p[0] == "orders" and len(p) >= 3]
KEY_PATHS = [p for p in ALL_PATHS if isinstance(p[-1], str)]  # what can be deleted from an object
ORDER_KEY_PATHS = [p for p in ORDER_PATHS if isinstance(p[-1], str)]


def get(value: Any, path: tuple) -> Any:
    for k in path:
        value = value[k]
    return value


def type_name(v: Any) -> str:
    return type(v).__name__


OTHER_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, False, 0, -1, 1, 2**63, 10**40, 1.5, -0.0, 1e308, "", "x", "ORD-0001", "2030-13-45T99:00:00",
     "2030-03-04T09:00:00", "9999-12-31T23:59:59+00:00", "cancelled", "refunded", [], [1, "a"], {}, {"1": {}},
     {"app": "ordercli"}]
)


def data_files() -> st.SearchStrategy[bytes]:
    """A real world with one key deleted, or one value replaced by one of another type (or value)."""
    deleted = st.sampled_from(ORDER_KEY_PATHS + KEY_PATHS).map(lambda p: ("delete", p, None))
    retyped = st.tuples(st.sampled_from(ORDER_PATHS + ALL_PATHS), OTHER_VALUES).filter(
        lambda pv: type_name(get(WORLD, pv[0])) != type_name(pv[1]) or get(WORLD, pv[0]) != pv[1]
    ).map(lambda pv: ("retype", pv[0], pv[1]))
    return st.one_of(deleted, retyped).map(mutate)


def mutate(change: tuple) -> bytes:
    kind, path, value = change
    world = json.loads(WORLD_BYTES)
    parent = get(world, path[:-1])
    if kind == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps(world).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["meta", "orders", "events", "notifications", "1", "app", "schema", "clock", "_default",
                         "x"]) | st.text(max_size=5), inner, max_size=5),
    max_leaves=20,
)


def ordercli_like() -> st.SearchStrategy[Any]:
    """JSON that gets past the first checks: ordercli's meta with random tables and values."""
    meta = st.fixed_dictionaries(
        {"app": st.just("ordercli"), "schema": st.sampled_from([1, 2])},
        optional={k: json_values for k in ("clock", "next_order", "next_event", "next_notification", "policy")},
    )
    return st.fixed_dictionaries(
        {"meta": st.fixed_dictionaries({"1": meta})},
        optional={t: st.one_of(st.dictionaries(st.sampled_from(["1", "2", "x"]), json_values, max_size=2),
                               json_values) for t in ("orders", "events", "notifications")},
    )


# -- running the CLI ------------------------------------------------------------------------------------


class Run:
    def __init__(self, args: list[str], result: Any):
        self.args = args
        self.code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    def __str__(self) -> str:
        return (f"ordercli {self.args!r}: exit {self.code}\nstdout: {self.stdout[:2000]!r}\n"
                f"stderr: {self.stderr[:2000]!r}\nexception: {self.exception!r}")


RUNNER = CliRunner()


def invoke(args: list[str], db: Path) -> Run:
    result = RUNNER.invoke(app, args, env={"ORDERCLI_DB": str(db), "NO_COLOR": "1"})
    return Run(args, result)


def a_step_failed(stdout: str) -> bool:
    """`scenario run` exits 1 when a step failed, and says so in its report."""
    try:
        return any(report["failed"] > 0 for report in json.loads(stdout))
    except (ValueError, TypeError, KeyError):
        return re.search(r"^total: \d+ passed, [1-9]\d* failed$", stdout, re.M) is not None


def check_run(run: Run, allow_scenario_failure: bool = False) -> None:
    """docs/cli.md's exit codes and error output; exit 1 means an internal error, a bug."""
    output = run.stdout + run.stderr
    assert "Traceback" not in output, f"a traceback is shown\n{run}"
    assert run.exception is None or isinstance(run.exception, SystemExit), f"an exception escaped\n{run}"
    if run.code == 1 and allow_scenario_failure and a_step_failed(run.stdout):
        return  # `scenario run`: 1 when a step failed
    assert run.code in (0, 2, 3, 4, 5), f"exit {run.code} (1 is an internal error)\n{run}"
    if run.code != 0:
        assert run.stdout == "", f"a failure wrote on stdout\n{run}"
        err = run.stderr
        assert err.endswith("\n") and err.count("\n") == 1, f"stderr is not one line\n{run}"
        if err.startswith("{"):
            obj = json.loads(err)["error"]
            assert obj["exit"] == run.code and isinstance(obj["code"], str) and obj["message"], run
        else:
            assert err.startswith("error: "), f"stderr is not an error line\n{run}"


# -- (a) random argument lists ---------------------------------------------------------------------------

WORDS = [
    "orders", "place", "pay", "list", "show", "confirm", "import", "cancel", "request", "withdraw", "reasons",
    "seller", "respond", "ship", "clock", "set", "tick", "next", "refund", "status", "hold", "release", "settle",
    "dispute", "open", "resolve", "notifications", "events", "policy", "use", "db", "check", "backup", "scenario",
    "run", "demo", "accept", "reject", "aliexpress", "ebay", "ORD-0001", "ORD-0002", "ORD-0003", "ORD-0004",
    "ORD-9999", "ORD-1", "second-thought", "wrong-product", "shipping-delay", "seller-unresponsive", "other",
    "not-received", "damaged", "refund-not-received", "because", "card", "paypal", "alipay", "bank-transfer",
    "USD", "usd", "EUR", "awaiting_shipment", "cancelled", "alice", "acme", "bob", "platform", "support",
    "72h", "1d", "3d12h", "0s", "2w", "5x", "-1d", "99999999999w", "9" * 30 + "s",
    "2030-03-04T09:00:00Z", "2030-03-04", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "now", "yesterday",
    "19.99", "0.01", "0", "-1", "1.234", "1e5", "NaN", "inf", "1" * 40, "-", "--", "", " ", "json", "ndjson",
    "csv", "table", "world.json", ".", "..",
]
OPTIONS = [
    "--json", "--format", "--format=json", "--amount", "--as", "--reason", "--buyer", "--seller", "--item",
    "--currency", "--payment", "--quantity", "--unpaid", "--note", "--message", "--tracking", "--status",
    "--order", "--to", "--overdue", "--db", "--help", "-h", "--version", "--junit", "-q", "--quiet", "--bogus",
    "-x", "--json=1", "--as=", "--amount=19.99",
]


def safe_text(s: str) -> bool:
    """Random text must not name a file outside the example's own folder (--db, db backup, --junit).
    NUL is left to test_nul_in_a_path_argument (a known crash), so that this fuzz can find others."""
    return "/" not in s and "\\" not in s and not s.startswith("~") and "\x00" not in s


random_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),  # no lone surrogates: they can't be
    st.text(st.characters(exclude_categories=["Cs"], max_codepoint=0x7F), max_size=8),  # printed in-process
    st.integers().map(str),
    st.floats().map(str),
    st.sampled_from(["x" * 201, "é" * 5000, "ORD-" + "0" * 1000 + "1", "\t", "\n", "a\rb", "\u2028",
                     "💥" * 50, "--" + "a" * 300, "-" * 100]),
).filter(safe_text)
tokens = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(OPTIONS), random_text)
# Mostly a real command up front, then anything.
COMMANDS = [
    ["orders", "place"], ["orders", "pay"], ["orders", "list"], ["orders", "show"], ["orders", "confirm"],
    ["orders", "import"], ["cancel", "request"], ["cancel", "withdraw"], ["cancel", "reasons"],
    ["seller", "respond"], ["seller", "ship"], ["clock", "show"], ["clock", "set"], ["clock", "tick"],
    ["clock", "next"], ["refund", "status"], ["refund", "list"], ["refund", "hold"], ["refund", "release"],
    ["refund", "settle"], ["dispute", "open"], ["dispute", "resolve"], ["dispute", "list"],
    ["notifications", "list"], ["events", "list"], ["policy", "show"], ["policy", "use"], ["db", "check"],
    ["db", "backup"], ["scenario", "run"], ["demo"], [],
]


# Well-formed commands with any slot possibly hostile, to get past the parser into the engine.
def slot(*good: str) -> st.SearchStrategy[str]:
    """Mostly a sensible value, sometimes anything."""
    return st.one_of(*[st.sampled_from(good)] * 6, random_text)


IDS = slot("ORD-0001", "ORD-0002", "ORD-0003", "ORD-0004", "ORD-0005", "ORD-0006", "ORD-0007", "ORD-0008",
           "ORD-0009", "ORD-9999")
NAMES = slot("alice", "bob", "acme", "globex", "platform", "support", "mallory")
TEXTS = slot("found it cheaper", "LP00123", "x" * 1000, "x" * 1001, "é", "a\tb")
TEMPLATES = st.one_of(
    st.tuples(st.just(["orders", "place", "--buyer"]), NAMES, st.just(["--seller"]), NAMES, st.just(["--item"]),
              TEXTS, st.just(["--amount"]), slot("19.99", "0.01", "5", "1.234", "0", "-3", "1e3", "99999999999"),
              st.just(["--currency"]), slot("USD", "EUR", "usd", "US"), st.just(["--payment"]),
              slot(*("card", "paypal", "alipay", "bank-transfer", "cash")), st.just(["--quantity"]),
              slot("1", "3", "0", "-1", "1.5"), st.sampled_from([[], ["--unpaid"]])),
    st.tuples(st.sampled_from([["orders", "pay"], ["orders", "confirm"], ["orders", "show"], ["cancel", "withdraw"],
                               ["seller", "ship"], ["refund", "status"], ["refund", "hold"], ["refund", "release"],
                               ["refund", "settle"]]), IDS),
    st.tuples(st.just(["cancel", "request"]), IDS, st.just(["--reason"]),
              slot("second-thought", "wrong-product", "shipping-delay", "seller-unresponsive", "other", "damaged"),
              st.just(["--note"]), TEXTS),
    st.tuples(st.just(["seller", "respond"]), IDS, slot("accept", "reject", "maybe"), st.just(["--message"]), TEXTS),
    st.tuples(st.just(["seller", "ship"]), IDS, st.just(["--tracking"]), TEXTS),
    st.tuples(st.just(["dispute", "open"]), IDS, st.just(["--reason"]),
              slot("shipping-delay", "seller-unresponsive", "not-received", "not-as-described", "damaged",
                   "refund-not-received", "other")),
    st.tuples(st.just(["dispute", "resolve"]), IDS, slot("refund", "reject", "accept")),
    st.tuples(st.just(["clock", "tick"]), slot("1m", "72h", "3d", "1d12h", "2w", "0s", "5x", "", "9" * 25 + "w")),
    st.tuples(st.just(["clock", "set"]), slot("2030-03-05T09:00:00Z", "2030-03-04T08:00:00Z", "2031-01-01",
                                              "2030-03-10T09:00:00+08:00", "9999-12-31T23:59:59Z", "tomorrow")),
    st.tuples(st.sampled_from([["clock", "next"], ["clock", "show"], ["dispute", "list"], ["cancel", "reasons"],
                               ["policy", "show"], ["db", "check"], ["refund", "list", "--overdue"]])),
    st.tuples(st.just(["orders", "list", "--status"]), slot("cancelled", "shipped", "lost"), st.just(["--buyer"]),
              NAMES),
    st.tuples(st.just(["events", "list", "--order"]), IDS),
    st.tuples(st.just(["notifications", "list", "--to"]), NAMES),
    st.tuples(st.just(["policy", "use"]), slot("aliexpress", "ebay", "amazon")),
)
LISTS = (["orders", "list"], ["refund", "list"], ["dispute", "list"], ["notifications", "list"], ["events", "list"])


def assemble(t: tuple) -> list[str]:
    template, as_, out = t
    args = [w for part in template for w in ([part] if isinstance(part, str) else part)]
    if out[:1] == ["--format"] and args[:2] not in LISTS:
        out = ["--json"]
    if as_ and args[:2] not in (["orders", "place"], ["orders", "pay"], ["orders", "confirm"], ["cancel", "request"],
                                ["cancel", "withdraw"], ["seller", "respond"], ["seller", "ship"], ["refund", "hold"],
                                ["refund", "release"], ["refund", "settle"], ["dispute", "open"],
                                ["dispute", "resolve"]):
        as_ = []
    return args + as_ + out


templated = st.tuples(
    TEMPLATES,
    st.one_of(st.just([]), st.just([]), st.tuples(st.just("--as"), NAMES).map(list)),
    st.sampled_from([[], ["--json"], ["--json"], ["--format", "csv"], ["--format", "ndjson"], ["--format", "xml"]]),
).map(assemble)
arg_lists = st.one_of(
    st.tuples(st.sampled_from(COMMANDS), st.lists(tokens, max_size=8)).map(lambda t: t[0] + t[1]),
    st.lists(tokens, max_size=8),
    templated,
    templated,
)


def in_fresh_folder(test: Any) -> Any:
    """Each example runs in a folder of its own (as cwd), with the real world as its data file."""

    def run(*args: Any, **kwargs: Any) -> Any:
        here = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="ordercli-fuzz-") as tmp:
            os.chdir(tmp)
            try:
                db = Path(tmp) / "world.json"
                db.write_bytes(WORLD_BYTES)
                return test(db, *args, **kwargs)
            finally:
                os.chdir(here)

    return run


HELP_FLAGS = {"--help", "-h", "--version"}


@settings(FUZZ, max_examples=int(os.environ.get("ORDERCLI_FUZZ_EXAMPLES", "300")))
@given(runs=st.lists(arg_lists, min_size=1, max_size=3))
@example(runs=[["orders", "show", "ORD-0001", "--json"]])
@example(runs=[["--db", "", "orders", "list"]])
@example(runs=[["clock", "tick", "99999999999w"]])
@example(runs=[["clock", "set", "9999-12-31T23:59:59Z"], ["orders", "list", "--json"]])
@example(runs=[["orders", "place", "--buyer", "x" * 201, "--seller", "s", "--item", "i", "--amount", "1"]])
@example(runs=[["cancel", "request", "ORD-0008", "--reason", "other", "--as", ""]])
@example(runs=[["orders", "list", "--format", "xml", "--json"]])
def test_random_arguments_never_crash(runs: list[list[str]]) -> None:
    @in_fresh_folder
    def body(db: Path) -> None:
        for args in runs:
            run = invoke(args, db)
            check_run(run, allow_scenario_failure="scenario" in args)
            if run.code == 0 and len(args) >= 2 and args[-1] == "--json" and not args[-2].startswith("-") \
                    and not HELP_FLAGS & set(args) and "--" not in args:
                try:
                    json.loads(run.stdout)
                except ValueError:
                    raise AssertionError(f"--json printed something else than one JSON value\n{run}") from None

    body()


@pytest.mark.parametrize("args", [
    ["policy", "use", "\x00"],
    ["orders", "import", "\x00"],
    ["db", "backup", "\x00"],
    ["--db", "\x00", "orders", "list"],
    ["--db", "a\x00b", "clock", "tick", "1d"],
    ["scenario", "run", "\x00"],
    ["scenario", "run", "--junit", "\x00", "world.json"],
], ids=["policy-use", "orders-import", "db-backup", "db-read", "db-write", "scenario-run", "junit"])
def test_nul_in_a_path_argument(args: list[str]) -> None:
    """A NUL can't come from a shell, but it can from a scenario step (YAML "\\0") or a program
    calling ordercli in-process: it is a bad value (exit 2) or an unusable file (exit 5), not a crash."""

    @in_fresh_folder
    def body(db: Path) -> None:
        run = invoke(args, db)
        check_run(run)
        assert run.code in (2, 5), str(run)

    body()


# What Python makes of a byte that is not UTF-8 in argv (a Latin-1 terminal typing "café").
UNDECODABLE = os.fsdecode(b"caf\xe9")


@pytest.mark.parametrize("args", [
    ["orders", "place", "--buyer", UNDECODABLE, "--seller", "acme", "--item", "Mug", "--amount", "1"],
    ["orders", "place", "--buyer", "alice", "--seller", "acme", "--item", UNDECODABLE, "--amount", "1"],
    ["cancel", "request", "ORD-0008", "--reason", "other", "--note", UNDECODABLE],
    ["seller", "ship", "ORD-0008", "--tracking", UNDECODABLE],
    ["seller", "respond", "ORD-0004", "reject", "--message", UNDECODABLE],
    ["cancel", "request", "ORD-0008", "--reason", "other", "--as", UNDECODABLE, "--json"],
    ["orders", "list", "--" + UNDECODABLE, "--json"],
    ["db", "backup", UNDECODABLE],
    ["orders", "show", UNDECODABLE, "--json"],
    ["clock", "tick", UNDECODABLE, "--json"],
], ids=["buyer", "item", "note", "tracking", "message", "as-json", "unknown-option-json", "db-backup", "show",
        "tick"])
def test_undecodable_bytes_in_arguments(args: list[str]) -> None:
    """Bytes that are not UTF-8 reach the program as lone surrogates: a bad value (exit 2), a refusal
    (4), not found (3) or an unusable file (5); never an internal error or a traceback, and never a
    half-written data file."""

    @in_fresh_folder
    def body(db: Path) -> None:
        run = invoke(args, db)
        check_run(run)
        if run.code != 0:
            assert db.read_bytes() == WORLD_BYTES

    body()


def test_undecodable_bytes_in_a_real_process(tmp_path: Path, run_process) -> None:
    """The same through a real process: the argv bytes themselves, and no traceback on stderr."""

    db = tmp_path / "world.json"
    db.write_bytes(WORLD_BYTES)
    proc = run_process("cancel", "request", "ORD-0008", "--reason", "other", "--as", UNDECODABLE, "--json",
                       env={"ORDERCLI_DB": str(db)})
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    assert proc.returncode in (2, 4), proc.stderr.decode(errors="replace")  # a bad --as, or not the buyer
    json.loads(proc.stderr)  # one JSON error object


IMPORT_VALUES = st.one_of(
    st.sampled_from(["alice", "acme", "Mug", "19.99", "0.01", "1.234", "0", "-1", "USD", "usd", "card", "alipay",
                     "cash", "", " ", "x" * 201, "\x00", "\n"]),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(max_size=20),
)
import_rows = st.one_of(
    st.fixed_dictionaries(
        {"buyer": st.one_of(st.just("alice"), IMPORT_VALUES), "seller": st.one_of(st.just("acme"), IMPORT_VALUES),
         "item": st.one_of(st.just("Mug"), IMPORT_VALUES), "amount": st.one_of(st.just("19.99"), IMPORT_VALUES)},
        optional={k: IMPORT_VALUES for k in ("currency", "payment", "quantity", "unpaid", "colour")},
    ).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.just(b""),
)


@FUZZ
@given(rows=st.lists(import_rows, max_size=6), eol=st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_orders_import_from_hostile_stdin(rows: list[bytes], eol: bytes) -> None:
    """`orders import -`: all or nothing; a bad line is exit 2, never a crash."""

    @in_fresh_folder
    def body(db: Path) -> None:
        result = RUNNER.invoke(app, ["orders", "import", "-", "--json"], input=eol.join(rows),
                               env={"ORDERCLI_DB": str(db), "NO_COLOR": "1"})
        run = Run(["orders", "import", "-", "--json"], result)
        check_run(run)
        after = json.loads(db.read_bytes())
        before = len(WORLD["orders"])
        if run.code == 0:
            assert len(after["orders"]) == before + json.loads(run.stdout)["imported"], str(run)
        else:
            assert db.read_bytes() == WORLD_BYTES, f"a failed import changed the data file\n{run}"

    body()


# A scenario file: mostly well-formed, with hostile values anywhere.
scenario_steps = st.lists(
    st.fixed_dictionaries(
        {"run": st.one_of(templated.map(shlex.join), templated.map(shlex.join), random_text)},
        optional={"id": st.sampled_from(["first", "o", "x"]),
                  "expect": st.dictionaries(st.sampled_from(["status", "id", "refund.status", "0.id", "error.code",
                                                             "a..b", ""]),
                                            st.one_of(st.sampled_from(["cancelled", "${first.id}", "${x.0}",
                                                                       "${nope.id}", "${first}", 19.99]),
                                                      json_values), max_size=2),
                  "expect_exit": st.one_of(st.integers(0, 5), json_values)},
    ),
    max_size=4,
)
scenarios = st.one_of(
    st.fixed_dictionaries(
        {"name": st.one_of(st.just("fuzz"), json_values), "steps": st.one_of(scenario_steps, json_values)},
        optional={"start": st.one_of(st.sampled_from(["2030-03-04T09:00:00Z", "2030-03-04", "yesterday"]),
                                     json_values),
                  "policy": st.one_of(st.sampled_from(["aliexpress", "ebay", "amazon", "world.json"]), json_values),
                  "extra": json_values},
    ),
    json_values,
)


@FUZZ
@given(scenario=scenarios, fmt=st.sampled_from(["yaml", "json"]))
def test_scenario_run_with_hostile_files(scenario: Any, fmt: str) -> None:
    """`scenario run`: a malformed file is exit 2; a well-formed one is 0 or 1 (a step failed), and
    no step inside it ever hits an internal error."""
    import yaml

    @in_fresh_folder
    def body(db: Path) -> None:
        path = Path(f"s.{fmt}")
        path.write_text(json.dumps(scenario) if fmt == "json" else yaml.safe_dump(scenario, allow_unicode=True),
                        encoding="utf-8")
        run = invoke(["scenario", "run", str(path), "--json"], db)
        check_run(run, allow_scenario_failure=True)
        if run.code in (0, 1):
            reports = json.loads(run.stdout)
            for report in reports:
                for step in report["steps"]:
                    assert step["exit"] != 1, f"step {step['index']} hit an internal error: {step}\n{run}"

    body()


def test_a_scenario_that_runs_itself_ends_without_an_internal_error(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path, db: Path) -> None:
    """Hostile scenario: a step that runs its own file. Each level may fail (exit 1, a failed step),
    but no level may end in an internal error (exit 1 with internal_error, e.g. a RecursionError).
    The spy only records what each in-process step returned."""
    from ordercli.cli.invoke import InProcess

    seen: list[tuple[list[str], int, str]] = []
    real_call = InProcess.__call__

    def spy(self: Any, args: list[str]) -> tuple[int, str, str]:
        code, out, err = real_call(self, args)
        seen.append((args, code, err))
        return code, out, err

    monkeypatch.setattr(InProcess, "__call__", spy)
    monkeypatch.chdir(tmp_path)
    Path("self.yaml").write_text("name: runs itself\nsteps:\n  - run: scenario run self.yaml\n", encoding="utf-8")
    run = invoke(["scenario", "run", "self.yaml", "--json"], db)
    check_run(run, allow_scenario_failure=True)
    crashed = [(args, err) for args, code, err in seen if "internal_error" in err]
    assert not crashed, f"{len(seen)} nested runs; the deepest crashed: {crashed[0]}"


# -- (b) random and damaged data files -------------------------------------------------------------------

DATA_COMMANDS = [
    ["orders", "list", "--json"],
    ["orders", "show", "ORD-0003", "--json"],
    ["clock", "tick", "1d"],
    ["refund", "list"],
    ["events", "list"],
    ["db", "check"],
]
READERS = [c for c in DATA_COMMANDS if c[:2] != ["clock", "tick"]]


def check_data_file(data: bytes, db: Path) -> None:
    for args in DATA_COMMANDS:
        db.write_bytes(data)
        run = invoke(args, db)
        check_run(run)
        after = db.read_bytes() if db.exists() else None
        if run.code != 0:
            assert after == data, f"a failed command changed the data file\n{run}"
        if args in READERS:
            assert after == data, f"a reading command changed the data file\n{run}"


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\xff\xfe")
@example(data=b"null")
@example(data=b"[" * 5000)
def test_random_bytes(db: Path, data: bytes) -> None:
    check_data_file(data, db)


@FUZZ
@given(value=st.one_of(json_values, ordercli_like()))
@example(value={"meta": {"1": {"app": "ordercli", "schema": 2}}, "orders": {}, "events": {}, "notifications": {}})
@example(value={"meta": {"1": {"app": "ordercli", "schema": 3}}})
@example(value={"meta": {"1": {"app": "ordercli", "schema": True}}})
def test_random_json(db: Path, value: Any) -> None:
    check_data_file(json.dumps(value).encode(), db)


@FUZZ
@given(data=data_files())
def test_damaged_world(db: Path, data: bytes) -> None:
    check_data_file(data, db)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(WORLD_BYTES) - 1))
def test_truncated_world(db: Path, cut: int) -> None:
    check_data_file(WORLD_BYTES[:cut], db)


PLACE = ["orders", "place", "--buyer", "zed", "--seller", "z", "--item", "i", "--amount", "1"]
REQUEST = ["cancel", "request", "ORD-0008", "--reason", "other"]  # an event and a notification


@pytest.mark.parametrize(("counter", "args"), [("next_order", PLACE), ("next_event", REQUEST),
                                               ("next_notification", REQUEST)])
def test_a_stale_counter_never_overwrites_history(db: Path, counter: str, args: list[str]) -> None:
    """A file whose meta counter lags behind its table (hand-edited, or restored in part) is damaged:
    a write must refuse it (exit 5, file untouched) or at least keep every order, event and
    notification already there (R19: the history is append-only; R17: orders can't be changed)."""
    world = json.loads(WORLD_BYTES)
    world["meta"]["1"][counter] = 2
    data = json.dumps(world).encode()
    db.write_bytes(data)
    run = invoke(args, db)
    check_run(run)
    if run.code != 0:
        assert run.code == 5 and db.read_bytes() == data, str(run)
        return
    after = json.loads(db.read_bytes())
    for key, order in world["orders"].items():  # the request changes ORD-0008's status, not who it is
        assert after["orders"].get(key, {}).get("buyer") == order["buyer"], f"order {key} was overwritten"
    for table in ("events", "notifications"):
        for key, row in world[table].items():
            assert after[table].get(key) == row, f"{table} {key} was overwritten by {after[table].get(key)}"


@pytest.mark.parametrize(("key", "value"), [("timezone", "Mars/Olympus"), ("ship_within", "7 weeks")])
@pytest.mark.parametrize("args", [["orders", "list"], ["clock", "tick", "1d"]], ids=["read", "write"])
def test_a_damaged_policy_in_the_data_file_is_a_storage_error(db: Path, key: str, value: Any,
                                                              args: list[str]) -> None:
    """The policy stored in the data file is data, not the user's input: when it is broken, the file
    is damaged (exit 5, as for a malformed meta table), not a usage error (exit 2)."""
    world = json.loads(WORLD_BYTES)
    world["meta"]["1"]["policy"]["values"][key] = value
    data = json.dumps(world).encode()
    db.write_bytes(data)
    run = invoke(args, db)
    check_run(run)
    assert run.code == 5, str(run)
    assert db.read_bytes() == data


def test_the_real_world_is_sound(db: Path) -> None:
    """The base of the mutations is itself a healthy world: every command above exits 0 on it."""
    for args in DATA_COMMANDS:
        db.write_bytes(WORLD_BYTES)
        run = invoke(args, db)
        assert run.code == 0, str(run)
    statuses = {o["status"] for o in WORLD["orders"].values()}
    assert statuses == {"awaiting_payment", "awaiting_shipment", "cancel_requested", "shipped", "completed",
                        "cancelled"}
