"""The function's HTTP surface: routes, caller authentication, POST /fill, the entry point."""
