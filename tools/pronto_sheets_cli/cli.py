"""`pronto-sheets`: the demo, a local server, the simulator, the sheet filler and the emulator.

Every option can also be set through the environment variable named in its help.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click

# Imported here, not guarded: a command whose import fails must fail the CLI loudly
# rather than silently vanish from it.
from pronto_sheets_cli.fill_command import fill_command
from pronto_sheets_cli.forget_command import forget_command
from pronto_sheets_dev.sheets_emulator.command import emulator_command
from pronto_sheets_dev.simulator import simulate_command

# Shipped inside the package, so `pronto-sheets demo` works from any directory.
DEFAULT_LEADS = Path(__file__).resolve().parent / "data" / "leads.csv"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Enrich contacts in Google Sheets with Pronto."""


@cli.command()
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_LEADS,
    show_default=True,
    help="Leads with First name, Last name, Company, Website, LinkedIn.",
)
@click.option(
    "--type", "types", default="email,phone", show_default=True, help="email, phone or email,phone."
)
@click.option(
    "--latency-ms",
    default=250,
    show_default=True,
    envvar="PRONTO_SIM_LATENCY_MS",
    help="Simulated Pronto latency.",
)
def demo(csv_path: Path, types: str, latency_ms: int) -> None:
    """Serve the function against the Pronto simulator and enrich a CSV through POST /enrich."""
    from rich.console import Console

    from pronto_sheets_cli.demo import print_demo, run_demo

    # A log or CI has no terminal width: keep the table readable rather than 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=150)
    console.print(
        "Starting the Pronto simulator and the function (functions-framework, target pronto)…"
    )
    run = run_demo(
        csv_path, [t.strip() for t in types.split(",") if t.strip()], latency_ms=latency_ms
    )
    print_demo(run, console)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=8080, show_default=True, envvar="PORT")
def serve(host: str, port: int) -> None:
    """Run the function locally: against Pronto when PRONTO_API_KEY is set, else the simulator."""
    import secrets
    import subprocess
    from contextlib import ExitStack

    from pronto_sheets_dev.local_stack import (
        SIMULATOR_KEY,
        free_port,
        function_args,
        running,
        simulator_args,
    )

    # Stopped by SIGTERM (a supervisor, `timeout`): unwind so the simulator stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    env = dict(os.environ)
    with ExitStack() as stack:
        if env.get("PRONTO_API_KEY"):
            where = env.get("PRONTO_BASE_URL", "https://api.prontohq.com")
            click.echo(f"Using the real Pronto API at {where} (PRONTO_API_KEY is set).")
        else:
            sim_port = free_port()
            url = f"http://127.0.0.1:{sim_port}"
            stack.enter_context(running(simulator_args(sim_port), url + "/healthz"))
            env.update(PRONTO_API_KEY=SIMULATOR_KEY, PRONTO_BASE_URL=url)
            click.echo(f"PRONTO_API_KEY is not set: using the Pronto simulator at {url}.")
        if not env.get("PRONTO_SHEETS_TOKENS"):
            env["PRONTO_SHEETS_TOKENS"] = token = secrets.token_urlsafe(24)
            click.echo(f"PRONTO_SHEETS_TOKENS is not set: this run accepts the token {token}")
        from pronto_sheets.errors import SettingsError
        from pronto_sheets.settings import parse_store_setting

        try:
            store = parse_store_setting(env)
        except SettingsError as exc:
            raise click.ClickException(exc.message) from None
        where = (
            "nothing is kept across restarts (PRONTO_STORE=memory)"
            if store.kind == "memory"
            else f"answers and today's credit count are kept in {store.label}"
        )
        click.echo(
            f"Serving the function at http://{host}:{port} (/enrich, /fill, /healthz); {where}."
        )
        args = function_args(port)
        args[args.index("--host") + 1] = host
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(args, env=env, check=False)  # noqa: S603 - our own interpreter


cli.add_command(simulate_command, "simulate")
cli.add_command(fill_command, "fill")
cli.add_command(forget_command, "forget")
cli.add_command(emulator_command, "sheets-emulator")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
