"""The fix shown for an exception is a command that exists."""

from orderbridge.cli.exceptions import fix_command
from orderbridge.domain.exceptions import IssueAction


def test_link_sku_names_the_skus_link_command_with_the_seller_sku() -> None:
    assert fix_command("link_sku", 3, {"sku_id": "111", "seller_sku": "WHISK HOLDER"}) == \
        "orderbridge skus link 'WHISK HOLDER' <Shopify variant gid>"
    assert fix_command("link_sku", 3, {"sku_id": "111", "seller_sku": ""}, "acme") == \
        "orderbridge skus link 111 <Shopify variant gid> -c acme"
    assert fix_command("link_sku", 3, {"seller_sku": "DUP", "candidates": "a,b"}).endswith(
        "(candidates: orderbridge skus list)")


def test_other_actions_name_exceptions_act_or_connect() -> None:
    assert fix_command("retry", 12, None) == "orderbridge exceptions act 12 retry"
    assert fix_command("reconnect", 12, None, "acme") == "orderbridge connect tiktok --name acme (or connect shopify)"
    assert fix_command(None, 12, None) == ""


def test_every_action_has_a_command_or_says_what_to_do_in_shopify() -> None:
    for action in IssueAction:
        fix = fix_command(action.value, 1, {})
        assert fix.startswith("orderbridge ") or action is IssueAction.SHIP_NOW, fix
    assert "in Shopify" in fix_command("ship_now", 1, None)
