"""`FirestoreStore`: answers and the credit ledger in Google Cloud Firestore (async client).

Where: project `GOOGLE_CLOUD_PROJECT`, database `PRONTO_FIRESTORE_DATABASE` ("(default)"
unless set); the client talks to `FIRESTORE_EMULATOR_HOST` instead when that is set.

- Answers: one document per answer key in `pronto_sheets_answers`: `record` (the
  answer as compact JSON: one field to decode, not seven, which halves a 200-document
  read's time in the Python client) and `expire_at` (a timestamp: what Firestore's TTL
  policy deletes by; reads check it too, since TTL deletion runs late). A request's
  misses are read with one `get_all`; one lookup's answers are written with one batch.
- Ledger: an append-only log per day in `pronto_sheets_ledger`, documents
  `<namespace>:<day>:<seq>` numbered from 0, each a claim (`credits`, `spent` so far) or
  the day's closing (`closed`). A claim is created with `create()`, which fails when the
  document exists, after reading every earlier entry: the creator of entry n saw entries
  0..n-1, so the sum it checked against the limit is the true one and two processes can
  never pass the budget together. Claims are blocks of credits (the budget asks for 50 at
  a time), so the log stays short and no document is written more than about once a
  second per process. A process that closes gives back what it claimed and did not
  spend with an entry of negative credits. (The emulator used by the tests serves
  transactions without isolation and Increment without its result; `create`'s
  precondition it does honour, like Firestore.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pronto_sheets.errors import StoreError
from pronto_sheets.store.protocol import (
    ANSWERS_COLLECTION,
    LEDGER_COLLECTION,
    LEDGER_KEEP_S,
    SUBJECTS_COLLECTION,
    Claim,
    LedgerDay,
    StoredAnswer,
    decode_record,
    grant,
    subject_rows,
    to_record,
)

_T = TypeVar("_T")
# Ledger entries read per get_all while catching up with the log.
_WINDOW = 32
# A claim that keeps losing the race to other processes gives up (and the budget refuses).
_CLAIM_ATTEMPTS = 20


@dataclass
class _DayLog:
    """What this process knows of one day's log (entries never change but for `spent`)."""

    next_seq: int = 0
    claimed: int = 0
    closed: bool = False
    mine: list[int] = field(default_factory=list)  # entries this process created


class FirestoreStore:
    """See the module docstring. `namespace` prefixes every document id."""

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
        self._days: dict[str, _DayLog] = {}
        self._lock = asyncio.Lock()

    def _firestore(self) -> Any:
        if self._client is None:
            from google.cloud import firestore  # loaded only when the store is Firestore

            self._client = firestore.AsyncClient(project=self._project, database=self._database)
        return self._client

    async def _call(self, what: str, work: Callable[[], Awaitable[_T]]) -> _T:
        """`work` within the time limit; any failure of the client becomes a `StoreError`."""
        try:
            return await asyncio.wait_for(work(), self._timeout_s)
        except TimeoutError as exc:
            raise StoreError(
                f"Firestore did not answer within {self._timeout_s:g} s ({what})."
            ) from exc
        except Exception as exc:  # the client raises many kinds: auth, gRPC, API errors
            detail = str(exc).splitlines()[0][:200] if str(exc) else "no detail"
            raise StoreError(
                f"Firestore cannot be used ({what}: {type(exc).__name__}: {detail})."
            ) from exc

    def _answer_id(self, key: str) -> str:
        return f"{self._ns}:{key}"

    def _entry_id(self, day: str, seq: int) -> str:
        return f"{self._ns}:{day}:{seq:06d}"

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        if not keys:
            return {}

        async def read() -> dict[str, StoredAnswer]:
            client = self._firestore()
            answers = client.collection(ANSWERS_COLLECTION)
            by_id = {self._answer_id(key): key for key in keys}
            paths = [answers.document(doc_id)._document_path for doc_id in by_id]
            found: dict[str, StoredAnswer] = {}
            now = self._clock()
            # The same BatchGetDocuments call `client.get_all` makes, read from the raw
            # protobuf messages: get_all builds a DocumentSnapshot per document through
            # proto-plus and deep-copies each field read, about 0.15 ms a document, which
            # was half of a 200-row read (bench/bench_store.py). The store tests run this
            # against the emulator with the real client, so a change in the library's
            # internals fails them, and the lock pins the version deployed.
            stream = await client._firestore_api.batch_get_documents(
                request={"database": client._database_string, "documents": paths},
                metadata=client._rpc_metadata,
                timeout=self._timeout_s,
            )
            async for response in stream:
                message = type(response).pb(response)
                if message.WhichOneof("result") != "found":
                    continue
                # An absent field reads as its default, "" or 0: no answer, or long expired.
                fields = message.found.fields
                stamp = fields["expire_at"].timestamp_value
                expire_at = stamp.seconds + stamp.nanos / 1e9
                result = decode_record(fields["record"].string_value)
                doc_id = message.found.name.rpartition("/")[2]
                if result is not None and expire_at > now:
                    found[by_id[doc_id]] = StoredAnswer(result, expire_at)
            return found

        return await self._call("reading answers", read)

    async def put_answers(
        self,
        answers: Mapping[str, StoredAnswer],
        subjects: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        if not answers:
            return

        async def write() -> None:
            client = self._firestore()
            collection = client.collection(ANSWERS_COLLECTION)
            index = client.collection(SUBJECTS_COLLECTION)
            batch = client.batch()
            for key, answer in answers.items():
                data = {
                    "record": json.dumps(to_record(answer.result), separators=(",", ":")),
                    "expire_at": _timestamp(answer.expire_at),
                }
                batch.set(collection.document(self._answer_id(key)), data)
            # One document per (subject, identity), queried by either field; its expire_at
            # lets the same TTL policy delete it with the answers.
            for subject, identity, until in subject_rows(answers, subjects):
                entry = {
                    "subject": self._answer_id(subject),
                    "identity": self._answer_id(identity),
                    "expire_at": _timestamp(until),
                }
                batch.set(index.document(self._answer_id(f"{subject}:{identity}")), entry)
            await batch.commit(timeout=self._timeout_s)

        await self._call("writing answers", write)

    async def find_identities(self, subjects: Collection[str]) -> set[str]:
        names = [self._answer_id(subject) for subject in subjects]
        if not names:
            return set()

        async def read() -> set[str]:
            from google.cloud.firestore_v1.base_query import FieldFilter

            index = self._firestore().collection(SUBJECTS_COLLECTION)
            found: set[str] = set()
            for start in range(0, len(names), 30):  # "in" takes at most 30 values
                query = index.where(filter=FieldFilter("subject", "in", names[start : start + 30]))
                async for snapshot in query.stream(timeout=self._timeout_s):
                    identity = str((snapshot.to_dict() or {}).get("identity", ""))
                    if identity.startswith(f"{self._ns}:"):
                        found.add(identity.removeprefix(f"{self._ns}:"))
            return found

        return await self._call("finding a person", read)

    async def forget(self, keys: Collection[str], identities: Collection[str]) -> int:
        async def delete() -> int:
            from google.cloud.firestore_v1.base_query import FieldFilter

            client = self._firestore()
            answers = client.collection(ANSWERS_COLLECTION)
            refs = [answers.document(self._answer_id(key)) for key in keys]
            doomed = []
            if refs:
                async for snapshot in client.get_all(refs, timeout=self._timeout_s):
                    if snapshot.exists:
                        doomed.append(snapshot.reference)
            index = client.collection(SUBJECTS_COLLECTION)
            people = [self._answer_id(identity) for identity in identities]
            for start in range(0, len(people), 30):
                query = index.where(
                    filter=FieldFilter("identity", "in", people[start : start + 30])
                )
                async for snapshot in query.stream(timeout=self._timeout_s):
                    doomed.append(snapshot.reference)
            # A batch holds at most 500 writes.
            for start in range(0, len(doomed), 500):
                batch = client.batch()
                for ref in doomed[start : start + 500]:
                    batch.delete(ref)
                await batch.commit(timeout=self._timeout_s)
            return sum(1 for ref in doomed if ref.parent.id == ANSWERS_COLLECTION)

        return await self._call("forgetting a person", delete)

    async def _catch_up(self, day: str, log: _DayLog) -> None:
        """Read the entries of `day` this process has not seen yet, up to the first gap."""
        client = self._firestore()
        collection = client.collection(LEDGER_COLLECTION)
        while True:
            seqs = range(log.next_seq, log.next_seq + _WINDOW)
            refs = [collection.document(self._entry_id(day, seq)) for seq in seqs]
            entries: dict[str, dict[str, Any]] = {}
            async for snapshot in client.get_all(refs, timeout=self._timeout_s):
                if snapshot.exists:
                    entries[snapshot.id] = snapshot.to_dict() or {}
            for seq in seqs:
                entry = entries.get(self._entry_id(day, seq))
                if entry is None:
                    return
                log.claimed += int(entry.get("credits") or 0)
                log.closed = log.closed or bool(entry.get("closed"))
                log.next_seq = seq + 1

    async def _append(self, day: str, log: _DayLog, entry: dict[str, Any]) -> bool:
        """Create entry `log.next_seq`; False when another process created it first."""
        from google.api_core import exceptions as api_exceptions

        ref = (
            self._firestore()
            .collection(LEDGER_COLLECTION)
            .document(self._entry_id(day, log.next_seq))
        )
        data = entry | {"expire_at": _timestamp(self._clock() + LEDGER_KEEP_S)}
        try:
            await ref.create(data, timeout=self._timeout_s)
        except api_exceptions.AlreadyExists:
            return False
        log.claimed += int(entry.get("credits") or 0)
        log.closed = log.closed or bool(entry.get("closed"))
        log.mine.append(log.next_seq)
        log.next_seq += 1
        return True

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        async def claim() -> Claim:
            log = self._days.setdefault(day, _DayLog())
            for _ in range(_CLAIM_ATTEMPTS):
                await self._catch_up(day, log)
                granted = grant(
                    log.claimed, log.closed, wanted=wanted, minimum=minimum, limit=limit
                )
                if not granted:
                    return Claim(0, log.claimed, log.closed)
                entry = {"credits": granted, "spent": 0, "closed": False}
                if await self._append(day, log, entry):
                    return Claim(granted, log.claimed, log.closed)
            return Claim(0, log.claimed, log.closed)

        async with self._lock:  # this process's claims one at a time: one view of the log
            return await self._call("claiming credits", claim)

    async def release_credits(self, day: str, credits: int) -> None:
        """An entry of negative credits: later claims see that much more room."""
        if credits <= 0:
            return

        async def release() -> None:
            log = self._days.setdefault(day, _DayLog())
            for _ in range(_CLAIM_ATTEMPTS):
                await self._catch_up(day, log)
                if await self._append(day, log, {"credits": -credits, "spent": 0}):
                    return

        async with self._lock:
            await self._call("giving credits back", release)

    async def record_spent(self, day: str, credits: int) -> None:
        log = self._days.get(day)
        if not credits or log is None or not log.mine:
            return  # spent from claims made before a restart or while Firestore was down
        from google.cloud import firestore

        ref = (
            self._firestore()
            .collection(LEDGER_COLLECTION)
            .document(self._entry_id(day, log.mine[-1]))
        )
        await self._call(
            "recording credits spent",
            lambda: ref.update({"spent": firestore.Increment(credits)}, timeout=self._timeout_s),
        )

    async def close_day(self, day: str) -> None:
        async def close() -> None:
            log = self._days.setdefault(day, _DayLog())
            for _ in range(_CLAIM_ATTEMPTS):
                await self._catch_up(day, log)
                if log.closed or await self._append(day, log, {"credits": 0, "closed": True}):
                    return

        async with self._lock:
            await self._call("closing the day", close)

    async def ledger(self, day: str) -> LedgerDay:
        async def read() -> LedgerDay:
            log = self._days.setdefault(day, _DayLog())
            await self._catch_up(day, log)
            client = self._firestore()
            collection = client.collection(LEDGER_COLLECTION)
            refs = [collection.document(self._entry_id(day, s)) for s in range(log.next_seq)]
            spent = 0
            if refs:
                async for snapshot in client.get_all(refs, timeout=self._timeout_s):
                    spent += int((snapshot.to_dict() or {}).get("spent") or 0)
            return LedgerDay(log.claimed, spent, log.closed)

        async with self._lock:
            return await self._call("reading the ledger", read)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # The async client has no close of its own: close its gRPC channel.
            with contextlib.suppress(Exception):
                await client._firestore_api.transport.close()


def _timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
