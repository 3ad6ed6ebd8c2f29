"""Instants, durations and working-day arithmetic. Pure: no clock is ever read here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC as UTC  # re-exported: ordercli's one name for UTC
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import overload

from ordercli.core.errors import UsageError

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"(?:\d+[wdhms])+")
_PART_RE = re.compile(r"(\d+)([wdhms])")
_WORKING_RE = re.compile(r"(\d+) working days?")


@dataclass(frozen=True)
class WorkingDays:
    days: int

    def __str__(self) -> str:
        return f"{self.days} working day{'s' if self.days != 1 else ''}"


Duration = timedelta | WorkingDays


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """`72h`, `3d`, `1d12h`, `2w`: one or more <int><unit>, units w d h m s."""
    if not isinstance(text, str) or not _DURATION_RE.fullmatch(text):
        raise UsageError(
            f"bad {what} {text!r}: expected one or more <int><unit> with units w d h m s, e.g. 72h, 3d, 1d12h",
            "bad_duration",
        )
    try:
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(text))
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError):  # ValueError: int() refuses 4,300 digits and more
        raise UsageError(f"{what} {text!r} is too large", "bad_duration") from None


def parse_policy_duration(text: str, what: str) -> Duration:
    """A policy duration: a calendar duration or `N working days`."""
    if isinstance(text, str):
        m = _WORKING_RE.fullmatch(text.strip())
        if m:
            if len(m.group(1).lstrip("0")) > 7:  # ten million working days are past the year 9999 anyway
                raise UsageError(f"{what} {text!r} is too large", "bad_duration")
            return WorkingDays(int(m.group(1)))
    return parse_duration(text, what)


@overload
def fmt(instant: datetime) -> str: ...
@overload
def fmt(instant: None) -> None: ...
@overload
def fmt(instant: datetime | None) -> str | None: ...
def fmt(instant: datetime | None) -> str | None:
    """UTC ISO 8601 with an offset: 2030-03-04T09:00:00+00:00."""
    if instant is None:
        return None
    if instant.tzinfo is UTC and not instant.microsecond:
        # the common case (every instant the engine makes), byte for byte what isoformat() says, at a
        # third of its cost: a simulation formats millions of ever-new instants, which no cache holds
        hour = instant.toordinal() * 24 + instant.hour
        head = _HOURS.get(hour)
        if head is None:
            if len(_HOURS) >= _HOURS_MAX:
                _HOURS.clear()
            head = _HOURS[hour] = instant.isoformat()[:14]  # "2030-03-04T09:"
        return head + _MINUTES_SECONDS[instant.minute * 60 + instant.second]
    return _fmt(instant)


# hours since year 1 -> "YYYY-MM-DDTHH:" of a UTC instant: the key is the whole of what the text depends
# on (minutes and seconds come from _MINUTES_SECONDS); tests/core/test_caches.py compares fmt with isoformat
_HOURS: dict[int, str] = {}
_HOURS_MAX = 100_000  # about 11 years of hours: bounded, whatever the run
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}+00:00" for m in range(60) for s in range(60)]


@lru_cache(maxsize=4096)
def _fmt(instant: datetime) -> str:
    # cached: a tick that fires thousands of deadlines at one instant formats it once. Datetimes are equal
    # (and hash alike) by instant, whatever their zone: the text must depend on the instant alone, so UTC
    return instant.astimezone(UTC).isoformat()


@overload
def parse_stored(text: str) -> datetime: ...
@overload
def parse_stored(text: None) -> None: ...
@overload
def parse_stored(text: str | None) -> datetime | None: ...
def parse_stored(text: str | None) -> datetime | None:
    """An instant as ordercli itself stored it (ISO 8601 with an offset): the one parser of
    stored instants, for the engine, the store's checks and scenario comparisons. Raises
    ValueError for text that is not one."""
    if text is None:
        return None
    known = _PARSED.get(text)
    if known is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        known = _PARSED[text] = datetime.fromisoformat(text)
    return known


# Stored instants already parsed, keyed by the text, the whole input (a datetime is immutable, so one
# object may serve every caller): an engine reads the deadlines it just wrote. A plain dict, emptied when
# full: a simulation parses ever-new instants, for which an LRU's bookkeeping costs more than the parse.
_PARSED: dict[str, datetime] = {}
_PARSED_MAX = 4096


def parse_instant(text: str, what: str = "instant") -> datetime:
    """An instant typed by a person: ISO 8601 with an offset or Z; none means UTC."""
    import arrow  # only the commands that take an instant pay for arrow
    import arrow.parser

    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"bad {what} {text!r}: expected ISO 8601, e.g. 2030-03-04T09:00:00Z", "bad_instant")
    try:
        value = arrow.get(text.strip())  # arrow reads a string without an offset as UTC
    except (arrow.parser.ParserError, ValueError, TypeError, OverflowError):
        raise UsageError(f"bad {what} {text!r}: expected ISO 8601, e.g. 2030-03-04T09:00:00Z", "bad_instant") from None
    if value.microsecond:
        # the virtual clock keeps whole seconds (every instant it prints has none): refusing
        # beats silently moving a script's instant
        raise UsageError(f"bad {what} {text!r}: fractional seconds are not accepted, give whole seconds", "bad_instant")
    return value.datetime.astimezone(UTC)


def add_duration(
    instant: datetime,
    d: Duration,
    tz: tzinfo = UTC,
    is_holiday: Callable[[date], bool] | None = None,
) -> datetime:
    if isinstance(d, WorkingDays):
        return add_working_days(instant, d.days, tz, is_holiday)
    try:
        return instant + d
    except OverflowError:
        raise UsageError("that moves time past the year 9999", "time_overflow") from None


def is_working_day(day: date, is_holiday: Callable[[date], bool] | None = None) -> bool:
    return day.weekday() < 5 and not (is_holiday is not None and is_holiday(day))


def add_working_days(
    instant: datetime,
    n: int,
    tz: tzinfo = UTC,
    is_holiday: Callable[[date], bool] | None = None,
) -> datetime:
    """docs/rules.md: a non-working start moves to 00:00 of the next working day, then count
    working days one calendar day at a time, keeping the time of day (in the policy zone)."""
    if tz is UTC and instant.tzinfo is UTC:
        # the same sum without the zone conversions, combine and replace (a simulation pays it per order)
        day, moved = _walk_working_days(instant.date(), n, is_holiday)
        if moved:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        days = day.toordinal() - instant.toordinal()
        return instant + (_DAYS[days] if days < _DAYS_KEPT else timedelta(days=days))
    local = instant.astimezone(tz)
    day, moved = _walk_working_days(local.date(), n, is_holiday)
    tod = time(0, 0) if moved else local.time().replace(tzinfo=None)
    return datetime.combine(day, tod).replace(tzinfo=tz).astimezone(UTC)


# the sums of whole days a working-day deadline adds, made once (a timedelta costs more to make than to add)
_DAYS_KEPT = 366
_DAYS = [timedelta(days=d) for d in range(_DAYS_KEPT)]


@lru_cache(maxsize=65536)
def _walk_working_days(day: date, n: int, is_holiday: Callable[[date], bool] | None) -> tuple[date, bool]:
    """The landing day, and whether the start was moved to 00:00 of a working day. By date,
    so the many instants of one day share the walk (a simulation pays millions of them).

    Cached by (day, n, is_holiday): assumes `is_holiday` answers the same for a date every time it is
    asked (policy._calendar hands out one function per calendar code, kept for the process)."""
    one = timedelta(days=1)
    moved = False
    try:
        if not is_working_day(day, is_holiday):
            while not is_working_day(day, is_holiday):
                day += one
            moved = True
        counted = 0
        while counted < n:
            day += one
            if is_working_day(day, is_holiday):
                counted += 1
    except OverflowError:
        raise UsageError("that moves time past the year 9999", "time_overflow") from None
    return day, moved
