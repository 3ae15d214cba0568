"""Field masks: the `fields` query parameter (which parts of an answer to return) and the
`fields` of update requests (which properties to overwrite).

Syntax, as Google accepts it: comma-separated paths, `.` or `/` between names, and
`parent(child1,child2)` for sub-selections; `*` selects everything.
"""

from __future__ import annotations

from typing import Any

# A parsed mask: name -> sub-mask, where an empty dict means "all of it".
Mask = dict[str, "Mask"]


class FieldMaskError(ValueError):
    """A mask that does not parse."""


def parse(text: str) -> Mask:
    """Parse a mask: `"sheets.properties.title,namedRanges"` becomes
    `{"sheets": {"properties": {"title": {}}}, "namedRanges": {}}`."""
    mask: Mask = {}
    pos = _parse_list(text.replace(" ", ""), 0, mask)
    if pos != len(text.replace(" ", "")):
        raise FieldMaskError(text)
    return mask


def _parse_list(text: str, pos: int, into: Mask) -> int:
    while True:
        pos = _parse_path(text, pos, into)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return pos


def _parse_path(text: str, pos: int, into: Mask) -> int:
    start = pos
    while pos < len(text) and text[pos] not in ",()./":
        pos += 1
    name = text[start:pos]
    if not name:
        raise FieldMaskError(text)
    node = into.setdefault(name, {})
    if pos < len(text) and text[pos] in "./":
        return _parse_path(text, pos + 1, node)
    if pos < len(text) and text[pos] == "(":
        pos = _parse_list(text, pos + 1, node)
        if pos >= len(text) or text[pos] != ")":
            raise FieldMaskError(text)
        return pos + 1
    return pos


def select(value: Any, mask: Mask) -> Any:
    """Keep only the masked parts of a JSON value (lists are masked element by element)."""
    if not mask or "*" in mask:
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: select(value[key], sub) for key, sub in mask.items() if key in value}


def merge(target: dict[str, Any], source: dict[str, Any], mask: Mask) -> None:
    """Overwrite the masked fields of `target` with those of `source` (absent = cleared)."""
    if "*" in mask:
        for key in list(target):
            if key not in source:
                del target[key]
        for key, value in source.items():
            target[key] = value
        return
    for key, sub in mask.items():
        if sub and isinstance(source.get(key), dict | type(None)):
            child = target.get(key)
            if not isinstance(child, dict):
                child = {}
            merge(child, source.get(key) or {}, sub)
            if child:
                target[key] = child
            else:
                target.pop(key, None)
        elif key in source and source[key] is not None:
            target[key] = source[key]
        else:
            target.pop(key, None)
