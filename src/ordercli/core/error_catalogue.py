"""The error catalogue: every `code` a failure can carry, its exit status and what it means.
`ordercli errors` prints it and docs/errors.md is generated from it; a test checks that every
code raised in src/ is listed here and that a test produces every listed code."""

from __future__ import annotations

# code -> (exit status, meaning)
CATALOGUE: dict[str, tuple[int, str]] = {
    # 1: a bug
    "internal_error": (1, "a bug in ordercli: please report it (ORDERCLI_DEBUG=1 shows the traceback)"),
    # 2: usage
    "usage": (2, "the command line itself: an unknown command or option, a missing or malformed argument"),
    "bad_value": (2, "a name, item or free text that is empty, too long, has control characters or is not UTF-8"),
    "bad_amount": (2, "--amount is not a positive decimal, or has more decimal places than the currency's minor units"),
    "bad_currency": (2, "--currency is not an ISO 4217 code of a currency orders can be paid in"),
    "bad_quantity": (2, "--quantity is not an integer of at least 1"),
    "bad_payment": (
        2,
        "--payment is not a method of the policy in force (its refund_within keys; aliexpress: card, paypal, "
        "alipay, bank-transfer)",
    ),
    "same_party": (2, "the buyer and the seller of an order are the same name (spaces around a name don't count)"),
    "reserved_name": (2, "--buyer or --seller is platform or support, the system's own actors in the history"),
    "bad_status": (2, "--status is not an order status"),
    "unknown_reason": (2, "--reason is not a cancellation reason (cancel) or a dispute reason (dispute)"),
    "bad_answer": (2, "the seller's answer is not accept or reject"),
    "bad_outcome": (2, "the dispute outcome is not refund or reject"),
    "bad_format": (2, "--format is not table, json, ndjson or csv, or is another format than --json's"),
    "unknown_field": (2, "--fields names a column the object type does not have, or is used with json/ndjson"),
    "unknown_schema": (2, "ordercli schema NAME names no shipped schema"),
    "bad_duration": (2, "a duration is not <int><unit>... with units w d h m s, or is too large"),
    "bad_instant": (2, "an instant is not ISO 8601, or has fractional seconds"),
    "time_overflow": (2, "a deadline or clock move would pass the year 9999"),
    "bad_path": (2, "a file path is empty or contains a NUL byte"),
    "bad_import": (2, "orders import: a line is not JSON, not an object, or has an unknown or missing key"),
    "bad_policy": (2, "a policy name, file, key or value is not valid"),
    "bad_scenario": (2, "a scenario file is malformed (YAML, keys, references), before any step runs"),
    "nested_scenario": (2, "a scenario step runs scenario run or policy compare"),
    "nothing_selected": (2, "scenario run -k PATTERN selects no scenario and no step of the files given"),
    "bad_lock_timeout": (2, "ORDERCLI_LOCK_TIMEOUT is not a number of seconds"),
    "no_such_file": (2, "db restore: there is no file to restore from"),
    "bad_restore_path": (2, "db restore was given the data file itself"),
    "bad_behaviour": (2, "simulate: the behaviour file is unreadable, not YAML, or has an unknown key or a bad value"),
    "bad_scheduler": (2, "simulate --scheduler: no Dask scheduler answers at that address"),
    "missing_extra": (2, "simulate --plot or --scheduler needs its optional extra: ordercli[plot] or ordercli[dask]"),
    "file_exists": (
        2,
        "simulate --save-sample or --events-out, behaviour fit --out, or scenario run --db without --overwrite, "
        "names a file that already exists "
        "(it is never overwritten)",
    ),
    "output_is_input": (
        2,
        "an output (--junit, scenario run --db, --plot, --save-sample) is a file the same command reads: "
        "a scenario, behaviour or policy file, or the --db world",
    ),
    "foreign_file": (
        2,
        "scenario run --db --overwrite, db backup or Sandbox(replace=True) would replace a file that is not an "
        "ordercli world or backup (foreign data is never overwritten)",
    ),
    "idempotency_conflict": (
        2,
        "--idempotency-key: the key was first used for another command or other values (nothing was done)",
    ),
    "bad_log": (2, "behaviour fit: the event log is unreadable, or a line of it is malformed (the message names it)"),
    "bad_sweep": (2, "simulate --sweep: not KEY=V1,V2,..., an unknown, list- or table-valued key, or a bad value"),
    # 3: not found
    "order_not_found": (3, "no order with that id"),
    "refund_not_found": (3, "the order has no refund"),
    "no_data_file": (3, "db backup: there is no data file to back up"),
    # 4: refused by the policy
    "not_party": (4, "--as names someone who may not take this action on this order (R20)"),
    "already_paid": (4, "orders pay on an order that is already paid"),
    "not_paid": (4, "the order is not paid yet (ship, or a dispute before payment)"),
    "not_shipped": (4, "the action needs a shipped order (confirm, a post-shipment dispute)"),
    "already_shipped": (4, "seller ship on an order that has shipped"),
    "order_cancelled": (4, "the order is cancelled: no action moves it out of that"),
    "order_completed": (4, "the order is completed: no action moves it out of that"),
    "cancel_after_shipment": (4, "a cancellation request after shipment: only a dispute is possible (R5)"),
    "request_pending": (4, "a cancellation request is pending: answer or withdraw it first (R12)"),
    "no_pending_request": (4, "withdraw or respond without a pending cancellation request"),
    "request_limit": (4, "the order has had cancel_requests_max requests (R9)"),
    "cancel_window_closed": (4, "a cancellation request after cancel_request_within from payment (R23)"),
    "seller_only_cancel": (
        4,
        "a buyer's request where cancel_requests_max = 0: only the seller cancels; write to them (R24)",
    ),
    "packing_not_used": (4, "seller pack under a policy that does not use packing (R22)"),
    "already_packed": (4, "seller pack on an order that is already packed (R22)"),
    "not_packed": (4, "seller ship on an unpacked order under pack_before_ship (R22)"),
    "seller_cancel_not_allowed": (4, "seller cancel under a policy where seller_can_cancel is false (R26)"),
    "dispute_open": (4, "the order has an open dispute: one at a time, and no requests meanwhile (R13)"),
    "no_open_dispute": (4, "dispute resolve on an order without an open dispute"),
    "wrong_dispute_reason": (4, "a pre-shipment dispute reason on a shipped order (R13)"),
    "refund_not_overdue": (4, "refund-not-received on an order whose refund is not overdue (R13c)"),
    "refund_held": (4, "refund hold on a refund that is already held"),
    "refund_not_held": (4, "refund release on a refund that is not held"),
    "refund_paid": (4, "refund hold or settle on a refund that is already paid"),
    "clock_backwards": (4, "clock set to an earlier instant once the world has history"),
    "no_pending_deadline": (4, "clock next with no deadline pending"),
    "world_has_orders": (4, "policy use (or demo --policy on a --db world) once the world has orders"),
    # 5: storage
    "storage_unreadable": (5, "the data file can't be read (no permission, not JSON)"),
    "not_a_file": (
        5,
        "--db, or a file ordercli would write (a backup, --junit, --plot, --save-sample, --events-out), is a "
        "folder, device, FIFO or socket, ends in /, or has a file for a folder",
    ),
    "dangling_link": (5, "the data file is a symlink whose target's folder does not exist: nothing is created"),
    "read_only": (5, "the data file's folder can't be written (permissions, a read-only file system)"),
    "not_ordercli_data": (5, "the data file is JSON but not ordercli data"),
    "newer_schema": (5, "the data file was written by a newer ordercli"),
    "damaged_data": (5, "the data file is damaged (run ordercli db check); it is left untouched"),
    "data_problems": (5, "db check found problems in the data file"),
    "database_busy": (
        5,
        "another process held the data file's lock past ORDERCLI_LOCK_TIMEOUT, or created the world "
        "while a command on a missing file ran: run it again",
    ),
    "write_failed": (5, "the data file (or a backup or report) could not be written; nothing was changed"),
    "bad_backup_path": (5, "db backup was asked to overwrite the data file itself"),
    "output_failed": (5, "stdout could not be written (e.g. > /dev/full); a reader that went away is not an error"),
    "saved_output_failed": (
        5,
        "the change IS saved in the data file, only the output could not be written: do not run the command "
        "again (the message says how to read the change)",
    ),
    # interrupted by the user
    "interrupted": (130, "interrupted (Ctrl-C) before anything was written"),
    "saved_interrupted": (
        130,
        "interrupted (Ctrl-C) after the change was saved in the data file: do not run the command again "
        "(the message says how to read the change)",
    ),
}


def entries() -> list[dict[str, object]]:
    return [{"code": code, "exit": exit_, "meaning": meaning} for code, (exit_, meaning) in CATALOGUE.items()]
