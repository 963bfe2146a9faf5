"""What the invariant checker reports: one result per invariant, one sentence per order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["InvariantReport", "InvariantResult", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One order breaking one invariant, in a plain sentence."""

    tiktok_order_id: str
    sentence: str


@dataclass(slots=True)
class InvariantResult:
    """One invariant: what it says, how many orders it looked at, what broke it."""

    number: int
    name: str
    statement: str
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def fail(self, order_id: str, sentence: str) -> None:
        self.violations.append(Violation(order_id, sentence))


@dataclass(slots=True)
class InvariantReport:
    """Every invariant's result at ``checked_at``."""

    checked_at: datetime
    results: list[InvariantResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def result(self, number: int) -> InvariantResult:
        return next(r for r in self.results if r.number == number)

    def failing(self) -> list[InvariantResult]:
        return [r for r in self.results if not r.passed]

    def lines(self) -> list[str]:
        """The report as plain text lines (one per invariant, then one per violation)."""
        out: list[str] = []
        for r in self.results:
            verdict = "PASS" if r.passed else "FAIL"
            out.append(f"{verdict}  {r.number}. {r.name} ({r.checked} checked): {r.statement}")
            out.extend(f"      {v.tiktok_order_id}: {v.sentence}" for v in r.violations)
        return out
