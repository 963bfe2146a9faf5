"""The generated page: every goal in one table with its command, findings at the end."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.clients import Result
from bench.report import commit, machine, render
from bench.stats import Goal


def test_render_puts_every_goal_in_one_table_and_the_findings_last() -> None:
    results = [
        Result("Latency", {"p99": "0.3 s"}, "python -m bench --only latency",
               [Goal("latency p99", 0.3, 0.5, "s", at_most=True)], "How it was timed."),
        Result("Flash", {"share": "80 %"}, "python -m bench --only flash",
               [Goal("share of ceiling", 80.0, 90.0, "%", at_most=False)]),
    ]
    text = render(results, command="make bench", started=datetime(2026, 12, 7, 16, 0, tzinfo=UTC),
                  finished=datetime(2026, 12, 7, 16, 29, tzinfo=UTC), commit_id="abc1234", machine_id="a box",
                  findings="## Findings (written by hand)\n\n- a finding\n")
    assert "`make bench`, 2026-12-07 16:00-16:29 UTC, commit abc1234, on a box." in text
    goals = text.split("## Goals")[1].split("## Latency")[0]
    assert "| latency p99 | ≤ 0.5 s | 0.3 s | 0.60 | yes | `python -m bench --only latency` |" in goals
    assert "| share of ceiling | ≥ 90 % | 80 % | 0.89 | **no** | `python -m bench --only flash` |" in goals
    assert text.index("How it was timed.") < text.index("| p99 | 0.3 s |")
    assert text.rstrip().endswith("- a finding")
    assert "Reproduce: `python -m bench --only flash`" in text
    assert "Findings" not in render(results, command="x", started=datetime.now(UTC), finished=datetime.now(UTC),
                                    commit_id="c", machine_id="m", findings=None)


def test_commit_and_machine_name_the_run() -> None:
    assert commit()[:7].isalnum()
    assert "cores" in machine()
