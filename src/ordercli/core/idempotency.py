"""Safe retries: a command given an idempotency key (`--idempotency-key`, `idempotency_key=`) does
its work once. The world keeps, per key, what the first call did (docs/cli.md#safe-retries): the
command, a fingerprint of its values, the virtual instant it ran at, and the ids and event range it
made (never a copy of its answer). A later call with the same key and the same values changes
nothing and answers again from those ids, as the world is now; other values are
`idempotency_conflict` (exit 2). A call that fails keeps nothing: a retry is judged afresh.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from ordercli.core.errors import UsageError
from ordercli.core.model import Replay
from ordercli.core.world import World

T = TypeVar("T")

KEY_LIMIT = 255  # as Stripe's keys
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The commands that take a key, and the kind of answer each gives (what a replay re-renders).
COMMANDS: dict[str, str] = {
    "orders place": "order",
    "orders pay": "order",
    "orders confirm": "order",
    "orders import": "imported",
    "cancel request": "order",
    "cancel withdraw": "order",
    "seller respond": "order",
    "seller ship": "order",
    "seller pack": "order",
    "seller cancel": "order",
    "clock set": "move",
    "clock tick": "move",
    "clock next": "move",
    "refund hold": "refund",
    "refund release": "refund",
    "refund settle": "refund",
    "dispute open": "order",
    "dispute resolve": "order",
    "messages send": "message",
    "policy use": "policy",
}


def checked_key(key: object) -> str:
    """A key is text: not empty, at most KEY_LIMIT characters, no control characters (exit 2)."""
    name = "idempotency_key"
    if not isinstance(key, str) or not key:
        raise UsageError(f"{name}: must be a non-empty text", "bad_value", field=name)
    if len(key) > KEY_LIMIT:
        raise UsageError(f"{name}: at most {KEY_LIMIT} characters, got {len(key)}", "bad_value", field=name)
    if _CONTROL_RE.search(key):
        raise UsageError(f"{name}: must not contain control characters", "bad_value", field=name)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:  # bytes the terminal could not decode arrive as surrogates
        raise UsageError(f"{name}: is not valid UTF-8 text", "bad_value", field=name) from None
    return key


def fingerprint(command: str, params: dict[str, Any]) -> str:
    """The command and its values, as a short digest: the same call gives the same digest whether
    a number came as text (the CLI) or as a number (the API)."""
    import orjson

    values = {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in params.items()}
    body = orjson.dumps([command, values], default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(body).hexdigest()


def run(world: World, key: str, command: str, digest: str, do: Callable[[World], T]) -> tuple[Any, Replay | None]:
    """Does `do` once per key: the answer and None the first time; afterwards the first call's
    answer, re-rendered from what was kept, and what the replay is of."""
    kept = world.key_record(key)
    if kept is not None:
        if kept["command"] != command or kept["fingerprint"] != digest:
            what = "another command" if kept["command"] != command else "other values"
            raise UsageError(
                f"idempotency key {key!r} was first used at {kept['at']} for `{kept['command']}` with {what}: "
                "a key is for retrying one command, use a new key for a new command",
                "idempotency_conflict",
            )
        return answer(world, command, kept["result"]), Replay(key=key, command=command, at=kept["at"])
    at = world.now_text
    first_order, first_event = world.meta["next_order"], world.meta["next_event"]
    result = do(world)
    kept_result: dict[str, Any] = {"events": [first_event, world.meta["next_event"]]}
    kept_result.update(_ids(COMMANDS[command], result, first_order, world))
    world.keep_key(key, {"command": command, "fingerprint": digest, "at": at, "result": kept_result})
    return result, None


def _ids(kind: str, result: Any, first_order: int, world: World) -> dict[str, Any]:
    """What a replay needs to answer again: ids and ranges, never the answer itself."""
    if kind == "order":
        return {"order": result["id"]}
    if kind == "refund":
        return {"order": result["order_id"]}
    if kind == "message":
        return {"order": result["order_id"], "n": result["n"]}
    if kind == "imported":
        return {"orders": [first_order, world.meta["next_order"]]}
    if kind == "move":
        return {"from": result["from"], "to": result["to"]}
    return {}  # policy: the answer is the policy in force


def answer(world: World, command: str, kept: dict[str, Any]) -> Any:
    """The first call's answer, from what was kept: the order (or refund, message, policy) as it
    is now; a clock move's from, to and the events it fired; how many orders an import placed."""
    from ordercli.core import engine, views

    kind = COMMANDS[command]
    if kind == "order":
        return views.order(world, world.order(kept["order"]))
    if kind == "refund":
        return views.refund(engine.refund_of(world, kept["order"])[1], world.now)
    if kind == "message":
        order_id = kept["order"]
        return views.message(order_id, engine.messages(world, order_id)[kept["n"] - 1])
    if kind == "imported":
        first, end = kept["orders"]
        return {"imported": end - first}
    if kind == "move":
        return {"from": kept["from"], "to": kept["to"], "fired": world.events_between(*kept["events"])}
    return views.policy(world)
