"""`FirestoreSubmissions`: the async lane's submissions in Firestore (the deployed store).

One document per submission in `pronto_sheets_submissions`, id `<namespace>:<token>`,
with `ns`, `identity`, `types`, `state`, `submitted_at`, `next_poll_at`, `enrichment_id`,
`polls` and `expire_at` (a timestamp: a TTL policy on it drops settled ones; unsettled
ones carry a far date). Reads use single-field filters only (Firestore indexes them
without set-up): by `enrichment_id`, by `identity` (`in`, 30 at a time), by
`next_poll_at`, by `state`; the namespace is checked on what comes back.

`settle` must let exactly one of two deliveries win. It creates a marker document
`<namespace>:settled:<token>` with `create()`, which fails when the document exists (a
precondition Firestore and the tests' emulator both honour, unlike transactions' isolation
on the emulator: see firestore.py), then marks the submission settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from pronto_sheets.errors import StoreError
from pronto_sheets.store.submissions import (
    SETTLED_KEEP_S,
    SUBMISSIONS_COLLECTION,
    Submission,
    SubmissionState,
)

_T = TypeVar("_T")
_IN_LIMIT = 30  # values of one `in` filter
_NEVER = 1e18  # `next_poll_at` of what is not due for polling
_ACTIVE_KEEP_S = 30 * 86400  # an unsettled document's TTL date (it is settled long before)


def _timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class FirestoreSubmissions:
    """See the module docstring."""

    kind = "firestore"

    def __init__(
        self,
        namespace: str,
        *,
        project: str | None,
        database: str,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ns = namespace
        self._project = project
        self._database = database
        self._timeout_s = timeout_s
        self._clock = clock
        self._client: Any = None

    def _firestore(self) -> Any:
        if self._client is None:
            from google.cloud import firestore  # loaded only when the store is Firestore

            self._client = firestore.AsyncClient(project=self._project, database=self._database)
        return self._client

    def _collection(self) -> Any:
        return self._firestore().collection(SUBMISSIONS_COLLECTION)

    async def _call(self, what: str, work: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await asyncio.wait_for(work(), self._timeout_s)
        except TimeoutError as exc:
            raise StoreError(
                f"Firestore did not answer within {self._timeout_s:g} s ({what})."
            ) from exc
        except StoreError:
            raise
        except Exception as exc:  # the client raises many kinds: auth, gRPC, API errors
            detail = str(exc).splitlines()[0][:200] if str(exc) else "no detail"
            raise StoreError(
                f"Firestore cannot be used ({what}: {type(exc).__name__}: {detail})."
            ) from exc

    def _doc(self, token: str) -> Any:
        return self._collection().document(f"{self._ns}:{token}")

    def _data(self, submission: Submission) -> dict[str, Any]:
        return {
            "ns": self._ns,
            "token": submission.token,
            "identity": submission.identity,
            "types": list(submission.types),
            "state": submission.state.value,
            "submitted_at": submission.submitted_at,
            "next_poll_at": _NEVER,
            "enrichment_id": submission.enrichment_id,
            "polls": submission.polls,
            "expire_at": _timestamp(self._clock() + _ACTIVE_KEEP_S),
        }

    def _from(self, data: dict[str, Any] | None) -> Submission | None:
        if not data or data.get("ns") != self._ns:
            return None
        try:
            expire_at = data.get("expire_at")
            return Submission(
                token=str(data["token"]),
                identity=str(data["identity"]),
                types=tuple(str(t) for t in data.get("types") or ()),
                state=SubmissionState(str(data["state"])),
                submitted_at=float(data["submitted_at"]),
                next_poll_at=float(data.get("next_poll_at") or _NEVER),
                enrichment_id=data.get("enrichment_id") or None,
                polls=int(data.get("polls") or 0),
                expire_at=expire_at.timestamp() if isinstance(expire_at, dt.datetime) else 0.0,
            )
        except (KeyError, ValueError, TypeError):
            return None  # a damaged document reads as nothing, never as an error

    async def add(self, submission: Submission) -> None:
        data = self._data(submission)
        await self._call(
            "keeping a submission",
            lambda: self._doc(submission.token).set(data, timeout=self._timeout_s),
        )

    async def by_token(self, token: str) -> Submission | None:
        snapshot = await self._call(
            "reading a submission", lambda: self._doc(token).get(timeout=self._timeout_s)
        )
        return self._from(snapshot.to_dict() if snapshot.exists else None)

    async def _query(self, what: str, query: Any) -> list[Submission]:
        async def read() -> list[Submission]:
            found: list[Submission] = []
            async for snapshot in query.stream(timeout=self._timeout_s):
                submission = self._from(snapshot.to_dict())
                if submission is not None:
                    found.append(submission)
            return found

        return await self._call(what, read)

    async def confirm(self, token: str, enrichment_id: str, next_poll_at: float) -> None:
        current = await self.by_token(token)
        if current is None or current.state is not SubmissionState.UNCONFIRMED:
            return  # a webhook adopted and settled it first
        update = {
            "state": SubmissionState.SUBMITTED.value,
            "enrichment_id": enrichment_id,
            "next_poll_at": next_poll_at,
        }
        await self._call(
            "confirming a submission",
            lambda: self._doc(token).update(update, timeout=self._timeout_s),
        )
        # A webhook may have settled it between the read and the write: keep it settled.
        if await self._marker_exists(token):
            await self._mark_settled(token, enrichment_id)

    async def drop(self, token: str) -> None:
        current = await self.by_token(token)
        if current is not None and current.state is SubmissionState.UNCONFIRMED:
            await self._call(
                "dropping a submission",
                lambda: self._doc(token).delete(timeout=self._timeout_s),
            )

    async def by_enrichment_id(self, enrichment_id: str) -> Submission | None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._collection().where(filter=FieldFilter("enrichment_id", "==", enrichment_id))
        found = await self._query("finding a submission", query)
        return found[0] if found else None

    async def active_for(self, identities: Collection[str]) -> dict[str, list[Submission]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        names = sorted(set(identities))
        chunks = [names[i : i + _IN_LIMIT] for i in range(0, len(names), _IN_LIMIT)]
        limit = asyncio.Semaphore(8)

        async def read(chunk: list[str]) -> list[Submission]:
            async with limit:
                query = self._collection().where(filter=FieldFilter("identity", "in", chunk))
                return await self._query("finding submissions in flight", query)

        found: dict[str, list[Submission]] = {}
        for part in await asyncio.gather(*(read(chunk) for chunk in chunks)):
            for submission in part:
                if submission.active:
                    found.setdefault(submission.identity, []).append(submission)
        return found

    def _marker(self, token: str) -> Any:
        return self._collection().document(f"{self._ns}:settled:{token}")

    async def _marker_exists(self, token: str) -> bool:
        snapshot = await self._call(
            "reading a settlement", lambda: self._marker(token).get(timeout=self._timeout_s)
        )
        return bool(snapshot.exists)

    async def _mark_settled(self, token: str, enrichment_id: str) -> None:
        update = {
            "state": SubmissionState.SETTLED.value,
            "enrichment_id": enrichment_id,
            "next_poll_at": _NEVER,
            "expire_at": _timestamp(self._clock() + SETTLED_KEEP_S),
        }
        await self._call(
            "settling a submission",
            lambda: self._doc(token).update(update, timeout=self._timeout_s),
        )

    async def settle(self, token: str, enrichment_id: str) -> bool:
        from google.api_core import exceptions as api_exceptions

        current = await self.by_token(token)
        if current is None or not current.active:
            return False
        marker = {
            "ns": "",  # never read as a submission
            "expire_at": _timestamp(self._clock() + SETTLED_KEEP_S),
        }

        async def create() -> bool:
            try:
                await self._marker(token).create(marker, timeout=self._timeout_s)
            except api_exceptions.AlreadyExists:
                return False
            return True

        if not await self._call("settling a submission", create):
            return False
        await self._mark_settled(token, enrichment_id)
        return True

    async def due(self, now: float, limit: int) -> list[Submission]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._collection()
            .where(filter=FieldFilter("next_poll_at", "<=", now))
            .order_by("next_poll_at")
            .limit(limit)
        )
        found = await self._query("finding submissions to poll", query)
        return [s for s in found if s.state is SubmissionState.SUBMITTED]

    async def reschedule(self, token: str, next_poll_at: float, polls: int) -> None:
        update = {"next_poll_at": next_poll_at, "polls": polls}
        await self._call(
            "rescheduling a poll",
            lambda: self._doc(token).update(update, timeout=self._timeout_s),
        )

    async def release_unconfirmed(self, before: float) -> list[Submission]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._collection().where(
            filter=FieldFilter("state", "==", SubmissionState.UNCONFIRMED.value)
        )
        stale = [s for s in await self._query("finding stale submissions", query)]
        stale = [s for s in stale if s.submitted_at < before]
        for submission in stale:
            await self.drop(submission.token)
        return stale

    async def counts(self) -> dict[str, int]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._collection().where(filter=FieldFilter("ns", "==", self._ns))
        counts = {state.value: 0 for state in SubmissionState}
        for submission in await self._query("counting submissions", query):
            counts[submission.state.value] += 1
        return counts

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client._firestore_api.transport.close()
