"""Before money is recorded, and after the address is written: Shopify's total against the
plan's (the rule is ``domain/totals.py``)."""

from __future__ import annotations

from orderbridge.domain.actions import RestoreTax
from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.exceptions import ExceptionCode, IssueAction
from orderbridge.domain.observed import ShopifyOrderView
from orderbridge.domain.totals import TotalVerdict, check_total

__all__ = ["total_holds"]


def total_holds(ctx: Ctx, view: ShopifyOrderView) -> bool:
    """True when Shopify's current total is the plan's, so the payment may be recorded and
    the hold released. Otherwise asks for the tax Shopify dropped to be added back, or raises
    TOTALS_MISMATCH with both totals (nothing is paid or released meanwhile)."""
    if view.current_total is None or view.current_tax is None:
        return True  # a view that did not read the totals: the payment's own check remains
    plan = ctx.plan
    check = check_total(
        planned_total=plan.expected_total,
        planned_tax=plan.tax_total,
        shopify_total=view.current_total,
        shopify_tax=view.current_tax,
    )
    if check.verdict is TotalVerdict.EQUAL:
        return True
    restore = RestoreTax(
        shopify_order_id=view.id,
        amount=check.restore,
        planned_total=check.planned_total,
        currency=plan.currency,
    )
    if check.verdict is TotalVerdict.RESTORE_TAX and ctx.act(restore):
        return False
    ctx.flag(
        ExceptionCode.TOTALS_MISMATCH,
        check.message,
        {
            "planned_total": str(check.planned_total),
            "tiktok_total": str(plan.tiktok_total),
            "shopify_total": str(check.shopify_total),
            "difference": str(check.difference),
            "planned_tax": str(check.planned_tax),
            "shopify_tax": str(check.shopify_tax),
        },
        (IssueAction.RETRY, IssueAction.DISMISS),
    )
    return False
