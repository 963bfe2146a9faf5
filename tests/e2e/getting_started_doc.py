"""Reads docs/getting-started.md into the steps a person takes (used by its e2e test).

Fences, by info string:

- ``sh``: commands run in order in one shell (terminal 3 of the page; variables carry over);
- ``sh keeps-running``: a command that stays in the foreground of its own terminal;
- ``sh real-stores``: needs real accounts; shown, not run;
- ``text expected``: lines the step before must show (whitespace runs count as one space);
- anything else (``toml``, ``text``…) is illustration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Step", "normalise", "parse_steps"]

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
RUN, BACKGROUND, REAL = "sh", "sh keeps-running", "sh real-stores"


@dataclass
class Step:
    kind: str  # RUN | BACKGROUND | REAL
    code: str
    expected: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    return " ".join(text.split())


def parse_steps(path: Path) -> list[Step]:
    steps: list[Step] = []
    for match in _FENCE.finditer(path.read_text(encoding="utf-8")):
        info, body = " ".join(match.group(1).split()), match.group(2)
        if info in (RUN, BACKGROUND, REAL):
            steps.append(Step(info, body))
        elif info == "text expected":
            if not steps or steps[-1].kind == REAL:
                raise ValueError(f"{path}: a `text expected` block must follow a command block")
            steps[-1].expected.extend(normalise(line) for line in body.splitlines() if line.strip())
        elif info.startswith("sh"):
            raise ValueError(f"{path}: unknown command fence ```{info}")
    return steps
