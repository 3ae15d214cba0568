"""`pronto-sheets forget`: erase what pronto-sheets keeps about one person.

Two places keep answers, and this reaches either:

- a deployed (or served) function, through its POST /forget, with the shared token:
  `--url https://….run.app` and `PRONTO_FUNCTION_TOKEN` (or `--token`);
- without `--url`, the store this machine's commands use (`PRONTO_STORE`, the SQLite file
  of `pronto-sheets fill` and `serve` by default), opened directly.

Name the person with `--email`, `--phone`, `--linkedin-url`, or `--firstname`,
`--lastname` and `--domain` or `--company`. Prints how many stored answers were deleted;
a refusal prints one line starting with "Error:" and exits with status 1.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click
import httpx

from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import ProntoSheetsError
from pronto_sheets.http.forget_route import handle_forget
from pronto_sheets.settings import Settings


def _body(**named: str | None) -> dict[str, Any]:
    """The /forget body these options name (what the route checks, the CLI checks too)."""
    body: dict[str, Any] = {}
    contact = {
        key: value
        for key, value in (
            ("firstname", named["firstname"]),
            ("lastname", named["lastname"]),
            ("domain", named["domain"]),
            ("company_name", named["company"]),
            ("linkedin_url", named["linkedin_url"]),
        )
        if value
    }
    if contact:
        body["contact"] = contact
    for key in ("email", "phone"):
        if named[key]:
            body[key] = named[key]
    if not body:
        raise click.UsageError(
            "Name the person: --email, --phone, --linkedin-url, or --firstname, --lastname "
            "and --domain (or --company)."
        )
    return body


def _remote(url: str, token: str, body: dict[str, Any], timeout_s: float) -> int:
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/forget",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"Could not reach {url} ({type(exc).__name__}). Check the URL (deploy.sh prints "
            "it) and your connection, then try again."
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200:
        message = (answer.get("error") or {}).get("message") or f"HTTP {response.status_code}"
        raise click.ClickException(f"The function refused: {message}")
    return int(answer["deleted"])


async def _local(body: dict[str, Any]) -> int:
    enricher = Enricher.from_settings(Settings.from_env())
    try:
        payload, _ = await handle_forget(body, enricher=enricher, caller=None)
    finally:
        await enricher.aclose()
    return int(payload["deleted"])


@click.command()
@click.option("--email", help="An email Pronto found for them.")
@click.option("--phone", help="A phone number Pronto found for them.")
@click.option("--linkedin-url", help="Their LinkedIn URL.")
@click.option("--firstname", help="First name (with --lastname and --domain or --company).")
@click.option("--lastname", help="Last name.")
@click.option("--domain", help="Their company's domain, e.g. acme.io.")
@click.option("--company", help="Their company's name.")
@click.option(
    "--url",
    envvar="PRONTO_FUNCTION_URL",
    help="The function's URL (env PRONTO_FUNCTION_URL); without it, the local store.",
)
@click.option(
    "--token",
    envvar="PRONTO_FUNCTION_TOKEN",
    help="The shared token (env PRONTO_FUNCTION_TOKEN; better than typing it here).",
)
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, help="Seconds.")
def forget_command(
    url: str | None, token: str | None, timeout_s: float, **named: str | None
) -> None:
    """Forget a person: delete every answer kept about them, of every type."""
    body = _body(**named)
    if url:
        if not token:
            raise click.UsageError(
                "--url needs the shared token: set PRONTO_FUNCTION_TOKEN (deploy.sh prints "
                "the command that reads it), or pass --token."
            )
        deleted = _remote(url, token, body, timeout_s)
        where = url
    else:
        try:
            deleted = asyncio.run(_local(body))
        except ProntoSheetsError as exc:
            raise click.ClickException(exc.message) from None
        where = "the local store"
    noun = "answer" if deleted == 1 else "answers"
    click.echo(f"Forgot: {deleted} stored {noun} deleted from {where}.")
