"""``orderbridge keys rotate`` on both databases (issue 8, item 4).

Rotation: every process runs with ORDERBRIDGE_SECRET_KEY="NEW,OLD"; ``keys rotate``
re-encrypts every token under NEW; after it the old key alone opens nothing, NEW alone
opens everything, and the engine polls with NEW alone.
"""

from __future__ import annotations

from typer.testing import CliRunner

from orderbridge.adapters.db import TokenCipher, connections, generate_key, transaction
from orderbridge.bootstrap import Services
from orderbridge.cli.main import app
from orderbridge.engine.poller import Poller

from .conftest import Harness, sandbox_connection


async def test_keys_rotate_re_encrypts_every_token_under_the_new_key(harness: Harness) -> None:
    h = harness
    second = sandbox_connection(h.services, h.info, shop_index=1)
    old = h.services.settings.secret_key or ""
    new = generate_key()
    env = {"ORDERBRIDGE_DATABASE_URL": h.services.settings.database_url,
           "ORDERBRIDGE_SECRET_KEY": f"{new},{old}", "ORDERBRIDGE_CONFIG": ""}  # no config file
    result = CliRunner().invoke(app, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-encrypted the tokens of 2 connection(s)" in result.output

    ids = sorted([h.connection.id, second.id])
    with transaction(h.services.db, write=False) as conn:
        assert connections.undecryptable(conn, TokenCipher(old)) == ids
        assert connections.undecryptable(conn, TokenCipher(new)) == []
        rotated = connections.get_connection(conn, TokenCipher(new), h.connection.id)
    assert rotated is not None
    assert rotated.tiktok_access_token == h.connection.tiktok_access_token
    assert rotated.shopify_token == h.connection.shopify_token

    # The engine works with the new key alone.
    settings = h.services.settings.model_copy(update={"secret_key": new})
    services = Services.create(settings, clock=h.services.clock, http=h.http, migrate_db=False)
    try:
        order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
        poller = Poller(services, "after-rotation")
        reports = await poller.poll_due()
        assert reports[h.connection.id].orders >= 1
        assert poller.parked == {}
        h.link(order_id)
    finally:
        services.db.dispose()

    # A key that opens nothing: refused, nothing changed.
    stranger = CliRunner().invoke(app, ["keys", "rotate"], env={**env, "ORDERBRIDGE_SECRET_KEY": generate_key()})
    assert stranger.exit_code == 2
    assert "nothing was changed" in " ".join(stranger.output.split())
    with transaction(h.services.db, write=False) as conn:
        assert connections.undecryptable(conn, TokenCipher(new)) == []
