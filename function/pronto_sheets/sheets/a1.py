"""Column letters of A1 notation, used by the sheet filler and the Sheets emulator."""

from __future__ import annotations


def column_letters(index: int) -> str:
    """0-based column index as letters: `0 → "A"`, `25 → "Z"`, `26 → "AA"`."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Column letters as a 0-based index: `"A" → 0`, `"aa" → 26`."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1
