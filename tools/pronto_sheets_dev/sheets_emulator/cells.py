"""What a cell holds, how input becomes a cell, and how a cell is rendered back.

Input (`valueInputOption`):
- RAW: strings are stored verbatim as text (a leading `=` stays text), numbers and
  booleans as themselves, `""` clears the cell, `null` leaves it untouched.
- USER_ENTERED: parsed as if typed into the Sheets UI (en_US): `=...` is a formula,
  `'...` is text without the apostrophe, `TRUE`/`FALSE` are booleans, numbers accept
  thousands separators, `%`, `$` and leading zeros, `yyyy-mm-dd` and `m/d/yyyy` are dates.

Output (`valueRenderOption`): FORMATTED_VALUE (strings as displayed), UNFORMATTED_VALUE
(numbers as numbers, formulas evaluated), FORMULA (formula text instead of results).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Literal

CellKind = Literal["text", "number", "bool", "formula"]
ValueRender = Literal["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"]
DateTimeRender = Literal["SERIAL_NUMBER", "FORMATTED_STRING"]
JsonScalar = str | int | float | bool

VALUE_RENDER_OPTIONS: tuple[ValueRender, ...] = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATETIME_RENDER_OPTIONS: tuple[DateTimeRender, ...] = ("SERIAL_NUMBER", "FORMATTED_STRING")

_EPOCH = dt.date(1899, 12, 30)  # day 0 of Sheets' serial dates
_NUMBER = re.compile(
    r"^(?P<sign>[+-])?(?P<cur>\$)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?"
    r"(?:[eE](?P<exp>[+-]?\d+))?(?P<pct>%)?$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How a number typed with decoration is displayed again."""

    kind: Literal["grouped", "percent", "currency", "date", "datetime"]
    decimals: int = 0
    pattern: str = ""


@dataclass(frozen=True, slots=True)
class Cell:
    """A non-empty cell: its user-entered value and, for numbers, its display format."""

    kind: CellKind
    value: str | float | bool
    number_format: NumberFormat | None = None


@dataclass(frozen=True, slots=True)
class FormulaError:
    """An error value such as `#DIV/0!`, shown as its code."""

    code: str


# What a cell evaluates to: None is an empty cell.
Effective = float | str | bool | FormulaError | None


class CellInputError(ValueError):
    """A value in a request body that no cell can hold (an object or a nested list)."""


def _kind_name(value: object) -> str:
    return "struct_value" if isinstance(value, dict) else "list_value"


def parse_raw(value: object) -> Cell | None:
    """A RAW input value as a cell; None clears the cell."""
    if isinstance(value, bool):
        return Cell("bool", value)
    if isinstance(value, int | float):
        return Cell("number", float(value))
    if isinstance(value, str):
        return Cell("text", value) if value != "" else None
    raise CellInputError(_kind_name(value))


def _parse_number(text: str) -> Cell | None:
    match = _NUMBER.match(text)
    if not match or not (match.group("int") or match.group("frac")):
        return None
    digits = (match.group("int") or "0").replace(",", "")
    frac = match.group("frac") or ""
    number = float(f"{digits}.{frac or '0'}e{match.group('exp') or '0'}")
    if match.group("sign") == "-":
        number = -number
    decimals = len(frac)
    if match.group("pct"):
        return Cell("number", number / 100, NumberFormat("percent", decimals))
    if match.group("cur"):
        return Cell("number", number, NumberFormat("currency", 2 if frac else 0))
    if "," in (match.group("int") or ""):
        return Cell("number", number, NumberFormat("grouped", decimals))
    return Cell("number", number)


def _serial(date: dt.date) -> int:
    return (date - _EPOCH).days


def _parse_date(text: str) -> Cell | None:
    try:
        if match := _ISO_DATE.match(text):
            year, month, day = (int(g) for g in match.groups())
            serial: float = _serial(dt.date(year, month, day))
            return Cell("number", float(serial), NumberFormat("date", pattern="yyyy-mm-dd"))
        if match := _US_DATE.match(text):
            month, day, year = (int(g) for g in match.groups())
            serial = _serial(dt.date(year, month, day))
            return Cell("number", float(serial), NumberFormat("date", pattern="m/d/yyyy"))
        if match := _ISO_DATETIME.match(text):
            year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
            second = int(match.group(6) or 0)
            if hour > 23 or minute > 59 or second > 59:
                return None
            serial = (
                _serial(dt.date(year, month, day)) + (hour * 3600 + minute * 60 + second) / 86400
            )
            return Cell("number", serial, NumberFormat("datetime", pattern="yyyy-mm-dd hh:mm:ss"))
    except ValueError:  # 2023-02-30 is text, as in the UI
        return None
    return None


def parse_user_entered(value: object) -> Cell | None:
    """A USER_ENTERED input value as a cell, parsed like text typed in the UI."""
    if not isinstance(value, str):
        return parse_raw(value)
    if value == "":
        return None
    if value.startswith("'"):
        return Cell("text", value[1:]) if len(value) > 1 else None
    if value.startswith("=") and len(value) > 1:
        return Cell("formula", value)
    if value.upper() in ("TRUE", "FALSE"):
        return Cell("bool", value.upper() == "TRUE")
    stripped = value.strip()
    return _parse_number(stripped) or _parse_date(stripped) or Cell("text", value)


def json_number(number: float) -> int | float:
    """Integral floats as JSON integers (`2`, not `2.0`), as the API writes them."""
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def format_general(number: float) -> str:
    """Sheets' automatic number format: up to 10 significant digits, `1E+15` when huge."""
    if math.isinf(number) or math.isnan(number):
        return "#NUM!"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.10g}"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        return f"{mantissa}E{sign}{exponent[1:].zfill(2)}"
    return text


def _format_date(serial: float, pattern: str) -> str:
    days = math.floor(serial)
    date = _EPOCH + dt.timedelta(days=days)
    if pattern == "m/d/yyyy":
        return f"{date.month}/{date.day}/{date.year}"
    text = date.isoformat()
    if pattern.startswith("yyyy-mm-dd hh"):
        seconds = round((serial - days) * 86400)
        text += f" {seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return text


def format_number(number: float, number_format: NumberFormat | None) -> str:
    """The displayed text of a number under its format."""
    if number_format is None:
        return format_general(number)
    d = number_format.decimals
    if number_format.kind == "grouped":
        return f"{number:,.{d}f}"
    if number_format.kind == "percent":
        return f"{number * 100:.{d}f}%"
    if number_format.kind == "currency":
        sign = "-" if number < 0 else ""
        return f"{sign}${abs(number):,.{d}f}"
    return _format_date(number, number_format.pattern)


def is_date_format(number_format: NumberFormat | None) -> bool:
    return number_format is not None and number_format.kind in ("date", "datetime")


def render_effective(
    value: Effective,
    number_format: NumberFormat | None,
    value_render: ValueRender,
    datetime_render: DateTimeRender,
) -> JsonScalar:
    """Render an evaluated value as the API returns it (never called for empty cells)."""
    if isinstance(value, FormulaError):
        return value.code
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if value_render == "FORMATTED_VALUE" else value
    if isinstance(value, float):
        if value_render == "FORMATTED_VALUE":
            return format_number(value, number_format)
        if is_date_format(number_format) and datetime_render == "FORMATTED_STRING":
            return format_number(value, number_format)
        return json_number(value)
    return "" if value is None else value
