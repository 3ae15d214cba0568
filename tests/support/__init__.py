"""Helpers shared by the test suite: real servers on 127.0.0.1, waited on with deadlines.

- `wait`: `wait_until` / `wait_until_async`, the only way a test waits; a wait that
  reaches its deadline fails, naming what did not happen.
- `processes`: every process a test starts leads a process group of its own and is
  stopped with all of it (`start`, `stop`, `kill`, `run`, `started`).
- `leftovers`: the pytest plugin that fails the run when a process outlives the session.
"""
