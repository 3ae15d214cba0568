"""Save coverage before a served process re-raises the signal that stopped it.

On PYTHONPATH only for the function processes that tests start under coverage
(tests/support/servers.py). Uvicorn stops on SIGTERM gracefully, then re-raises the
signal with the handler it found, and gunicorn's uvicorn worker resets that to the
default: the worker dies by the signal, so no atexit hook (coverage's save) ever runs.
"""

from __future__ import annotations

import signal

import coverage

_raise_signal = signal.raise_signal


def _save_then_raise(sig: int) -> None:
    measuring = coverage.Coverage.current()
    if measuring is not None:
        measuring.stop()
        measuring.save()
    _raise_signal(sig)


signal.raise_signal = _save_then_raise
