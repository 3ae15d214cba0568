"""What a contact gets back: a status per enrichment type, and one status for the row.

Type statuses (the vocabulary's "statuses"):
- `success`        Pronto found it (the value and Pronto's own status of it).
- `not_found`      Pronto answered; nothing found.
- `invalid`        the row lacks a name, or has none of domain, company, LinkedIn.
- `needs_linkedin` phone and personal email need a LinkedIn URL; not sent, says what to add.
- `paused`         personal emails wait for the account's consent in Pronto's settings.
- `pending`        not done by `timeout_s`; the call goes on and lands in the cache.
- `failed`         Pronto kept failing after retries; retry later.
- `over_budget`    the daily credit budget (ours or Pronto's) is reached.

Only `success` and `not_found` are answers (cached, final); the others say "fix the row"
or "ask again later". The row's status is one of the six of the HTTP contract, taken
from its types by the vocabulary's precedence (over_budget, failed, pending, success,
not_found, invalid), `needs_linkedin` counting as invalid and `paused` as failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any

from pronto_sheets.vocabulary import squeeze_spaces, vocabulary


class Status(StrEnum):
    SUCCESS = "success"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    NEEDS_LINKEDIN = "needs_linkedin"
    PAUSED = "paused"
    PENDING = "pending"
    FAILED = "failed"
    OVER_BUDGET = "over_budget"

    @property
    def is_answer(self) -> bool:
        """True for what Pronto decided (cacheable, final); False for "not yet"."""
        return _rules().is_answer[self]

    @property
    def row_status(self) -> Status:
        """The row-level status this type status counts as."""
        return _rules().row_status[self]


@dataclass(frozen=True)
class _StatusRules:
    """The vocabulary's status rules as lookups (read once: a request asks them per row)."""

    is_answer: Mapping[Status, bool]
    row_status: Mapping[Status, Status]
    precedence: tuple[Status, ...]


@cache
def _rules() -> _StatusRules:
    vocab = vocabulary()
    return _StatusRules(
        is_answer={s: vocab.is_answer(s.value) for s in Status},
        row_status={s: Status(vocab.row_status_of(s.value)) for s in Status},
        precedence=tuple(Status(code) for code in vocab.row_status_precedence),
    )


@dataclass(frozen=True)
class Phone:
    number: str
    type: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"number": self.number, "type": self.type}


@dataclass(frozen=True)
class TypeResult:
    """What one enrichment type got for one contact.

    `value` is the email or personal email found; `phones` the phones found; `value_status`
    is Pronto's own word for it (`email_status`, `phone_status`, `personal_email_status`).
    """

    status: Status
    value: str | None = None
    phones: tuple[Phone, ...] = ()
    value_status: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "message": self.message}


@dataclass(frozen=True)
class RowResult:
    """The answer for one contact row, as the function returns it."""

    status: Status
    types: Mapping[str, TypeResult] = field(default_factory=dict)
    message: str | None = None
    cached: bool = False
    custom: Any = None

    @classmethod
    def invalid_row(cls, reason: str, type_names: tuple[str, ...], custom: Any) -> RowResult:
        """A row Pronto cannot be asked about at all (no name, no company/domain/LinkedIn)."""
        each = TypeResult(Status.INVALID, message=reason)
        return cls(Status.INVALID, {name: each for name in type_names}, reason, False, custom)

    @classmethod
    def combine(
        cls, types: Mapping[str, TypeResult], *, cached: bool = False, custom: Any = None
    ) -> RowResult:
        """The row's result from its types' results (see the module docstring)."""
        rules = _rules()
        if len(types) == 1:  # the common case (one formula, one type): no precedence to weigh
            only = next(iter(types.values()))
            status = rules.row_status[only.status]
            wanted = status is Status.NOT_FOUND or not rules.is_answer[only.status]
            message = as_sentence(only.message) if wanted else ""
            return cls(status, types, message or None, cached, custom)
        present = {rules.row_status[result.status] for result in types.values()}
        status = next((code for code in rules.precedence if code in present), Status.INVALID)
        messages: list[str] = []
        for result in types.values():
            wanted = not rules.is_answer[result.status] or (
                status is Status.NOT_FOUND and result.status is Status.NOT_FOUND
            )
            sentence = as_sentence(result.message) if wanted else ""
            if sentence and sentence not in messages:
                messages.append(sentence)
        return cls(status, dict(types), " ".join(messages) or None, cached, custom)

    def for_row(self, *, cached: bool, custom: Any) -> RowResult:
        """This result as seen by one particular row (its own `custom`, whether from cache)."""
        return replace(self, cached=cached, custom=custom)

    def _of(self, name: str) -> TypeResult | None:
        return self.types.get(name)

    @property
    def email(self) -> str | None:
        result = self._of("email")
        return result.value if result else None

    @property
    def personal_email(self) -> str | None:
        result = self._of("personal_email")
        return result.value if result else None

    @property
    def phones(self) -> tuple[Phone, ...]:
        result = self._of("phone")
        return result.phones if result else ()

    def value_status(self, name: str) -> str | None:
        result = self._of(name)
        return result.value_status if result else None

    def to_json(self) -> dict[str, Any]:
        types = self.types
        email, phone, personal = (types.get(n) for n in ("email", "phone", "personal_email"))
        return {
            "status": self.status.value,
            "email": email.value if email else None,
            "email_status": email.value_status if email else None,
            "phones": [p.to_json() for p in phone.phones] if phone else [],
            "phone_status": phone.value_status if phone else None,
            "personal_email": personal.value if personal else None,
            "personal_email_status": personal.value_status if personal else None,
            "message": self.message,
            "cached": self.cached,
            "custom": self.custom,
            "types": {name: result.to_json() for name, result in types.items()},
        }


def as_sentence(message: str | None) -> str:
    """A message as one sentence: spaces squeezed, a full stop added when it has none
    ("No email or phone found for this profile" → "… profile.")."""
    if not message:
        return ""
    text = squeeze_spaces(message)
    return text if not text or text[-1] in ".!?…" else text + "."


def pending_message() -> str:
    return str(vocabulary().messages["pending"])
