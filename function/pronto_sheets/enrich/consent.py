"""`ConsentGate`: personal emails need the account's consent in Pronto; without it every
call asking them is refused, so the gate lets one probe through per `retry_s`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ConsentGate:
    """Whether personal emails may be asked now, so that an account without consent sees
    at most one refused call per `retry_s`.

    Unknown (at start): the first lookup is a probe and the others wait for its answer.
    Granted: everyone goes. Refused: nobody, until `retry_s` has passed; then one probe.
    """

    def __init__(self, retry_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._retry_s = retry_s
        self._clock = clock
        self._granted = False
        self._refused_until: float | None = None
        self._probe: asyncio.Event | None = None
        self._probe_owner: asyncio.Task[object] | None = None

    @property
    def paused(self) -> bool:
        """True when a personal-email lookup would not go now (refused and not yet due)."""
        if self._refused_until is None:
            return False
        return self._probe is not None or self._clock() < self._refused_until

    async def turn(self) -> bool:
        """Wait for the right to ask; False means paused (do not send personal_email)."""
        while True:
            if self._granted:
                return True
            if self.paused:
                return False
            if self._probe is None:
                self._probe = asyncio.Event()
                self._probe_owner = asyncio.current_task()
                return True
            await self._probe.wait()

    def answered(self) -> None:
        """Pronto answered a call that asked for personal emails: consent is there."""
        self._granted, self._refused_until = True, None
        self._end_probe(force=True)

    def refused(self) -> None:
        self._granted, self._refused_until = False, self._clock() + self._retry_s
        self._end_probe(force=True)

    def inconclusive(self) -> None:
        """The call failed for another reason: let the next lookup probe instead."""
        self._end_probe(force=False)

    def _end_probe(self, *, force: bool) -> None:
        if self._probe is None or not (force or self._probe_owner is asyncio.current_task()):
            return
        self._probe.set()
        self._probe, self._probe_owner = None, None
