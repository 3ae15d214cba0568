"""Configuration, read once from the environment into a frozen value.

Inner code never reads `os.environ`: it takes a `Settings` (or the fields it needs).
A malformed value fails at start with a message naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pronto_sheets.errors import SettingsError
from pronto_sheets.vocabulary import vocabulary

DEFAULT_PRONTO_BASE_URL = "https://api.prontohq.com"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
DEFAULT_DATABASE = "(default)"
# Used with the emulator when GOOGLE_CLOUD_PROJECT is not set: any id will do there.
EMULATOR_PROJECT = "pronto-sheets-local"


@dataclass(frozen=True)
class StoreConfig:
    """Which store keeps answers and the credit ledger (`PRONTO_STORE`):

        (unset)                 sqlite in the user's cache directory (platformdirs)
        sqlite:///abs/path.db   that SQLite file
        firestore               Firestore: GOOGLE_CLOUD_PROJECT, PRONTO_FIRESTORE_DATABASE
                                ("(default)"), FIRESTORE_EMULATOR_HOST when set
        memory                  nothing kept across restarts

    `pronto_sheets.store.open_store` opens the store it names.
    """

    kind: str = "memory"  # "memory", "sqlite" or "firestore"
    sqlite_path: Path | None = None
    firestore_project: str | None = None
    firestore_database: str = DEFAULT_DATABASE

    @property
    def label(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{str(self.sqlite_path).lstrip('/')}"
        return self.kind


def default_sqlite_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("pronto-sheets", appauthor=False)) / "store.db"


def parse_store_setting(env: Mapping[str, str]) -> StoreConfig:
    """Read PRONTO_STORE (and what Firestore needs); a bad value names the variable."""
    raw = env.get("PRONTO_STORE", "").strip()
    database = env.get("PRONTO_FIRESTORE_DATABASE", "").strip() or DEFAULT_DATABASE
    if not raw:
        return StoreConfig("sqlite", sqlite_path=default_sqlite_path())
    if raw == "memory":
        return StoreConfig("memory")
    if raw.startswith("sqlite://"):
        path = raw.removeprefix("sqlite://")
        if not path.startswith("/") or path == "/":
            raise SettingsError(
                f"PRONTO_STORE={raw!r} needs an absolute path after sqlite://, "
                "like sqlite:///var/lib/pronto-sheets/store.db."
            )
        return StoreConfig("sqlite", sqlite_path=Path(path).expanduser())
    if raw == "firestore":
        project = env.get("GOOGLE_CLOUD_PROJECT", "").strip() or None
        if project is None and env.get("FIRESTORE_EMULATOR_HOST"):
            project = EMULATOR_PROJECT
        if project is None:
            raise SettingsError(
                "PRONTO_STORE=firestore needs GOOGLE_CLOUD_PROJECT, the id of the project "
                "whose Firestore database keeps the answers (deploy.sh sets it)."
            )
        return StoreConfig("firestore", firestore_project=project, firestore_database=database)
    raise SettingsError(
        f"PRONTO_STORE must be sqlite:///path/to/file.db, firestore or memory, got {raw!r}."
    )


def _split_list(raw: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (raw or "").split(",") if item.strip())


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}.") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}.")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    value = _number(env, name, default, minimum=minimum)
    if value != int(value):
        raise SettingsError(f"{name} must be a whole number, got {value:g}.")
    return int(value)


def _one_worker(env: Mapping[str, str]) -> None:
    """The gate, the in-flight lookups and the memory cache belong to one process: two
    workers would each open Pronto's 5 slots and spend the budget twice."""
    workers = _integer(env, "WORKERS", 1, minimum=1)
    if workers != 1:
        raise SettingsError(
            f"WORKERS={workers}: this function must run as one worker process, because the "
            "gate that keeps Pronto's limits (5 calls at once, 50 a second) and the credit "
            "budget live in that process; two workers would each use them in full. Unset "
            "WORKERS (or set it to 1) and scale with --concurrency, never with --max-instances "
            "or WORKERS."
        )


_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,200}$")


@dataclass(frozen=True)
class AsyncLaneSettings:
    """The async lane (docs/async-lane.md): on when the function knows its public URL."""

    public_url: str
    webhook_secret: str = field(repr=False)
    poll_after_s: float = 120.0  # a submission without its webhook this long is polled
    poll_max_s: float = 900.0  # the longest wait between two polls of one submission
    unconfirmed_release_s: float = 3600.0  # a submission Pronto never confirmed, given up

    @property
    def webhook_url(self) -> str:
        return f"{self.public_url}/webhooks/pronto/{self.webhook_secret}"


def parse_async_lane(env: Mapping[str, str]) -> AsyncLaneSettings | None:
    """PRONTO_PUBLIC_URL and PRONTO_WEBHOOK_SECRET (both, or the lane is off), and the
    poller's waits; a public URL without a usable secret fails, naming the variable."""
    public_url = env.get("PRONTO_PUBLIC_URL", "").strip().rstrip("/")
    if not public_url:
        return None
    if not public_url.startswith(("https://", "http://")):
        raise SettingsError(
            f"PRONTO_PUBLIC_URL must be the function's address, like "
            f"https://region-project.cloudfunctions.net/pronto, got {public_url!r}."
        )
    secret = env.get("PRONTO_WEBHOOK_SECRET", "").strip()
    if not secret:
        raise SettingsError(
            "PRONTO_PUBLIC_URL is set but PRONTO_WEBHOOK_SECRET is not: the async lane needs a "
            "secret for its webhook address (deploy.sh makes one). Set PRONTO_WEBHOOK_SECRET, "
            "or unset PRONTO_PUBLIC_URL to fill on the sync lane."
        )
    if not _WEBHOOK_SECRET.match(secret):
        raise SettingsError(
            "PRONTO_WEBHOOK_SECRET must be 16 to 200 letters, digits, - or _ (it is part of "
            "the webhook's URL); `openssl rand -hex 24` makes a good one."
        )
    return AsyncLaneSettings(
        public_url=public_url,
        webhook_secret=secret,
        poll_after_s=_number(env, "PRONTO_ASYNC_POLL_AFTER_S", 120.0, minimum=0.1),
        poll_max_s=_number(env, "PRONTO_ASYNC_POLL_MAX_S", 900.0, minimum=0.1),
        unconfirmed_release_s=_number(env, "PRONTO_ASYNC_UNCONFIRMED_S", 3600.0, minimum=1),
    )


@dataclass(frozen=True)
class Settings:
    """Everything the function needs to know about its surroundings."""

    pronto_api_key: str = field(default="", repr=False)
    pronto_base_url: str = DEFAULT_PRONTO_BASE_URL
    rate_per_second: int = 50
    max_in_flight: int = 5
    daily_credit_budget: int = 2500
    # What each type found costs (PRONTO_CREDITS_PER_EMAIL, _PHONE, _PERSONAL_EMAIL).
    credits_per_type: Mapping[str, int] = field(
        default_factory=lambda: {t.name: t.default_credits for t in vocabulary().types}
    )
    # After Pronto refuses personal emails for lack of consent, ask again at most this often.
    consent_retry_s: float = 60.0
    cache_found_ttl_s: float = 30 * 86400
    cache_not_found_ttl_s: float = 7 * 86400
    cache_max_entries: int = 200_000
    # One Pronto call may take seconds; past this we give up on it (and retry, within budget).
    pronto_timeout_s: float = 60.0
    retry_attempts: int = 6
    retry_total_s: float = 90.0
    sheets_tokens: tuple[str, ...] = field(default=(), repr=False)
    google_allowed_audiences: tuple[str, ...] = ()
    google_allowed_emails: tuple[str, ...] = ()
    google_allowed_domains: tuple[str, ...] = ()
    sheets_api_base_url: str | None = None
    # The key file Google's libraries use, when one is set: names the service account.
    google_application_credentials: str | None = None
    # Tests point this at a local server holding their own signing certificates.
    google_certs_url: str = GOOGLE_CERTS_URL
    # Where answers and the credit ledger outlive the process (PRONTO_STORE). Built by
    # hand (tests), nothing does; from the environment, unset means a SQLite file.
    store: StoreConfig = field(default_factory=StoreConfig)
    # Past this a store call counts as failed and the function goes on in memory.
    store_timeout_s: float = 5.0
    # The async lane for fills (PRONTO_PUBLIC_URL, PRONTO_WEBHOOK_SECRET); None: sync only.
    async_lane: AsyncLaneSettings | None = None

    @property
    def auth_configured(self) -> bool:
        """True when at least one way to authenticate callers is set up."""
        return bool(self.sheets_tokens) or bool(self.google_allowed_audiences)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the documented variables (docs/configuration.md lists each one)."""
        env = os.environ if env is None else env
        _one_worker(env)
        return cls(
            pronto_api_key=env.get("PRONTO_API_KEY", "").strip(),
            pronto_base_url=(env.get("PRONTO_BASE_URL") or DEFAULT_PRONTO_BASE_URL).rstrip("/"),
            rate_per_second=_integer(env, "PRONTO_RATE_PER_SECOND", 50, minimum=1),
            max_in_flight=_integer(env, "PRONTO_MAX_IN_FLIGHT", 5, minimum=1),
            daily_credit_budget=_integer(env, "PRONTO_DAILY_CREDIT_BUDGET", 2500, minimum=0),
            credits_per_type={
                t.name: _integer(env, t.credits_setting, t.default_credits, minimum=0)
                for t in vocabulary().types
            },
            consent_retry_s=_number(env, "PRONTO_CONSENT_RETRY_S", 60.0, minimum=0),
            # Retention (docs/privacy.md): whole days; the *_TTL_S seconds, finer, win if set.
            cache_found_ttl_s=_number(
                env,
                "PRONTO_CACHE_FOUND_TTL_S",
                _integer(env, "PRONTO_ANSWER_TTL_DAYS", 30, minimum=1) * 86400,
                minimum=0,
            ),
            cache_not_found_ttl_s=_number(
                env,
                "PRONTO_CACHE_NOT_FOUND_TTL_S",
                _integer(env, "PRONTO_NOT_FOUND_TTL_DAYS", 7, minimum=1) * 86400,
                minimum=0,
            ),
            cache_max_entries=_integer(env, "PRONTO_CACHE_MAX_ENTRIES", 200_000, minimum=1),
            pronto_timeout_s=_number(env, "PRONTO_TIMEOUT_S", 60.0, minimum=0.1),
            retry_attempts=_integer(env, "PRONTO_RETRY_ATTEMPTS", 6, minimum=1),
            retry_total_s=_number(env, "PRONTO_RETRY_TOTAL_S", 90.0, minimum=0.1),
            sheets_tokens=_split_list(env.get("PRONTO_SHEETS_TOKENS")),
            google_allowed_audiences=_split_list(env.get("GOOGLE_ALLOWED_AUDIENCES")),
            google_allowed_emails=tuple(
                e.lower() for e in _split_list(env.get("GOOGLE_ALLOWED_EMAILS"))
            ),
            google_allowed_domains=tuple(
                d.lower() for d in _split_list(env.get("GOOGLE_ALLOWED_DOMAINS"))
            ),
            sheets_api_base_url=(env.get("SHEETS_API_BASE_URL") or "").rstrip("/") or None,
            google_certs_url=env.get("GOOGLE_CERTS_URL") or GOOGLE_CERTS_URL,
            google_application_credentials=env.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            store=parse_store_setting(env),
            store_timeout_s=_number(env, "PRONTO_STORE_TIMEOUT_S", 5.0, minimum=0.1),
            async_lane=parse_async_lane(env),
        )
