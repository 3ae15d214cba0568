"""Development tools, never deployed: the Pronto simulator, the Sheets API emulator and
the local stack that serves the function against them (demo, tests, benchmarks)."""
