"""The Python API: `Sandbox`, one world (in memory or on a data file) and the commands as methods.

Every method returns exactly the object that the command prints with `--json` (see
`ordercli.core.model` for their types) and raises the error hierarchy of `ordercli.core.errors`, each
error carrying the `code` and the exit status (`exit_code`) the command would have.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ordercli.core import engine, validate, views
from ordercli.core import policy as P
from ordercli.core.errors import UsageError
from ordercli.core.model import (
    Clock,
    Deadline,
    DeadlineKind,
    DisputeRow,
    Event,
    Imported,
    Message,
    Move,
    Notification,
    Order,
    Reason,
    Refund,
    Replay,
)
from ordercli.core.timecalc import fmt
from ordercli.core.world import StoredOrder, Tables, World, empty_tables

if TYPE_CHECKING:
    from ordercli.core.presets import Loaded
    from ordercli.store import Store

T = TypeVar("T")
R = TypeVar("R", bound=Mapping[str, Any])  # a history row: an Event, a Notification
DEFAULT_POLICY = "aliexpress"


def wall_now() -> datetime:
    """The wall-clock time in whole seconds: where a world without a given start begins."""
    return datetime.now(UTC).replace(microsecond=0)


def _instant(value: datetime | str, what: str) -> datetime:
    if isinstance(value, datetime):
        if value.microsecond:  # as for text: the virtual clock keeps whole seconds
            raise UsageError(
                f"bad {what} {value.isoformat()}: fractional seconds are not accepted, give whole seconds",
                "bad_instant",
            )
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    from ordercli.core.timecalc import parse_instant

    return parse_instant(value, what)


def _copy(record: Mapping[str, Any]) -> Any:
    return {**record, "details": dict(record["details"])} if "details" in record else dict(record)


class Commands:
    """The commands (docs/cli.md). `Sandbox` runs each in its own transaction; a `Session` (from
    `Sandbox.transaction()`) runs several in one."""

    # History rows handed out must not be the world's own while the world lives on (a caller
    # could rewrite history); a world read for one call and dropped needs no copies.
    _keeps_world = True

    # What the last call that changes the world replayed (its idempotency key was already used:
    # nothing was changed, the answer is the first call's), None when it did the work.
    replayed: Replay | None = None

    def _apply(self, write: bool, fn: Callable[[World], T]) -> T:
        raise NotImplementedError

    def _write(self, fn: Callable[[World], T], key: str | None, command: str, **params: Any) -> T:
        """A command that changes the world; with an idempotency key, done once per key
        (`ordercli.core.idempotency`). Without one, nothing is looked up."""
        self.replayed = None
        if key is None:
            return self._apply(True, fn)
        from ordercli.core import idempotency

        key = idempotency.checked_key(key)
        digest = idempotency.fingerprint(command, params)
        seen: list[Replay | None] = [None]

        def run(w: World) -> T:
            result, seen[0] = idempotency.run(w, key, command, digest, fn)
            if seen[0] is not None and idempotency.COMMANDS[command] == "move":
                result = self._move(result)
            return cast(T, result)

        result = self._apply(True, run)
        self.replayed = seen[0]
        return result

    def _rows(self, rows: Iterable[R]) -> list[R]:
        return [_copy(r) for r in rows] if self._keeps_world else list(rows)

    def _move(self, move: Move) -> Move:
        return cast(Move, {**move, "fired": self._rows(move["fired"])})

    # -- orders
    def place(
        self,
        buyer: str,
        seller: str,
        item: str,
        amount: str | int | Decimal,
        *,
        currency: str = "USD",
        payment: str = "card",
        quantity: int | str = 1,
        unpaid: bool = False,
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """`orders place`: a new order, paid at once unless `unpaid`. `amount` is money: a
        decimal string like "19.99" (or a Decimal or int). Every command that changes the world
        takes an `idempotency_key`: see docs/python-api.md#safe-retries."""

        def run(w: World) -> Order:
            order = engine.place_order(
                w,
                buyer=buyer,
                seller=seller,
                item=item,
                amount=amount,
                currency=currency,
                payment=payment,
                quantity=quantity,
                unpaid=unpaid,
                actor=actor,
            )
            return views.order(w, order)

        return self._write(
            run,
            idempotency_key,
            "orders place",
            buyer=buyer,
            seller=seller,
            item=item,
            amount=amount,
            currency=currency,
            payment=payment,
            quantity=quantity,
            unpaid=unpaid,
            actor=actor,
        )

    def pay(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Order:
        """`orders pay`: pays an unpaid order (R2, R3)."""
        return self._write(
            lambda w: views.order(w, engine.pay(w, order_id, actor)),
            idempotency_key,
            "orders pay",
            order_id=order_id,
            actor=actor,
        )

    def confirm(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Order:
        """`orders confirm`: the buyer confirms receipt of a shipped order."""
        return self._write(
            lambda w: views.order(w, engine.confirm(w, order_id, actor)),
            idempotency_key,
            "orders confirm",
            order_id=order_id,
            actor=actor,
        )

    def order(self, order_id: str) -> Order:
        """`orders show`: one order (NotFound, exit 3, for an unknown id)."""
        return self._apply(False, lambda w: views.order(w, w.order(order_id)))

    def orders(self, *, status: str | None = None, buyer: str | None = None, seller: str | None = None) -> list[Order]:
        """`orders list`: orders, oldest first, filtered by status, buyer and seller."""
        if status is not None:
            validate.choice(status, P.STATUSES, "status", "bad_status")

        def run(w: World) -> list[Order]:
            return [views.order(w, o) for o in w.find_orders(status, buyer, seller)]

        return self._apply(False, run)

    def import_orders(
        self, rows: Iterable[Any], *, progress: Any = None, idempotency_key: str | None = None
    ) -> Imported:
        """`orders import`: many orders at once, each a mapping of `orders place` keys (buyer,
        seller, item, amount, currency, payment, quantity, unpaid); all or nothing. Rows may
        also be (line number, mapping) pairs, so that errors name the line."""
        numbered = [row if isinstance(row, tuple) else (n, row) for n, row in enumerate(rows, start=1)]
        return self._write(
            lambda w: Imported(imported=len(engine.import_orders(w, numbered, progress))),
            idempotency_key,
            "orders import",
            rows=numbered,
        )

    # -- cancellation
    def cancel_request(
        self,
        order_id: str,
        reason: str,
        *,
        note: str | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """`cancel request`: R1 for an unpaid order, R5-R7 for a paid one."""
        return self._write(
            lambda w: views.order(w, engine.cancel_request(w, order_id, reason, note, actor)),
            idempotency_key,
            "cancel request",
            order_id=order_id,
            reason=reason,
            note=note,
            actor=actor,
        )

    def cancel_withdraw(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Order:
        """`cancel withdraw`: R11."""
        return self._write(
            lambda w: views.order(w, engine.cancel_withdraw(w, order_id, actor)),
            idempotency_key,
            "cancel withdraw",
            order_id=order_id,
            actor=actor,
        )

    @staticmethod
    def cancel_reasons() -> list[Reason]:
        """`cancel reasons`: the reason table (no world needed: `Sandbox.cancel_reasons()` works too)."""
        return views.reasons()

    # -- the seller
    def seller_respond(
        self,
        order_id: str,
        answer: str,
        *,
        message: str | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """`seller respond`: `accept` (R8) or `reject` (R9) a pending request."""
        return self._write(
            lambda w: views.order(w, engine.seller_respond(w, order_id, answer, message, actor)),
            idempotency_key,
            "seller respond",
            order_id=order_id,
            answer=answer,
            message=message,
            actor=actor,
        )

    def seller_ship(
        self,
        order_id: str,
        *,
        tracking: str | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """`seller ship`: R12."""
        return self._write(
            lambda w: views.order(w, engine.seller_ship(w, order_id, tracking, actor)),
            idempotency_key,
            "seller ship",
            order_id=order_id,
            tracking=tracking,
            actor=actor,
        )

    def seller_pack(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Order:
        """`seller pack`: R22 (only where the policy uses packing)."""
        return self._write(
            lambda w: views.order(w, engine.seller_pack(w, order_id, actor)),
            idempotency_key,
            "seller pack",
            order_id=order_id,
            actor=actor,
        )

    def seller_cancel(
        self,
        order_id: str,
        reason: str,
        *,
        message: str | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """`seller cancel`: R26 (only where the policy lets sellers cancel)."""
        return self._write(
            lambda w: views.order(w, engine.seller_cancel(w, order_id, reason, message, actor)),
            idempotency_key,
            "seller cancel",
            order_id=order_id,
            reason=reason,
            message=message,
            actor=actor,
        )

    # -- the clock
    def clock(self) -> Clock:
        """`clock show`."""
        return self._apply(False, lambda w: Clock(now=fmt(w.now)))

    @property
    def now(self) -> datetime:
        """The virtual now."""
        return self._apply(False, lambda w: w.now)

    def clock_set(
        self,
        instant: datetime | str,
        *,
        progress: engine.Progress | None = None,
        idempotency_key: str | None = None,
    ) -> Move:
        """`clock set`: moves the clock to `instant` (a datetime, naive meaning UTC, or ISO 8601
        text), firing what falls due; forward only once the world has history."""
        target = _instant(instant, "instant")

        def run(w: World) -> Move:
            move = engine.clock_set(w, target, progress)
            w.dirty = True
            return self._move(move)

        return self._write(run, idempotency_key, "clock set", instant=fmt(target))

    def clock_tick(
        self,
        duration: str | timedelta,
        *,
        progress: engine.Progress | None = None,
        idempotency_key: str | None = None,
    ) -> Move:
        """`clock tick`: moves the clock forward by `duration` (`72h`, `3d`, `1d12h` or a timedelta)."""
        if isinstance(duration, timedelta):
            if duration < timedelta(0):
                raise UsageError(f"duration: {duration} is negative: the clock only ticks forward", "bad_duration")
            text = f"{int(duration.total_seconds())}s"
        else:
            text = duration

        def run(w: World) -> Move:
            move = engine.clock_tick(w, text, progress)
            w.dirty = True
            return self._move(move)

        return self._write(run, idempotency_key, "clock tick", duration=text)

    def clock_next(self, *, progress: engine.Progress | None = None, idempotency_key: str | None = None) -> Move:
        """`clock next`: moves the clock to the next pending deadline and fires it (Refused when none)."""
        return self._write(lambda w: self._move(engine.clock_next(w, progress)), idempotency_key, "clock next")

    # -- refunds
    def refund(self, order_id: str) -> Refund:
        """`refund status`: the order's refund (NotFound when it has none)."""
        return self._apply(False, lambda w: _refund(w, engine.refund_of(w, order_id)[0]))

    def refunds(self, *, overdue: bool = False) -> list[Refund]:
        """`refund list`: every refund, oldest order first; only the overdue ones with `overdue`."""
        return self._apply(False, lambda w: views.refunds(w, overdue))

    def refund_hold(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Refund:
        """`refund hold` (R16): the refund won't settle by itself."""
        return self._write(
            lambda w: _refund(w, engine.refund_hold(w, order_id, actor)),
            idempotency_key,
            "refund hold",
            order_id=order_id,
            actor=actor,
        )

    def refund_release(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Refund:
        """`refund release`: lifts a hold; past its due_by the refund is paid at once."""
        return self._write(
            lambda w: _refund(w, engine.refund_release(w, order_id, actor)),
            idempotency_key,
            "refund release",
            order_id=order_id,
            actor=actor,
        )

    def refund_settle(self, order_id: str, *, actor: str | None = None, idempotency_key: str | None = None) -> Refund:
        """`refund settle`: pays the refund now."""
        return self._write(
            lambda w: _refund(w, engine.refund_settle(w, order_id, actor)),
            idempotency_key,
            "refund settle",
            order_id=order_id,
            actor=actor,
        )

    # -- disputes
    def dispute_open(
        self, order_id: str, reason: str, *, actor: str | None = None, idempotency_key: str | None = None
    ) -> Order:
        """`dispute open` (R13)."""
        return self._write(
            lambda w: views.order(w, engine.dispute_open(w, order_id, reason, actor)),
            idempotency_key,
            "dispute open",
            order_id=order_id,
            reason=reason,
            actor=actor,
        )

    def dispute_resolve(
        self, order_id: str, outcome: str, *, actor: str | None = None, idempotency_key: str | None = None
    ) -> Order:
        """`dispute resolve`: `refund` or `reject`, as support."""
        return self._write(
            lambda w: views.order(w, engine.dispute_resolve(w, order_id, outcome, actor)),
            idempotency_key,
            "dispute resolve",
            order_id=order_id,
            outcome=outcome,
            actor=actor,
        )

    def disputes(self) -> list[DisputeRow]:
        """`dispute list`."""
        return self._apply(False, views.disputes)

    # -- messages
    def send_message(self, order_id: str, text: str, *, actor: str, idempotency_key: str | None = None) -> Message:
        """`messages send`: `actor`, the order's buyer or seller, writes to the other party (notified)."""
        return self._write(
            lambda w: views.message(order_id, engine.send_message(w, order_id, text, actor)),
            idempotency_key,
            "messages send",
            order_id=order_id,
            text=text,
            actor=actor,
        )

    def messages(self, order_id: str) -> list[Message]:
        """`messages list`: the order's buyer-seller thread, oldest first."""
        return self._apply(False, lambda w: [views.message(order_id, m) for m in engine.messages(w, order_id)])

    # -- history
    def notifications(self, *, to: str | None = None) -> list[Notification]:
        """`notifications list`: oldest first, only those sent to `to` when given."""
        return self._apply(False, lambda w: self._rows(w.find_notifications(to)))

    def seller_stats(self, seller: str | None = None, *, window: str = "60d") -> list[dict[str, Any]]:
        """`seller stats`: per seller, over the orders paid in the window ending now: seller-fault
        cancellations, late shipments and requests answered in time, each rate against the policy's
        ceiling (docs/rules.md "Seller metrics")."""
        from ordercli.core.metrics import seller_stats
        from ordercli.core.timecalc import parse_duration

        span = parse_duration(window, "--window")
        if seller is not None:
            validate.name(seller, "seller")

        def run(w: World) -> list[dict[str, Any]]:
            return seller_stats(w.iter_orders(), w.find_events, w.policy, w.now, span, seller)

        return self._rows(self._apply(False, run))

    def events(self, *, order_id: str | None = None) -> list[Event]:
        """`events list`: the history, oldest first; only one order's with `order_id` (NotFound
        for an unknown id)."""

        def run(w: World) -> list[Event]:
            if order_id is not None:
                w.order(order_id)
            return self._rows(w.find_events(order_id))

        return self._apply(False, run)

    def deadlines(self, order_id: str) -> list[Deadline]:
        """Every deadline of the order still waiting to fire, earliest first (the order's
        `next_deadline` is the first of them)."""

        def run(w: World) -> list[Deadline]:
            pending = sorted(P.pending_deadlines(w.order(order_id)), key=lambda d: (d[1], d[0]))
            return [{"kind": DeadlineKind(kind), "at": fmt(at)} for kind, at in pending]

        return self._apply(False, run)

    # -- the policy
    def policy(self) -> dict[str, Any]:
        """`policy show`: every value in force, and where each came from."""
        return self._apply(False, views.policy)

    def use_policy(self, name_or_file: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """`policy use`: a preset (`aliexpress`, `ebay`) or a TOML file; Refused once the world has orders."""
        from ordercli.core import presets

        loaded = presets.load(name_or_file)

        def run(w: World) -> dict[str, Any]:
            engine.use_policy(w, loaded.meta(), loaded.policy)
            return views.policy(w)

        return self._write(run, idempotency_key, "policy use", name_or_file=name_or_file)


def _refund(w: World, order: StoredOrder) -> Refund:
    return cast(Refund, views.refund(order["refund"], w.now))


class Session(Commands):
    """Several commands on one world, read once and (on a data file) written once, all or
    nothing: see `Sandbox.transaction()`."""

    def __init__(self, world: World, writable: bool = True):
        self._world = world
        self._open = True
        self._writable = writable

    def _apply(self, write: bool, fn: Callable[[World], T]) -> T:
        if not self._open:
            raise RuntimeError("this session's transaction is over: start another with Sandbox.transaction()")
        if write and not self._writable:
            raise RuntimeError("a session from Sandbox.reading() only reads: change the world in a transaction()")
        return fn(self._world)

    @property
    def world(self) -> World:
        """The world itself, for the engine's functions (`ordercli.core.engine`)."""
        return self._world


class Sandbox(Commands):
    """One ordercli world, in memory or on a data file.

    `Sandbox()` keeps the world in memory; `Sandbox("world.json")` keeps it in a data file,
    with every guarantee of the CLI: each call takes the writers' lock, reads the file once
    and writes it at most once, atomically; a refused call writes nothing.

    `start` (a datetime, naive meaning UTC, or ISO 8601 text; default: the wall clock) and
    `policy` (a preset name or a TOML file; default `aliexpress`) make the new world: in
    memory at once, on a file when the file does not exist yet (or always with `replace=True`,
    which starts the file afresh). An existing file keeps its own clock and policy.
    `durable=False` skips the fsyncs of each write (still atomic, not crash-proof): for a
    throwaway file.

    A refused call leaves an in-memory world as it was too: each command is checked before it
    changes anything, and `import_orders` and `transaction()` go back to a copy taken before
    them when they raise.

    Every method that changes the world takes `idempotency_key=`: with a key already used, the
    call changes nothing and returns the first call's answer, and `replayed` says so
    (docs/python-api.md#safe-retries).

    On a data file, a method works out its answer before it writes, and after the write it only
    returns: an `OrderCliError` always means that nothing was written. Only an exception from
    outside can come after the write, a `KeyboardInterrupt` (Ctrl-C) that lands between the file's
    rename and the return: the change is then in the file, so a caller that catches it should
    read the world again before doing the call again. (The CLI holds Ctrl-C while it writes and
    reports it as `saved_interrupted`: see `saving`.)
    """

    # Set by the CLI (cli/common.py): entered around the write of a changed world, with that world,
    # and left normally once the change is in the file; so it knows the change is saved (a failure
    # after it is reported as such, never as nothing done) and can hold a Ctrl-C meanwhile.
    saving: Callable[[World], AbstractContextManager[None]] | None = None

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        start: datetime | str | None = None,
        policy: str | None = None,
        durable: bool = True,
        replace: bool = False,
    ):
        self.path = Path(path) if path is not None else None
        self._start = _instant(start, "start") if start is not None else None
        self._policy_name = policy
        self._loaded: Loaded | None = None
        self._world: World | None = None
        self._store: Store | None = None
        self._fresh: bytes | None = None  # a new world's tables, as a block on a missing file left them
        self._fresh_used = False
        self._keeps_world = path is None
        if self.path is None:
            self._world = World(self._new_tables())
        else:
            from ordercli.store import Store

            self._store = Store(self.path, self._new_tables, durable=durable)
            self._store.file.check_kind()  # a folder, device, FIFO or socket: refused before any work
            if replace:
                self._store.replace_world(self._new_tables())
        if policy is not None:
            self._policy()  # a bad policy is refused at once, not at the first write

    def _policy(self) -> Loaded:
        if self._loaded is None:
            from ordercli.core import presets

            self._loaded = presets.load(self._policy_name or DEFAULT_POLICY)
        return self._loaded

    def _new_tables(self) -> Tables:
        if self._fresh is not None:
            import orjson

            self._fresh_used = True
            return cast(Tables, orjson.loads(self._fresh))
        start = self._start if self._start is not None else wall_now()
        return empty_tables(start, self._policy().meta())

    def __repr__(self) -> str:
        where = "in memory" if self.path is None else str(self.path)
        return f"<ordercli.Sandbox {where}>"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Several commands as one: on a data file, one lock, one read and one write for them
        all, and nothing written when any of them raises.

        A data file that does not exist yet is created only by a block that succeeds: the block
        runs first on the new world in memory (no folder, no lock file: a failing command creates
        nothing), then under the lock that world is written, if the file is still missing. If
        another process created it meanwhile, the block acted on a world that is not the file's:
        nothing is written, `StorageError` `database_busy` (run it again)."""
        if self._store is not None and not self._store.file.exists():
            self._store.file.check_kind()  # refusals of the path itself come first, as for a file
            self._store.file.check_writable()
            from ordercli.store.file import lock_timeout

            lock_timeout()  # a bad ORDERCLI_LOCK_TIMEOUT is refused before anything runs or is created
            session = Session(World(self._new_tables()))
            try:
                yield session
            finally:
                session._open = False
            if session._world.dirty:
                with self._saving(session._world):
                    self._create(session._world)
        elif self._store is not None:
            with ExitStack() as saved:
                with self._store.writing() as world:
                    session = Session(world)
                    try:
                        yield session
                    finally:
                        session._open = False
                    if world.dirty:  # the store writes it as this block is left
                        saved.enter_context(self._saving(world))
        else:
            with self._all_or_nothing():
                session = Session(cast(World, self._world))
                try:
                    yield session
                finally:
                    session._open = False

    def _saving(self, world: World) -> AbstractContextManager[None]:
        return self.saving(world) if self.saving is not None else nullcontext()

    def _create(self, world: World) -> None:
        """The world a block made on a missing file, written under the lock as the file's first
        world; if the file appeared meanwhile, nothing is written: `database_busy`."""
        from ordercli.core.errors import StorageError

        store = cast("Store", self._store)
        import orjson

        self._fresh, self._fresh_used = orjson.dumps(world.tables), False  # what _new_tables hands the store
        try:
            with store.writing() as stored:
                if not self._fresh_used:
                    raise StorageError(
                        f"another ordercli command created {store.path} while this one ran; nothing was "
                        "written: run the command again",
                        "database_busy",
                    )
                stored.dirty = True
        finally:
            self._fresh, self._fresh_used = None, False

    @contextmanager
    def _all_or_nothing(self) -> Iterator[None]:
        """In memory: keep a copy of the world, and go back to it when the block raises."""
        import orjson

        before = orjson.dumps(cast(World, self._world).tables)
        try:
            yield
        except BaseException:
            self._world = World(orjson.loads(before))
            raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Several reads of one state of the world (no lock: a data file is only ever replaced whole)."""
        if self._store is not None:
            with self._store.reading() as world:
                session = Session(world, writable=False)
        else:
            session = Session(cast(World, self._world), writable=False)
        try:
            yield session
        finally:
            session._open = False

    def _apply(self, write: bool, fn: Callable[[World], T]) -> T:
        if self._store is None:
            return fn(cast(World, self._world))
        if write:
            with self.transaction() as session:  # a missing file: created only if `fn` succeeds
                return session._apply(True, fn)
        with self._store.reading() as world:
            return fn(world)

    def import_orders(
        self, rows: Iterable[Any], *, progress: Any = None, idempotency_key: str | None = None
    ) -> Imported:
        if self._store is not None:
            return super().import_orders(rows, progress=progress, idempotency_key=idempotency_key)
        with self._all_or_nothing():
            return super().import_orders(rows, progress=progress, idempotency_key=idempotency_key)

    import_orders.__doc__ = Commands.import_orders.__doc__
