"""A small formula evaluator: enough of Sheets' language for recorded traffic and tests.

Supports numbers, strings, TRUE/FALSE, cell references (`A1`, `$B$2`, `Sheet2!C3`,
`'My Sheet'!A1:B2`), the operators `+ - * / ^ & = <> < > <= >=` and unary minus, and the
functions in `_FUNCTIONS`. Anything else evaluates to the error Sheets would show:
`#NAME?` for unknown functions, `#ERROR!` for unparsable text, `#DIV/0!`, `#VALUE!`,
`#REF!` (including circular references).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Protocol

from .a1 import RangeParseError, parse_cells
from .cells import Effective, FormulaError, format_general

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<str>"(?:[^"]|"")*")
    | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_]*)!)?
              \$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)(?![A-Za-z0-9_(])
    | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<op><=|>=|<>|[-+*/^&=<>(),%])
    )""",
    re.VERBOSE,
)

ERROR_DIV0 = FormulaError("#DIV/0!")
ERROR_VALUE = FormulaError("#VALUE!")
ERROR_NAME = FormulaError("#NAME?")
ERROR_REF = FormulaError("#REF!")
ERROR_PARSE = FormulaError("#ERROR!")
ERROR_NA = FormulaError("#N/A")


class CellSource(Protocol):
    """Where references are looked up: the spreadsheet being evaluated."""

    def cell_values(
        self, sheet_title: str | None, bounds_text: str
    ) -> list[Effective] | FormulaError: ...


class _Raise(Exception):
    def __init__(self, error: FormulaError) -> None:
        super().__init__(error.code)
        self.error = error


@dataclass(frozen=True, slots=True)
class _Ref:
    sheet: str | None
    cells: str
    single: bool


Value = Effective | _Ref | list[Effective]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _Raise(ERROR_PARSE)
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


_PRECEDENCE: Final = MappingProxyType(
    {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3}
    | {"*": 4, "/": 4, "^": 5}
)


class _Parser:
    """Precedence climbing over the token list; evaluates as it parses."""

    def __init__(self, tokens: list[tuple[str, str]], source: CellSource) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Raise(ERROR_PARSE)
        self.pos += 1
        return token

    def expect(self, op: str) -> None:
        if self.take() != ("op", op):
            raise _Raise(ERROR_PARSE)

    def expression(self, min_prec: int = 1) -> Value:
        left = self.unary()
        while (token := self.peek()) and token[0] == "op" and token[1] in _PRECEDENCE:
            prec = _PRECEDENCE[token[1]]
            if prec < min_prec:
                break
            self.take()
            right = self.expression(prec + 1 if token[1] != "^" else prec)
            left = _binary(token[1], self.scalar(left), self.scalar(right))
        return left

    def unary(self) -> Value:
        token = self.peek()
        if token in (("op", "-"), ("op", "+")):
            self.take()
            operand = _to_number(self.scalar(self.unary()))
            return -operand if token == ("op", "-") else operand
        value = self.primary()
        if self.peek() == ("op", "%"):
            self.take()
            value = _to_number(self.scalar(value)) / 100
        return value

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            sheet, _, cells = text.rpartition("!")
            title = None
            if sheet:
                title = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            return _Ref(title, cells.replace("$", ""), ":" not in cells)
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(text.upper())
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
            raise _Raise(ERROR_NAME)
        if (kind, text) == ("op", "("):
            value = self.expression()
            self.expect(")")
            return value
        raise _Raise(ERROR_PARSE)

    def call(self, name: str) -> Value:
        self.expect("(")
        args: list[Value] = []
        if self.peek() != ("op", ")"):
            while True:
                args.append(self.expression())
                if self.peek() == ("op", ","):
                    self.take()
                    continue
                break
        self.expect(")")
        function = _FUNCTIONS.get(name)
        if function is None:
            raise _Raise(ERROR_NAME)
        return function([self.resolve(arg) for arg in args])

    def resolve(self, value: Value) -> Effective | list[Effective]:
        if isinstance(value, _Ref):
            try:
                parse_cells(value.cells)
            except RangeParseError as exc:
                raise _Raise(ERROR_REF) from exc
            cells = self.source.cell_values(value.sheet, value.cells)
            if isinstance(cells, FormulaError):
                raise _Raise(cells)
            return cells[0] if value.single else cells
        return value

    def scalar(self, value: Value) -> Effective:
        resolved = self.resolve(value)
        if isinstance(resolved, list):
            raise _Raise(ERROR_VALUE)
        if isinstance(resolved, FormulaError):
            raise _Raise(resolved)
        return resolved


def _to_number(value: Effective) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, FormulaError):
        raise _Raise(value)
    try:
        return float(value.replace(",", "")) if value.strip() else 0.0
    except ValueError as exc:
        raise _Raise(ERROR_VALUE) from exc


def _to_text(value: Effective) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format_general(value)
    if isinstance(value, FormulaError):
        raise _Raise(value)
    return value


def _compare(op: str, left: Effective, right: Effective) -> bool:
    def key(v: Effective) -> tuple[int, float | str]:
        if v is None:
            return (0, 0.0)
        if isinstance(v, bool):
            return (2, float(v))
        if isinstance(v, float):
            return (0, v)
        return (1, str(v).lower())

    a, b = key(left), key(right)
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _binary(op: str, left: Effective, right: Effective) -> Effective:
    if op == "&":
        return _to_text(left) + _to_text(right)
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return _compare(op, left, right)
    a, b = _to_number(left), _to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise _Raise(ERROR_DIV0)
        return a / b
    try:
        return float(math.pow(a, b))
    except (OverflowError, ValueError) as exc:
        raise _Raise(FormulaError("#NUM!")) from exc


def _flatten(args: Sequence[Effective | list[Effective]]) -> list[Effective]:
    out: list[Effective] = []
    for arg in args:
        out.extend(arg if isinstance(arg, list) else [arg])
    return out


def _numbers(args: Sequence[Effective | list[Effective]]) -> list[float]:
    out: list[float] = []
    for arg in args:
        if isinstance(arg, list):  # ranges skip text and blanks, as in Sheets
            out.extend(v for v in arg if isinstance(v, float) and not isinstance(v, bool))
        else:
            out.append(_to_number(arg))
    return out


def _single(args: Sequence[Effective | list[Effective]], index: int) -> Effective:
    if index >= len(args):
        raise _Raise(ERROR_NA)
    arg = args[index]
    if isinstance(arg, list):
        raise _Raise(ERROR_VALUE)
    return arg


def _hyperlink(args: Sequence[Effective | list[Effective]]) -> Effective:
    return _to_text(_single(args, 1 if len(args) > 1 else 0))


def _if(args: Sequence[Effective | list[Effective]]) -> Effective:
    condition = _single(args, 0)
    truthy = condition if isinstance(condition, bool) else _to_number(condition) != 0
    if truthy:
        return _single(args, 1) if len(args) > 1 else True
    return _single(args, 2) if len(args) > 2 else False


def _average(args: Sequence[Effective | list[Effective]]) -> Effective:
    numbers = _numbers(args)
    if not numbers:
        raise _Raise(ERROR_DIV0)
    return sum(numbers) / len(numbers)


_Function = Callable[[Sequence[Effective | list[Effective]]], Effective]
_FUNCTIONS: dict[str, _Function] = {
    "SUM": lambda a: float(sum(_numbers(a))),
    "AVERAGE": _average,
    "MIN": lambda a: min(_numbers(a), default=0.0),
    "MAX": lambda a: max(_numbers(a), default=0.0),
    "COUNT": lambda a: float(len(_numbers([v for v in _flatten(a) if isinstance(v, float)]))),
    "COUNTA": lambda a: float(len([v for v in _flatten(a) if v is not None and v != ""])),
    "CONCATENATE": lambda a: "".join(_to_text(v) for v in _flatten(a)),
    "CONCAT": lambda a: _to_text(_single(a, 0)) + _to_text(_single(a, 1)),
    "UPPER": lambda a: _to_text(_single(a, 0)).upper(),
    "LOWER": lambda a: _to_text(_single(a, 0)).lower(),
    "TRIM": lambda a: " ".join(_to_text(_single(a, 0)).split()),
    "LEN": lambda a: float(len(_to_text(_single(a, 0)))),
    "ABS": lambda a: abs(_to_number(_single(a, 0))),
    "ROUND": lambda a: float(
        round(_to_number(_single(a, 0)), int(_to_number(_single(a, 1))) if len(a) > 1 else 0)
    ),
    "HYPERLINK": _hyperlink,
    "IF": _if,
    "AND": lambda a: all(_to_number(v) != 0 for v in _flatten(a)),
    "OR": lambda a: any(_to_number(v) != 0 for v in _flatten(a)),
    "NOT": lambda a: _to_number(_single(a, 0)) == 0,
}


def evaluate(formula: str, source: CellSource) -> Effective:
    """Evaluate `=...` text; errors come back as `FormulaError` values, never raised."""
    try:
        parser = _Parser(_tokens(formula[1:]), source)
        value = parser.expression()
        if parser.peek() is not None:
            raise _Raise(ERROR_PARSE)
        result = parser.scalar(value)
    except _Raise as exc:
        return exc.error
    except RecursionError:
        return ERROR_REF
    if isinstance(result, float) and (math.isinf(result) or math.isnan(result)):
        return FormulaError("#NUM!")
    return "" if result is None else result
