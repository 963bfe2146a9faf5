"""``orderbridge demo``: the embedded sandboxes, the engine and a day of orders, then the invariants.

``world.py`` starts the sandboxes and the engine on SQLite, ``story.py`` plays the
scenarios, ``report.py`` draws the tables and ``run.py`` ties them together.
"""

from orderbridge.demo.run import run_demo

__all__ = ["run_demo"]
