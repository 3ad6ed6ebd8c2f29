"""One error hierarchy, each class carrying the exit code of docs/cli.md and a snake_case `code`.

The API raises these; the CLI turns them into an `error:` line (or a JSON error object) and
its exit status."""

from __future__ import annotations

from typing import Any


class OrderCliError(Exception):
    exit_code = 1
    default_code = "internal_error"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        field: str | None = None,
        remedy: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}
        # the input the message starts by naming (e.g. "amount"), so that a front end can
        # name it its own way (the CLI says "--amount")
        self.field = field
        # the command (as named in an order's `actions`) that would get past this refusal
        self.remedy = remedy

    def hint(self, program: str) -> None:
        """Name the remedy as a command line of `program`, at the end of the message."""
        if self.remedy is not None:
            self.message = f"{self.message} ({program} {self.remedy})"
            self.args = (self.message,)
            self.remedy = None

    def relabel(self, names: dict[str, str]) -> None:
        """Name the field as `names` does, when the message starts with it."""
        if self.field in names and self.message.startswith(self.field):
            self.message = names[self.field] + self.message[len(self.field) :]
            self.args = (self.message,)
            self.field = names[self.field]

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "exit": self.exit_code, **self.details}}


class UsageError(OrderCliError):
    """Bad input: unknown option, bad value, unknown reason, bad duration."""

    exit_code = 2
    default_code = "usage"


class NotFound(OrderCliError):
    exit_code = 3
    default_code = "not_found"


class Refused(OrderCliError):
    """The policy says no."""

    exit_code = 4
    default_code = "refused"


class StorageError(OrderCliError):
    """The data file is unreadable, foreign, too new, busy, or could not be written."""

    exit_code = 5
    default_code = "storage_error"


class Interrupted(OrderCliError):
    """The user pressed Ctrl-C: nothing was written."""

    exit_code = 130
    default_code = "interrupted"
