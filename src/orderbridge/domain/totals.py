"""Whether the Shopify order's total still equals the plan's before money is recorded.

Since 2026-08-31 Shopify recalculates an unfulfilled order's taxes when ``orderUpdate``
changes its shipping address (the release writes TikTok's full address that way), replacing
the tax TikTok collected by what the store itself charges at the destination. The manual
payment must equal TikTok's total, and the Shopify total must equal the payment, so before a
payment is recorded (and after every later address write) ``check_total`` compares Shopify's
current total with the plan's:

- equal: nothing to do;
- lower by no more than the tax that went missing (Shopify's tax is lower than the plan's by
  at least the difference; less than all of it when a swap already carries some of TikTok's
  tax as an item): ``RESTORE_TAX``, an order edit adds the difference back as a non-taxable
  item, as a swapped custom line carries its channel-liable tax (an edit can add, never lower);
- anything else (higher: the store charged its own tax, which an edit cannot take off; or a
  difference the tax does not explain): ``MISMATCH``, raised as TOTALS_MISMATCH with both
  totals; no payment is recorded (the order is still released, as lifecycle.md has it for
  figures that cannot agree) until the totals agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = ["TotalCheck", "TotalVerdict", "check_total"]


class TotalVerdict(StrEnum):
    """What the comparison of Shopify's total with the plan's asks for."""

    EQUAL = "equal"
    RESTORE_TAX = "restore_tax"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True, kw_only=True)
class TotalCheck:
    """Shopify's total and tax against the plan's, and the verdict."""

    verdict: TotalVerdict
    planned_total: Decimal
    shopify_total: Decimal
    planned_tax: Decimal
    shopify_tax: Decimal

    @property
    def difference(self) -> Decimal:
        """Shopify's total less the plan's (negative: Shopify asks for less)."""
        return self.shopify_total - self.planned_total

    @property
    def restore(self) -> Decimal:
        """The amount a RESTORE_TAX edit adds (zero for the other verdicts)."""
        return -self.difference if self.verdict is TotalVerdict.RESTORE_TAX else Decimal("0")

    @property
    def message(self) -> str:
        """Why the totals differ, for the TOTALS_MISMATCH exception."""
        if self.difference > 0:
            cause = (
                "Shopify recalculated the order's tax for its shipping address and charges "
                "more than TikTok collected; an order edit cannot lower it"
                if self.shopify_tax > self.planned_tax
                else "the order was changed in Shopify"
            )
        else:
            cause = "the order was changed in Shopify by more than its tax"
        return (
            f"The Shopify total is {self.shopify_total}, not the {self.planned_total} the buyer "
            f"paid on TikTok ({cause}). No payment is recorded until the totals agree: correct the "
            "order in Shopify, then retry."
        )


def check_total(
    *, planned_total: Decimal, planned_tax: Decimal, shopify_total: Decimal, shopify_tax: Decimal
) -> TotalCheck:
    """Compare Shopify's current total and tax with the plan's (see the module's rule)."""
    difference = shopify_total - planned_total
    if difference == 0:
        verdict = TotalVerdict.EQUAL
    elif difference < 0 and -difference <= planned_tax - shopify_tax:
        verdict = TotalVerdict.RESTORE_TAX
    else:
        verdict = TotalVerdict.MISMATCH
    return TotalCheck(
        verdict=verdict,
        planned_total=planned_total,
        shopify_total=shopify_total,
        planned_tax=planned_tax,
        shopify_tax=shopify_tax,
    )
