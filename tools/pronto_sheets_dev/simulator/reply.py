"""One answer of the simulated API, before it meets the wire (see `wire.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

JsonBody = Mapping[str, Any]
Delivery = Literal["full", "drop", "truncate"]


@dataclass(frozen=True)
class Reply:
    """One answer: `delivery` says whether to send it whole, drop the connection instead,
    or send the full headers with only the first half of the body, then close."""

    status: int
    body: JsonBody | None
    headers: tuple[tuple[str, str], ...] = ()
    delivery: Delivery = "full"
