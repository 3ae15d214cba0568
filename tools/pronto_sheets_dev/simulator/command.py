"""Entry points: `serve` (async, until cancelled), `run` (blocking) and the click command.

`simulate_command` is what `pronto-sheets simulate` and `python -m pronto_sheets_dev.simulator`
run; every option can also be set with the environment variable `PRONTO_SIM_<NAME>`
(for example `PRONTO_SIM_LATENCY_MS=0`, `PRONTO_SIM_RULES=legacy`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from .config import OUT_OF_CREDITS_FORMS, RETRY_AFTER_FORMATS, RULES, SimulatorConfig
from .wire import SimulatorServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090


async def serve(
    config: SimulatorConfig, host: str, port: int, *, ready: asyncio.Event | None = None
) -> None:
    """Serve the simulated Pronto API on `host:port` until cancelled; set `ready` once listening."""
    server = SimulatorServer(config)
    await server.start(host, port)
    try:
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await server.close()


def run(config: SimulatorConfig, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until Ctrl-C or SIGTERM, after printing where (one line on stdout).

    Raises OSError if the port cannot be bound (for example, already in use).
    """
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(config, host, port))


async def _run(config: SimulatorConfig, host: str, port: int) -> None:
    server = SimulatorServer(config)
    bound = await server.start(host, port)
    print(
        f"Pronto simulator listening on http://{host}:{bound} (key: {config.api_key})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int, frame: object) -> None:
        if signum == signal.SIGTERM:
            # Already stopping: a second SIGTERM (a process group stopped member by member)
            # must not kill a server that is exiting cleanly. Python puts the default action
            # back while it shuts down, except for an ignored signal.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are leaving anyway
            loop.call_soon_threadsafe(stop.set)

    # Plain handlers, not loop.add_signal_handler (which the closing loop would undo).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    try:
        await stop.wait()
    finally:
        await server.close()


_DEFAULTS = SimulatorConfig()
_F = TypeVar("_F", bound=Callable[..., Any])


def _option(name: str, help: str, **kwargs: Any) -> Callable[[_F], _F]:
    """A `--name` option (`--name/--no-name` for a flag) also read from `PRONTO_SIM_<NAME>`."""
    env = "PRONTO_SIM_" + name.upper().replace("-", "_")
    flag = f"--{name}/--no-{name}" if isinstance(kwargs.get("default"), bool) else f"--{name}"
    return click.option(flag, envvar=env, show_envvar=True, show_default=True, help=help, **kwargs)


@click.command(name="simulate")
@_option("host", "Interface to listen on.", default=DEFAULT_HOST)
@_option(
    "port",
    "Port to listen on (0 picks a free one).",
    default=DEFAULT_PORT,
    type=click.IntRange(0, 65535),
)
@_option(
    "rules",
    "Pronto's rules: current (its page today) or legacy (the older page: email and phone "
    "only, phone without LinkedIn accepted).",
    default=_DEFAULTS.rules,
    type=click.Choice(RULES),
)
@_option("api-key", "The X-API-KEY the simulator accepts.", default=_DEFAULTS.api_key)
@_option(
    "rate",
    "Requests per rolling second per key before 429.",
    default=_DEFAULTS.rate,
    type=click.IntRange(min=1),
)
@_option(
    "max-open",
    "Requests served at once; more wait in a queue.",
    default=_DEFAULTS.max_open,
    type=click.IntRange(min=1),
)
@_option(
    "daily-credits",
    "Credits per UTC day.",
    default=_DEFAULTS.daily_credits,
    type=click.IntRange(min=0),
)
@_option(
    "credits-per-email",
    "Credits charged per email found.",
    default=_DEFAULTS.credits_per_email,
    type=click.IntRange(min=0),
)
@_option(
    "credits-per-phone",
    "Credits charged per phone found.",
    default=_DEFAULTS.credits_per_phone,
    type=click.IntRange(min=0),
)
@_option(
    "credits-per-personal-email",
    "Credits charged per personal email found (Pronto documents no price).",
    default=_DEFAULTS.credits_per_personal_email,
    type=click.IntRange(min=0),
)
@_option(
    "personal-email-consent",
    "Whether the account consented to personal email enrichment (else 422).",
    default=_DEFAULTS.personal_email_consent,
)
@_option(
    "out-of-credits-form",
    "How a request the day's credits cannot pay is refused: HTTP 402, HTTP 422, "
    'or HTTP 200 with status "error".',
    default=_DEFAULTS.out_of_credits_form,
    type=click.Choice(OUT_OF_CREDITS_FORMS),
)
@_option(
    "latency-ms",
    "Time spent serving each request.",
    default=_DEFAULTS.latency_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "latency-jitter-ms",
    "Latency varies uniformly by up to this much either way.",
    default=_DEFAULTS.latency_jitter_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "queue-timeout-s",
    "How long a queued request waits before a 504.",
    default=_DEFAULTS.queue_timeout_s,
    type=click.FloatRange(min=0, min_open=True),
)
@_option(
    "fault-503",
    "Probability of a 503 answer.",
    default=_DEFAULTS.fault_503,
    type=click.FloatRange(0, 1),
)
@_option(
    "fault-429",
    "Probability of a spurious 429 answer.",
    default=_DEFAULTS.fault_429,
    type=click.FloatRange(0, 1),
)
@_option(
    "fault-drop",
    "Probability of closing the connection without an answer.",
    default=_DEFAULTS.fault_drop,
    type=click.FloatRange(0, 1),
)
@_option(
    "fault-truncate",
    "Probability of sending only half of the answer's body.",
    default=_DEFAULTS.fault_truncate,
    type=click.FloatRange(0, 1),
)
@_option(
    "retry-after-format",
    "How 429 answers say when to retry.",
    default=_DEFAULTS.retry_after_format,
    type=click.Choice(RETRY_AFTER_FORMATS),
)
@_option(
    "retry-after-s",
    "Seconds to wait that 429 answers ask for.",
    default=_DEFAULTS.retry_after_s,
    type=click.IntRange(min=1),
)
@_option("seed", "Seed of the latency and fault draws.", default=_DEFAULTS.seed, type=int)
@_option(
    "async-capacity",
    "Async lane: contacts processed at once (single_enrich and bulk_enrich together).",
    default=_DEFAULTS.async_capacity,
    type=click.IntRange(min=1),
)
@_option(
    "async-latency-ms",
    "Async lane: time each contact takes once it is processed.",
    default=_DEFAULTS.async_latency_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "async-types-per-request",
    "Async lane: enrichment types one request may ask (Pronto's pages: one).",
    default=_DEFAULTS.async_types_per_request,
    type=click.IntRange(1, 3),
)
@_option(
    "webhook-lost",
    "Probability that a result's webhook is never sent.",
    default=_DEFAULTS.webhook_lost,
    type=click.FloatRange(0, 1),
)
@_option(
    "webhook-duplicated",
    "Probability that a result's webhook is sent twice.",
    default=_DEFAULTS.webhook_duplicated,
    type=click.FloatRange(0, 1),
)
@_option(
    "webhook-slow",
    "Probability that a result's webhook is sent --webhook-slow-ms late.",
    default=_DEFAULTS.webhook_slow,
    type=click.FloatRange(0, 1),
)
@_option(
    "webhook-slow-ms",
    "How late a slow webhook is sent.",
    default=_DEFAULTS.webhook_slow_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "webhook-reorder-ms",
    "Every webhook waits a random time up to this, so results arrive out of order.",
    default=_DEFAULTS.webhook_reorder_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "webhook-retries",
    "Retries of a webhook answered non-2xx, refused or timed out (Pronto documents none).",
    default=_DEFAULTS.webhook_retries,
    type=click.IntRange(min=0),
)
@_option(
    "webhook-retry-backoff-ms",
    "Wait before the first webhook retry; it doubles on each retry.",
    default=_DEFAULTS.webhook_retry_backoff_ms,
    type=click.FloatRange(min=0),
)
@_option(
    "webhook-timeout-s",
    "How long a webhook delivery waits for the receiver's answer.",
    default=_DEFAULTS.webhook_timeout_s,
    type=click.FloatRange(min=0, min_open=True),
)
def simulate_command(host: str, port: int, **settings: Any) -> None:
    """Serve a local stand-in for Pronto's enrichment API (tests, benchmarks, offline demo)."""
    try:
        config = SimulatorConfig(**settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        run(config, host, port)
    except OSError as exc:
        raise click.ClickException(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). "
            "Stop the program using that port or choose another one with --port."
        ) from exc


def main(args: Sequence[str] | None = None) -> None:
    """`python -m pronto_sheets_dev.simulator [OPTIONS]`."""
    simulate_command.main(args=args, prog_name="python -m pronto_sheets_dev.simulator")
