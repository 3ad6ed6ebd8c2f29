"""Unit tests of timecalc: durations, instants and docs/rules.md's working-day arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ordercli.core.errors import UsageError
from ordercli.core.timecalc import (
    UTC,
    WorkingDays,
    add_duration,
    add_working_days,
    fmt,
    parse_duration,
    parse_instant,
    parse_policy_duration,
    parse_stored,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


# 2030-03-04 is a Monday; 2030-03-08 a Friday.
MON = utc(2030, 3, 4, 9)
FRI_15 = utc(2030, 3, 8, 15)


def test_calendar_anchor_dates_are_the_weekdays_the_tests_assume():
    assert MON.strftime("%A") == "Monday"
    assert FRI_15.strftime("%A") == "Friday"


# -- parse_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("72h", timedelta(hours=72)),
        ("3d", timedelta(days=3)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("0s", timedelta(0)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("30d", timedelta(days=30)),
    ],
)
def test_parse_duration_accepts_int_unit_sequences(text, expected):
    got = parse_duration(text)
    assert isinstance(got, timedelta)
    assert got == expected


@pytest.mark.parametrize("text", ["5x", "-1h", "1.5h", "", "h", "72 h", "72", " 72h", "72h ", "3d-1h", "d3"])
def test_parse_duration_refuses_bad_durations_with_exit_2(text):
    with pytest.raises(UsageError) as exc:
        parse_duration(text)
    assert exc.value.exit_code == 2
    assert exc.value.code == "bad_duration"
    assert repr(text) in exc.value.message


def test_parse_duration_refuses_non_strings():
    with pytest.raises(UsageError) as exc:
        parse_duration(None)  # type: ignore[arg-type]
    assert exc.value.exit_code == 2


def test_parse_duration_too_large_is_a_usage_error():
    with pytest.raises(UsageError) as exc:
        parse_duration("99999999999999999999w")
    assert exc.value.exit_code == 2
    assert exc.value.code == "bad_duration"


def test_parse_duration_names_what_it_parses():
    with pytest.raises(UsageError) as exc:
        parse_duration("5x", "policy pay_within")
    assert "policy pay_within" in exc.value.message


# -- parse_policy_duration ---------------------------------------------------------------------------


def test_parse_policy_duration_working_days():
    assert parse_policy_duration("7 working days", "ship_within") == WorkingDays(7)
    assert parse_policy_duration("15 working days", "refund_within.card") == WorkingDays(15)


def test_parse_policy_duration_one_working_day_singular():
    got = parse_policy_duration("1 working day", "ship_within")
    assert got == WorkingDays(1)
    assert str(got) == "1 working day"
    assert str(WorkingDays(7)) == "7 working days"


def test_parse_policy_duration_calendar_durations_fall_through():
    assert parse_policy_duration("72h", "seller_response_within") == timedelta(hours=72)
    assert parse_policy_duration("7d", "refund_within.alipay") == timedelta(days=7)


@pytest.mark.parametrize(
    "text", ["7 workdays", "seven working days", "working days", "7 working", "-7 working days", "5x"]
)
def test_parse_policy_duration_refuses_garbage(text):
    with pytest.raises(UsageError) as exc:
        parse_policy_duration(text, "ship_within")
    assert exc.value.exit_code == 2
    assert "ship_within" in exc.value.message


def test_friday_1500_plus_7_working_days_is_the_tuesday_11_days_later():
    got = add_working_days(FRI_15, 7)
    assert got == utc(2030, 3, 19, 15)
    assert got - FRI_15 == timedelta(days=11)
    assert got.strftime("%A") == "Tuesday"
    assert got.utcoffset() == timedelta(0)


def test_monday_start_keeps_the_time_of_day():
    # Mon 09:00 + 7 wd: Tue Wed Thu Fri Mon Tue Wed -> Wednesday of next week, 09:00
    assert add_working_days(MON, 7) == utc(2030, 3, 13, 9)
    assert add_working_days(MON, 1) == utc(2030, 3, 5, 9)
    assert add_working_days(MON, 5) == utc(2030, 3, 11, 9)


def test_friday_plus_one_working_day_is_monday():
    assert add_working_days(FRI_15, 1) == utc(2030, 3, 11, 15)


@pytest.mark.parametrize(
    "start",
    [utc(2030, 3, 9, 15, 30), utc(2030, 3, 10, 23, 59, 59), utc(2030, 3, 9, 0, 0)],
    ids=["saturday-afternoon", "sunday-late", "saturday-midnight"],
)
def test_weekend_start_moves_to_monday_0000_then_counts(start):
    # Monday 2030-03-11 00:00, then 7 working days -> Wednesday 2030-03-20 00:00
    assert add_working_days(start, 7) == utc(2030, 3, 20, 0, 0)
    assert add_working_days(start, 1) == utc(2030, 3, 12, 0, 0)


def test_zero_working_days_from_a_working_day_is_the_same_instant():
    assert add_working_days(MON, 0) == MON
    assert add_working_days(FRI_15, 0) == FRI_15


def test_zero_working_days_from_a_weekend_is_monday_midnight():
    assert add_working_days(utc(2030, 3, 9, 13), 0) == utc(2030, 3, 11, 0, 0)
    assert add_working_days(utc(2030, 3, 10, 13), 0) == utc(2030, 3, 11, 0, 0)


@pytest.mark.parametrize("offset", range(5), ids=["mon", "tue", "wed", "thu", "fri"])
def test_15_working_days_from_any_weekday_is_three_weeks_later(offset):
    start = MON + timedelta(days=offset, hours=offset)  # various times of day too
    got = add_working_days(start, 15)
    assert got == start + timedelta(days=21)
    assert got.weekday() == start.weekday()


@pytest.mark.parametrize("offset", [5, 6], ids=["sat", "sun"])
def test_15_working_days_from_a_weekend(offset):
    start = MON + timedelta(days=offset)  # Sat 2030-03-09 09:00 / Sun 2030-03-10 09:00
    # Monday 2030-03-11 00:00 + 15 working days = Monday 2030-04-01 00:00
    assert add_working_days(start, 15) == utc(2030, 4, 1, 0, 0)


def test_15_working_days_from_thursday_afternoon():
    start = utc(2030, 3, 7, 17, 45, 12)
    assert add_working_days(start, 15) == utc(2030, 3, 28, 17, 45, 12)


def test_holiday_calendar_is_skipped_when_counting():
    holidays = {date(2030, 3, 11), date(2030, 3, 13)}  # Monday and Wednesday
    is_holiday = holidays.__contains__
    # Fri 15:00; Mon 11 and Wed 13 skipped: Tue12(1) Thu14(2) Fri15(3) Mon18(4) Tue19(5) Wed20(6) Thu21(7)
    assert add_working_days(FRI_15, 7, UTC, is_holiday) == utc(2030, 3, 21, 15)
    assert add_working_days(FRI_15, 1, UTC, is_holiday) == utc(2030, 3, 12, 15)


def test_holiday_start_moves_to_next_working_day_midnight():
    is_holiday = {date(2030, 3, 4), date(2030, 3, 5)}.__contains__  # Monday and Tuesday off
    # Mon 09:00 is a holiday: -> Wed 2030-03-06 00:00, + 2 wd -> Fri 2030-03-08 00:00
    assert add_working_days(MON, 2, UTC, is_holiday) == utc(2030, 3, 8, 0, 0)
    assert add_working_days(MON, 0, UTC, is_holiday) == utc(2030, 3, 6, 0, 0)


def test_weekend_then_holiday_monday_start():
    is_holiday = {date(2030, 3, 11)}.__contains__
    # Saturday -> Monday is a holiday -> Tuesday 00:00; + 1 -> Wednesday 00:00
    assert add_working_days(utc(2030, 3, 9, 12), 1, UTC, is_holiday) == utc(2030, 3, 13, 0, 0)


def test_time_zone_friday_evening_utc_is_saturday_in_shanghai():
    start = utc(2030, 3, 8, 20)  # Friday 20:00 UTC = Saturday 04:00 in Shanghai
    # -> Monday 2030-03-11 00:00 Shanghai = Sunday 2030-03-10 16:00 UTC
    assert add_working_days(start, 0, SHANGHAI) == utc(2030, 3, 10, 16)
    # then 7 working days -> Wednesday 2030-03-20 00:00 Shanghai = Tuesday 2030-03-19 16:00 UTC
    got = add_working_days(start, 7, SHANGHAI)
    assert got == utc(2030, 3, 19, 16)
    assert got.utcoffset() == timedelta(0)
    # in UTC the same instant is a working Friday: the answer differs
    assert add_working_days(start, 7) == utc(2030, 3, 19, 20)


def test_time_zone_keeps_the_local_time_of_day():
    start = utc(2030, 3, 8, 10)  # Friday 18:00 in Shanghai, a working day there
    assert add_working_days(start, 1, SHANGHAI) == utc(2030, 3, 11, 10)  # Monday 18:00 Shanghai


def test_time_zone_monday_morning_shanghai_is_sunday_in_utc():
    start = utc(2030, 3, 10, 23)  # Sunday 23:00 UTC = Monday 07:00 Shanghai: a working day there
    assert add_working_days(start, 1, SHANGHAI) == utc(2030, 3, 11, 23)  # Tuesday 07:00 Shanghai


def test_time_zone_with_dst_keeps_local_time_of_day():
    # Friday 2030-03-08 15:00 EST (20:00 UTC); DST starts Sunday 2030-03-10 in New York.
    start = datetime(2030, 3, 8, 15, tzinfo=NEW_YORK)
    got = add_working_days(start, 7, NEW_YORK)
    assert got.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2030, 3, 19, 15)
    assert got == utc(2030, 3, 19, 19)  # 15:00 EDT


def test_add_duration_dispatches_on_kind():
    assert add_duration(FRI_15, WorkingDays(7)) == utc(2030, 3, 19, 15)
    assert add_duration(FRI_15, timedelta(days=7)) == utc(2030, 3, 15, 15)
    assert add_duration(utc(2030, 3, 8, 20), WorkingDays(7), SHANGHAI) == utc(2030, 3, 19, 16)


def test_add_working_days_past_year_9999_is_a_usage_error():
    with pytest.raises(UsageError) as exc:
        add_working_days(utc(9999, 12, 30, 12), 5)
    assert exc.value.exit_code == 2


# -- fmt / parse_instant ---------------------------------------------------------------------------


def test_fmt_is_utc_iso_with_offset():
    assert fmt(utc(2030, 3, 4, 9)) == "2030-03-04T09:00:00+00:00"
    assert fmt(datetime(2030, 3, 4, 17, tzinfo=SHANGHAI)) == "2030-03-04T09:00:00+00:00"
    assert fmt(None) is None
    assert parse_stored(fmt(utc(2030, 3, 4, 9))) == utc(2030, 3, 4, 9)
    assert parse_stored(None) is None


def test_parse_instant_z():
    got = parse_instant("2030-03-04T09:00:00Z")
    assert got == utc(2030, 3, 4, 9)
    assert got.utcoffset() == timedelta(0)
    assert fmt(got) == "2030-03-04T09:00:00+00:00"


def test_parse_instant_offset_is_converted_to_utc():
    got = parse_instant("2030-03-04T17:00:00+08:00")
    assert got == utc(2030, 3, 4, 9)
    assert got.utcoffset() == timedelta(0)
    assert got.hour == 9
    assert fmt(parse_instant("2030-03-04T04:30:00-04:30")) == "2030-03-04T09:00:00+00:00"


def test_parse_instant_without_offset_is_utc():
    got = parse_instant("2030-03-04T09:00:00")
    assert got == utc(2030, 3, 4, 9)
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_parse_instant_result_is_a_utc_datetime():
    got = parse_instant("2030-03-04T09:00:00-05:00")
    assert got.tzinfo == UTC
    assert got == utc(2030, 3, 4, 14)


@pytest.mark.parametrize(
    "text",
    ["garbage", "", "   ", "next tuesday", "2030-13-01T00:00:00Z", "2030-03-04T25:00:00Z", "2030-02-30T00:00:00Z"],
)
def test_parse_instant_refuses_garbage_with_exit_2(text):
    with pytest.raises(UsageError) as exc:
        parse_instant(text)
    assert exc.value.exit_code == 2
    assert exc.value.code == "bad_instant"


def test_parse_instant_names_the_option():
    with pytest.raises(UsageError) as exc:
        parse_instant("garbage", "INSTANT")
    assert "INSTANT" in exc.value.message
    assert "'garbage'" in exc.value.message
