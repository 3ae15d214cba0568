"""What the emulator counts and refuses: per-minute quotas, forced faults, request counters.

Sheets counts every API request as a *read* (spreadsheets.get, values.get, values.batchGet)
or a *write* (everything that changes a spreadsheet); Drive requests are counted apart and
never against the Sheets quotas. Quotas are sliding 60-second windows per kind, off by
default. Faults are queued rules: "answer the next N requests of these kinds with status S".
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import errors

Kind = Literal["read", "write", "drive"]
KINDS: tuple[Kind, ...] = ("read", "write", "drive")
WINDOW_SECONDS = 60.0
MAX_LOGGED = 10_000


@dataclass
class Fault:
    """Answer the next `remaining` requests of `kinds` with `status` (and Retry-After)."""

    remaining: int
    status: int
    retry_after: str | None
    kinds: tuple[Kind, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "status": self.status,
            "retry_after": self.retry_after,
            "kinds": list(self.kinds),
        }


@dataclass
class Quota:
    """Requests allowed per sliding minute for one kind; None means unlimited."""

    per_minute: int | None = None
    retry_after: str | None = None
    granted: deque[float] = field(default_factory=deque)

    def admit(self, at: float) -> bool:
        while self.granted and at - self.granted[0] >= WINDOW_SECONDS:
            self.granted.popleft()
        if self.per_minute is not None and len(self.granted) >= self.per_minute:
            return False
        self.granted.append(at)
        return True


@dataclass
class Traffic:
    """Counters, quotas, faults and the request log of one emulator process."""

    clock: Callable[[], float] = time.monotonic
    quotas: dict[Kind, Quota] = field(default_factory=lambda: {"read": Quota(), "write": Quota()})
    faults: list[Fault] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    log: list[dict[str, Any]] = field(default_factory=list)

    def admit(self, kind: Kind) -> None:
        """Raise the answer a request of `kind` gets now if a fault or a quota refuses it."""
        for fault in self.faults:
            if fault.remaining > 0 and kind in fault.kinds:
                fault.remaining -= 1
                self.faults = [f for f in self.faults if f.remaining > 0]
                raise errors.injected_fault(fault.status, fault.retry_after)
        quota = self.quotas.get(kind)
        if quota is not None and not quota.admit(self.clock()):
            assert quota.per_minute is not None
            raise errors.quota_exceeded(kind, quota.per_minute, quota.retry_after)

    def record(
        self,
        *,
        kind: Kind,
        method: str,
        http_method: str,
        path: str,
        status: int,
        spreadsheet_id: str | None,
    ) -> None:
        self.by_kind[kind] += 1
        self.by_method[method] += 1
        self.by_status[str(status)] += 1
        if len(self.log) < MAX_LOGGED:
            self.log.append(
                {
                    "seq": sum(self.by_kind.values()),
                    "time": time.time(),
                    "monotonic": self.clock(),
                    "kind": kind,
                    "method": method,
                    "http_method": http_method,
                    "path": path,
                    "status": status,
                    "spreadsheet_id": spreadsheet_id,
                }
            )

    def counters(self) -> dict[str, Any]:
        return {
            "reads": self.by_kind["read"],
            "writes": self.by_kind["write"],
            "drive": self.by_kind["drive"],
            "total": sum(self.by_kind.values()),
            "by_method": dict(self.by_method),
            "by_status": dict(self.by_status),
        }

    def reset_counters(self) -> None:
        self.by_kind.clear()
        self.by_method.clear()
        self.by_status.clear()
        self.log.clear()

    def set_quota(
        self, reads: int | None, writes: int | None, retry_after: str | None
    ) -> dict[str, Any]:
        self.quotas = {"read": Quota(reads, retry_after), "write": Quota(writes, retry_after)}
        return self.quota_json()

    def quota_json(self) -> dict[str, Any]:
        return {
            "reads_per_minute": self.quotas["read"].per_minute,
            "writes_per_minute": self.quotas["write"].per_minute,
            "retry_after": self.quotas["read"].retry_after,
        }

    def reset(self) -> None:
        self.reset_counters()
        self.faults.clear()
        self.set_quota(None, None, None)
