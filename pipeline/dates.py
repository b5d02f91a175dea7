"""Partial dates of the record format (`1957-5-0`) and their XSD form at their real precision.
Parsing only: mapping.py decides which properties carry them."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_DATE = re.compile(r"^([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})$")  # ASCII digits only


class DateError(ValueError):
    """A date field that cannot be read; the message says what would fix it, code which problem it is."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, order=True)
class PartialDate:
    """A year, year-month or full date; month/day 0 mean unknown, as in the source."""

    year: int
    month: int = 0
    day: int = 0

    @property
    def xsd_type(self) -> str:
        if self.month == 0:
            return "gYear"
        if self.day == 0:
            return "gYearMonth"
        return "date"

    @property
    def lexical(self) -> str:
        if self.month == 0:
            return f"{self.year:04d}"
        if self.day == 0:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @property
    def source(self) -> str:
        """The date as the record format writes it."""
        return f"{self.year}-{self.month}-{self.day}"

    def earliest(self) -> tuple[int, int, int]:
        return (self.year, self.month or 1, self.day or 1)

    def latest(self) -> tuple[int, int, int]:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return (self.year, month, day)


def parse_date(text: str) -> PartialDate | None:
    """One `year-month-day`; None for the 'no date' forms `0-0-0` and empty."""
    text = text.strip()
    if text in ("", "0-0-0"):
        return None
    match = _DATE.match(text)
    if not match:
        raise DateError(f"'{text}' is not a date; write year-month-day with numbers, 0 for an unknown part (1957-5-0)", "date.invalid")
    year, month, day = (int(part) for part in match.groups())
    if year == 0:
        raise DateError(f"'{text}' has no year but a month or day; write 0-0-0 for no date, or add the year", "date.no-year")
    if not 1 <= month <= 12 and month != 0:
        raise DateError(f"'{text}' has month {month}; use 1-12, or 0 when the month is unknown", "date.month")
    if month == 0 and day != 0:
        raise DateError(f"'{text}' has a day but no month; write the month, or 0 for the day too", "date.day-without-month")
    if day and day > calendar.monthrange(year, month)[1]:
        raise DateError(f"'{text}' does not exist: {year}-{month} has {calendar.monthrange(year, month)[1]} days", "date.impossible")
    return PartialDate(year, month, day)


def parse_dates(text: str, *, is_range: bool) -> tuple[PartialDate, ...]:
    """All dates of a 日期 field. With is_range exactly two, the end not before the start."""
    dates = tuple(d for d in (parse_date(part) for part in text.split(",")) if d is not None)
    if is_range:
        if len(dates) != 2:
            raise DateError(
                f"a range (是否是时间段：true) needs exactly two dates, found {len(dates)}; "
                "give start,end or set 是否是时间段：false", "range.count"
            )
        start, end = dates
        if end.latest() < start.earliest():
            raise DateError(f"the range ends ({end.source}) before it starts ({start.source}); swap the two dates", "range.reversed")
    return dates
