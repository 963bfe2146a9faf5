"""Writing a link's story: decisions, actions with their outcomes, API calls, exceptions.

Every function takes the ``Connection`` of an open transaction (see ``adapters.db``); the
worker calls them after the HTTP calls they describe, never during. Each decision, action
outcome and raised exception is also one structured log event (``decision``,
``action_outcome``, ``order_exception_raised``); the worker binds ``tiktok_order_id`` and
``connection_id`` to the context, so every event carries them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Connection

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import EventKind, events, order_exceptions
from orderbridge.domain.actions import Action
from orderbridge.domain.decide.common import Decision
from orderbridge.domain.exceptions import ENGINE_CODES, Issue
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.engine.returns_replacements import link_replacement
from orderbridge.logs import get_logger

__all__ = [
    "EngineCode",
    "jsonable",
    "record_action",
    "record_calls",
    "record_decision",
    "record_issues",
]

log = get_logger(__name__)

# Nesting deeper than this is cut (a timeline entry is for people, not a dump).
_MAX_DEPTH: Final = 6


class EngineCode(enum.StrEnum):
    """Exception codes the engine raises itself (``decide`` never does)."""

    ORDER_UNREADABLE = "ORDER_UNREADABLE"  # the remote data of this order could not be read
    PROCESSING_ERROR = "PROCESSING_ERROR"  # an unexpected error while working on this order
    CLOCK_MISMATCH = "CLOCK_MISMATCH"  # TikTok refused our requests' timestamps: clocks differ


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of domain values (dataclasses, Decimals, datetimes, enums)."""
    if depth > _MAX_DEPTH:
        return "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)


def record_decision(
    conn: Connection,
    link_id: int,
    connection_id: int,
    decision: Decision,
    previous_state: str,
    *,
    now: datetime,
) -> None:
    """The decision (when it says anything new) and its notes."""
    state = decision.memory.state.value
    if decision.actions or state != previous_state:
        kinds = ", ".join(a.kind.value for a in decision.actions) or "nothing to do"
        log.info("decision", link_id=link_id, connection_id=connection_id,
                 previous_state=previous_state, state=state,
                 actions=[a.kind.value for a in decision.actions],
                 issues=[i.code.value for i in decision.issues])
        events.append(
            conn,
            link_id,
            EventKind.DECISION,
            f"{previous_state} -> {state}: {kinds}",
            {
                "actions": [a.kind.value for a in decision.actions],
                "next_due_at": jsonable(decision.next_due_at),
                "issues": [i.code.value for i in decision.issues],
            },
            at=now,
            connection_id=connection_id,
        )
    for note in decision.notes:
        events.append(conn, link_id, EventKind.NOTE, note, at=now, connection_id=connection_id)


def record_action(
    conn: Connection,
    link_id: int,
    connection_id: int,
    action: Action,
    outcome: Outcome,
) -> None:
    """One action and how it ended."""
    data = {"action": jsonable(action), "outcome": jsonable(outcome)}
    text = f"{action.kind.value}: {outcome.status.value}"
    if outcome.status is not OutcomeStatus.SUCCESS and outcome.message:
        text += f" ({outcome.message[:300]})"
    kind = EventKind.ACTION if outcome.status is OutcomeStatus.SUCCESS else EventKind.WARNING
    (log.info if outcome.status is OutcomeStatus.SUCCESS else log.warning)(
        "action_outcome", link_id=link_id, connection_id=connection_id,
        action=action.kind.value, outcome=outcome.status.value,
        message=(outcome.message or "")[:300] or None)
    events.append(conn, link_id, kind, text, data, at=outcome.at, connection_id=connection_id)
    link_replacement(conn, link_id, connection_id, action, outcome)


def record_calls(
    conn: Connection, link_id: int | None, connection_id: int, calls: Sequence[ApiCall]
) -> None:
    """Every API call with its remote request id (one batched insert)."""
    events.append_api_calls(conn, calls, link_id=link_id, connection_id=connection_id)


def record_issues(
    conn: Connection,
    link_id: int,
    connection_id: int,
    issues: Sequence[Issue],
    *,
    resolve_others: bool,
    now: datetime,
) -> None:
    """Raise (or refresh) the decision's issues; resolve what it no longer reports."""
    for issue in issues:
        _, opened = order_exceptions.raise_exception(
            conn,
            link_id,
            issue.code.value,
            issue.severity.value,
            issue.message,
            {**dict(issue.data), "actions": [a.value for a in issue.actions]},
            issue.actions[0].value if issue.actions else None,
            now=now,
        )
        if opened:
            log.warning("order_exception_raised", link_id=link_id, connection_id=connection_id,
                        code=issue.code.value, severity=issue.severity.value)
            events.append(
                conn,
                link_id,
                EventKind.WARNING,
                f"exception {issue.code.value}: {issue.message}",
                at=now,
                connection_id=connection_id,
            )
    if resolve_others:
        keep = [i.code.value for i in issues] + [c.value for c in ENGINE_CODES]
        for code in order_exceptions.resolve_all_except(conn, link_id, keep, now=now):
            events.append(
                conn, link_id, EventKind.EVENT, f"exception {code} resolved", at=now,
                connection_id=connection_id,
            )
