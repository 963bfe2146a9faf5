"""The ``orderbridge`` command: one module per family of subcommands, and the runner.

``main.py`` builds the Typer app and registers the families (``engine``: run, status,
order, backfill; ``connect``; ``auth``: users and tokens; ``exceptions``; ``play``: acting
on the running sandboxes; ``sla``); ``runner.py`` starts the web process and the workers
together; ``output.py`` is the shared ``--json`` output; ``db.py`` the database checks the
commands share. This package is an entry point: it may import the composition root
(``orderbridge.bootstrap``), which the engine and web may not.
"""

from orderbridge.cli.main import app, main

__all__ = ["app", "main"]
