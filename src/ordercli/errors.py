"""One error hierarchy, each class carrying the exit code of CLI.md."""

from __future__ import annotations


class OrderCliError(Exception):
    exit_code = 1
    default_code = "internal_error"

    def __init__(self, message: str, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}

    def to_json(self) -> dict:
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
