"""TikTok tokens kept in the database (encrypted), for the client's token manager."""

from __future__ import annotations

from datetime import UTC, datetime

from orderbridge.adapters.db import Database, TokenCipher, connections, run_sync, transaction
from orderbridge.adapters.tiktok import TokenSet
from orderbridge.clock import Clock

__all__ = ["DbTokenStore"]

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)


class DbTokenStore:
    """Loads and saves one connection's TikTok tokens; refreshed tokens are written back."""

    def __init__(self, engine: Database, cipher: TokenCipher, connection_id: int, clock: Clock) -> None:
        self._engine = engine
        self._cipher = cipher
        self._connection_id = connection_id
        self._clock = clock

    def _load(self) -> TokenSet | None:
        with transaction(self._engine, write=False) as conn:
            row = connections.get_connection(conn, self._cipher, self._connection_id)
        if row is None or not row.tiktok_access_token or not row.tiktok_refresh_token:
            return None
        return TokenSet(
            access_token=row.tiktok_access_token,
            access_expires_at=row.tiktok_access_token_expires_at or FAR_PAST,
            refresh_token=row.tiktok_refresh_token,
            refresh_expires_at=row.tiktok_refresh_token_expires_at or FAR_PAST,
        )

    def _save(self, tokens: TokenSet) -> None:
        with transaction(self._engine) as conn:
            connections.update_connection(
                conn, self._cipher, self._connection_id, now=self._clock.now(),
                tiktok_access_token=tokens.access_token,
                tiktok_access_token_expires_at=tokens.access_expires_at,
                tiktok_refresh_token=tokens.refresh_token,
                tiktok_refresh_token_expires_at=tokens.refresh_expires_at,
            )

    async def load(self) -> TokenSet | None:
        return await run_sync(self._engine, self._load)

    async def save(self, tokens: TokenSet) -> None:
        await run_sync(self._engine, self._save, tokens)
